// A `tts-distill submit` process killed with SIGKILL mid-run, then run again: the union of its
// outputs equals one clean run, byte for byte on the manifest fields that matter and the WAVs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { readManifest } from '../../server/src/core/batch/manifest';
import { EmbeddedTeacher } from '../../server/src/core/teacher/embedded';
import { serveTeacher } from '../../server/src/core/teacher/http';
import type { SynthesizeOptions, Teacher, TeacherTask } from '../../server/src/core/teacher/types';
import { essential, exitOf, spawnCli, waitFor, webuiLines, writePromptWav } from './teacherHelpers';

/** The embedded teacher (byte-deterministic tone sketch), slowed down so that a kill lands mid-batch. */
function slowTeacher(ms: number): Teacher {
  const inner = new EmbeddedTeacher({ engine: 'sketch' });
  return {
    kind: 'embedded',
    g2p: (t) => inner.g2p(t),
    health: () => inner.health(),
    async synthesize(task: TeacherTask, opts: SynthesizeOptions) {
      await new Promise((r) => setTimeout(r, ms));
      return inner.synthesize(task, opts);
    },
  };
}

test('runner: SIGKILL mid-run, then resume: nothing lost, nothing duplicated, same bytes as a clean run', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'runner-kill-'));
  const server = await serveTeacher(slowTeacher(15));
  try {
    await writePromptWav(path.join(dir, 'prompt.wav'));
    const N = 60;
    await writeFile(path.join(dir, 'a.tasks.jsonl'), webuiLines(N));
    const submit = (out: string) =>
      spawnCli(['submit', 'a.tasks.jsonl', '--out', out, '--teacher', 'http', '--url', server.url, '--concurrency', '3', '--quiet'], {
        cwd: dir,
      });

    const victim = submit('out');
    const manifest = path.join(dir, 'out', 'manifest.jsonl');
    await waitFor(
      async () => ((await readFile(manifest, 'utf8').catch(() => '')).split('\n').length > 8 ? true : undefined),
      60_000,
      'some outputs before the kill',
    );
    victim.kill('SIGKILL');
    assert.equal((await exitOf(victim)).signal, 'SIGKILL');
    const partial = await readManifest(manifest);
    assert.ok(partial.length >= 8 && partial.length < N, `killed after ${partial.length} lines`);

    const resumed = submit('out');
    assert.equal((await exitOf(resumed)).code, 0, resumed.err.join(''));
    const summary = resumed.out.join('');
    const skipped = Number(/skipped (\d+)/.exec(summary)?.[1]);
    const done = Number(/done (\d+)/.exec(summary)?.[1]);
    assert.equal(skipped, partial.length, `every line recorded before the kill is kept: ${summary}`);
    assert.equal(done, N - partial.length);

    const clean = submit('clean');
    assert.equal((await exitOf(clean)).code, 0, clean.err.join(''));

    const a = await readManifest(manifest);
    const b = await readManifest(path.join(dir, 'clean', 'manifest.jsonl'));
    assert.equal(a.length, N, 'one record per line, no duplicates after compaction');
    assert.deepEqual(essential(a), essential(b));
    const wavs = (await readdir(path.join(dir, 'out'))).filter((f) => f.endsWith('.wav')).sort();
    assert.deepEqual(wavs, (await readdir(path.join(dir, 'clean'))).filter((f) => f.endsWith('.wav')).sort());
    for (const w of wavs) assert.deepEqual(await readFile(path.join(dir, 'out', w)), await readFile(path.join(dir, 'clean', w)), w);
    assert.ok(!(await readdir(path.join(dir, 'out'))).some((f) => f.includes('.tmp-')), 'temp files of the killed run are cleaned up');
  } finally {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  }
});
