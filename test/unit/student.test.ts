import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { alignPhonemes, fromCpp, fromManifest, fromTextCompare, parseCppSentence, readLabels } from '../../server/src/core/student/labels';
import { contextFeatures, LexiconIndex } from '../../server/src/core/student/features';
import { loadStudent, serializeModel, studentFromJson, StudentFormatError } from '../../server/src/core/student/model';
import { markedToNumbered, normalizeReading, pinyinProGuess, toCppReading } from '../../server/src/core/student/readings';
import { examplesHash, splitExamples, trainStudent, type LabelledExample } from '../../server/src/core/student/trainer';
import { runTrainJob } from '../../server/src/core/student/trainJob';
import { trainInWorker } from '../../server/src/core/student/trainInWorker';

const CPP = join(__dirname, '..', '..', 'data', 'cpp');
const tmp = () => mkdtempSync(join(tmpdir(), 'student-test-'));

function cppSubset(lines: number): { sent: string; lb: string } {
  const sent = readFileSync(join(CPP, 'dev.sent'), 'utf8').split('\n').slice(0, lines).join('\n') + '\n';
  const lb = readFileSync(join(CPP, 'dev.lb'), 'utf8').split('\n').slice(0, lines).join('\n') + '\n';
  return { sent, lb };
}

void test('readings: pinyin-pro and CPP notations become tone-numbered pinyin with v and tone 5', () => {
  assert.equal(normalizeReading('lu:4'), 'lv4');
  assert.equal(normalizeReading('de0'), 'de5');
  assert.equal(toCppReading('lv4'), 'lu:4');
  assert.equal(markedToNumbered('háng'), 'hang2');
  assert.equal(markedToNumbered('lǜ'), 'lv4');
  assert.equal(markedToNumbered('de'), 'de5');
  assert.equal(markedToNumbered('ń'), 'n2');
  assert.equal(pinyinProGuess('我去银行取钱', 3), 'hang2');
  assert.equal(pinyinProGuess('他行走很快', 1), 'xing2');
  assert.equal(pinyinProGuess('abc', 1), undefined);
});

void test('labels: CPP sentences, manifest records and text_compare records', () => {
  assert.deepEqual(parseCppSentence('发现▁了▁此天体'), { text: '发现了此天体', index: 2 });
  assert.equal(parseCppSentence('no marks'), undefined);
  const cpp = fromCpp('x.sent', '银▁行▁卡\n他▁行▁走\n', 'hang2\nxing2\n');
  assert.deepEqual(cpp.examples, [
    { text: '银行卡', index: 1, reading: 'hang2' },
    { text: '他行走', index: 1, reading: 'xing2' },
  ]);
  assert.throws(() => fromCpp('x.sent', 'a▁b▁\n', ''), /1 sentences but 0 labels/);

  const rec = (line: number, name: string, text: string, readings: (string | null)[]) =>
    JSON.stringify({ line, name, taskHash: 'h', text, readings, phonemes: '', audio: `${name}.wav`, wavSha256: 'w' });
  const manifest = [rec(0, 'a', '银行A', ['yin2', 'hang2', null]), 'not json', rec(1, 'b', '长大', ['zhang3']), ''].join('\n');
  const m = fromManifest('manifest.jsonl', manifest);
  // 银 has one reading: only the polyphone 行 is an example.
  assert.deepEqual(m.examples, [{ text: '银行A', index: 1, reading: 'hang2' }]);
  assert.equal(m.skipped, 2);

  assert.deepEqual(alignPhonemes('我去银行', '我去银<|H|><|ANG2|>'), [null, null, null, 'hang2']);
  assert.equal(alignPhonemes('我去银行', '我来银<|H|><|ANG2|>'), undefined);
  // Upstream writes one entry per 30–60 character chunk.
  const tc =
    '{\n  "uttid": "u1",\n  "syn_text": "去银行",\n  "syn_text_tn": ["去银行"],\n  "syn_text_phoneme": ["去银<|H|><|ANG2|>"]\n}\n{\n  "uttid": "u2",\n  "syn_text": "{行}。行",\n  "syn_text_tn": ["{行}。", "行"],\n  "syn_text_phoneme": ["{<|X|><|ING2|>}。", "<|H|><|ANG2|>"]\n}\n';
  const t = fromTextCompare('text_compare.jsonl', tc);
  assert.deepEqual(t.examples, [
    { text: '去银行', index: 2, reading: 'hang2' },
    { text: '{行}。', index: 1, reading: 'xing2' },
    { text: '行', index: 0, reading: 'hang2' },
  ]);
});

void test('readLabels finds X.lb beside X.sent, and says so when it is missing', async () => {
  const dir = tmp();
  try {
    writeFileSync(join(dir, 'a.sent'), '银▁行▁\n');
    await assert.rejects(readLabels(join(dir, 'a.sent')), /a\.lb are not beside it/);
    writeFileSync(join(dir, 'a.lb'), 'hang2\n');
    assert.equal((await readLabels(join(dir, 'a.sent'))).examples.length, 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('features: context n-grams and lexicon hits around the target', () => {
  assert.deepEqual(contextFeatures('ab行cd', 2, 1), ['b', 'L1b', 'R1c', 'LRbc']);
  const f = contextFeatures('行', 0, 3);
  assert.equal(f.length, 12);
  assert.ok(f.includes('L1\u0002') && f.includes('R1\u0003'));
  const lex = new LexiconIndex({ 银行家: 'yin2 hang2 jia1', 行为: 'xing2 wei2', 行行: 'hang2 hang2' }, (c) => c === '行');
  assert.deepEqual(lex.hits('大银行家们', 2), [{ length: 3, reading: 'hang2' }]);
  assert.deepEqual(
    lex.hits('行行为', 1).sort((a, b) => a.reading.localeCompare(b.reading)),
    [
      { length: 2, reading: 'hang2' },
      { length: 2, reading: 'xing2' },
    ],
  );
  assert.deepEqual(lex.hits('行', 0), []);
  // A loaded model's lexicon is looked up as it was parsed: only its own string values are words.
  const loaded = new LexiconIndex(JSON.parse('{"银行":"yin2 hang2","to":"- -"}') as Record<string, string>);
  assert.equal(loaded.size, 1);
  assert.deepEqual(loaded.hits('去银行', 2), [{ length: 2, reading: 'hang2' }]);
  assert.deepEqual(loaded.hits('toString', 0), []);
  assert.deepEqual(loaded.toJSON(), { 银行: 'yin2 hang2' });
  // A lexicon that is not an object (a hand-edited model file) is an empty one, not a crash.
  assert.equal(new LexiconIndex(null as unknown as Record<string, string>).size, 0);
});

void test('the student learns contexts pinyin-pro gets wrong, and backs off to pinyin-pro for unseen characters', () => {
  // 行 in "X行Y" where the teacher always reads hang2 after 咱 (pinyin-pro says xing2 there).
  const examples: LabelledExample[] = [];
  const fillers = ['我们', '今天', '大家', '他说', '明天', '你看', '老师', '同学'];
  for (const a of fillers)
    for (const b of fillers)
      examples.push({ text: `${a}咱行${b}`, index: 3, reading: 'hang2' }, { text: `${a}行走${b}`, index: 2, reading: 'xing2' });
  assert.equal(pinyinProGuess('她说咱行了', 3), 'xing2');
  const model = trainStudent(examples, { seed: 1, heldOutFraction: 0.25 });
  const s = studentFromJson(JSON.parse(serializeModel(model)));
  assert.equal(s.predict('她说咱行了', 3), 'hang2');
  assert.equal(s.predict('快行走吧', 1), 'xing2');
  assert.equal(s.predict('中国', 0), 'zhong1', 'unseen character: pinyin-pro');
  assert.equal(s.predict('a行', 0), undefined);
  assert.equal(model.metrics.heldOutAccuracy, 1);
  assert.equal(model.metrics.heldOutExamples, 32);
});

void test('a reading the examples never showed is still given when pinyin-pro proposes it and nothing contradicts', () => {
  // 监 only ever seen as jian1; in 太监 pinyin-pro reads the neutral tone.
  const examples: LabelledExample[] = ['监督', '监视', '监考', '监测'].map((w) => ({ text: `他们${w}工作`, index: 2, reading: 'jian1' }));
  assert.equal(pinyinProGuess('明朝大太监刘瑾', 4), 'jian5');
  const model = trainStudent(examples, { seed: 1, heldOutFraction: 0 });
  assert.ok(!model.chars['监']!.readings.includes('jian5'));
  const s = studentFromJson(JSON.parse(serializeModel(model)));
  assert.equal(s.predict('明朝大太监刘瑾', 4), 'jian5');
  assert.equal(s.predict('他们监督工作', 2), 'jian1');
});

void test('training is deterministic: same data and seed ⇒ the same bytes; another seed ⇒ another split', () => {
  const { sent, lb } = cppSubset(1500);
  const { examples } = fromCpp('dev.sent', sent, lb);
  const a = serializeModel(trainStudent(examples, { seed: 7, epochs: 3 }));
  const b = serializeModel(trainStudent(examples, { seed: 7, epochs: 3 }));
  assert.equal(a, b);
  const c = serializeModel(trainStudent(examples, { seed: 8, epochs: 3 }));
  assert.notEqual(a, c);
  const parsed = JSON.parse(a);
  assert.equal(parsed.seed, 7);
  assert.equal(parsed.trainingData.sha256, examplesHash(examples));
  assert.equal(parsed.metrics.heldOutExamples, 300);
  assert.deepEqual(splitExamples(examples, 0.2, 7).heldOut.slice(0, 3), splitExamples(examples, 0.2, 7).heldOut.slice(0, 3));
});

void test('on CPP the student beats pinyin-pro on held-out sentences', () => {
  const { sent, lb } = cppSubset(20000);
  const { examples } = fromCpp('dev.sent', sent, lb);
  const model = trainStudent(examples, { seed: 42 });
  assert.ok(model.metrics.heldOutAccuracy! >= 0.94, `held-out ${model.metrics.heldOutAccuracy}`);
  assert.ok(model.metrics.heldOutAccuracy! > model.metrics.heldOutPinyinProAccuracy!);
  assert.ok(Buffer.byteLength(serializeModel(model)) < 5 * 1024 * 1024);
});

void test('loadStudent rejects files that are not student models', async () => {
  const dir = tmp();
  try {
    writeFileSync(join(dir, 'x.json'), '{"format":"other"}');
    await assert.rejects(loadStudent(join(dir, 'x.json')), StudentFormatError);
    writeFileSync(join(dir, 'y.json'), 'nope');
    await assert.rejects(loadStudent(join(dir, 'y.json')), /not JSON/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('a training job writes the model; in a worker it reports progress and can be cancelled', async () => {
  const dir = tmp();
  try {
    const { sent, lb } = cppSubset(2000);
    writeFileSync(join(dir, 'd.sent'), sent);
    writeFileSync(join(dir, 'd.lb'), lb);
    const direct = await runTrainJob({ labels: [join(dir, 'd.sent')], out: join(dir, 'direct.json'), epochs: 2 });
    assert.equal(direct.examples, 2000);

    const phases: string[] = [];
    const res = await trainInWorker(
      { labels: [join(dir, 'd.sent')], out: join(dir, 'w', 'model.json'), epochs: 2 },
      { onProgress: (p) => phases.push(`${p.phase}${p.step}`) },
    );
    assert.ok(res);
    assert.ok(phases.includes('epoch1') && phases.includes('epoch2'), phases.join(','));
    assert.equal(readFileSync(join(dir, 'w', 'model.json'), 'utf8'), readFileSync(join(dir, 'direct.json'), 'utf8'));

    const controller = new AbortController();
    const cancelled = await trainInWorker(
      { labels: [join(dir, 'd.sent')], out: join(dir, 'c.json'), epochs: 1000 },
      {
        signal: controller.signal,
        onProgress: (p) => {
          if (p.phase === 'epoch' && p.step === 2) controller.abort();
        },
      },
    );
    assert.equal(cancelled, undefined);
    assert.equal(existsSync(join(dir, 'c.json')), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
