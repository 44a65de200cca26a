// Integration: the glmtts-cli backend against the stand-in checkout (test/fixtures/glmtts), a real python3 process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { decodeWav } from '../../server/src/core/audio/wav';
import { readFailures, readManifest } from '../../server/src/core/batch/manifest';
import { runBatch } from '../../server/src/core/batch/runner';
import { GlmttsCliTeacher } from '../../server/src/core/teacher/glmttsCli';
import { REPO, writePromptWav } from './teacherHelpers';

async function checkout(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'glmtts-'));
  await cp(path.join(REPO, 'test', 'fixtures', 'glmtts'), path.join(dir, 'GLM-TTS'), { recursive: true });
  return dir;
}

const upstream = (uttid: string, text: string, prompt = 'examples/prompt/p.wav') =>
  JSON.stringify({ uttid, prompt_text: '今天天气很好。', prompt_speech: prompt, syn_text: text });

test('glmtts-cli: converts the tasks, runs the script from the checkout, collects WAVs and phonemes, maps them back to the lines', async () => {
  const dir = await checkout();
  const root = path.join(dir, 'GLM-TTS');
  await mkdir(path.join(root, 'examples', 'prompt'), { recursive: true });
  await writePromptWav(path.join(root, 'examples', 'prompt', 'p.wav'));
  const tasks = path.join(dir, 'batch.jsonl');
  await writeFile(
    tasks,
    [
      upstream('a/1', '我去银行找行长。'),
      upstream('b', '这一行 FAIL 了。'),
      upstream('c', '长江很长。', 'examples/prompt/missing.wav'),
      upstream('d', '行不行？'),
    ].join('\n') + '\n',
  );
  const log: string[] = [];
  const teacher = new GlmttsCliTeacher({
    root,
    python: 'python3',
    usePhoneme: true,
    expName: '_t',
    env: { STANDIN_LOG: path.join(dir, 'runs.jsonl') },
    log: (m) => log.push(m),
  });
  assert.equal((await teacher.health()).ok, true);
  const out = path.join(dir, 'out');
  const s = await runBatch({ tasksFile: tasks, outDir: out, teacher, glmttsPath: root, sampleRate: 32000, backoffMs: 1 });
  assert.deepEqual([s.total, s.done, s.failed], [4, 2, 2]);
  const m = await readManifest(path.join(out, 'manifest.jsonl'));
  assert.deepEqual(
    m.map((r) => [r.line, r.name, r.audio]),
    [
      [0, 'a/1', 'a/1.wav'],
      [3, 'd', 'd.wav'],
    ],
  );
  assert.equal(
    m[0]!.phonemes,
    '我去银<|H|><|ANG2|>找<|H|><|ANG2|><|ZH|><|ANG3|>。',
    "phonemes from text_compare.jsonl (the checkout's dictionary)",
  );
  assert.deepEqual(m[0]!.readings.slice(2, 7), ['yin2', 'hang2', 'zhao3', 'hang2', 'zhang3']);
  assert.equal(m[0]!.backend, 'glmtts-cli');
  assert.equal(m[0]!.seed, 0, 'glmtts_inference.py seeds with 0 whatever is asked');
  assert.equal(m[0]!.clonedVoice, true);
  const wav = decodeWav(await readFile(path.join(out, 'a', '1.wav')));
  assert.equal(wav.sampleRate, 32000);
  const f = await readFailures(path.join(out, 'failures.jsonl'));
  assert.deepEqual(
    f.map((x) => [x.line, x.transient]),
    [
      [1, false],
      [2, false],
    ],
  );
  assert.match(f[0]!.reason, /stand-in failure requested/);
  assert.match(f[1]!.reason, /No such file/);
  const runs = (await readFile(path.join(dir, 'runs.jsonl'), 'utf8'))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { argv: string[]; cwd: string });
  assert.equal(runs.length, 1, 'one process for the whole chunk');
  assert.equal(runs[0]!.cwd, root);
  assert.deepEqual(runs[0]!.argv.slice(1), ['--exp_name=_t', '--use_phoneme', '--sample_rate', '32000']);
  assert.match(runs[0]!.argv[0]!, /^--data=ttsd_/);
  assert.deepEqual(await readdir(path.join(root, 'examples')), ['prompt'], 'the chunk file is removed afterwards');
  await rm(dir, { recursive: true, force: true });
});

test('glmtts-cli: a crashed run fails its unfinished lines transiently; the retry finishes them', async () => {
  const dir = await checkout();
  const root = path.join(dir, 'GLM-TTS');
  await writePromptWav(path.join(dir, 'p.wav'));
  const tasks = path.join(dir, 'batch.jsonl');
  await writeFile(
    tasks,
    ['一', '二', '三', '四'].map((t, i) => upstream(`u${i}`, `第${t}句。`, path.join(dir, 'p.wav'))).join('\n') + '\n',
  );
  // The stand-in dies after two items of a run: the first run finishes u0, u1; the retry runs u2, u3.
  const teacher = new GlmttsCliTeacher({
    root,
    python: 'python3',
    env: { STANDIN_CRASH_AFTER: '2', STANDIN_LOG: path.join(dir, 'runs.jsonl') },
  });
  const logs: string[] = [];
  const s = await runBatch({
    tasksFile: tasks,
    outDir: path.join(dir, 'out'),
    teacher,
    retries: 2,
    backoffMs: 1,
    onLog: (l) => logs.push(l),
  });
  assert.deepEqual([s.done, s.failed], [4, 0]);
  assert.equal((await readFile(path.join(dir, 'runs.jsonl'), 'utf8')).trim().split('\n').length, 2);
  assert.ok(logs.some((l) => /failed transiently; retrying/.test(l)));
  await rm(dir, { recursive: true, force: true });
});

test('glmtts-cli: cancel ends the process group; finished lines are kept, the rest is neither done nor failed', async () => {
  const dir = await checkout();
  const root = path.join(dir, 'GLM-TTS');
  await writePromptWav(path.join(dir, 'p.wav'));
  const tasks = path.join(dir, 'batch.jsonl');
  await writeFile(tasks, Array.from({ length: 40 }, (_, i) => upstream(`u${i}`, `第${i}句。`, path.join(dir, 'p.wav'))).join('\n') + '\n');
  const teacher = new GlmttsCliTeacher({ root, python: 'python3', pollMs: 20, env: { STANDIN_DELAY: '0.05' } });
  const controller = new AbortController();
  const s = await runBatch({
    tasksFile: tasks,
    outDir: path.join(dir, 'out'),
    teacher,
    signal: controller.signal,
    onProgress: (p) => {
      if (p.done >= 3) controller.abort();
    },
  });
  assert.equal(s.cancelled, true);
  assert.ok(s.done >= 3 && s.done < 40, `done ${s.done}`);
  assert.equal(s.failed, 0);
  assert.equal((await readManifest(path.join(dir, 'out', 'manifest.jsonl'))).length, s.done);
  const again = await runBatch({
    tasksFile: tasks,
    outDir: path.join(dir, 'out'),
    teacher: new GlmttsCliTeacher({ root, python: 'python3' }),
  });
  assert.deepEqual([again.skipped, again.done, again.failed], [s.done, 40 - s.done, 0]);
  await rm(dir, { recursive: true, force: true });
});

test('glmtts-cli: with a command prefix the script still runs from the checkout root', async () => {
  const dir = await checkout();
  const root = path.join(dir, 'GLM-TTS');
  await writePromptWav(path.join(dir, 'p.wav'));
  const tasks = path.join(dir, 'batch.jsonl');
  await writeFile(tasks, upstream('u0', '你好。', path.join(dir, 'p.wav')) + '\n');
  // `env` stands in for `ssh gpu01 --`: a prefix that passes its arguments on as a command.
  const teacher = new GlmttsCliTeacher({ root, python: 'python3', prefix: ['env', `STANDIN_LOG=${path.join(dir, 'runs.jsonl')}`] });
  const s = await runBatch({ tasksFile: tasks, outDir: path.join(dir, 'out'), teacher, glmttsPath: root });
  assert.equal(s.done, 1);
  const [run] = (await readFile(path.join(dir, 'runs.jsonl'), 'utf8'))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { cwd: string });
  assert.equal(run!.cwd, root);
  await rm(dir, { recursive: true, force: true });
});
