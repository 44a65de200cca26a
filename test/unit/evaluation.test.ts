import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeWav, resample } from '../../server/src/core/audio/wav';
import { compareAudio, compareSignals } from '../../server/src/core/evaluation/acoustic';
import { agreement, disagreements } from '../../server/src/core/evaluation/agreement';
import { readingsDocument, readingsLine } from '../../server/src/core/evaluation/diffText';
import { dtw } from '../../server/src/core/evaluation/dtw';
import { evaluate, writeReport } from '../../server/src/core/evaluation/evaluate';
import type { G2PStudent } from '../../server/src/core/student/model';

const SR = 16000;
/** A voiced-speech-like tone: a fundamental with a few harmonics. */
const voiced = (f0: number, seconds: number, sr = SR) =>
  Float32Array.from({ length: Math.round(sr * seconds) }, (_, i) => {
    const t = i / sr;
    return 0.4 * Math.sin(2 * Math.PI * f0 * t) + 0.2 * Math.sin(4 * Math.PI * f0 * t) + 0.1 * Math.sin(6 * Math.PI * f0 * t);
  });

void test('agreement: hand-counted characters, polyphones, sentences and confusions', () => {
  const pairs = [
    // 银行: 银 is not a polyphone; 行 agrees.
    { text: '银行', teacher: ['yin2', 'hang2'], student: ['yin2', 'hang2'] },
    // 行走: 行 disagrees.
    { text: '行走A', teacher: ['xing2', 'zou3', null], student: ['hang2', 'zou3', null] },
    // 长大: 长 disagrees, 大 agrees.
    { text: '长大', teacher: ['zhang3', 'da4'], student: ['chang2', 'da4'] },
    { text: '行人', teacher: ['xing2', 'ren2'], student: ['hang2', 'ren2'] },
  ];
  const a = agreement(pairs);
  assert.deepEqual(a.characters, { agree: 5, total: 8, rate: 5 / 8 });
  // Polyphones: 行 ×3, 长, 大 (da4/dai4) → 5, of which 行(银行) and 大 agree.
  assert.deepEqual(a.polyphones, { agree: 2, total: 5, rate: 2 / 5 });
  assert.deepEqual(a.sentences, { agree: 1, total: 4, rate: 1 / 4 });
  const hang = a.table.find((r) => r.char === '行')!;
  assert.equal(hang.support, 3);
  assert.equal(hang.agree, 1);
  assert.deepEqual(hang.teacherReadings, { xing2: 2, hang2: 1 });
  assert.deepEqual(hang.confusions, [{ teacher: 'xing2', student: 'hang2', count: 2 }]);
  assert.equal(a.table[0]!.char, '行', 'weakest first');
  assert.deepEqual(disagreements(pairs[2]!), [{ index: 0, char: '长', teacher: 'zhang3', student: 'chang2' }]);
});

void test('DTW: a known path on a repeated frame, and its total cost', () => {
  const a = [0, 1, 2],
    b = [0, 0, 1, 2];
  const r = dtw(a.length, b.length, (i, j) => Math.abs(a[i]! - b[j]!));
  assert.deepEqual(r.path, [
    [0, 0],
    [0, 1],
    [1, 2],
    [2, 3],
  ]);
  assert.equal(r.total, 0);
  const c = [1, 3],
    d = [1, 2, 3];
  const r2 = dtw(c.length, d.length, (i, j) => Math.abs(c[i]! - d[j]!));
  // (0,0)=0 → (0,1)=1 or (1,1)=1 → (1,2)=0: the cheapest total is 1.
  assert.equal(r2.total, 1);
  assert.deepEqual(r2.path[0], [0, 0]);
  assert.deepEqual(r2.path[r2.path.length - 1], [1, 2]);
  assert.deepEqual(
    dtw(0, 3, () => 1),
    { path: [], total: 0 },
  );
});

void test('acoustic: identical signals give MCD 0, F0 RMSE 0, duration ratio 1', () => {
  const x = voiced(180, 0.5);
  const m = compareSignals(x, SR, x, SR);
  assert.equal(m.mcd, 0);
  assert.equal(m.f0Rmse, 0);
  assert.equal(m.durationRatio, 1);
  assert.ok(m.voicedFrames > 30);
});

void test('acoustic: a higher voice, a slower one, and another sample rate', () => {
  const t = voiced(200, 0.6);
  const higher = compareSignals(t, SR, voiced(220, 0.6), SR);
  assert.ok(higher.mcd > 0);
  assert.ok(Math.abs(higher.f0Rmse! - 20) < 3, `F0 RMSE ${higher.f0Rmse}`);
  const padded = new Float32Array(Math.round(SR * 0.9));
  padded.set(t, Math.round(SR * 0.15));
  const slower = compareSignals(t, SR, padded, SR);
  assert.ok(Math.abs(slower.durationRatio - 1.5) < 1e-9);
  // Both are analysed at 16 kHz: the same sound stored at 24 kHz is nearly the same sound.
  let seed = 1;
  const noisy = t.map((v) => v + 0.01 * ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32 - 0.5));
  const r = compareAudio(encodeWav(noisy, SR), encodeWav(resample(noisy, SR, 24000), 24000));
  assert.ok(r.mcd < 1.5 && r.mcd < higher.mcd, `MCD ${r.mcd}`);
  assert.ok(r.f0Rmse! < 2);
});

void test('diff documents: one aligned line per task, only readings differ', () => {
  // 去 and 银 have one reading and agree: left out; 行 is a polyphone; 子 (one reading) differs.
  const item = {
    line: 11,
    name: 'utt_3',
    text: '去银行A子',
    teacher: ['qu4', 'yin2', 'hang2', null, 'zi3'],
    student: ['qu4', 'yin2', 'xing2', null, 'zi5'],
  };
  assert.equal(readingsLine(item, 'teacher'), 'line 12 · utt_3 | 行hang2 子zi3');
  assert.equal(readingsLine(item, 'student'), 'line 12 · utt_3 | 行xing2 子zi5');
  // A character the teacher did not read is on neither side.
  const unread = { ...item, line: 12, teacher: [null, null, 'hang2', null, null], student: ['qu4', 'yin2', null, null, 'zi3'] };
  assert.equal(readingsDocument([item, unread], 'student'), 'line 12 · utt_3 | 行xing2 子zi5\nline 13 · utt_3 | 行?\n');
  assert.equal(readingsDocument([unread], 'teacher'), 'line 13 · utt_3 | 行hang2\n');
});

void test('evaluate a teacher run: readings from the manifest, audio where the student has it, eval.json + eval.html', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'eval-test-'));
  try {
    const teacher = join(dir, 'teacher-out'),
      studentAudio = join(dir, 'student-out'),
      out = join(dir, 'report');
    for (const d of [teacher, studentAudio]) mkdirSync(d);
    writeFileSync(
      join(teacher, 'manifest.jsonl'),
      [
        { line: 0, name: 'a', text: '去银行', readings: ['qu4', 'yin2', 'hang2'], audio: 'a.wav' },
        { line: 2, name: 'b', text: '行走', readings: ['xing2', 'zou3'], audio: 'b.wav' },
      ]
        .map((r) => JSON.stringify({ taskHash: 'h', wavSha256: 'w', ...r }))
        .join('\n') + '\n',
    );
    writeFileSync(join(teacher, 'a.wav'), encodeWav(voiced(200, 0.4), SR));
    writeFileSync(join(teacher, 'b.wav'), encodeWav(voiced(150, 0.4), SR));
    writeFileSync(join(studentAudio, 'a.wav'), encodeWav(voiced(200, 0.4), SR));
    // A student that reads every 行 as hang2 and everything else as the teacher does.
    const student: G2PStudent = {
      version: 'test',
      predict: (t, i) => (t[i] === '行' ? 'hang2' : ({ 去: 'qu4', 银: 'yin2', 走: 'zou3' } as Record<string, string>)[t[i]!]),
    };
    const report = await evaluate({ teacherDir: teacher, student, studentAudioDir: studentAudio });
    assert.deepEqual(report.summary.characters, { agree: 4, total: 5, rate: 0.8 });
    assert.deepEqual(report.summary.sentences, { agree: 1, total: 2, rate: 0.5 });
    assert.equal(report.items[1]!.disagreements[0]!.teacher, 'xing2');
    assert.equal(report.items[0]!.acoustic!.mcd, 0);
    assert.equal(report.items[1]!.acoustic, undefined);
    assert.equal(report.summary.acoustic!.items, 1);
    const files = await writeReport(report, out);
    const json = JSON.parse(readFileSync(files.json, 'utf8'));
    assert.equal(json.items.length, 2);
    const html = readFileSync(files.html, 'utf8');
    assert.match(html, /<mark title="teacher xing2 · student hang2">行<\/mark>走/);
    assert.match(html, /href="\.\.\/teacher-out\/a\.wav"/);
    assert.doesNotMatch(html, /<script|<link|src="http|url\(/, 'self-contained');
    await assert.rejects(evaluate({ teacherDir: join(dir, 'nowhere'), student }), /has no manifest\.jsonl/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
