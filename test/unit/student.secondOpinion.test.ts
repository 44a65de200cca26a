// The student's calibrated confidence, the second opinion built on it, the model format versions,
// the default student and its reproducible build.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { ReplaceDict } from '../../server/src/core/pronunciation/dictionary';
import { createPolyphoneAnalyzer, type PolyphoneData, type SecondOpinion } from '../../server/src/core/pronunciation/polyphones';
import { ParsedTaskLine } from '../../server/src/core/formats/taskFile';
import { defaultSettings } from '../../server/src/core/settings';
import { fromCpp } from '../../server/src/core/student/labels';
import {
  confidenceOf,
  defaultStudentPath,
  loadDefaultStudent,
  loadStudent,
  serializeModel,
  studentFromJson,
  StudentFormatError,
} from '../../server/src/core/student/model';
import { likelyMisreadings, misreadingAt, MISREADING_CONFIDENCE, type ConfidentStudent } from '../../server/src/core/student/secondOpinion';
import { examplesHash, plattFit, trainStudent, type LabelledExample } from '../../server/src/core/student/trainer';
import { buildDefaultStudent } from '../../scripts/build-default-student';

const CPP = join(__dirname, '..', '..', 'data', 'cpp');
const tmp = () => mkdtempSync(join(tmpdir(), 'student-2nd-'));

function cppSubset(lines: number): { sent: string; lb: string } {
  const sent = readFileSync(join(CPP, 'dev.sent'), 'utf8').split('\n').slice(0, lines).join('\n') + '\n';
  const lb = readFileSync(join(CPP, 'dev.lb'), 'utf8').split('\n').slice(0, lines).join('\n') + '\n';
  return { sent, lb };
}

/** 行 read hang2 after 咱 (pinyin-pro says xing2 there), xing2 in 行走. */
function hangExamples(): LabelledExample[] {
  const examples: LabelledExample[] = [];
  const fillers = ['我们', '今天', '大家', '他说', '明天', '你看', '老师', '同学'];
  for (const a of fillers)
    for (const b of fillers)
      examples.push({ text: `${a}咱行${b}`, index: 3, reading: 'hang2' }, { text: `${a}行走${b}`, index: 2, reading: 'xing2' });
  return examples;
}

void test('Platt scaling recovers the slope and offset of a known logistic curve', () => {
  const x: number[] = [],
    y: number[] = [];
  // Deterministic draws: y = 1 with probability σ(0.8·m − 1).
  for (let i = 0; i < 4000; i++) {
    const m = (i % 100) / 10;
    const u = ((i * 7919) % 1000) / 1000;
    x.push(m);
    y.push(u < 1 / (1 + Math.exp(-(0.8 * m - 1))) ? 1 : 0);
  }
  const { a, b } = plattFit(x, y);
  assert.ok(Math.abs(a - 0.8) < 0.1 && Math.abs(b + 1) < 0.15, `a ${a}, b ${b}`);
  // Separable data does not make it diverge.
  const s = plattFit([0, 1, 2, 3, 10, 11, 12], [0, 0, 0, 0, 1, 1, 1]);
  assert.ok(Number.isFinite(s.a) && Number.isFinite(s.b) && s.a > 0);
});

void test('predictions carry a calibrated confidence: high where the context decides, the same reading as predict', () => {
  const model = trainStudent(hangExamples(), { seed: 1, heldOutFraction: 0 });
  assert.equal(model.formatVersion, 3);
  const c = model.calibration!;
  assert.ok(c && c.folds === 5 && c.examples > 0, JSON.stringify(c));
  const s = studentFromJson(JSON.parse(serializeModel(model)));
  const r = s.predictWithConfidence('她说咱行了', 3)!;
  assert.equal(r.reading, 'hang2');
  assert.equal(r.reading, s.predict('她说咱行了', 3));
  assert.ok(r.confidence! > 0.9 && r.confidence! < 1, `confidence ${r.confidence}`);
  // A character the model never saw: pinyin-pro's guess, with the out-of-fold accuracy of such guesses.
  assert.equal(s.predictWithConfidence('中国', 0)!.confidence, c.unseen);
  assert.equal(s.predictWithConfidence('a行', 0), undefined);
  // Every out-of-fold prediction was right here: the fit says "sure" whatever the margin, never less sure with more margin.
  assert.ok(c.a >= 0 && c.b > 2, JSON.stringify(c));
  // Without calibration there is no confidence, only the reading.
  const raw = studentFromJson(
    JSON.parse(serializeModel(trainStudent(hangExamples(), { seed: 1, heldOutFraction: 0, calibrationFolds: 0 }))),
  );
  assert.deepEqual(raw.predictWithConfidence('她说咱行了', 3), { reading: 'hang2', confidence: null });
});

void test('format 1 model files still load and predict; unknown versions say what to do', () => {
  const v1 = {
    format: 'tts-distill-g2p-student',
    formatVersion: 1,
    createdWith: { pinyinPro: '3.29.4' },
    seed: 1,
    epochs: 10,
    heldOutFraction: 0,
    contextWidth: 3,
    agreement: ['pinyinPro', 'lexicon'],
    trainingData: { sha256: 'a'.repeat(64), examples: 2, sources: [] },
    metrics: { trainExamples: 2, heldOutExamples: 0, trainAccuracy: 1, heldOutAccuracy: null, heldOutPinyinProAccuracy: null },
    shared: { pp: 1, lex: 2 },
    lexicon: { 咱行: 'zan2 hang2' },
    chars: { 行: { readings: ['xing2', 'hang2'], context: { R1走: [3, 0] }, agreement: {} } },
  };
  const s = studentFromJson(v1);
  // The v1 lexicon votes (2 + pinyin-pro's 1 for xing2 is beaten).
  assert.equal(s.predict('她说咱行了', 3), 'hang2');
  assert.equal(s.predict('快行走吧', 1), 'xing2');
  assert.deepEqual(s.predictWithConfidence('快行走吧', 1), { reading: 'xing2', confidence: null });
  assert.throws(
    () => studentFromJson({ ...v1, formatVersion: 4 }),
    (e: Error) =>
      e instanceof StudentFormatError && /format version 4; this build reads versions 1, 2 and 3: train the student again/.test(e.message),
  );
  assert.throws(() => studentFromJson({ ...v1, formatVersion: 2 }), /incomplete \(chars, shared, lexicons/);
});

void test('second opinion: a character the default student never saw is not predicted (its calibrated confidence cannot reach the threshold)', async () => {
  const s = await loadDefaultStudent();
  const text = '他在银行工作，行长说了算';
  assert.equal(s.maxConfidence(text, 3), 1, '行 is one of the characters it learnt');
  // A polyphone of pinyin-pro's that CPP never labels: its confidence is the calibrated accuracy of such guesses.
  const unseen = [...'的不有这个们家'].find((c) => s.maxConfidence(c, 0) < 1);
  assert.ok(unseen, 'some common polyphone is unseen');
  const calibration = s.file.calibration!;
  assert.equal(s.maxConfidence(unseen, 0), calibration.unseen);
  assert.ok(calibration.unseen < MISREADING_CONFIDENCE);
  let calls = 0;
  const counting: ConfidentStudent = {
    maxConfidence: (t, i) => s.maxConfidence(t, i),
    predict: (t, i) => (calls++, s.predict(t, i)),
    predictWithConfidence: (t, i) => (calls++, s.predictWithConfidence(t, i)),
  };
  assert.equal(misreadingAt(unseen, 0, 'zzz9', counting), undefined);
  assert.equal(calls, 0, 'no prediction for it');
  // Without the shortcut the answer is the same, by computing it.
  assert.equal(misreadingAt(unseen, 0, 'zzz9', { predictWithConfidence: counting.predictWithConfidence }), undefined);
  assert.equal(calls, 1);
});

const fake = (byIndex: Record<number, [string, number]>): ConfidentStudent => ({
  predictWithConfidence: (_t, i) => (byIndex[i] ? { reading: byIndex[i]![0], confidence: byIndex[i]![1] } : undefined),
});

void test('second opinion: only polyphones the student confidently reads otherwise than the teacher', () => {
  // 我 (index 0) is not a polyphone; 行 (2) disagreed with confidence; 长 (3) disagreed, unsure; 了 (4) agreed.
  const text = '我去行长了';
  const teacher = [null, 'qu4', 'xing2', 'zhang3', 'le5'];
  const student = fake({ 0: ['e2', 0.99], 2: ['hang2', 0.97], 3: ['chang2', 0.4], 4: ['le5', 0.99] });
  assert.deepEqual(likelyMisreadings(text, teacher, student), [
    { index: 2, char: '行', teacherReading: 'xing2', studentReading: 'hang2', confidence: 0.97 },
  ]);
  assert.deepEqual(
    likelyMisreadings(text, teacher, student, 0.3).map((m) => m.index),
    [2, 3],
  );
  assert.equal(misreadingAt(text, 2, null, student), undefined, 'no teacher reading, nothing to contradict');
  assert.equal(
    misreadingAt(text, 2, 'xing2', fake({ 2: ['hang2', null as unknown as number] })),
    undefined,
    'no calibrated confidence, no flag',
  );
  // UTF-16: the index after a surrogate pair is still the character's.
  const withPair = '𠀀行';
  assert.deepEqual(
    likelyMisreadings(withPair, [null, null, 'xing2'], fake({ 2: ['hang2', 0.99] })).map((m) => [m.index, m.char]),
    [[2, '行']],
  );
  assert.ok(MISREADING_CONFIDENCE > 0.5 && MISREADING_CONFIDENCE < 1);
});

void test('polyphone flags: a warning only where the second opinion confidently disagrees, its reading first in the quick fixes', () => {
  const task = (text: string) =>
    new ParsedTaskLine(JSON.stringify({ prompt_audio: 'a.wav', prompt_text: '你好', input_text: text, output_name: 'x' }), 'webui', false);
  const student: SecondOpinion = {
    version: 't',
    label: 'the student',
    predict: () => 'xing2',
    misreading: (text, i, teacher) => (text[i] === '行' && teacher !== 'xing2' ? { reading: 'xing2', confidence: 0.95 } : undefined),
  };
  const f = createPolyphoneAnalyzer({
    dict: ReplaceDict.empty,
    severity: 'information',
    ignore: defaultSettings.polyphones.ignore,
    student,
  }).analyze(task('他在银行工作'));
  const hang = f.find((x) => (x.data as PolyphoneData).char === '行')!;
  assert.equal(hang.code, 'pronunciation/ambiguous');
  assert.equal(hang.severity, 'warning');
  assert.match(hang.message, /the student reads xing2 \(95 % sure\): ambiguous/);
  assert.equal((hang.data as PolyphoneData).candidates[0], 'xing2');
  assert.deepEqual([...(hang.data as PolyphoneData).candidates].sort(), ['hang2', 'hang4', 'heng2', 'xing2']);
  // Elsewhere the student says nothing (predict would disagree everywhere): no warning.
  assert.ok(f.filter((x) => x !== hang).every((x) => x.code === 'pronunciation/polyphone'));
});

void test('the default student is installed, built from data/cpp, and a fresh build of the same data gives the same bytes', async () => {
  const file = defaultStudentPath();
  assert.ok(file, 'server/src/core/student/data/default-student.json.gz');
  const model = JSON.parse(gunzipSync(readFileSync(file)).toString('utf8')) as {
    trainingData: { sha256: string; examples: number };
    seed: number;
    calibration: unknown;
    heldOutFraction: number;
  };
  const { examples } = fromCpp('dev.sent', readFileSync(join(CPP, 'dev.sent'), 'utf8'), readFileSync(join(CPP, 'dev.lb'), 'utf8'));
  assert.equal(model.trainingData.sha256, examplesHash(examples), 'trained on exactly data/cpp (npm run build:student-model)');
  assert.equal(model.heldOutFraction, 0);
  assert.ok(model.calibration);
  const s = await loadDefaultStudent();
  // On CPP some out-of-fold predictions are wrong: the confidence grows with the margin.
  const cal = s.file.calibration!;
  assert.ok(
    confidenceOf({ reading: 'x', kind: 'model', margin: 5 }, cal)! > confidenceOf({ reading: 'x', kind: 'model', margin: 0 }, cal)!,
  );
  assert.ok(cal.unseen < MISREADING_CONFIDENCE, 'pinyin-pro guesses for unseen characters do not raise warnings');
  assert.equal(s.predict('我去银行取钱', 3), 'hang2');
  assert.ok(s.predictWithConfidence('我去银行取钱', 3)!.confidence! > MISREADING_CONFIDENCE);

  // The build itself, on a small part of CPP (the full one is `npm run build:student-model -- --check`).
  const dir = tmp();
  try {
    const { sent, lb } = cppSubset(400);
    writeFileSync(join(dir, 'part.sent'), sent);
    writeFileSync(join(dir, 'part.lb'), lb);
    const a = await buildDefaultStudent(join(dir, 'part.sent'));
    const b = await buildDefaultStudent(join(dir, 'part.sent'));
    assert.ok(a.equals(b), 'same data and seed ⇒ same bytes');
    writeFileSync(join(dir, 'm.json.gz'), a);
    const loaded = await loadStudent(join(dir, 'm.json.gz'));
    assert.equal(loaded.file.trainingData.examples, 400);
    writeFileSync(join(dir, 'bad.json.gz'), 'not gzip');
    await assert.rejects(loadStudent(join(dir, 'bad.json.gz')), /not gzip/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
