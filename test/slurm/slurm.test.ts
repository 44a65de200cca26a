// Teacher batches as Slurm job arrays, against a REAL single-node Slurm (test/slurm/run.sh brings
// it up and exports SLURM_CONF). Every wait polls with a deadline.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { link, mkdtemp, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { WaveFile } from 'wavefile';

/** The build under test: run.sh's copy of it, else this checkout's. */
const PKG = process.env.TTS_DISTILL_TEST_PKG ?? path.resolve(__dirname, '..', '..');
const CLI = path.join(PKG, 'bin', 'tts-distill.js');
let dir = '';
let tasksFile = '';
let single: Rec[] = [];

interface Rec {
  line: number;
  name: string;
  taskHash: string;
  text: string;
  readings: (string | null)[];
  phonemes: string;
  audio: string;
  wavSha256: string;
  sampleRate: number;
}

const TEXTS = ['银行行长在重庆长大', '他的头发长得很长', '这个音乐很好听', '我们一起去银行', '重新开始吧', '还是还钱吧'];

function promptWav(): Buffer {
  const wav = new WaveFile();
  const rate = 16000;
  wav.fromScratch(
    1,
    rate,
    '16',
    Array.from({ length: rate * 4 }, (_, i) => Math.round(8000 * Math.sin((2 * Math.PI * 220 * i) / rate))),
  );
  return Buffer.from(wav.toBuffer());
}

async function writeTasks(file: string, n: number) {
  const lines = Array.from({ length: n }, (_, i) =>
    JSON.stringify({
      // relative to the task file's folder, as the web UI dialect says: shards live elsewhere and must still find it
      prompt_audio: '../prompts/p.wav',
      prompt_text: '你好，欢迎使用。',
      input_text: `${TEXTS[i % TEXTS.length]}，第${i}句。`,
      output_name: `utt${String(i).padStart(4, '0')}`,
    }),
  );
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, lines.join('\n') + '\n');
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[], opts: { onStderr?: (s: string, child: ChildProcess) => void } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: dir, env: process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '',
      stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      opts.onStderr?.(stderr, child);
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

async function readJsonl<T>(file: string): Promise<T[]> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as T);
}

function squeue(jobId: string): string {
  try {
    return execFileSync('squeue', ['-h', '-r', '-t', 'all', '-j', jobId, '-o', '%K %T'], { encoding: 'utf8' });
  } catch (err) {
    return String((err as { stderr?: string }).stderr ?? err);
  }
}

async function checkAgainstSingle(out: string, expectLines: number) {
  const merged = await readJsonl<Rec>(path.join(out, 'manifest.jsonl'));
  assert.equal(merged.length, expectLines);
  assert.equal(new Set(merged.map((r) => r.line)).size, merged.length, 'no duplicate lines');
  assert.equal(new Set(merged.map((r) => r.name)).size, merged.length, 'no duplicate names');
  assert.deepEqual(
    merged.map((r) => r.line),
    [...merged.map((r) => r.line)].sort((a, b) => a - b),
    'task order',
  );
  const byLine = new Map(single.map((r) => [r.line, r]));
  for (const r of merged) {
    const s = byLine.get(r.line)!;
    assert.ok(s, `line ${r.line} exists in the single-machine run`);
    for (const k of ['name', 'text', 'taskHash', 'phonemes', 'audio', 'sampleRate'] as const)
      assert.equal(r[k], s[k], `line ${r.line} ${k}`);
    assert.deepEqual(r.readings, s.readings, `line ${r.line} readings`);
    const wav = new WaveFile(await readFile(path.join(out, r.audio)));
    const fmt = wav.fmt as { sampleRate: number; numChannels: number };
    assert.equal(fmt.sampleRate, r.sampleRate);
    assert.ok((wav.getSamples(false) as unknown as ArrayLike<number>).length > 1000, `line ${r.line}: a WAV with audio`);
    const sha = (await import('node:crypto'))
      .createHash('sha256')
      .update(await readFile(path.join(out, r.audio)))
      .digest('hex');
    assert.equal(sha, r.wavSha256, `line ${r.line}: the WAV in out/ is the one the record describes`);
  }
  return merged;
}

before(async () => {
  assert.ok(process.env.SLURM_CONF, 'run through test/slurm/run.sh (it starts Slurm and sets SLURM_CONF)');
  dir = await mkdtemp(path.join(tmpdir(), 'tts-slurm-test-'));
  await mkdir(path.join(dir, 'prompts'));
  await writeFile(path.join(dir, 'prompts', 'p.wav'), promptWav());
  tasksFile = path.join(dir, 'tasks', 'batch.tasks.jsonl');
  await writeTasks(tasksFile, 200);
  const r = await cli(['submit', tasksFile, '--out', 'single', '--teacher', 'embedded', '--quiet']);
  assert.equal(r.code, 0, r.stderr);
  single = await readJsonl<Rec>(path.join(dir, 'single', 'manifest.jsonl'));
  assert.equal(single.length, 200);
});

after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('200 lines as 8 shards: cancel mid-way (scancel, consistent merge), resume, same result as one machine', async () => {
  const args = [
    'submit',
    tasksFile,
    '--out',
    'cluster',
    '--slurm',
    '--shards',
    '8',
    '--max-parallel',
    '2',
    '--poll-seconds',
    '0.5',
    '--teacher',
    'embedded',
    '--quiet',
  ];
  const runDir = path.join(dir, 'cluster', '.slurm');
  let signalled = false;
  const first = await cli(args, {
    onStderr: (s, child) => {
      // Cancel once some lines are done and others are still to come.
      const m = [...s.matchAll(/\[slurm\] (\d+)\/200 done/g)].at(-1);
      if (!signalled && m && Number(m[1]) >= 30) {
        signalled = true;
        child.kill('SIGINT');
      }
    },
  });
  assert.ok(signalled, `the run was interrupted mid-way:\n${first.stderr}`);
  assert.equal(first.code, 130, first.stderr);
  assert.match(first.stderr, /cancelling job \d+/);
  const state1 = JSON.parse(await readFile(path.join(runDir, 'run.json'), 'utf8')) as {
    submissions: Array<{ jobId: string; shards: number[] }>;
  };
  const job1 = state1.submissions[0]!.jobId;
  // Nothing of the array is left queued or running.
  const q = squeue(job1);
  assert.doesNotMatch(q, /PENDING|RUNNING|COMPLETING/, q);
  const partial = await checkAgainstSingle(
    path.join(dir, 'cluster'),
    (await readJsonl<Rec>(path.join(dir, 'cluster', 'manifest.jsonl'))).length,
  );
  assert.ok(partial.length >= 30 && partial.length < 200, `partial merge: ${partial.length} lines`);

  // Which shards were complete at the cancel: the resume must not submit them again.
  const complete: number[] = [];
  for (let i = 0; i < 8; i++) {
    const lines = JSON.parse(await readFile(path.join(runDir, `shard-${i}`, 'lines.json'), 'utf8')) as number[];
    const recs = await readJsonl<Rec>(path.join(runDir, `shard-${i}`, 'out', 'manifest.jsonl'));
    if (new Set(recs.map((r) => r.line)).size === lines.length) complete.push(i);
  }
  const before = new Map(partial.map((r) => [r.line, r.wavSha256]));
  // As if shard 7's last job had died with its node (another host): its fresh folder lock must not block the resume.
  await mkdir(path.join(runDir, 'shard-7', 'out'), { recursive: true });
  await writeFile(
    path.join(runDir, 'shard-7', 'out', '.tts-distill.lock'),
    JSON.stringify({ pid: 4242, host: 'gpu-node-that-died', started: new Date().toISOString() }) + '\n',
  );

  const second = await cli(args);
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stdout, /finished: 200 done, 0 failed, 0 unfinished, 200 total/);
  const state2 = JSON.parse(await readFile(path.join(runDir, 'run.json'), 'utf8')) as typeof state1;
  assert.equal(state2.submissions.length, 2);
  const resubmitted = state2.submissions[1]!.shards;
  for (const i of complete) assert.ok(!resubmitted.includes(i), `shard ${i} was complete and is not submitted again`);
  assert.equal(resubmitted.length + complete.length, 8);
  const merged = await checkAgainstSingle(path.join(dir, 'cluster'), 200);
  // Lines done before the cancel were kept, not synthesized again.
  for (const r of merged) if (before.has(r.line)) assert.equal(r.wavSha256, before.get(r.line), `line ${r.line} kept`);
  const failures = await readJsonl(path.join(dir, 'cluster', 'failures.jsonl'));
  assert.deepEqual(failures, []);
  // WAVs are hard links to the shards' outputs, not copies.
  const r0 = merged[0]!;
  const shardOf = (await readJsonl<Rec>(path.join(runDir, 'shard-0', 'out', 'manifest.jsonl'))).find((r) => r.name === r0.name)!;
  assert.equal((await stat(path.join(dir, 'cluster', r0.audio))).ino, (await stat(path.join(runDir, 'shard-0', 'out', shardOf.audio))).ino);
});

test("a node dying mid-shard (NODE_FAIL) loses only that shard's unfinished lines: the shard is resubmitted and resumes", async () => {
  const scontrol = (...a: string[]) => {
    try {
      execFileSync('scontrol', a, { stdio: 'pipe' });
    } catch {
      /* "Invalid node state": it is back already */
    }
  };
  let killed = false;
  // --no-requeue: Slurm would otherwise requeue the task itself after a delay of minutes.
  const r = await cli(
    [
      'submit',
      tasksFile,
      '--out',
      'nodefail',
      '--slurm',
      '--shards',
      '4',
      '--max-parallel',
      '2',
      '--poll-seconds',
      '0.5',
      '--sbatch-arg=--no-requeue',
      '--teacher',
      'embedded',
      '--quiet',
    ],
    {
      onStderr: (s) => {
        const m = [...s.matchAll(/\[slurm\] (\d+)\/200 done/g)].at(-1);
        if (!killed && m && Number(m[1]) >= 8) {
          killed = true;
          scontrol('update', 'nodename=localhost', 'state=down', 'reason=simulated-node-death');
          scontrol('update', 'nodename=localhost', 'state=resume');
        }
      },
    },
  );
  try {
    assert.ok(killed, r.stderr);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /shard \d \(job \d+_\d\) ended NODE_FAIL \(NodeDown\) with \d+ lines unfinished: resubmitting \(retry 1 of 2\)/);
    const merged = await checkAgainstSingle(path.join(dir, 'nodefail'), 200);
    assert.equal(merged.length, 200);
  } finally {
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline && execFileSync('sinfo', ['-h', '-o', '%T'], { encoding: 'utf8' }).trim() !== 'idle') {
      scontrol('update', 'nodename=localhost', 'state=resume');
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
});

test('scaling out a folder a single machine half did: its lines are handed to the shards, not synthesized again', async () => {
  const out = path.join(dir, 'half');
  await mkdir(out);
  const kept = single.filter((r) => r.line < 100);
  await writeFile(path.join(out, 'manifest.jsonl'), kept.map((r) => JSON.stringify(r) + '\n').join(''));
  for (const r of kept) await link(path.join(dir, 'single', r.audio), path.join(out, r.audio));
  const r = await cli([
    'submit',
    tasksFile,
    '--out',
    'half',
    '--slurm',
    '--shards',
    '8',
    '--max-parallel',
    '4',
    '--poll-seconds',
    '0.5',
    '--teacher',
    'embedded',
    '--quiet',
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /100 lines already in .*half handed to their shards/);
  const merged = await checkAgainstSingle(out, 200);
  for (const m of merged)
    if (m.line < 100) assert.equal(m.wavSha256, single[m.line]!.wavSha256, `line ${m.line} was not synthesized again`);
  // Shard i holds the lines ≡ i (mod 8): 13 or 12 of them below 100, which the runner skips.
  for (let i = 0; i < 8; i++) {
    const log = await readFile(path.join(out, '.slurm', `shard-${i}`, 'slurm.log'), 'utf8');
    assert.match(log, new RegExp(`done ${i < 4 ? 12 : 13}, skipped ${i < 4 ? 13 : 12}, failed 0`), log);
  }
});

test('a shard whose job fails (exit 1) is resubmitted; one that keeps failing is reported and its lines stay unfinished', async () => {
  const small = path.join(dir, 'tasks', 'small.tasks.jsonl');
  await writeTasks(small, 40);
  const marker = path.join(dir, 'failed-once');
  const wrapper = path.join(dir, 'flaky-node.sh');
  // Shard 2 crashes on its first attempt only; shard 1 crashes every time.
  await writeFile(
    wrapper,
    [
      '#!/bin/bash',
      `if [ "$SLURM_ARRAY_TASK_ID" = 2 ] && [ ! -e ${marker} ]; then touch ${marker}; echo "simulated crash" >&2; exit 1; fi`,
      'if [ "$SLURM_ARRAY_TASK_ID" = 1 ]; then echo "simulated crash, always" >&2; exit 1; fi',
      `exec ${process.execPath} ${CLI} "$@"`,
      '',
    ].join('\n'),
    { mode: 0o755 },
  );
  const r = await cli([
    'submit',
    small,
    '--out',
    'flaky',
    '--slurm',
    '--shards',
    '4',
    '--max-parallel',
    '4',
    '--max-retries',
    '1',
    '--poll-seconds',
    '0.5',
    '--node-command',
    wrapper,
    '--teacher',
    'embedded',
    '--quiet',
  ]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(
    r.stderr,
    /shard 2 \(job \d+_2\) ended FAILED \(NonZeroExitCode[^)]*\) with 10 lines unfinished: resubmitting \(retry 1 of 1\)/,
  );
  assert.match(r.stderr, /shard 1 \(job \d+_1\) ended FAILED; no retries left \(1 of 1 used\)/);
  assert.match(r.stderr, /shard 1 \(job \d+_1\) ended FAILED with 10 lines unfinished; log: .*shard-1\/slurm\.log/);
  assert.match(r.stdout, /finished: 30 done, 0 failed, 10 unfinished, 40 total/);
  const merged = await readJsonl<Rec>(path.join(dir, 'flaky', 'manifest.jsonl'));
  assert.deepEqual(
    merged.map((m) => m.line),
    Array.from({ length: 40 }, (_, i) => i).filter((i) => i % 4 !== 1),
  );
  assert.match(await readFile(path.join(dir, 'flaky', '.slurm', 'shard-1', 'slurm.log'), 'utf8'), /simulated crash, always/);
});

test('--no-wait submits and returns; the next run follows the queued jobs instead of submitting them twice', async () => {
  const small = path.join(dir, 'tasks', 'nowait.tasks.jsonl');
  await writeTasks(small, 24);
  const args = [
    'submit',
    small,
    '--out',
    'nowait',
    '--slurm',
    '--shards',
    '3',
    '--poll-seconds',
    '0.5',
    '--teacher',
    'embedded',
    '--quiet',
  ];
  const first = await cli([...args, '--no-wait']);
  assert.equal(first.code, 0, first.stderr);
  const job = /submitted: job (\d+)/.exec(first.stdout)?.[1];
  assert.ok(job, first.stdout);
  // While one follower runs, a second one on the same output folder is refused (it would resubmit the same shards).
  let rival: Promise<Run> | undefined;
  const second = await cli(args, {
    onStderr: (s) => {
      if (!rival && s.includes('[slurm]')) rival = cli(args);
    },
  });
  assert.equal(second.code, 0, second.stderr);
  assert.ok(rival, second.stderr);
  const refused = await rival;
  assert.equal(refused.code, 1, refused.stderr);
  assert.match(refused.stderr, /another tts-distill \(pid \d+\) is following this Slurm run/);
  const state = JSON.parse(await readFile(path.join(dir, 'nowait', '.slurm', 'run.json'), 'utf8')) as { submissions: unknown[] };
  assert.equal(state.submissions.length, 1, second.stderr);
  assert.equal((await readJsonl<Rec>(path.join(dir, 'nowait', 'manifest.jsonl'))).length, 24);
});

test("a queue that refuses the job: a clear message with Slurm's own words", async () => {
  const small = path.join(dir, 'tasks', 'refused.tasks.jsonl');
  await writeTasks(small, 4);
  const r = await cli([
    'submit',
    small,
    '--out',
    'refused',
    '--slurm',
    '--shards',
    '2',
    '--partition',
    'no-such-partition',
    '--teacher',
    'embedded',
  ]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /Slurm refused the job: .*Invalid partition name specified/);
  const r2 = await cli(['submit', small, '--out', 'refused', '--slurm', '--shards', '2', '--gres', 'gpu:1', '--teacher', 'embedded']);
  assert.equal(r2.code, 1);
  assert.match(r2.stderr, /Slurm refused the job: .*Invalid generic resource \(gres\) specification/);
});
