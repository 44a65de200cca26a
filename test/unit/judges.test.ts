// The teacher's judges (GLM-TTS reward server, evaluator command) and the student's RTF, against
// stand-ins: a loopback HTTP server with exactly reward_server.py's request and answer shapes,
// and small node scripts as the evaluator and synth commands.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeWav } from '../../server/src/core/audio/wav';
import { evaluate, writeReport } from '../../server/src/core/evaluation/evaluate';
import { parseJudgesFile } from '../../server/src/core/evaluation/judges/apply';
import { CommandJudge } from '../../server/src/core/evaluation/judges/commandJudge';
import { emotionIndex, JudgeUnavailableError } from '../../server/src/core/evaluation/judges/judge';
import {
  expandUrls,
  invertRewards,
  mapPath,
  pathMapProblems,
  RewardServerJudge,
} from '../../server/src/core/evaluation/judges/rewardServer';
import { applyGates } from '../../server/src/core/qa/gates';
import { runQa } from '../../server/src/core/qa/runQa';
import { defaultSettings } from '../../server/src/core/settings';
import type { G2PStudent } from '../../server/src/core/student/model';
import { emo, standIn, type Truth } from './rewardStandIn';
import { runCli } from './runCli';

const REPO = join(__dirname, '..', '..');
const SR = 16000;
const tone = (f: number, seconds: number) =>
  Float32Array.from({ length: Math.round(SR * seconds) }, (_, i) => 0.3 * Math.sin((2 * Math.PI * f * i) / SR));
const student: G2PStudent = { version: 'test', predict: () => undefined };
const tmp = mkdtempSync(join(tmpdir(), 'judges-test-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** A teacher run with two lines (a: prompted, emotion happy; b: no prompt), student WAVs for both. */
function makeRun(name: string) {
  const dir = join(tmp, name),
    teacher = join(dir, 'teacher'),
    studentDir = join(dir, 'student-out'),
    out = join(dir, 'eval');
  for (const d of [teacher, studentDir]) mkdirSync(d, { recursive: true });
  const prompt = join(dir, 'prompt.wav');
  writeFileSync(prompt, encodeWav(tone(180, 0.5), SR));
  writeFileSync(
    join(teacher, 'manifest.jsonl'),
    [
      {
        line: 0,
        name: 'a',
        text: '去银行',
        readings: ['qu4', 'yin2', 'hang2'],
        audio: 'a.wav',
        promptAudio: prompt,
        labels: { emotion: 'happy' },
      },
      { line: 1, name: 'b', text: '行走', readings: ['xing2', 'zou3'], audio: 'b.wav' },
    ]
      .map((r) => JSON.stringify({ taskHash: 'h', wavSha256: 'w', ...r }))
      .join('\n') + '\n',
  );
  for (const [d, n] of [
    [teacher, 'a'],
    [teacher, 'b'],
    [studentDir, 'a'],
    [studentDir, 'b'],
  ] as const)
    writeFileSync(join(d, `${n}.wav`), encodeWav(tone(200, 0.4), SR));
  return { dir, teacher, studentDir, out, prompt };
}

describe('reward server: rewards back to measures', () => {
  test('cos = 2·sim − 1, CER = −ln(cer_reward)/2.5, emotion as is; zeros are "not computed"', () => {
    const s = invertRewards(
      { sim_reward: (1 + 0.62) / 2, cer_reward: Math.exp(-2.5 * 0.125), emo_reward: 0.7, emo_neg_reward: -0.2 },
      { hadTarget: true, emotion: 'happy' },
    );
    assert.ok(Math.abs(s.similarity! - 0.62) < 1e-12);
    assert.ok(Math.abs(s.cer! - 0.125) < 1e-12);
    assert.equal(s.emotion, 0.7);
    assert.equal(s.emotionLabel, 'happy');
    assert.equal(s.error, undefined);
    assert.equal(
      invertRewards({ sim_reward: 1, cer_reward: 1, emo_reward: 0.5, emo_neg_reward: -0.5 }, { hadTarget: true }).cer,
      0,
      'a perfect transcript',
    );
    // No target: the server answers sim 0, which is "not measured", never cos = −1.
    assert.equal(
      invertRewards({ sim_reward: 0, cer_reward: 0.5, emo_reward: 0.5, emo_neg_reward: -0.5 }, { hadTarget: false }).similarity,
      null,
    );
    const zero = invertRewards({ sim_reward: 0, cer_reward: 0, emo_reward: 0, emo_neg_reward: 0 }, { hadTarget: true });
    assert.deepEqual([zero.cer, zero.similarity, zero.emotion], [null, null, null]);
    assert.match(zero.error!, /scored nothing.*pathMap/);
  });

  test("emotion labels → the server's emotion2vec index", () => {
    assert.deepEqual(emotionIndex(undefined), { index: 4, label: 'neutral', known: true });
    assert.equal(emotionIndex('happy').index, 3);
    assert.equal(emotionIndex('开心').index, 3);
    assert.equal(emotionIndex('生气/angry').index, 0, "emotion2vec's own label");
    assert.equal(emotionIndex('悲伤').index, 6);
    assert.equal(emotionIndex('中性').index, 4);
    assert.equal(emotionIndex('Sad').index, 6);
    assert.equal(emotionIndex(2).index, 2);
    assert.equal(emotionIndex(-1).label, 'not neutral');
    assert.deepEqual(emotionIndex('grumpy'), { index: 4, label: '"grumpy" is not an emotion2vec class', known: false });
    assert.equal(
      invertRewards({ sim_reward: 0.9, cer_reward: 0.9, emo_reward: 0.3, emo_neg_reward: -0.3 }, { hadTarget: true, emotion: 'grumpy' })
        .emotion,
      null,
    );
  });

  test('URLs: a port range stands for every port; a bad URL is named', () => {
    assert.deepEqual(expandUrls(['http://gpu01:8080-8083/', 'https://x.example/']), [
      'http://gpu01:8080',
      'http://gpu01:8081',
      'http://gpu01:8082',
      'http://gpu01:8083',
      'https://x.example',
    ]);
    assert.throws(() => expandUrls(['gpu01 8080']), /gpu01 8080 is not a URL/);
    assert.throws(() => expandUrls(['http://h:8087-8080']), /must go up/);
    assert.throws(() => expandUrls(['ftp://h:21']), /only http/);
    assert.throws(() => new RewardServerJudge({ urls: [] }), /no reward server URL/);
  });

  test('path mapping: the longest local prefix at a path boundary', () => {
    const map = [
      { local: '/home/me', remote: '/mnt/me' },
      { local: '/home/me/run/', remote: '/data/run' },
    ];
    assert.equal(mapPath('/home/me/run/a.wav', map), '/data/run/a.wav');
    assert.equal(mapPath('/home/me/x/b.wav', map), '/mnt/me/x/b.wav');
    assert.equal(mapPath('/home/me/run2/c.wav', map), '/mnt/me/run2/c.wav', 'run2 is not under run');
    assert.equal(mapPath('/elsewhere/d.wav', map), '/elsewhere/d.wav');
    assert.deepEqual(pathMapProblems(map), []);
    assert.match(pathMapProblems([{ local: 'rel', remote: '/r' }])[0]!, /must be an absolute folder/);
    assert.match(pathMapProblems([{ local: '/a' }])[0]!, /needs "local" and "remote"/);
    assert.throws(() => new RewardServerJudge({ urls: ['http://h:1'], pathMap: [{ local: 'x', remote: '/y' }] }), /absolute/);
  });
});

describe('evaluation with the reward server', () => {
  test('the exact request, round-robin over two servers, scores joined into eval.json, eval.html and judges.jsonl', async () => {
    const run = makeRun('reward');
    const remote = (p: string) => p.replace(run.dir, '/srv/run');
    const truths: Record<string, Truth> = {
      [remote(join(run.teacher, 'a.wav'))]: { cos: 0.8, cer: 0.04, emo: emo(0.7) },
      [remote(join(run.teacher, 'b.wav'))]: { cos: 0.5, cer: 0.2, emo: emo(0.1) },
      [remote(join(run.studentDir, 'a.wav'))]: { cos: 0.6, cer: 0.1, emo: emo(0.5) },
      [remote(join(run.studentDir, 'b.wav'))]: { cos: 0.3, cer: 0.3, emo: emo(0.2) },
    };
    const s1 = await standIn(truths),
      s2 = await standIn(truths);
    const judge = new RewardServerJudge({
      urls: [s1.url, s2.url],
      pathMap: [{ local: run.dir, remote: '/srv/run' }],
      concurrency: 2,
      retryDelayMs: 1,
    });
    const report = await evaluate({ teacherDir: run.teacher, student, studentAudioDir: run.studentDir, judge });
    const bodies = [...s1.bodies, ...s2.bodies];
    assert.equal(bodies.length, 4);
    assert.ok(s1.bodies.length === 2 && s2.bodies.length === 2, 'round-robin');
    for (const b of bodies) assert.deepEqual(Object.keys(b).sort(), ['audio_path', 'emotion', 'ref_text', 'target_audio', 'uttid']);
    const ta = bodies.find((b) => b.audio_path === '/srv/run/teacher/a.wav')!;
    assert.deepEqual(ta, {
      audio_path: '/srv/run/teacher/a.wav',
      uttid: 'a',
      target_audio: '/srv/run/prompt.wav',
      ref_text: '去银行',
      emotion: 3,
    });
    const sb = bodies.find((b) => b.audio_path === '/srv/run/student-out/b.wav')!;
    assert.deepEqual(sb, { audio_path: '/srv/run/student-out/b.wav', uttid: 'b', target_audio: 'None', ref_text: '行走', emotion: 4 });

    const a = report.items.find((i) => i.name === 'a')!,
      b = report.items.find((i) => i.name === 'b')!;
    const close = (x: number | null | undefined, y: number) =>
      assert.ok(x !== null && x !== undefined && Math.abs(x - y) < 1e-9, `${x} ≈ ${y}`);
    close(a.judges!.teacher!.cer, 0.04);
    close(a.judges!.teacher!.similarity, 0.8);
    close(a.judges!.teacher!.emotion, 0.7);
    close(a.judges!.student!.similarity, 0.6);
    assert.equal(b.judges!.teacher!.similarity, null, 'no prompt: no similarity');
    close(b.judges!.teacher!.emotion, 0.9 - 0.1);
    const j = report.summary.judges!;
    assert.equal(j.backend, 'reward');
    assert.equal(j.failed, 0);
    close(j.teacher!.meanCer, (0.04 + 0.2) / 2);
    close(j.teacher!.meanSimilarity, 0.8);
    close(j.student!.meanCer, (0.1 + 0.3) / 2);

    await writeReport(report, run.out);
    const lines = readFileSync(join(run.teacher, 'judges.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(
      lines.map((l) => [l.name, l.similarity === null, l.wavSha256]),
      [
        ['a', false, 'w'],
        ['b', true, 'w'],
      ],
    );
    const parsed = parseJudgesFile(readFileSync(join(run.teacher, 'judges.jsonl'), 'utf8') + '{"name": "torn');
    assert.deepEqual([...parsed.keys()], ['a', 'b']);
    close(parsed.get('a')!.similarity, 0.8);
    close(lines[0]!.cer as number, 0.04);
    const saved = JSON.parse(readFileSync(join(run.out, 'eval.json'), 'utf8'));
    close(saved.items[0].judges.teacher.cer, 0.04);
    const html = readFileSync(join(run.out, 'eval.html'), 'utf8');
    assert.match(html, /<th>CER \(teacher · student\)<\/th>/);
    assert.match(html, /<td class="n">0\.040 · 0\.100<\/td>/);
    assert.match(html, /GLM-TTS reward server/);
  });

  test('server down: a clear message, the evaluation completes without judge columns', async () => {
    const run = makeRun('down');
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const judge = new RewardServerJudge({ urls: [`http://127.0.0.1:${port}`], retries: 1, retryDelayMs: 1 });
    const report = await evaluate({ teacherDir: run.teacher, student, studentAudioDir: run.studentDir, judge });
    assert.match(
      report.summary.judges!.error!,
      new RegExp(`cannot reach the reward server at http://127\\.0\\.0\\.1:${port} \\(ECONNREFUSED\\).*run_server\\.sh`),
    );
    assert.ok(report.items.every((i) => !i.judges));
    assert.ok(
      report.items.every((i) => i.acoustic),
      'the rest of the evaluation ran',
    );
    await writeReport(report, run.out);
    const html = readFileSync(join(run.out, 'eval.html'), 'utf8');
    assert.doesNotMatch(html, /<th>CER/);
    assert.match(html, /No judge scores: cannot reach the reward server/);
    assert.throws(() => readFileSync(join(run.teacher, 'judges.jsonl')), /ENOENT/);
  });

  test('a 503 is retried on the next URL; a 422 is not, and says why; a time-out is named; zeros are an error', async () => {
    const run = makeRun('errors');
    const truths: Record<string, Truth> = { [join(run.teacher, 'a.wav')]: { cos: 0.2, cer: 0, emo: emo(0.5) } };
    const busy = await standIn(truths, (_b, n) => (n === 0 ? '503' : 'ok'));
    const judge = new RewardServerJudge({ urls: [busy.url], retryDelayMs: 1, retries: 2 });
    const one = await judge.judgeOne({
      name: 'a',
      role: 'teacher',
      audio: join(run.teacher, 'a.wav'),
      text: '去银行',
      promptAudio: run.prompt,
    });
    assert.equal(busy.bodies.length, 2, 'one retry');
    assert.ok(Math.abs(one.similarity! - 0.2) < 1e-12);
    assert.equal(one.cer, 0);
    // The server cannot read b.wav (no truth): it answers zeros, reported as an error.
    const unread = await judge.judgeOne({
      name: 'b',
      role: 'teacher',
      audio: join(run.teacher, 'b.wav'),
      text: '行走',
      promptAudio: run.prompt,
    });
    assert.match(unread.error!, /scored nothing/);

    const hang = await standIn(truths, () => 'hang');
    const slow = new RewardServerJudge({ urls: [hang.url], timeoutSeconds: 0.2, retries: 0 });
    await assert.rejects(
      slow.judgeOne({ name: 'a', role: 'teacher', audio: '/x.wav', text: 't' }),
      /did not answer within 0\.2 s \(ttsDistill\.judges\.timeoutSeconds\)/,
    );

    // A server that is not the reward server (422 for a body it does not know).
    const strict = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(422, { 'content-type': 'application/json' });
        res.end('{"detail":[{"loc":["body","emotion"],"msg":"Input should be a valid integer"}]}');
      });
    });
    await new Promise<void>((r) => strict.listen(0, '127.0.0.1', r));
    after(() => new Promise<void>((r) => strict.close(() => r())));
    let hits = 0;
    strict.on('request', () => hits++);
    const refused = new RewardServerJudge({
      urls: [`http://127.0.0.1:${(strict.address() as AddressInfo).port}`],
      retries: 3,
      retryDelayMs: 1,
    });
    await assert.rejects(
      refused.judgeOne({ name: 'a', role: 'teacher', audio: '/x.wav', text: 't' }),
      /answered HTTP 422: .*valid integer/,
    );
    assert.equal(hits, 1, 'a 422 is not retried');
    // Every WAV refused: one reason in the summary, no judge columns, no judges.jsonl.
    const report = await evaluate({ teacherDir: run.teacher, student, studentAudioDir: run.studentDir, judge: refused });
    assert.match(report.summary.judges!.error!, /^no WAV was judged: the reward server .* answered HTTP 422/);
    assert.equal(report.summary.judges!.judgesFile, undefined);
    await writeReport(report, run.out);
    assert.doesNotMatch(readFileSync(join(run.out, 'eval.html'), 'utf8'), /<th>CER/);
    assert.throws(() => readFileSync(join(run.teacher, 'judges.jsonl')), /ENOENT/);
  });
});

describe('evaluator command', () => {
  const script = join(tmp, 'judge.js');
  writeFileSync(
    script,
    `
const fs = require('fs');
const [tasks, role] = process.argv.slice(2);
console.log('loading models…');
for (const line of fs.readFileSync(tasks, 'utf8').split('\\n').filter(Boolean)) {
  const t = JSON.parse(line);
  if (t.name === 'b' && role === 'student') { console.log(JSON.stringify({ name: 'b', error: 'ASR failed' })); continue; }
  console.log(JSON.stringify({ name: t.name, cer: role === 'teacher' ? 0.05 : 0.15, similarity: t.prompt_audio ? 0.7 : null, emotion: 0.5, audio_seen: t.audio }));
}
`,
  );

  test('judges each role, joins {name, cer, similarity, emotion} lines, keeps per-line errors', async () => {
    const run = makeRun('command');
    const logs: string[] = [];
    const judge = new CommandJudge({ command: [process.execPath, script, '${tasks}', '${role}'], workDir: run.out });
    const report = await evaluate({ teacherDir: run.teacher, student, studentAudioDir: run.studentDir, judge, onLog: (l) => logs.push(l) });
    const a = report.items[0]!,
      b = report.items[1]!;
    assert.deepEqual(a.judges, {
      teacher: { cer: 0.05, similarity: 0.7, emotion: 0.5, wavSha256: 'w' },
      student: { cer: 0.15, similarity: 0.7, emotion: 0.5 },
    });
    assert.deepEqual(b.judges!.student, { error: 'ASR failed' });
    assert.equal(b.judges!.teacher!.similarity, null);
    assert.equal(report.summary.judges!.failed, 1);
    assert.equal(report.summary.judges!.student!.items, 1);
    assert.ok(logs.includes('loading models…'), 'non-JSON lines are log lines');
    const input = readFileSync(join(run.out, 'judge-input.teacher.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(input[0], {
      name: 'a',
      role: 'teacher',
      audio: join(run.teacher, 'a.wav'),
      text: '去银行',
      prompt_audio: run.prompt,
      emotion: 'happy',
    });
  });

  test('a failing command: its words in the message, the evaluation completes', async () => {
    const run = makeRun('command-fails');
    const judge = new CommandJudge({
      command: [process.execPath, '-e', 'console.error("CUDA out of memory"); process.exit(3)'],
      workDir: run.out,
    });
    const report = await evaluate({ teacherDir: run.teacher, student, studentAudioDir: run.studentDir, judge });
    assert.match(report.summary.judges!.error!, /exited with code 3: CUDA out of memory/);
    assert.ok(report.items.every((i) => !i.judges));
    const missing = new CommandJudge({ command: [join(tmp, 'no-such-judge')], workDir: run.out });
    await assert.rejects(
      missing.judge([{ name: 'a', role: 'teacher', audio: '/a.wav', text: 't' }]),
      (e: Error) =>
        e instanceof JudgeUnavailableError && /cannot run .*no-such-judge \(ttsDistill\.judges\.command\): .*ENOENT/.test(e.message),
    );
    assert.throws(() => new CommandJudge({ command: [], workDir: run.out }), /ttsDistill\.judges\.command/);
  });
});

describe('RTF: the student synth command', () => {
  const synth = join(tmp, 'synth.ts');
  writeFileSync(
    synth,
    `
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeWav } from ${JSON.stringify(join(REPO, 'server/src/core/audio/wav.ts'))};
const [tasks, out] = process.argv.slice(2);
for (const line of readFileSync(tasks!, 'utf8').split('\\n').filter(Boolean)) {
  const t = JSON.parse(line);
  const sr = 16000, seconds = t.output_name === 'a' ? 1 : 2;
  writeFileSync(join(out!, t.output_name + '.wav'), encodeWav(Float32Array.from({ length: sr * seconds }, (_, i) => 0.3 * Math.sin(2 * Math.PI * 200 * i / sr)), sr));
  console.log(JSON.stringify({ name: t.output_name, seconds: 0.25 * seconds }));
}
`,
  );

  test('synthesizes the set into student-out, per-line and overall RTF, the WAVs compared with the teacher', async () => {
    const run = makeRun('rtf');
    const outDir = join(run.out, 'student-out');
    const report = await evaluate({
      teacherDir: run.teacher,
      student,
      synth: { command: [process.execPath, '--import', 'tsx', synth, '${tasks}', '${out}'], outDir, workDir: run.out, cwd: REPO },
    });
    const r = report.summary.rtf!;
    assert.equal(r.error, undefined);
    assert.equal(r.items, 2);
    assert.equal(r.audioSeconds, 3);
    assert.equal(r.meanLineRtf, 0.25);
    assert.ok(r.wallSeconds > 0 && Math.abs(r.rtf! - r.wallSeconds / 3) < 1e-12);
    assert.deepEqual(report.items[0]!.synth, { seconds: 0.25, audioSeconds: 1, rtf: 0.25 });
    assert.equal(report.items[1]!.synth!.rtf, 0.25);
    assert.equal(report.items[0]!.studentAudio, join(outDir, 'a.wav'));
    assert.ok(
      report.items.every((i) => i.acoustic),
      'student-out is the student audio',
    );
    const input = readFileSync(join(run.out, 'synth-input.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(input[0], { output_name: 'a', input_text: '去银行', prompt_audio: run.prompt });
    await writeReport(report, run.out);
    const html = readFileSync(join(run.out, 'eval.html'), 'utf8');
    assert.match(html, /real-time factor/);
    assert.match(html, /<th>RTF<\/th>/);
  });

  test('a synth command that writes nothing or fails: said in the summary, the evaluation completes', async () => {
    const run = makeRun('rtf-fails');
    const report = await evaluate({
      teacherDir: run.teacher,
      student,
      synth: {
        command: [process.execPath, '-e', 'console.log(JSON.stringify({event: "error", message: "no GPU"})); process.exit(1)'],
        outDir: join(run.out, 'student-out'),
        workDir: run.out,
      },
    });
    assert.match(report.summary.rtf!.error!, /no GPU/);
    assert.equal(report.summary.rtf!.rtf, null);
    const quiet = await evaluate({
      teacherDir: run.teacher,
      student,
      synth: { command: [process.execPath, '-e', ''], outDir: join(run.out, 'student-out2'), workDir: run.out },
    });
    assert.match(quiet.summary.rtf!.error!, /wrote no <name>\.wav/);
  });
});

describe('tts-distill eval --judge', () => {
  test("--judge-url with the workspace's pathMap; a bad --judge is a usage error", async () => {
    const run = makeRun('cli');
    const truths: Record<string, Truth> = {};
    for (const who of ['teacher', 'student-out'])
      for (const n of ['a', 'b']) truths[`/r/${who}/${n}.wav`] = { cos: 0.5, cer: 0.1, emo: emo(0.4) };
    const s = await standIn(truths);
    mkdirSync(join(run.dir, '.vscode'));
    writeFileSync(
      join(run.dir, '.vscode', 'settings.json'),
      JSON.stringify({ 'ttsDistill.judges.pathMap': [{ local: run.dir, remote: '/r' }] }),
    );
    const model = join(REPO, 'server/src/core/student/data/default-student.json.gz');
    const e = await runCli(
      ['eval', '--model', model, '--teacher', 'teacher', '--student-audio', 'student-out', '--out', 'eval', '--judge-url', s.url],
      run.dir,
    );
    assert.equal(e.code, 0, e.err);
    assert.match(e.out, /judges \(reward\) {4}teacher: CER 0\.100, similarity 0\.500, emotion 0\.450 \(2 WAVs\) · student: CER 0\.100/);
    assert.match(e.out, /judges file {8}teacher\/judges\.jsonl/);
    assert.equal(s.bodies.length, 4);
    const bad = await runCli(['eval', '--model', model, '--teacher', 'teacher', '--out', 'eval', '--judge', 'mos'], run.dir);
    assert.equal(bad.code, 64);
    assert.match(bad.err, /--judge is reward, command or none/);
  });
});

describe('QA gates from judges.jsonl', () => {
  test('a CER above qa.maxCer or a similarity below qa.minSimilarity excludes the line; unjudged and stale judgements do not', async () => {
    const t = { ...defaultSettings.qa };
    const measures = null;
    const { records } = applyGates(
      [
        { name: 'bad-cer', line: 0, audio: 'a.wav', text: '你好', measures, judges: { cer: 0.25, similarity: 0.9 } },
        { name: 'bad-voice', line: 1, audio: 'b.wav', text: '你好', measures, judges: { cer: 0.02, similarity: 0.41 } },
        { name: 'fine', line: 2, audio: 'c.wav', text: '你好', measures, judges: { cer: 0.1, similarity: 0.6 } },
        { name: 'unjudged', line: 3, audio: 'd.wav', text: '你好', measures },
      ],
      t,
    );
    const judgeReasons = (i: number) => records[i]!.reasons.filter((r) => /^(cer|similarity):/.test(r));
    assert.deepEqual(judgeReasons(0), ["cer: the judges' character error rate 0.250 is above 0.1 (hallucinated, truncated or misread)"]);
    assert.deepEqual(judgeReasons(1), ['similarity: speaker similarity 0.410 to the prompt, below 0.6 (the voice is lost)']);
    assert.deepEqual(judgeReasons(2), [], 'at the thresholds is fine');
    assert.deepEqual(judgeReasons(3), []);

    // runQa reads the run's judges.jsonl, each judgement only for the WAV it judged (wavSha256).
    const run = makeRun('qa');
    writeFileSync(
      join(run.teacher, 'judges.jsonl'),
      [
        { name: 'a', line: 0, backend: 'reward', cer: 0.5, similarity: 0.9, emotion: null, wavSha256: 'w' },
        { name: 'b', line: 1, backend: 'reward', cer: 0.5, similarity: 0.9, emotion: null, wavSha256: 'an older take' },
      ]
        .map((l) => JSON.stringify(l))
        .join('\n') + '\n',
    );
    // b's tone trips signal gates; the user includes it by hand, so only the judge gates decide here.
    writeFileSync(join(run.teacher, 'qa-overrides.json'), JSON.stringify({ b: 'include' }));
    const qa = await runQa(run.teacher, { thresholds: t });
    const reasons = (name: string) => qa.records.find((r) => r.name === name)!.reasons.filter((r) => r.startsWith('cer:'));
    assert.equal(reasons('a').length, 1);
    assert.equal(reasons('b').length, 0, 'a judgement of another WAV does not count');
    assert.equal(qa.records.find((r) => r.name === 'a')!.verdict, 'excluded');

    // The next evaluation leaves out the excluded line; its judgement stays in judges.jsonl, so it stays excluded.
    const truths: Record<string, Truth> = {
      [join(run.teacher, 'b.wav')]: { cos: 0.9, cer: 0, emo: emo(0.5) },
      [join(run.studentDir, 'b.wav')]: { cos: 0.9, cer: 0, emo: emo(0.5) },
    };
    const s = await standIn(truths);
    const report = await evaluate({
      teacherDir: run.teacher,
      student,
      studentAudioDir: run.studentDir,
      judge: new RewardServerJudge({ urls: [s.url] }),
    });
    assert.deepEqual(
      report.items.map((i) => i.name),
      ['b'],
    );
    await writeReport(report, run.out);
    const kept = parseJudgesFile(readFileSync(join(run.teacher, 'judges.jsonl'), 'utf8'));
    assert.equal(kept.get('a')!.cer, 0.5);
    assert.equal(kept.get('b')!.cer, 0);
    assert.equal((await runQa(run.teacher, { thresholds: t })).records.find((r) => r.name === 'a')!.verdict, 'excluded');
  });
});
