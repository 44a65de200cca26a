import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFile, mkdir, mkdtemp, readdir, readFile, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import * as path from 'node:path';
import { encodeWav } from '../../server/src/core/audio/wav';
import { type ManifestRecord, readFailures, readManifest } from '../../server/src/core/batch/manifest';
import { type BatchProgress, runBatch } from '../../server/src/core/batch/runner';
import type { Task } from '../../server/src/core/formats/taskFile';
import { embeddedG2P } from '../../server/src/core/teacher/embeddedG2P';
import {
  type SynthesisResult,
  type SynthesizeOptions,
  type Teacher,
  TeacherError,
  type TeacherTask,
} from '../../server/src/core/teacher/types';
import { essential } from './teacherHelpers';

/** A deterministic teacher: the WAV depends on the text and the seed only. `fault` decides per call. */
class FakeTeacher implements Teacher {
  readonly kind = 'embedded' as const;
  calls: Array<{ line: number; seed: number; sampleRate: number }> = [];
  constructor(
    private readonly fault: (
      task: TeacherTask,
      call: number,
      opts: SynthesizeOptions,
    ) => Promise<SynthesisResult | undefined> | SynthesisResult | undefined = () => undefined,
  ) {}
  async g2p(text: string) {
    return embeddedG2P(text);
  }
  async synthesize(task: TeacherTask, opts: SynthesizeOptions): Promise<SynthesisResult> {
    this.calls.push({ line: task.line, seed: opts.seed, sampleRate: opts.sampleRate });
    const injected = await this.fault(task, this.calls.length, opts);
    if (injected) return injected;
    return cleanResult(task, opts);
  }
  async health() {
    return { ok: true, backend: 'embedded' as const, detail: 'fake' };
  }
}

function cleanResult(task: TeacherTask, opts: SynthesizeOptions): SynthesisResult {
  const n = Math.round(opts.sampleRate * 0.05 * (task.text.length + 1));
  let x = opts.seed + task.text.length;
  const samples = Float32Array.from({ length: n }, (_, i) => 0.2 * Math.sin(i * 0.05 * ((x % 7) + 1)));
  x++;
  return {
    ...embeddedG2P(task.text),
    wav: encodeWav(samples, opts.sampleRate),
    sampleRate: opts.sampleRate,
    durationSeconds: n / opts.sampleRate,
    clonedVoice: false,
    engine: 'fake',
  };
}

function makeTasks(n: number): Task[] {
  const texts = ['银行行长来了。', '长江很长。', '我们还要重新开始。', '他会还钱的。', '这个音乐很好听。'];
  return Array.from({ length: n }, (_, i) => ({
    line: i,
    name: `utt${String(i).padStart(3, '0')}`,
    text: texts[i % texts.length]! + i,
    promptText: '提示',
    promptAudio: 'p.wav',
  }));
}

async function tmp(): Promise<string> {
  return mkdtemp(path.join(tmpdir(), 'runner-test-'));
}

async function cleanRun(tasks: Task[]): Promise<ManifestRecord[]> {
  const dir = await tmp();
  await runBatch({ tasks, outDir: dir, teacher: new FakeTeacher(), concurrency: 4 });
  const m = await readManifest(path.join(dir, 'manifest.jsonl'));
  await rm(dir, { recursive: true, force: true });
  return m;
}

const fast = { backoffMs: 1, timeoutMs: 2000 };

test('runner: every line done, WAVs and manifest in place, seed and sample rate reach the teacher', async () => {
  const dir = await tmp();
  const teacher = new FakeTeacher();
  const progress: BatchProgress[] = [];
  const s = await runBatch({
    tasks: makeTasks(12),
    outDir: dir,
    teacher,
    concurrency: 3,
    seed: 7,
    sampleRate: 32000,
    onProgress: (p) => progress.push(p),
  });
  assert.deepEqual(
    { total: s.total, done: s.done, skipped: s.skipped, failed: s.failed, cancelled: s.cancelled },
    { total: 12, done: 12, skipped: 0, failed: 0, cancelled: false },
  );
  assert.ok(teacher.calls.every((c) => c.seed === 7 && c.sampleRate === 32000));
  const m = await readManifest(path.join(dir, 'manifest.jsonl'));
  assert.deepEqual(
    m.map((r) => r.line),
    [...Array(12).keys()],
    'one record per line, in task order',
  );
  assert.equal(m[0]!.sampleRate, 32000);
  assert.equal(m[0]!.seed, 7);
  assert.equal(m[0]!.phonemes.includes('<|'), true);
  assert.equal(m[0]!.readings.length, m[0]!.text.length);
  const files = (await readdir(dir)).sort();
  assert.equal(files.filter((f) => f.endsWith('.wav')).length, 12);
  assert.ok(!files.some((f) => f.includes('.tmp-')), 'no temp files left');
  assert.deepEqual(await readFailures(path.join(dir, 'failures.jsonl')), []);
  assert.equal(progress.at(-1)!.done, 12);
  await rm(dir, { recursive: true, force: true });
});

test('runner: a line that fails for good is recorded with its reason and the batch goes on; not retried', async () => {
  const dir = await tmp();
  const teacher = new FakeTeacher((t) => {
    if (t.line === 3 || t.line === 7) throw new TeacherError(`cannot speak line ${t.line}`, false);
    return undefined;
  });
  const s = await runBatch({ tasks: makeTasks(10), outDir: dir, teacher, retries: 3, ...fast });
  assert.equal(s.done, 8);
  assert.equal(s.failed, 2);
  const f = await readFailures(path.join(dir, 'failures.jsonl'));
  assert.deepEqual(
    f.map((x) => [x.line, x.reason, x.attempts, x.transient]),
    [
      [3, 'cannot speak line 3', 1, false],
      [7, 'cannot speak line 7', 1, false],
    ],
  );
  assert.equal(teacher.calls.filter((c) => c.line === 3).length, 1, 'permanent failures are not retried');
  await rm(dir, { recursive: true, force: true });
});

test('runner: transient failures are retried with backoff and then succeed', async () => {
  const dir = await tmp();
  const seen = new Map<number, number>();
  const teacher = new FakeTeacher((t) => {
    const n = (seen.get(t.line) ?? 0) + 1;
    seen.set(t.line, n);
    if (t.line % 2 === 0 && n <= 2) throw new TeacherError('HTTP 503 from the teacher: busy', true);
    return undefined;
  });
  const logs: string[] = [];
  const s = await runBatch({ tasks: makeTasks(6), outDir: dir, teacher, retries: 2, ...fast, onLog: (m) => logs.push(m) });
  assert.equal(s.done, 6);
  assert.equal(s.failed, 0);
  assert.equal(seen.get(0), 3);
  assert.equal(seen.get(1), 1);
  assert.ok(logs.some((l) => /retry 1\/2/.test(l)));
  await rm(dir, { recursive: true, force: true });
});

test('runner: a request that hangs times out, is retried, and fails as transient after the retries', async () => {
  const dir = await tmp();
  // Ignores its signal on purpose: the runner must not wait for it.
  const teacher = new FakeTeacher((t) => (t.line === 1 ? new Promise<undefined>(() => undefined) : undefined));
  const s = await runBatch({ tasks: makeTasks(4), outDir: dir, teacher, retries: 1, backoffMs: 1, timeoutMs: 100 });
  assert.equal(s.done, 3);
  assert.equal(s.failed, 1);
  const [f] = await readFailures(path.join(dir, 'failures.jsonl'));
  assert.equal(f!.line, 1);
  assert.match(f!.reason, /timed out after 100 ms/);
  assert.equal(f!.attempts, 2);
  assert.equal(f!.transient, true);
  await rm(dir, { recursive: true, force: true });
});

test('runner: garbage instead of a WAV is never written; it fails the line after retries', async () => {
  const dir = await tmp();
  const teacher = new FakeTeacher((t, _c, o) =>
    t.line === 2 ? { ...cleanResult(t, o), wav: new TextEncoder().encode('<html>502 Bad Gateway</html>') } : undefined,
  );
  const s = await runBatch({ tasks: makeTasks(4), outDir: dir, teacher, retries: 2, ...fast });
  assert.equal(s.failed, 1);
  const [f] = await readFailures(path.join(dir, 'failures.jsonl'));
  assert.match(f!.reason, /not a WAV/);
  assert.equal(f!.attempts, 3);
  assert.ok(!(await readdir(dir)).includes('utt002.wav'));
  await rm(dir, { recursive: true, force: true });
});

test('runner: a teacher that dies mid-batch fails the rest; the next run resumes and the union equals one clean run', async () => {
  const tasks = makeTasks(20);
  const dir = await tmp();
  let alive = true;
  const dying = new FakeTeacher((_t, call) => {
    if (call > 8) alive = false;
    if (!alive) throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8049'), { code: 'ECONNREFUSED' });
    return undefined;
  });
  const first = await runBatch({ tasks, outDir: dir, teacher: dying, concurrency: 2, retries: 1, ...fast });
  assert.equal(first.done, 8);
  assert.equal(first.failed, 12);
  const failures = await readFailures(path.join(dir, 'failures.jsonl'));
  assert.ok(failures.every((f) => f.transient && f.attempts === 2 && /ECONNREFUSED/.test(f.reason)));

  const healthy = new FakeTeacher();
  const second = await runBatch({ tasks, outDir: dir, teacher: healthy, concurrency: 2, ...fast });
  assert.deepEqual([second.done, second.skipped, second.failed], [12, 8, 0]);
  assert.equal(healthy.calls.length, 12, 'nothing done twice');
  assert.deepEqual(essential(await readManifest(path.join(dir, 'manifest.jsonl'))), essential(await cleanRun(tasks)));
  assert.deepEqual(await readFailures(path.join(dir, 'failures.jsonl')), [], 'failures of lines now done are dropped');
  await rm(dir, { recursive: true, force: true });
});

test('runner: cancel stops cleanly; the next run does only the rest; nothing lost, nothing duplicated', async () => {
  const tasks = makeTasks(30);
  const dir = await tmp();
  const controller = new AbortController();
  let finished = 0;
  const slow = new FakeTeacher(async (_t, _c, o) => {
    await new Promise((r) => setTimeout(r, 5));
    if (o.signal?.aborted) throw o.signal.reason;
    return undefined;
  });
  const first = await runBatch({
    tasks,
    outDir: dir,
    teacher: slow,
    concurrency: 3,
    ...fast,
    signal: controller.signal,
    onProgress: (p) => {
      finished = p.done;
      if (finished >= 10) controller.abort();
    },
  });
  assert.equal(first.cancelled, true);
  assert.ok(first.done >= 10 && first.done < 30, `done ${first.done}`);
  assert.equal(first.failed, 0, 'cancelled lines are not failures');
  const after = await readManifest(path.join(dir, 'manifest.jsonl'));
  assert.equal(after.length, first.done);
  const again = new FakeTeacher();
  const second = await runBatch({ tasks, outDir: dir, teacher: again, concurrency: 3, ...fast });
  assert.equal(second.skipped, first.done);
  assert.equal(second.done, 30 - first.done);
  assert.deepEqual(
    again.calls.map((c) => c.line).sort((a, b) => a - b),
    tasks.map((t) => t.line).filter((l) => !after.some((r) => r.line === l)),
  );
  assert.deepEqual(essential(await readManifest(path.join(dir, 'manifest.jsonl'))), essential(await cleanRun(tasks)));
  await rm(dir, { recursive: true, force: true });
});

test('runner: resume redoes exactly the damaged WAVs and the changed tasks, tolerating a torn manifest line', async () => {
  const tasks = makeTasks(8);
  const dir = await tmp();
  await runBatch({ tasks, outDir: dir, teacher: new FakeTeacher(), ...fast });
  await writeFile(path.join(dir, 'utt001.wav'), 'RIFF broken');
  await rm(path.join(dir, 'utt002.wav'));
  await appendFile(path.join(dir, 'manifest.jsonl'), '{"line":5,"name":"utt005","taskHa');
  await writeFile(path.join(dir, '.utt006.wav.tmp-1-abcd'), 'left by a killed run');
  const changed = tasks.map((t) => (t.line === 4 ? { ...t, text: '完全不同的句子。' } : t));
  const teacher = new FakeTeacher();
  const s = await runBatch({ tasks: changed, outDir: dir, teacher, ...fast });
  assert.deepEqual(teacher.calls.map((c) => c.line).sort(), [1, 2, 4]);
  assert.deepEqual([s.done, s.skipped], [3, 5]);
  const m = await readManifest(path.join(dir, 'manifest.jsonl'));
  assert.deepEqual(
    m.map((r) => r.line),
    [...Array(8).keys()],
  );
  assert.equal(m[4]!.text, '完全不同的句子。');
  assert.ok(!(await readdir(dir)).some((f) => f.includes('.tmp-')));
  // A different seed is a different output: everything is redone.
  const reseeded = new FakeTeacher();
  const s2 = await runBatch({ tasks: changed, outDir: dir, teacher: reseeded, seed: 1, ...fast });
  assert.equal(s2.done, 8);
  await rm(dir, { recursive: true, force: true });
});

test('runner: lines with errors are failures, or left out with validOnly; duplicate and unsafe names never write', async () => {
  const dir = await tmp();
  const file = path.join(dir, 'a.tasks.jsonl');
  await writeFile(
    file,
    [
      JSON.stringify({ prompt_audio: 'p.wav', prompt_text: 't', input_text: '你好。', output_name: 'a' }),
      '{"prompt_audio": "p.wav", "input_text": ',
      JSON.stringify({ prompt_audio: 'p.wav', prompt_text: 't', input_text: '再见。', output_name: 'a' }),
      JSON.stringify({ prompt_audio: 'p.wav', prompt_text: 't', input_text: '出去。', output_name: '../../etc/x' }),
      JSON.stringify({ prompt_audio: 'p.wav', prompt_text: 't', input_text: '好的。', output_name: 'b' }),
      '',
    ].join('\n'),
  );
  const out = path.join(dir, 'out');
  const s = await runBatch({ tasksFile: file, outDir: out, teacher: new FakeTeacher(), ...fast });
  assert.deepEqual([s.total, s.done, s.failed], [5, 2, 3]);
  const f = await readFailures(path.join(out, 'failures.jsonl'));
  assert.deepEqual(
    f.map((x) => x.line),
    [1, 2, 3],
  );
  assert.match(f[1]!.reason, /also used on line 1/);
  assert.match(f[2]!.reason, /outside the output folder/);
  assert.deepEqual((await readdir(dir)).sort(), ['a.tasks.jsonl', 'out']);
  const out2 = path.join(dir, 'out2');
  const v = await runBatch({ tasksFile: file, outDir: out2, teacher: new FakeTeacher(), validOnly: true, ...fast });
  assert.deepEqual([v.total, v.done, v.failed, v.invalid], [2, 2, 0, 3]);
  await rm(dir, { recursive: true, force: true });
});

test('runner: prompt audio reaches the teacher resolved against the task file (webui dialect)', async () => {
  const dir = await tmp();
  const file = path.join(dir, 'x.tasks.jsonl');
  await writeFile(file, JSON.stringify({ prompt_audio: 'voices/p.wav', prompt_text: 't', input_text: '你好。', output_name: 'a' }) + '\n');
  const seen: string[] = [];
  const teacher = new FakeTeacher((t) => {
    seen.push(t.promptAudio ?? '');
    return undefined;
  });
  await runBatch({ tasksFile: file, outDir: path.join(dir, 'o'), teacher, ...fast });
  assert.deepEqual(seen, [path.join(dir, 'voices', 'p.wav')]);
  assert.equal(JSON.parse(await readFile(path.join(dir, 'o', 'manifest.jsonl'), 'utf8')).clonedVoice, false);
  await rm(dir, { recursive: true, force: true });
});

test('runner: one batch per folder at a time; a lock left by a dead process is taken over', async () => {
  const dir = await tmp();
  const lock = path.join(dir, '.tts-distill.lock');
  await writeFile(lock, JSON.stringify({ pid: process.pid, host: hostname(), started: 'now' }));
  await assert.rejects(
    runBatch({ tasks: makeTasks(2), outDir: dir, teacher: new FakeTeacher(), ...fast }),
    /in use by another batch \(process \d+/,
  );
  const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  await writeFile(lock, JSON.stringify({ pid: Number(dead.stdout), host: hostname(), started: 'earlier' }));
  const s = await runBatch({ tasks: makeTasks(2), outDir: dir, teacher: new FakeTeacher(), ...fast });
  assert.equal(s.done, 2);
  assert.ok(!(await readdir(dir)).includes('.tts-distill.lock'), 'released at the end');
  // On another host (a shared file system) only the heartbeat tells: a fresh lock holds, an old one does not.
  await writeFile(lock, JSON.stringify({ pid: 1, host: 'gpu-node-7', started: 'then' }));
  await assert.rejects(runBatch({ tasks: makeTasks(2), outDir: dir, teacher: new FakeTeacher(), ...fast }), /process 1 on gpu-node-7/);
  const old = new Date(Date.now() - 5 * 60_000);
  await utimes(lock, old, old);
  assert.equal((await runBatch({ tasks: makeTasks(2), outDir: dir, teacher: new FakeTeacher(), ...fast })).skipped, 2);
  await rm(dir, { recursive: true, force: true });
});

test('runner: a WAV that cannot be written fails its line only', async () => {
  const dir = await tmp();
  await mkdir(path.join(dir, 'utt001.wav', 'in-the-way'), { recursive: true });
  const s = await runBatch({ tasks: makeTasks(3), outDir: dir, teacher: new FakeTeacher(), ...fast });
  assert.deepEqual([s.done, s.failed], [2, 1]);
  const [f] = await readFailures(path.join(dir, 'failures.jsonl'));
  assert.match(f!.reason, /cannot write utt001\.wav/);
  await rm(dir, { recursive: true, force: true });
});

test('runner: a sub-folder that is a symbolic link out of the output folder is never written through', async () => {
  const dir = await tmp();
  const outside = await tmp();
  await symlink(outside, path.join(dir, 'spk'));
  const tasks: Task[] = [
    { line: 0, name: 'spk/a', text: '你好。', promptAudio: 'p.wav' },
    { line: 1, name: 'b', text: '再见。', promptAudio: 'p.wav' },
  ];
  const s = await runBatch({ tasks, outDir: dir, teacher: new FakeTeacher(), ...fast });
  assert.deepEqual([s.done, s.failed], [1, 1]);
  assert.deepEqual(await readdir(outside), []);
  const [f] = await readFailures(path.join(dir, 'failures.jsonl'));
  assert.match(f!.reason, /symbolic link/);
  await rm(dir, { recursive: true, force: true });
  await rm(outside, { recursive: true, force: true });
});
