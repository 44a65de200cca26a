// Issue 17, item 7: many failing lines share fsyncs, and a cancel is honoured while they are recorded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { open, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { readFailures } from '../../server/src/core/batch/manifest';
import { runBatch } from '../../server/src/core/batch/runner';
import { EmbeddedTeacher } from '../../server/src/core/teacher/embedded';
import { tempDir } from './helpers';

const bad = (n: number) =>
  Array.from({ length: n }, (_, i) =>
    JSON.stringify({ prompt_audio: 'p.wav', prompt_text: 't', input_text: '', output_name: `u${i}` }),
  ).join('\n') + '\n';

test('10,000 failing lines are recorded with a few fsyncs, not one each', { timeout: 120_000 }, async (t) => {
  const dir = await tempDir(t);
  const file = path.join(dir, 'f.tasks.jsonl');
  await writeFile(file, bad(10_000));
  const probe = await open(file, 'r');
  const proto = Object.getPrototypeOf(probe) as { sync(): Promise<void> };
  await probe.close();
  const original = proto.sync;
  let syncs = 0;
  proto.sync = function (this: unknown) {
    syncs++;
    return original.call(this);
  };
  t.after(() => {
    proto.sync = original;
  });
  const s = await runBatch({ tasksFile: file, outDir: path.join(dir, 'out'), teacher: new EmbeddedTeacher({ engine: 'sketch' }) });
  proto.sync = original;
  assert.equal(s.failed, 10_000);
  assert.equal((await readFailures(path.join(dir, 'out', 'failures.jsonl'))).length, 10_000);
  assert.ok(syncs < 100, `${syncs} fsyncs for 10,000 failures`);
});

test('a cancel while failing lines are recorded stops at once; the next run records the rest', { timeout: 120_000 }, async (t) => {
  const dir = await tempDir(t);
  const file = path.join(dir, 'f.tasks.jsonl');
  await writeFile(file, bad(20_000));
  const stop = new AbortController();
  const s = await runBatch({
    tasksFile: file,
    outDir: path.join(dir, 'out'),
    teacher: new EmbeddedTeacher({ engine: 'sketch' }),
    signal: stop.signal,
    onProgress: (p) => {
      if (p.failed >= 1) stop.abort();
    },
  });
  assert.equal(s.cancelled, true);
  assert.ok(s.failed < 20_000, `stopped after ${s.failed} of 20,000`);
  const again = await runBatch({ tasksFile: file, outDir: path.join(dir, 'out'), teacher: new EmbeddedTeacher({ engine: 'sketch' }) });
  assert.equal(again.failed, 20_000);
  assert.equal((await readFailures(path.join(dir, 'out', 'failures.jsonl'))).length, 20_000);
});

test('a cancel before a huge task file is read through returns a cancelled summary, not an error', { timeout: 60_000 }, async (t) => {
  const dir = await tempDir(t);
  const file = path.join(dir, 'f.tasks.jsonl');
  await writeFile(file, bad(30_000));
  const stop = new AbortController();
  setImmediate(() => stop.abort());
  const s = await runBatch({
    tasksFile: file,
    outDir: path.join(dir, 'out'),
    teacher: new EmbeddedTeacher({ engine: 'sketch' }),
    signal: stop.signal,
  });
  assert.equal(s.cancelled, true);
  assert.equal(s.failed, 0);
});

test(
  'a full disk stops the batch with one clear message (exit 74), no stack trace, no temp files left',
  { timeout: 120_000 },
  async (t) => {
    const { spawnSync } = await import('node:child_process');
    const { mkdir } = await import('node:fs/promises');
    const dir = await tempDir(t);
    const out = path.join(dir, 'out');
    await mkdir(out);
    // A 256 KiB tmpfs (needs root; skipped elsewhere): a few WAVs fit, the rest hit ENOSPC.
    if (spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', out]).status !== 0)
      return t.skip('cannot mount a small tmpfs here (not root)');
    try {
      await fullDisk(dir, out);
    } finally {
      spawnSync('umount', [out]); // before the temp folder is removed
    }
  },
);

async function fullDisk(dir: string, out: string) {
  const { readdir } = await import('node:fs/promises');
  const file = path.join(dir, 'f.tasks.jsonl');
  await writeFile(
    file,
    Array.from({ length: 40 }, (_, i) =>
      JSON.stringify({ prompt_audio: 'p.wav', prompt_text: 't', input_text: '今天天气很好，我们去公园散步吧。', output_name: `u${i}` }),
    ).join('\n') + '\n',
  );
  const { runCliBounded } = await import('./helpers');
  const r = await runCliBounded(['submit', file, '--out', out, '--quiet', '--concurrency', '1'], { cwd: dir, timeoutMs: 90_000 });
  assert.equal(r.timedOut, false);
  assert.equal(r.code, 74, r.err);
  assert.match(r.err, /the disk is full \(ENOSPC\)/);
  assert.doesNotMatch(r.err, /\n\s+at /, 'no stack trace');
  assert.deepEqual(
    (await readdir(out)).filter((f) => f.includes('.tmp-')),
    [],
    'no temp files left',
  );
}
