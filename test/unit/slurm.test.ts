import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, mkdir, readFile, rm, stat, writeFile, appendFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { planShards, readLineMap, shardPaths, writeShards } from '../../server/src/core/slurm/shards';
import { batchScript } from '../../server/src/core/slurm/script';
import {
  compressTaskIds,
  expandTaskIds,
  isRetryable,
  parseSacct,
  parseSbatchParsable,
  parseScontrolJobs,
  parseSqueue,
  shellQuote,
  slurmDurationSeconds,
  slurmWords,
} from '../../server/src/core/slurm/queue';
import { JsonlTail, mergeShards } from '../../server/src/core/slurm/merge';
import { splitSlurmArgs } from '../../server/src/cli/submitSlurm';

const task = (i: number) => JSON.stringify({ prompt_audio: 'p.wav', prompt_text: '你好', input_text: `第${i}句`, output_name: `u${i}` });

test('sharding deals task lines round-robin and skips blank lines', () => {
  const lines = [task(0), '', task(1), task(2), '   ', task(3), task(4)];
  const shards = planShards(lines.join('\n') + '\n', 2);
  assert.equal(shards.length, 2);
  assert.deepEqual(shards[0]!.lines, [0, 3, 6]);
  assert.deepEqual(shards[1]!.lines, [2, 5]);
  assert.equal(shards[0]!.text, [task(0), task(2), task(4)].join('\n') + '\n');
  assert.equal(shards[1]!.text, [task(1), task(3)].join('\n') + '\n');
});

test('sharding is stable: same text, same shards; appended lines leave earlier lines where they were', () => {
  const base = Array.from({ length: 23 }, (_, i) => task(i)).join('\n');
  const a = planShards(base, 5);
  assert.deepEqual(planShards(base, 5), a);
  const b = planShards(base + '\n' + task(23) + '\n' + task(24), 5);
  for (const s of a) assert.deepEqual(b[s.index]!.lines.slice(0, s.lines.length), s.lines);
  // every line in exactly one shard
  const all = b.flatMap((s) => s.lines).sort((x, y) => x - y);
  assert.deepEqual(
    all,
    Array.from({ length: 25 }, (_, i) => i),
  );
});

test('never more shards than task lines; a BOM does not reach a shard; CRLF files split by line', () => {
  const shards = planShards('\uFEFF' + task(0) + '\r\n' + task(1) + '\r\n', 8);
  assert.equal(shards.length, 2);
  assert.equal(shards[0]!.text, task(0) + '\n');
  assert.deepEqual(
    shards.map((s) => s.lines),
    [[0], [1]],
  );
  assert.throws(() => planShards(task(0), 0), RangeError);
});

test('writeShards writes tasks + line maps and leaves unchanged files alone', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'slurm-shards-'));
  try {
    const shards = planShards([0, 1, 2, 3, 4].map(task).join('\n'), 2);
    await writeShards(dir, shards);
    assert.equal(await readFile(shardPaths(dir, 1).tasks, 'utf8'), task(1) + '\n' + task(3) + '\n');
    assert.deepEqual(await readLineMap(dir, 0), [0, 2, 4]);
    const before = (await stat(shardPaths(dir, 0).tasks)).mtimeMs;
    const ino = (await stat(shardPaths(dir, 0).tasks)).ino;
    await writeShards(dir, shards);
    assert.equal((await stat(shardPaths(dir, 0).tasks)).ino, ino);
    assert.equal((await stat(shardPaths(dir, 0).tasks)).mtimeMs, before);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('batch script: #SBATCH resources, the shard of $SLURM_ARRAY_TASK_ID, exit 2 (failed lines) is not a job failure', () => {
  const s = batchScript({
    runDir: '/shared/run a',
    workDir: '/home/u/proj',
    nodeCommand: '/usr/bin/node /opt/tts/bin/tts-distill.js',
    submitArgs: ['--teacher', 'glmtts-cli', '--dict', 'my dict.jsonl'],
    partition: 'gpu',
    gres: 'gpu:1',
    time: '02:00:00',
    account: 'tts',
  });
  const lines = s.split('\n');
  assert.equal(lines[0], '#!/bin/bash');
  for (const d of [
    '--partition=gpu',
    '--gres=gpu:1',
    '--time=02:00:00',
    '--account=tts',
    '--chdir=/home/u/proj',
    '--output="/shared/run a/shard-%a/slurm.log"',
  ]) {
    assert.ok(lines.includes(`#SBATCH ${d}`), d);
  }
  assert.ok(!s.includes('#SBATCH --array'), 'the array is given at submission (a resume submits only some shards)');
  assert.ok(lines.includes(`shard='/shared/run a'/shard-\${SLURM_ARRAY_TASK_ID:?submit this script with sbatch --array}`));
  assert.ok(
    lines.includes(
      `/usr/bin/node /opt/tts/bin/tts-distill.js submit "$shard/tasks.jsonl" --out "$shard/out" --teacher glmtts-cli --dict 'my dict.jsonl'`,
    ),
  );
  // #SBATCH lines must come before the first command, or sbatch ignores them.
  const firstCommand = lines.findIndex((l) => l && !l.startsWith('#'));
  const lastDirective = lines.map((l) => l.startsWith('#SBATCH')).lastIndexOf(true);
  assert.ok(lastDirective < firstCommand);
  const none = batchScript({ runDir: '/r', workDir: '/w', nodeCommand: 'tts-distill', submitArgs: [] });
  assert.ok(!/partition|gres|--time|account/.test(none));
});

test('batch script runs under bash: the exit code of the shard decides the job state', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'slurm-script-'));
  try {
    for (const [code, expected] of [
      [0, 0],
      [2, 0],
      [1, 1],
      [70, 70],
    ] as const) {
      const fake = path.join(dir, `fake${code}.sh`);
      await writeFile(fake, `#!/bin/bash\necho "$@" > "${dir}/args"\nexit ${code}\n`, { mode: 0o755 });
      const script = path.join(dir, 'batch.sh');
      await writeFile(script, batchScript({ runDir: dir, workDir: dir, nodeCommand: fake, submitArgs: ['--teacher', 'embedded'] }));
      let status = 0;
      try {
        execFileSync('bash', [script], { env: { ...process.env, SLURM_ARRAY_TASK_ID: '3', SLURM_ARRAY_JOB_ID: '9' }, stdio: 'pipe' });
      } catch (err) {
        status = (err as { status: number }).status;
      }
      assert.equal(status, expected, `shard exit ${code}`);
      assert.equal(
        (await readFile(path.join(dir, 'args'), 'utf8')).trim(),
        `submit ${dir}/shard-3/tasks.jsonl --out ${dir}/shard-3/out --teacher embedded`,
      );
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('squeue output: one entry per array task, unexpanded pending ranges expanded', () => {
  const out = [
    '41|0|COMPLETED|localhost|0:02|None',
    '41|1|RUNNING|node07|1:02:03|None',
    '41|2|FAILED|localhost|0:01|NonZeroExitCode',
    '41|3-7%2|PENDING||0:00|JobArrayTaskLimit',
    '',
  ].join('\n');
  const t = parseSqueue(out);
  assert.deepEqual(
    t.map((x) => x.taskId),
    [0, 1, 2, 3, 4, 5, 6, 7],
  );
  assert.deepEqual(t[1], { arrayJobId: '41', taskId: 1, state: 'RUNNING', node: 'node07', elapsed: '1:02:03', reason: '' });
  assert.equal(t[2]!.reason, 'NonZeroExitCode');
  assert.equal(t[7]!.state, 'PENDING');
  assert.equal(t[7]!.reason, 'JobArrayTaskLimit');
});

test('scontrol show job -o: real Slurm 22.05 lines, including the pending array record', () => {
  const out = [
    'JobId=4 ArrayJobId=1 ArrayTaskId=2 ArrayTaskThrottle=2 JobName=s.sh UserId=root(0) GroupId=root(0) MCS_label=N/A Priority=4294901759 Nice=0 Account=(null) QOS=(null) JobState=FAILED Reason=NonZeroExitCode Dependency=(null) Requeue=1 Restarts=0 BatchFlag=1 Reboot=0 ExitCode=1:0 RunTime=00:00:02 TimeLimit=UNLIMITED TimeMin=N/A NodeList=localhost BatchHost=localhost Command=/tmp/a b/s.sh',
    'JobId=1 ArrayJobId=1 ArrayTaskId=3 ArrayTaskThrottle=2 JobName=s.sh JobState=COMPLETED Reason=None ExitCode=0:0 RunTime=00:00:02 NodeList=localhost',
    'JobId=1 ArrayJobId=1 ArrayTaskId=4-5%2 ArrayTaskThrottle=2 JobName=s.sh JobState=PENDING Reason=JobArrayTaskLimit ExitCode=0:0 RunTime=00:00:00 NodeList=',
  ].join('\n');
  const t = parseScontrolJobs(out);
  assert.deepEqual(
    t.map((x) => [x.taskId, x.state]),
    [
      [2, 'FAILED'],
      [3, 'COMPLETED'],
      [4, 'PENDING'],
      [5, 'PENDING'],
    ],
  );
  assert.equal(t[0]!.arrayJobId, '1');
  assert.equal(t[0]!.exitCode, '1:0');
  assert.equal(t[0]!.reason, 'NonZeroExitCode');
  assert.equal(t[0]!.node, 'localhost');
  assert.equal(t[1]!.reason, '');
  assert.deepEqual(parseScontrolJobs('slurm_load_jobs error: Invalid job id specified\n'), []);
});

test('sacct -P output, including "CANCELLED by 0"', () => {
  const t = parseSacct('7_0|COMPLETED|n1|00:00:05|0:0\n7_1|CANCELLED by 0|n2|00:00:01|0:15\n7_[2-3]|PENDING|None assigned|00:00:00|0:0\n');
  assert.deepEqual(
    t.map((x) => [x.taskId, x.state, x.node]),
    [
      [0, 'COMPLETED', 'n1'],
      [1, 'CANCELLED', 'n2'],
      [2, 'PENDING', ''],
      [3, 'PENDING', ''],
    ],
  );
});

test('small parsers: sbatch --parsable, array specs, durations, Slurm words, quoting', () => {
  assert.equal(parseSbatchParsable('123\n'), '123');
  assert.equal(parseSbatchParsable('123;cluster1\n'), '123');
  assert.equal(parseSbatchParsable(''), undefined);
  assert.deepEqual(expandTaskIds('1,3,5-7%2'), [1, 3, 5, 6, 7]);
  assert.deepEqual(expandTaskIds('0-6:3'), [0, 3, 6]);
  assert.deepEqual(expandTaskIds('N/A'), []);
  assert.equal(compressTaskIds([5, 0, 1, 2, 7, 8]), '0-2,5,7-8');
  assert.equal(slurmDurationSeconds('1-02:03:04'), 93784);
  assert.equal(slurmDurationSeconds('3:04'), 184);
  assert.ok(Number.isNaN(slurmDurationSeconds('INVALID')));
  assert.equal(
    slurmWords(
      'sbatch: error: invalid partition specified: nope\nsbatch: error: Batch job submission failed: Invalid partition name specified\n',
    ),
    'sbatch: error: invalid partition specified: nope; sbatch: error: Batch job submission failed: Invalid partition name specified',
  );
  assert.ok(
    isRetryable('NODE_FAIL') && isRetryable('TIMEOUT') && isRetryable('FAILED') && !isRetryable('CANCELLED') && !isRetryable('COMPLETED'),
  );
  assert.equal(shellQuote("it's"), `'it'\\''s'`);
  assert.equal(shellQuote('/a/b-c.jsonl'), '/a/b-c.jsonl');
});

test('CLI arguments: ours are taken, the teacher options go to every shard', () => {
  const a = splitSlurmArgs([
    'tasks.jsonl',
    '--out',
    'o',
    '--slurm',
    '--shards',
    '8',
    '--teacher',
    'http',
    '--sbatch-arg',
    '--qos=long',
    '--sbatch-arg=--exclusive',
    '--concurrency=2',
    '--no-wait',
  ]);
  assert.equal(a.tasks, 'tasks.jsonl');
  assert.equal(a.values.get('shards'), '8');
  assert.deepEqual(a.multi.get('sbatch-arg'), ['--qos=long', '--exclusive']);
  assert.deepEqual(a.forwarded, ['--teacher', 'http', '--concurrency=2']);
  assert.ok(a.switches.has('no-wait'));
  assert.throws(() => splitSlurmArgs(['--out', 'o', '--slurm']), /no task file/);
});

test('JsonlTail reads only what was appended; a half-written line waits; a replaced file is read again', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'slurm-tail-'));
  try {
    const f = path.join(dir, 'manifest.jsonl');
    const tail = new JsonlTail(f, (r) => r as { line: number; v?: number });
    assert.equal((await tail.read()).size, 0);
    await writeFile(f, '{"line":0}\n{"line":1}\n{"li');
    assert.deepEqual([...(await tail.read()).keys()], [0, 1]);
    await appendFile(f, 'ne":2}\n{"line":1,"v":2}\n');
    const m = await tail.read();
    assert.deepEqual([...m.keys()].sort(), [0, 1, 2]);
    assert.equal(m.get(1)!.v, 2);
    await writeFile(f + '.new', '{"line":5}\n');
    execFileSync('mv', [f + '.new', f]);
    assert.deepEqual([...(await tail.read()).keys()], [5]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('merge: original lines, task order, no duplicates, failures only for lines not done, WAVs linked inside out/', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'slurm-merge-'));
  try {
    const run = path.join(dir, 'run');
    const out = path.join(dir, 'out');
    const shards = planShards([0, 1, 2, 3, 4, 5, 6].map(task).join('\n'), 3); // shard 0: 0,3,6  1: 1,4  2: 2,5
    await writeShards(run, shards);
    const rec = (line: number, name: string, extra = {}) =>
      JSON.stringify({
        line,
        name,
        taskHash: 'h',
        text: name,
        readings: [null],
        audio: `${name}.wav`,
        phonemes: name,
        wavSha256: 'w',
        ...extra,
      }) + '\n';
    const put = async (i: number, manifest: string, failures = '', wavs: string[] = []) => {
      const o = shardPaths(run, i).out;
      await mkdir(o, { recursive: true });
      await writeFile(path.join(o, 'manifest.jsonl'), manifest);
      await writeFile(path.join(o, 'failures.jsonl'), failures);
      for (const w of wavs) await writeFile(path.join(o, `${w}.wav`), `RIFF ${w}`);
    };
    // shard 0: line 1 (orig 3) first failed, then done on resume; a duplicate record of line 0
    await put(
      0,
      rec(0, 'u0', { v: 1 }) + rec(1, 'u3') + rec(0, 'u0', { v: 2 }) + rec(2, 'u6'),
      JSON.stringify({ line: 1, name: 'u3', taskHash: 'h', reason: 'boom', attempts: 1, transient: true }) + '\n',
      ['u0', 'u3', 'u6'],
    );
    // shard 1: orig 4 failed for good
    await put(
      1,
      rec(0, 'u1'),
      JSON.stringify({ line: 1, name: 'u4', taskHash: 'h', reason: 'bad prompt', attempts: 1, transient: false }) + '\n',
      ['u1'],
    );
    // shard 2: only orig 2 done, orig 5 unfinished (node died)
    await put(2, rec(0, 'u2'), '', ['u2']);
    const r = await mergeShards(run, 3, out);
    assert.equal(r.total, 7);
    assert.equal(r.done, 5);
    assert.equal(r.failed, 1);
    assert.deepEqual(r.unfinished, [5]);
    const manifest = (await readFile(path.join(out, 'manifest.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.deepEqual(
      manifest.map((m) => [m.line, m.name]),
      [
        [0, 'u0'],
        [1, 'u1'],
        [2, 'u2'],
        [3, 'u3'],
        [6, 'u6'],
      ],
    );
    assert.equal(manifest[0].v, 2, 'the later record of a line wins');
    const failures = (await readFile(path.join(out, 'failures.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.deepEqual(
      failures.map((f) => [f.line, f.reason]),
      [[4, 'bad prompt']],
    );
    const src = await stat(path.join(shardPaths(run, 0).out, 'u3.wav'));
    const dst = await stat(path.join(out, 'u3.wav'));
    assert.equal(dst.ino, src.ino, 'hard link, not a copy');
    assert.equal(r.audioLinked, 5);
    assert.equal((await mergeShards(run, 3, out)).audioLinked, 0, 'a second merge links nothing again');
    // A record whose audio would land outside out/ is refused.
    await put(
      2,
      rec(0, 'u2') +
        JSON.stringify({ line: 1, name: 'x', taskHash: 'h', text: 'x', readings: [null], audio: '../../evil.wav', wavSha256: 'w' }) +
        '\n',
      '',
      ['u2'],
    );
    await writeFile(path.join(shardPaths(run, 2).out, '../../evil.wav'), 'x');
    await assert.rejects(mergeShards(run, 3, out), /outside the output folder/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('queue status: a forgotten job is absent, an unreachable controller is an error (not "finished")', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'slurm-fake-'));
  try {
    const fake = path.join(dir, 'fake-slurm');
    // Plays squeue/scontrol/sacct from the MODE file: forgotten | down | running
    await writeFile(
      fake,
      `#!/bin/bash
mode=$(cat ${dir}/MODE); cmd=$1; shift
case "$mode/$cmd" in
  forgotten/squeue|forgotten/scontrol) echo "slurm_load_jobs error: Invalid job id specified" >&2; exit 1;;
  forgotten/sacct) echo "Slurm accounting storage is disabled" >&2; exit 1;;
  down/*) echo "slurm_load_jobs error: Unable to contact slurm controller (connect failure)" >&2; exit 1;;
  running/squeue) echo "12|0|RUNNING|n1|0:05|None"; echo "12|1|PENDING||0:00|JobArrayTaskLimit";;
esac
`,
      { mode: 0o755 },
    );
    const { SlurmQueue, SlurmError } = await import('../../server/src/core/slurm/queue');
    const q = new SlurmQueue({ commandPrefix: [fake] });
    await writeFile(path.join(dir, 'MODE'), 'running');
    assert.deepEqual(
      (await q.status(['12'])).map((t) => [t.taskId, t.state]),
      [
        [0, 'RUNNING'],
        [1, 'PENDING'],
      ],
    );
    await writeFile(path.join(dir, 'MODE'), 'forgotten');
    assert.deepEqual(await q.status(['12']), []);
    await writeFile(path.join(dir, 'MODE'), 'down');
    await assert.rejects(
      q.status(['12']),
      (err: unknown) => err instanceof SlurmError && /Unable to contact slurm controller/.test(err.message),
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("through an ssh prefix every word is quoted for the remote shell; sbatch refusals carry Slurm's words", async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'slurm-ssh-'));
  try {
    const ssh = path.join(dir, 'ssh');
    // A stand-in for ssh: prints the words it got, one per line, then refuses like sbatch would.
    await writeFile(
      ssh,
      '#!/bin/bash\nprintf "%s\\n" "$@" >&2\necho "sbatch: error: Batch job submission failed: Job violates accounting/QOS policy (job submit limit, user\'s size and/or time limits)" >&2\nexit 1\n',
      { mode: 0o755 },
    );
    const { SlurmQueue, SlurmError } = await import('../../server/src/core/slurm/queue');
    const q = new SlurmQueue({ commandPrefix: [ssh, 'login01', '--'] });
    const err = await q.sbatch('/shared/run a/batch.sh', ['--array=0-3%2', "--comment=it's"]).catch((e: unknown) => e);
    assert.ok(err instanceof SlurmError);
    assert.match(err.message, /^Slurm refused the job: .*Job violates accounting\/QOS policy/);
    const r = await q.run(['echo', '/shared/run a/batch.sh', "it's"]);
    assert.deepEqual(r.stderr.split('\n').slice(0, 5), ['login01', '--', 'echo', `'/shared/run a/batch.sh'`, `'it'\\''s'`]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('web UI prompt paths relative to the task file become absolute in shards; everything else is copied byte for byte', async () => {
  const { anchorPromptAudio } = await import('../../server/src/core/slurm/shards');
  const anchor = anchorPromptAudio('/data/batches/a.tasks.jsonl');
  const rel = '{"prompt_audio":"../voices/p.wav","prompt_text":"你好","input_text":"银行","output_name":"u1"}';
  assert.deepEqual(JSON.parse(anchor(rel)), {
    prompt_audio: '/data/voices/p.wav',
    prompt_text: '你好',
    input_text: '银行',
    output_name: 'u1',
  });
  const abs = '{"prompt_audio": "/v/p.wav", "prompt_text":"你好","input_text":"银行","output_name":"u1"}';
  assert.equal(anchor(abs), abs);
  const upstream = '{"uttid":"u1","prompt_text":"你好","prompt_speech":"examples/p.wav","syn_text":"银行"}';
  assert.equal(anchor(upstream), upstream, 'upstream paths are relative to the GLM-TTS checkout, not to the task file');
  assert.equal(anchor('{"broken'), '{"broken');
  const shards = planShards([rel, abs].join('\n'), 2, anchor);
  assert.equal(shards[1]!.text, abs + '\n');
});

test('lines the output folder already holds are handed to their shards (WAV linked, record with the shard line and hash), once', async () => {
  const { seedShardsFromOut } = await import('../../server/src/core/slurm/seed');
  const { taskHash } = await import('../../server/src/core/batch/manifest');
  const { TaskFileModel } = await import('../../server/src/core/formats/taskFile');
  const dir = await mkdtemp(path.join(tmpdir(), 'slurm-seed-'));
  try {
    const tasksFile = path.join(dir, 'a.tasks.jsonl');
    const text =
      [0, 1, 2, 3, 4]
        .map((i) => JSON.stringify({ prompt_audio: 'p.wav', prompt_text: '你好', input_text: `第${i}句`, output_name: `u${i}` }))
        .join('\n') + '\n';
    const model = new TaskFileModel(text, 'auto');
    const hashes = new Map([0, 1, 2, 3, 4].map((i) => [i, taskHash(model.line(i)!.toTask(i)!)]));
    const out = path.join(dir, 'out');
    await mkdir(out);
    const rec = (i: number, hash: string) =>
      JSON.stringify({
        line: i,
        name: `u${i}`,
        taskHash: hash,
        text: `第${i}句`,
        readings: [null, null, null],
        phonemes: 'x',
        audio: `u${i}.wav`,
        wavSha256: 'w',
      });
    // lines 0, 1, 3 done here; line 4's record is of another task (the file changed since)
    await writeFile(
      path.join(out, 'manifest.jsonl'),
      [rec(0, hashes.get(0)!), rec(1, hashes.get(1)!), rec(3, hashes.get(3)!), rec(4, 'stale')].join('\n') + '\n',
    );
    for (const i of [0, 1, 3, 4]) await writeFile(path.join(out, `u${i}.wav`), `RIFF${i}`);
    const run = path.join(dir, 'run');
    const { anchorPromptAudio } = await import('../../server/src/core/slurm/shards');
    const shards = planShards(text, 2, anchorPromptAudio(tasksFile)); // shard 0: 0,2,4  shard 1: 1,3
    await writeShards(run, shards);
    assert.equal(await seedShardsFromOut(run, shards, out, hashes, new Set([1])), 1, 'shard 1 is busy: only line 0 of shard 0');
    assert.equal(
      await seedShardsFromOut(run, shards, out, hashes, new Set()),
      2,
      'then lines 1 and 3 of shard 1; line 0 is not handed over twice',
    );
    assert.equal(await seedShardsFromOut(run, shards, out, hashes, new Set()), 0);
    const m1 = (await readFile(path.join(shardPaths(run, 1).out, 'manifest.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const shardModel = new TaskFileModel(shards[1]!.text, 'auto');
    assert.deepEqual(
      m1.map((r) => [r.line, r.name, r.taskHash]),
      [
        [0, 'u1', taskHash(shardModel.line(0)!.toTask(0)!)],
        [1, 'u3', taskHash(shardModel.line(1)!.toTask(1)!)],
      ],
    );
    assert.notEqual(m1[0].taskHash, hashes.get(1), 'the shard line names the prompt audio by absolute path: its own hash');
    assert.equal((await stat(path.join(shardPaths(run, 1).out, 'u3.wav'))).ino, (await stat(path.join(out, 'u3.wav'))).ino);
    const m0 = (await readFile(path.join(shardPaths(run, 0).out, 'manifest.jsonl'), 'utf8')).trim().split('\n');
    assert.equal(m0.length, 1, 'the stale record of line 4 is not handed over');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('the node command of the batch script: this installation by absolute path; Electron (VS Code) is told to act as Node', async () => {
  const { defaultNodeCommand } = await import('../../server/src/core/slurm/script');
  const dir = await mkdtemp(path.join(tmpdir(), 'slurm-pkg-'));
  try {
    await mkdir(path.join(dir, 'ext dir', 'dist'), { recursive: true });
    await writeFile(path.join(dir, 'ext dir', 'package.json'), '{}');
    await writeFile(path.join(dir, 'ext dir', 'dist', 'cli.js'), '');
    // An installed extension ships dist/ only (no bin/).
    assert.equal(
      defaultNodeCommand(path.join(dir, 'ext dir', 'dist'), { execPath: '/usr/bin/node' }),
      `/usr/bin/node '${dir}/ext dir/dist/cli.js'`,
    );
    assert.equal(
      defaultNodeCommand(path.join(dir, 'ext dir', 'dist'), { execPath: '/usr/share/code/code', electron: '30.0.0' }),
      `ELECTRON_RUN_AS_NODE=1 /usr/share/code/code '${dir}/ext dir/dist/cli.js'`,
    );
    await mkdir(path.join(dir, 'ext dir', 'bin'));
    await writeFile(path.join(dir, 'ext dir', 'bin', 'tts-distill.js'), '');
    assert.match(defaultNodeCommand(path.join(dir, 'ext dir', 'dist'), { execPath: '/usr/bin/node' }), /bin\/tts-distill\.js'$/);
    assert.throws(() => defaultNodeCommand(tmpdir(), { execPath: '/usr/bin/node' }), /cannot find bin\/tts-distill\.js or dist\/cli\.js/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
