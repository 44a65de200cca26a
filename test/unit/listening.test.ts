import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { evaluate, writeReport } from '../../server/src/core/evaluation/evaluate';
import { incompleteBeta, meanCi, studentTCdf, studentTQuantile, wilson } from '../../server/src/core/evaluation/confidence';
import {
  appendAnswer,
  answersFile,
  type ListeningCandidate,
  ListeningInputError,
  listeningCandidates,
  makeAnswer,
  nextItem,
  openTest,
  parseAnswers,
  planTest,
  readAnswers,
  summarize,
  updateReport,
} from '../../server/src/core/evaluation/listening';
import { makeWav } from './helpers';
import { runCli } from './runCli';

const close = (actual: number | null, expected: number, eps = 1e-6, what = '') => {
  assert.ok(actual !== null && Math.abs(actual - expected) <= eps, `${what} ${actual} ≈ ${expected}`);
};

function candidates(n: number): ListeningCandidate[] {
  return Array.from({ length: n }, (_, k) => ({
    name: `utt_${k}`,
    line: k,
    text: `第${k}句`,
    teacherAudio: `/t/utt_${k}.wav`,
    studentAudio: `/s/utt_${k}.wav`,
  }));
}

/** A real evaluation run: a teacher run of `n` lines, student WAVs for the first `withStudent`, eval.json written by the core. */
async function makeRun(n: number, withStudent = n): Promise<{ root: string; run: string }> {
  const root = mkdtempSync(path.join(tmpdir(), 'listening-'));
  mkdirSync(path.join(root, 'teacher-out'));
  mkdirSync(path.join(root, 'student-out'));
  const records: string[] = [];
  for (let k = 0; k < n; k++) {
    const text = `我们去银行${k}`;
    records.push(
      JSON.stringify({
        line: k,
        name: `utt_${k}`,
        taskHash: 'h',
        text,
        readings: new Array(text.length).fill(null),
        audio: `utt_${k}.wav`,
        durationSeconds: 0.2,
        sampleRate: 16000,
        backend: 'embedded',
        seed: 42,
        wavSha256: 'w',
      }),
    );
    writeFileSync(path.join(root, 'teacher-out', `utt_${k}.wav`), makeWav({ seconds: 0.2 }));
    if (k < withStudent) writeFileSync(path.join(root, 'student-out', `utt_${k}.wav`), makeWav({ seconds: 0.2 }));
  }
  writeFileSync(path.join(root, 'teacher-out', 'manifest.jsonl'), records.join('\n') + '\n');
  const report = await evaluate({
    teacherDir: path.join(root, 'teacher-out'),
    studentAudioDir: path.join(root, 'student-out'),
    student: { version: 'stub', predict: () => undefined },
  });
  const run = path.join(root, 'eval');
  await writeReport(report, run);
  return { root, run };
}

describe('listening: confidence intervals against known values', () => {
  it('Wilson score interval (scipy binomtest(...).proportion_ci(method="wilson"))', () => {
    const a = wilson(8, 10);
    close(a.share, 0.8);
    close(a.low, 0.4901624715366418, 1e-9, 'low');
    close(a.high, 0.9433178485456248, 1e-9, 'high');
    const b = wilson(0, 10);
    close(b.low, 0, 1e-12);
    close(b.high, 0.27753279986288926, 1e-9);
    const c = wilson(13, 20);
    close(c.low, 0.4328542766852363, 1e-9);
    close(c.high, 0.8188081758989179, 1e-9);
    assert.deepEqual(wilson(0, 0), { k: 0, n: 0, share: null, low: null, high: null });
  });

  it('Student t quantiles and CDF (scipy.stats.t)', () => {
    const expected: Array<[number, number]> = [
      [1, 12.70620474],
      [2, 4.30265273],
      [4, 2.77644511],
      [9, 2.26215716],
      [29, 2.04522964],
      [1000, 1.96233908],
    ];
    for (const [df, t] of expected) close(studentTQuantile(0.975, df), t, 1e-6, `t(0.975, ${df})`);
    close(studentTQuantile(0.025, 9), -2.26215716, 1e-6);
    close(studentTCdf(2, 3), 0.9303370157205785, 1e-9);
    close(studentTCdf(-1.5, 7), 0.088649243494985, 1e-9);
    close(incompleteBeta(0.5, 2, 2), 0.5, 1e-12);
    assert.throws(() => studentTQuantile(1, 3), RangeError);
  });

  it('mean with a 95 % t interval; one rating has no interval', () => {
    const m = meanCi([3, 4, 5, 4, 3]);
    close(m.mean, 3.8, 1e-12);
    close(m.sd, 0.8366600265340756, 1e-12);
    close(m.low, 2.761149366316432, 1e-6);
    close(m.high, 4.838850633683568, 1e-6);
    assert.deepEqual(meanCi([4]), { n: 1, mean: 4, sd: null, low: null, high: null });
    assert.equal(meanCi([]).mean, null);
  });
});

describe('listening: planning', () => {
  it('the same seed gives the same plan; another seed another sample and order', () => {
    const opts = { test: 't1', seed: 7, count: 10, kinds: 'both' as const, now: new Date(0) };
    const a = planTest(candidates(50), opts),
      b = planTest(candidates(50), opts);
    assert.deepEqual(a, b);
    assert.equal(a.items.length, 30, '10 A/B items then 20 MOS takes');
    assert.deepEqual(
      a.items.slice(0, 10).map((i) => i.kind),
      new Array(10).fill('ab'),
    );
    assert.deepEqual(
      a.items.slice(10).map((i) => i.kind),
      new Array(20).fill('mos'),
    );
    const c = planTest(candidates(50), { ...opts, seed: 8 });
    assert.notDeepEqual(
      c.items.map((i) => i.id),
      a.items.map((i) => i.id),
    );
    // The MOS takes are the sampled lines' teacher and student takes, each once.
    const abNames = new Set(a.items.filter((i) => i.kind === 'ab').map((i) => i.name));
    const mos = a.items.filter((i) => i.kind === 'mos');
    for (const name of abNames)
      assert.deepEqual(
        mos
          .filter((i) => i.name === name)
          .map((i) => i.system)
          .sort(),
        ['student', 'teacher'],
        name,
      );
    assert.equal(new Set(a.items.map((i) => i.id)).size, 30, 'ids are unique');
  });

  it('is blind: teacher and student come first in a seeded, varying order; ids name no system', () => {
    const plan = planTest(candidates(40), { test: 't', seed: 42, count: 40, kinds: 'ab' });
    const studentFirst = plan.items.filter((i) => i.kind === 'ab' && i.a.system === 'student').length;
    assert.ok(studentFirst > 5 && studentFirst < 35, `student is A in ${studentFirst} of 40`);
    for (const i of plan.items) {
      assert.ok(i.kind === 'ab');
      assert.notEqual(i.a.system, i.b.system);
      assert.equal(i.a.audio, i.a.system === 'teacher' ? `/t/${i.name}.wav` : `/s/${i.name}.wav`);
    }
    const mos = planTest(candidates(10), { test: 't', seed: 42, count: 10, kinds: 'mos' });
    for (const i of mos.items) assert.doesNotMatch(i.id, /teacher|student/);
    // Not simply teacher, student, teacher, student…
    assert.notDeepEqual(
      mos.items.map((i) => (i.kind === 'mos' ? i.system : '')),
      Array.from({ length: 20 }, (_, k) => (k % 2 ? 'student' : 'teacher')),
    );
  });

  it('samples at most the candidates; refuses bad counts, names and a run without pairs', () => {
    assert.equal(planTest(candidates(3), { test: 't', seed: 1, count: 20, kinds: 'ab' }).items.length, 3);
    assert.throws(
      () => planTest([], { test: 't', seed: 1, count: 20, kinds: 'ab' }),
      /no line of the run has both a teacher WAV and a student WAV/,
    );
    assert.throws(() => planTest(candidates(3), { test: 't', seed: 1, count: 0, kinds: 'ab' }), ListeningInputError);
    for (const bad of ['../x', '', '.hidden', 'a/b', 'x.plan'])
      assert.throws(() => planTest(candidates(3), { test: bad, seed: 1, count: 2, kinds: 'ab' }), /test name/, bad);
  });

  it('candidates are the report lines with both WAVs on disk', () => {
    const items = [
      { name: 'a', line: 0, text: 'x', teacherAudio: '/t/a.wav', studentAudio: '/s/a.wav' },
      { name: 'b', line: 1, text: 'y', teacherAudio: '/t/b.wav' },
      { name: 'c', line: 2, text: 'z', teacherAudio: '/t/c.wav', studentAudio: '/s/gone.wav' },
    ];
    const got = listeningCandidates({ items: items as never }, (f) => f !== '/s/gone.wav');
    assert.deepEqual(
      got.map((c) => c.name),
      ['a'],
    );
  });

  it('answers: A/B 1|2 names the preferred system, MOS 1–5; anything else is refused', () => {
    const plan = planTest(candidates(4), { test: 't', seed: 3, count: 2, kinds: 'both' });
    const ab = plan.items[0]!;
    assert.ok(ab.kind === 'ab');
    const ans = makeAnswer(plan, 0, 2);
    assert.ok(ans.kind === 'ab' && ans.choice === 'B' && ans.preferred === ab.b.system);
    assert.throws(() => makeAnswer(plan, 0, 3), /1 \(A\) or 2 \(B\)/);
    const mosIndex = plan.items.findIndex((i) => i.kind === 'mos');
    const m = makeAnswer(plan, mosIndex, 5);
    assert.ok(m.kind === 'mos' && m.score === 5);
    assert.throws(() => makeAnswer(plan, mosIndex, 6), /1 to 5/);
    assert.throws(() => makeAnswer(plan, 99, 1), /no item 100/);
  });
});

describe('listening: answers on disk', () => {
  it('resumes at the first unanswered item with the stored plan, whatever seed is asked later', async () => {
    const { root, run } = await makeRun(12, 10);
    try {
      const first = await openTest(run, { test: 'panel', seed: 5, count: 4, kinds: 'both' });
      assert.equal(first.resumed, false);
      assert.equal(first.plan.candidates, 10, 'only lines with a student WAV');
      assert.equal(first.plan.items.length, 12);
      assert.equal(first.next, 0);
      await appendAnswer(run, 'panel', makeAnswer(first.plan, 0, 1));
      await appendAnswer(run, 'panel', makeAnswer(first.plan, 1, 2));
      const again = await openTest(run, { test: 'panel', seed: 999, count: 20, kinds: 'ab' });
      assert.equal(again.resumed, true);
      assert.deepEqual(again.plan, first.plan);
      assert.equal(again.next, 2);
      assert.equal(again.answers.length, 2);
      // An item answered out of order: the next is still the first gap.
      await appendAnswer(run, 'panel', makeAnswer(first.plan, 3, 1));
      assert.equal((await openTest(run, { test: 'panel', seed: 5, count: 4, kinds: 'both' })).next, 2);
      const lines = readFileSync(answersFile(run, 'panel'), 'utf8').trim().split('\n');
      assert.equal(lines.length, 3, 'one line per answer');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('a corrupt last line is skipped, kept byte for byte, and the next answer starts a new line', async () => {
    const { root, run } = await makeRun(6);
    try {
      const { plan } = await openTest(run, { test: 't', seed: 1, count: 3, kinds: 'ab' });
      await appendAnswer(run, 't', makeAnswer(plan, 0, 1));
      const file = answersFile(run, 't');
      appendFileSync(file, '{"item":"ab/utt_1","kind":"ab","na'); // a crash mid-write
      const before = readFileSync(file, 'utf8');
      const read = await readAnswers(run, 't');
      assert.equal(read.answers.length, 1);
      assert.equal(read.invalidLines, 1);
      const opened = await openTest(run, { test: 't', seed: 1, count: 3, kinds: 'ab' });
      assert.equal(opened.next, 1);
      assert.equal(readFileSync(file, 'utf8'), before, 'opening rewrites nothing');
      await appendAnswer(run, 't', makeAnswer(plan, 1, 2));
      const after = readFileSync(file, 'utf8');
      assert.ok(after.startsWith(before), 'the torn line is still there');
      const again = await readAnswers(run, 't');
      assert.equal(again.answers.length, 2);
      assert.equal(again.invalidLines, 1);
      assert.equal(nextItem(plan, again.answers), 2);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('never writes through a symbolic link', async () => {
    const { root, run } = await makeRun(3);
    try {
      const { plan } = await openTest(run, { test: 't', seed: 1, count: 2, kinds: 'ab' });
      const target = path.join(root, 'victim.txt');
      writeFileSync(target, 'keep\n');
      symlinkSync(target, answersFile(run, 'u'));
      await assert.rejects(appendAnswer(run, 'u', makeAnswer(plan, 0, 1)), /symbolic link/);
      assert.equal(readFileSync(target, 'utf8'), 'keep\n');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('a run without eval.json or without student audio gets a clear message', async () => {
    const { root, run } = await makeRun(3, 0);
    try {
      await assert.rejects(openTest(run, { test: 't', seed: 1, count: 2, kinds: 'ab' }), /no line of the run has both/);
      await assert.rejects(openTest(root, { test: 't', seed: 1, count: 2, kinds: 'ab' }), /has no eval.json/);
      writeFileSync(path.join(root, 'eval.json'), '{"format":');
      await assert.rejects(openTest(root, { test: 't', seed: 1, count: 2, kinds: 'ab' }), /not valid JSON/);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('summary: latest answer per item, preference share with Wilson CI, MOS per system with t CI', () => {
    const plan = planTest(candidates(10), { test: 't', seed: 2, count: 10, kinds: 'both' });
    const answers = [];
    // A/B: the student preferred in 8 of 10 (item 0 first answered otherwise, then changed).
    for (let k = 0; k < 10; k++) {
      const item = plan.items[k]!;
      assert.ok(item.kind === 'ab');
      const wantStudent = k < 8;
      const value = (item.a.system === 'student') === wantStudent ? 1 : 2;
      if (k === 0) answers.push(makeAnswer(plan, k, 3 - value));
      answers.push(makeAnswer(plan, k, value));
    }
    const teacherScores = [3, 4, 5, 4, 3],
      studentScores = [2, 3];
    for (let k = 10; k < plan.items.length; k++) {
      const item = plan.items[k]!;
      assert.ok(item.kind === 'mos');
      const pool = item.system === 'teacher' ? teacherScores : studentScores;
      const s = pool.shift();
      if (s !== undefined) answers.push(makeAnswer(plan, k, s));
    }
    const s = summarize('t', answers, 1, plan);
    assert.equal(s.answers, 18);
    assert.equal(s.answered, 17);
    assert.equal(s.items, 30);
    assert.equal(s.invalidLines, 1);
    assert.equal(s.preference!.student, 8);
    assert.equal(s.preference!.teacher, 2);
    close(s.preference!.low, 0.4901624715366418, 1e-9);
    close(s.mos!.teacher.mean, 3.8, 1e-12);
    close(s.mos!.teacher.low, 2.761149366316432, 1e-6);
    assert.equal(s.mos!.student.n, 2);
    close(s.mos!.student.mean, 2.5, 1e-12);
    close(s.mos!.student.high, 2.5 + (12.70620474 * Math.SQRT1_2) / Math.SQRT2, 1e-6);
    assert.deepEqual(parseAnswers('{"item":"x","kind":"mos","name":"n","system":"student","score":9,"at":""}\nnot json\n\n'), {
      answers: [],
      invalidLines: 2,
    });
  });

  it('the evaluation report carries the summary once answers exist (eval.json, eval.html), and keeps it when evaluated again', async () => {
    const { root, run } = await makeRun(8);
    try {
      assert.equal(await updateReport(path.join(root, 'nowhere')), undefined);
      const none = await updateReport(run);
      assert.deepEqual(none!.summaries, []);
      assert.doesNotMatch(readFileSync(path.join(run, 'eval.html'), 'utf8'), /Listening tests/);
      const { plan } = await openTest(run, { test: 'blind-1', seed: 4, count: 4, kinds: 'ab' });
      for (let k = 0; k < 4; k++) {
        const item = plan.items[k]!;
        await appendAnswer(run, 'blind-1', makeAnswer(plan, k, item.kind === 'ab' && item.a.system === 'student' ? 1 : 2));
      }
      await updateReport(run);
      const json = JSON.parse(readFileSync(path.join(run, 'eval.json'), 'utf8'));
      assert.equal(json.listening[0].test, 'blind-1');
      assert.equal(json.listening[0].preference.student, 4);
      assert.equal(json.items.length, 8, 'the rest of the report is unchanged');
      const html = readFileSync(path.join(run, 'eval.html'), 'utf8');
      assert.match(html, /Listening tests \(blind\)/);
      assert.match(html, /100\.0 % \[51\.0, 100\.0\]/);
      // Evaluating again into the same folder keeps the tests.
      const report = await evaluate({
        teacherDir: path.join(root, 'teacher-out'),
        studentAudioDir: path.join(root, 'student-out'),
        student: { version: 'stub', predict: () => undefined },
      });
      await writeReport(report, run);
      assert.equal(JSON.parse(readFileSync(path.join(run, 'eval.json'), 'utf8')).listening[0].answered, 4);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('listening: CLI', () => {
  it('plan prints the blind order, summary the figures; answers come from the jsonl', async () => {
    const { root, run } = await makeRun(6);
    try {
      const planned = await runCli(['listening', 'plan', 'eval', '--test', 'cli', '--seed', '3', '--count', '4', '--format', 'json'], root);
      assert.equal(planned.code, 0, planned.err);
      const plan = JSON.parse(planned.out);
      assert.equal(plan.test, 'cli');
      assert.equal(plan.items.length, 12);
      assert.equal(plan.next, 0);
      const text = await runCli(['listening', 'plan', 'eval', '--test', 'cli'], root);
      assert.equal(text.code, 0, text.err);
      assert.match(text.out, /resumed test cli: 0 \/ 12 answered, next item 1/);
      assert.match(text.out, /1\. A\/B utt_\d+/);
      assert.doesNotMatch(text.out, /teacher|student/, 'the plan listing stays blind');

      const { plan: stored } = await openTest(run, { test: 'cli', seed: 0, count: 1, kinds: 'ab' });
      for (let k = 0; k < 4; k++) await appendAnswer(run, 'cli', makeAnswer(stored, k, 1));
      const summary = await runCli(['listening', 'summary', 'eval', '--format', 'json'], root);
      assert.equal(summary.code, 0, summary.err);
      const s = JSON.parse(summary.out);
      assert.equal(s.tests[0].test, 'cli');
      assert.equal(s.tests[0].preference.n, 4);
      assert.equal(s.report.html, path.join(run, 'eval.html'));
      assert.match(readFileSync(path.join(run, 'eval.html'), 'utf8'), /Listening tests/);
      const human = await runCli(['listening', 'summary', 'eval', '--test', 'cli'], root);
      assert.match(human.out, /test cli: 4 \/ 12 items answered/);
      assert.match(human.out, /A\/B: student preferred \d+\.\d % \[/);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('bad input: usage errors exit 64, a missing run or unknown test exit 2 with a message', async () => {
    const { root } = await makeRun(2);
    try {
      assert.equal((await runCli(['listening'], root)).code, 64);
      assert.equal((await runCli(['listening', 'frobnicate', 'eval'], root)).code, 64);
      assert.equal((await runCli(['listening', 'plan', 'eval', '--count', 'x'], root)).code, 64);
      assert.equal((await runCli(['listening', 'plan', 'eval', '--kind', 'abx'], root)).code, 64);
      const missing = await runCli(['listening', 'plan', 'nowhere'], root);
      assert.equal(missing.code, 2);
      assert.match(missing.err, /has no eval.json/);
      const bad = await runCli(['listening', 'plan', 'eval', '--test', '../x'], root);
      assert.equal(bad.code, 2);
      assert.match(bad.err, /test name/);
      const unknown = await runCli(['listening', 'summary', 'eval', '--test', 'nope'], root);
      assert.equal(unknown.code, 2);
      assert.match(unknown.err, /no answers/);
      assert.ok(!existsSync(path.join(root, 'eval', 'listening', 'nope.jsonl')));
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
