// Issue 17, item 1: nothing the runner writes or appends may go through a symbolic link or into a FIFO.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lstat, mkdir, readFile, readlink, symlink, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { runBatch } from '../../server/src/core/batch/runner';
import { EmbeddedTeacher } from '../../server/src/core/teacher/embedded';
import { UnsafeFileError } from '../../server/src/core/util/safeFs';
import { mkfifo, runCliBounded, tempDir } from './helpers';

const VICTIM = "export PATH=/usr/bin\n# the user's own file, no trailing newline";
const line = (name: string, text: string) =>
  JSON.stringify({ prompt_audio: 'p.wav', prompt_text: '提示', input_text: text, output_name: name });
const TASKS = [line('a', '你好 $(touch pwned)。'), line('b', '再见。')].join('\n') + '\n';

async function setup(dir: string) {
  const victim = path.join(dir, 'victim.bashrc');
  await writeFile(victim, VICTIM);
  const tasks = path.join(dir, 'b.tasks.jsonl');
  await writeFile(tasks, TASKS);
  const out = path.join(dir, 'teacher-out');
  await mkdir(out);
  return { victim, tasks, out };
}

for (const file of ['manifest.jsonl', 'failures.jsonl', '.tts-distill.lock']) {
  test(`a symlinked ${file} in the output folder stops the batch; its target is unchanged`, { timeout: 30_000 }, async (t) => {
    const dir = await tempDir(t);
    const { victim, tasks, out } = await setup(dir);
    await symlink(victim, path.join(out, file));
    await assert.rejects(
      runBatch({ tasksFile: tasks, outDir: out, teacher: new EmbeddedTeacher({ engine: 'sketch' }) }),
      (err: Error) => err instanceof UnsafeFileError && /symbolic link/.test(err.message) && err.message.includes(file),
    );
    assert.equal(await readFile(victim, 'utf8'), VICTIM, 'the target is neither appended to nor truncated');
    assert.equal(await readlink(path.join(out, file)), victim, 'the link itself is left for the user to see');
  });
}

test('the CLI reports a symlinked manifest in one clear line (no stack trace) and writes nothing', { timeout: 60_000 }, async (t) => {
  const dir = await tempDir(t);
  const { victim, tasks, out } = await setup(dir);
  await symlink(victim, path.join(out, 'manifest.jsonl'));
  const r = await runCliBounded(['submit', tasks, '--out', out, '--quiet'], { cwd: dir, timeoutMs: 45_000 });
  assert.equal(r.timedOut, false);
  assert.equal(r.code, 73, r.err);
  assert.match(r.err, /manifest\.jsonl .* is a symbolic link: refusing/);
  assert.doesNotMatch(r.err, /\n\s+at /, 'no stack trace');
  assert.equal(await readFile(victim, 'utf8'), VICTIM);
  await assert.rejects(lstat(path.join(out, 'a.wav')), 'no WAV written');
});

test('a FIFO as manifest.jsonl stops the batch at once instead of hanging it', { timeout: 30_000 }, async (t) => {
  const dir = await tempDir(t);
  const { tasks, out } = await setup(dir);
  if (!mkfifo(path.join(out, 'manifest.jsonl'))) return t.skip('no mkfifo here');
  await assert.rejects(runBatch({ tasksFile: tasks, outDir: out, teacher: new EmbeddedTeacher({ engine: 'sketch' }) }), /FIFO/);
});

test(
  'a WAV of an earlier run that is a FIFO or a symbolic link is redone, never read or written through',
  { timeout: 30_000 },
  async (t) => {
    const dir = await tempDir(t);
    const { victim, tasks, out } = await setup(dir);
    const teacher = new EmbeddedTeacher({ engine: 'sketch' });
    assert.equal((await runBatch({ tasksFile: tasks, outDir: out, teacher })).done, 2);
    const { rm } = await import('node:fs/promises');
    await rm(path.join(out, 'a.wav'));
    await symlink(victim, path.join(out, 'a.wav'));
    await rm(path.join(out, 'b.wav'));
    const fifo = mkfifo(path.join(out, 'b.wav'));
    const s = await runBatch({ tasksFile: tasks, outDir: out, teacher });
    assert.deepEqual([s.done, s.skipped], [fifo ? 2 : 1, fifo ? 0 : 1]);
    assert.equal(await readFile(victim, 'utf8'), VICTIM);
    assert.ok((await lstat(path.join(out, 'a.wav'))).isFile(), 'the link was replaced by the WAV');
    if (fifo) assert.ok((await lstat(path.join(out, 'b.wav'))).isFile());
  },
);
