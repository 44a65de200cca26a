import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { parseDictEntries, ReplaceDict } from '../../server/src/core/pronunciation/dictionary';
import { ALL_TONAL_SYLLABLES, computeCoverage, phonemeSymbols, suggestFromCorpus } from '../../server/src/core/dataset/coverage';
import { PHONEME_SYMBOLS } from '../../server/src/core/formats/notation';
import { candidateReadings } from '../../server/src/core/pronunciation/teacherReadings';
import { runCli } from './runCli';

const REPO = path.resolve(__dirname, '..', '..');
const dict = new ReplaceDict(parseDictEntries('{"银行": "银<|H|><|ANG2|>"}\n'));
const at = (text: string, line: number) => ({ file: 'a.tasks.jsonl', line, text });

test('coverage: each polyphone reading counted in lines, by who decides it (dictionary pin, G2P); thin readings flagged, the lines kept', () => {
  const r = computeCoverage(
    [
      at('他在银行工作。', 0),
      at('银行的行长去步行。', 1), // 行 twice as hang2 (one pinned, one by the G2P) and once xing2: one line per reading
      at('我们一起步行。', 2),
      at('We love 银行 and Python。', 3),
    ],
    { dict, minExamples: 2 },
  );
  const hang = r.polyphones.find((p) => p.char === '行')!;
  assert.ok(hang, 'the polyphone 行 is listed');
  const byReading = new Map(hang.readings.map((x) => [x.reading, x]));
  // Pinned by the dictionary in lines 0, 1 and 3; 行长 read hang2 by the G2P in line 1.
  assert.equal(byReading.get('hang2')!.lines, 3);
  assert.equal(byReading.get('hang2')!.occurrences, 4);
  assert.deepEqual(byReading.get('hang2')!.sources, { dictionary: 3, g2p: 1, model: 0 });
  assert.deepEqual(
    byReading.get('hang2')!.refs.map((x) => x.line),
    [0, 1, 3],
  );
  assert.equal(byReading.get('xing2')!.lines, 2);
  assert.equal(byReading.get('xing2')!.thin, false);
  // Candidates never read are listed with 0 lines and thin.
  for (const c of candidateReadings('行')) assert.ok(byReading.has(c), c);
  assert.equal(byReading.get('heng2')!.lines, 0);
  assert.ok(byReading.get('heng2')!.thin);
  assert.ok(r.thin.some((t) => t.char === '行' && t.reading === 'heng2' && t.lines === 0));
  assert.equal(hang.lines, 4);
  // 长 (zhang3 in 行长) is a polyphone seen once: thin with minExamples 2.
  assert.ok(r.thin.some((t) => t.char === '长' && t.reading === 'zhang3' && t.lines === 1));
  // Mixed-language share: one line of four.
  assert.equal(r.mixedLanguage.lines, 1);
  assert.equal(r.mixedLanguage.share, 0.25);
  assert.deepEqual(r.mixedLanguage.refs, [{ file: 'a.tasks.jsonl', line: 3 }]);
  assert.equal(r.lines, 4);
});

test('coverage: phoneme tokens are counted only where the teacher writes tokens (model-read able-list characters stay text); syllables and tones add up', () => {
  assert.deepEqual(phonemeSymbols('hang2'), ['H', 'ANG2']);
  assert.deepEqual(phonemeSymbols('shi4'), ['SH', 'III4']);
  assert.deepEqual(phonemeSymbols('yi4'), ['I4']);
  for (const s of ALL_TONAL_SYLLABLES) for (const t of phonemeSymbols(s)) assert.ok(PHONEME_SYMBOLS.has(t), `${s} → ${t}`);
  // 行 is not in the able list (the G2P writes its tokens); 的 is (the language model reads it).
  const r = computeCoverage([at('行', 0), at('的', 1)]);
  assert.deepEqual(r.phonemes.counts, { X: 1, ING2: 1 });
  assert.equal(r.phonemes.covered, 2);
  assert.equal(r.phonemes.total, 204);
  assert.equal(r.phonemes.missing.length, 202);
  assert.equal(r.syllables.covered, 2);
  assert.equal(r.tonalSyllables.covered, 2);
  assert.deepEqual(r.tones, { 1: 0, 2: 1, 3: 0, 4: 0, 5: 1 });
  assert.equal(r.hanCharacters, 2);
});

test('coverage: the bundled syllable inventory is what pinyin-pro writes for U+4E00–U+9FA5', () => {
  const tonal = new Set<string>();
  for (let c = 0x4e00; c <= 0x9fa5; c++) for (const x of candidateReadings(String.fromCharCode(c))) tonal.add(x);
  const known = new Set(ALL_TONAL_SYLLABLES);
  assert.equal(ALL_TONAL_SYLLABLES.length, 1380);
  for (const s of known) assert.ok(tonal.has(s), s);
  // Every reading pinyin-pro writes is in the inventory, except readings the token notation cannot write.
  const outside = [...tonal].filter((s) => !known.has(s));
  assert.ok(outside.length < 10, outside.join(' '));
});

test('coverage suggestions: CPP sentences that fill thin readings come first, each counted once per missing example', async () => {
  const corpus = (await readFile(path.join(REPO, 'data', 'cpp', 'dev.sent'), 'utf8')).split('\n').slice(0, 3000);
  const base = computeCoverage([at('我了解了。', 0), at('他长大了。', 1)], { minExamples: 2 });
  const picks = suggestFromCorpus(base, corpus, { limit: 15, minExamples: 2 });
  assert.equal(picks.length, 15);
  // Gains never increase down the list (greedy), and the first pick fills at least one thin reading.
  for (let i = 1; i < picks.length; i++) assert.ok(picks[i]!.gain <= picks[i - 1]!.gain + 1e-9);
  assert.ok(picks[0]!.adds.length >= 1);
  // A thin reading lacking k examples is credited at most k times over all picks.
  const credited = new Map<string, number>();
  for (const p of picks) for (const a of p.adds) credited.set(a, (credited.get(a) ?? 0) + 1);
  for (const [pair, n] of credited) {
    const [char, reading] = pair.split(':');
    const have = base.thin.find((t) => t.char === char && t.reading === reading)!;
    assert.ok(n <= base.minExamples - have.lines, `${pair} credited ${n} times`);
  }
  // Each pick really contains what it claims (U+2581 markers removed).
  for (const p of picks) {
    assert.ok(!p.text.includes('\u2581'));
    assert.equal(p.text, corpus[p.line]!.replace(/\u2581/g, '').trim());
  }
});

test('tts-distill coverage: text and JSON on a task file, with corpus suggestions', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'coverage-cli-'));
  const task = (i: number, text: string) =>
    JSON.stringify({ prompt_audio: 'p.wav', prompt_text: '好。', input_text: text, output_name: `u${i}` });
  await writeFile(
    path.join(dir, 'a.tasks.jsonl'),
    [task(0, '他在银行工作。'), task(1, '我们一起步行。'), task(2, 'Hello 银行')].join('\n') + '\n',
  );
  await writeFile(path.join(dir, 'G2P_replace_dict.jsonl'), '{"银行": "银<|H|><|ANG2|>"}\n');
  await writeFile(path.join(dir, 'corpus.txt'), '行长来了。\n今天天气好。\n他很长寿。\n');
  const text = await runCli(['coverage', '--min', '2', '--corpus', 'corpus.txt', '--suggest', '2'], dir);
  assert.equal(text.code, 0, text.err);
  assert.match(text.out, /task lines +3 \(1 file\)/);
  assert.match(text.out, /行 +hang2 2 \(dict 2\) · xing2 1 \(g2p 1\) THIN/);
  assert.match(text.out, /mixed language +1 lines \(33\.3 %\)/);
  assert.match(text.out, /corpus\.txt:1 +\+\d/);
  const json = await runCli(['coverage', 'a.tasks.jsonl', '--format', 'json'], dir);
  const r = JSON.parse(json.out) as {
    files: string[];
    lines: number;
    polyphones: Array<{ char: string; readings: Array<{ reading: string; refs: Array<{ file: string }> }> }>;
  };
  assert.deepEqual(r.files, ['a.tasks.jsonl']);
  assert.equal(r.lines, 3);
  assert.equal(r.polyphones.find((p) => p.char === '行')!.readings[0]!.refs[0]!.file, 'a.tasks.jsonl');
  await rm(dir, { recursive: true, force: true });
});

test('coverage in chunks: the same report as in one go, and a cancelled run gives none', async () => {
  const { computeCoverageAsync } = await import('../../server/src/core/dataset/coverage');
  const lines = Array.from({ length: 1200 }, (_, i) => at(i % 2 ? '银行的行长去步行。' : '我们还要重新开始。', i));
  const whole = computeCoverage(lines, { dict });
  assert.deepEqual(await computeCoverageAsync(lines, { dict, chunkLines: 100 }), whole);
  let checks = 0;
  assert.equal(await computeCoverageAsync(lines, { dict, chunkLines: 100, isCancelled: () => ++checks >= 3 }), undefined);
  assert.equal(checks, 3);
});

test('tts-distill coverage and voices without files find the task files of ttsDistill.taskFiles.globs too, as the editor does', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'coverage-globs-'));
  const { mkdir } = await import('node:fs/promises');
  await mkdir(path.join(dir, '.vscode'));
  await mkdir(path.join(dir, 'batches'));
  const task = (i: number, text: string) =>
    JSON.stringify({ prompt_audio: 'p.wav', prompt_text: '好。', input_text: text, output_name: `u${i}` });
  await writeFile(path.join(dir, 'a.tasks.jsonl'), task(0, '他在银行工作。') + '\n');
  await writeFile(path.join(dir, 'batches', 'b.jsonl'), task(1, '我们一起步行。') + '\n');
  const before = JSON.parse((await runCli(['coverage', '--format', 'json'], dir)).out) as { files: string[] };
  assert.deepEqual(before.files, ['a.tasks.jsonl']);
  await writeFile(path.join(dir, '.vscode', 'settings.json'), JSON.stringify({ 'ttsDistill.taskFiles.globs': ['batches/*.jsonl'] }));
  const after = JSON.parse((await runCli(['coverage', '--format', 'json'], dir)).out) as { files: string[]; lines: number };
  assert.deepEqual(after.files, ['a.tasks.jsonl', path.join('batches', 'b.jsonl')]);
  assert.equal(after.lines, 2);
  const voices = await runCli(['voices'], dir);
  assert.match(voices.out + voices.err, /p\.wav/);
  await rm(dir, { recursive: true, force: true });
});
