// Issue 17, item 3: nothing written into the Slurm batch.sh can start a shell line of its own.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { access, mkdir, readFile, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { batchScript, type BatchScriptOptions, SlurmScriptError } from '../../server/src/core/slurm/script';
import { shellQuote } from '../../server/src/core/slurm/queue';
import { tempDir } from './helpers';

const base: BatchScriptOptions = {
  runDir: '/r',
  workDir: '/w',
  nodeCommand: 'tts-distill',
  submitArgs: ['--teacher', 'embedded'],
  tasksFile: 'a.tasks.jsonl',
  shards: 2,
};
const INJECT = ['\ntouch /tmp/pwned', '\rtouch /tmp/pwned', 'x\u2028y', 'x\u0000y', 'x\u0085y', 'x\u001b[2Jy'];

for (const key of ['partition', 'gres', 'time', 'account', 'workDir', 'runDir', 'tasksFile', 'nodeCommand', 'jobName'] as const) {
  test(`a control character in ${key} is refused with a message naming it`, () => {
    for (const bad of INJECT) {
      assert.throws(
        () => batchScript({ ...base, [key]: `gpu${bad}` }),
        (e: Error) => e instanceof SlurmScriptError && /control character/.test(e.message),
        JSON.stringify(bad),
      );
    }
  });
}

test('a control character in a submit argument is refused', () => {
  assert.throws(() => batchScript({ ...base, submitArgs: ['--dict', 'a\nb.jsonl'] }), SlurmScriptError);
});

test('#SBATCH values with spaces are double-quoted; double quotes and backslashes there are refused', () => {
  const s = batchScript({ ...base, partition: 'gpu long', workDir: '/home/u/my proj' });
  assert.ok(s.split('\n').includes('#SBATCH --partition="gpu long"'));
  assert.ok(s.split('\n').includes('#SBATCH --chdir="/home/u/my proj"'));
  assert.ok(
    batchScript({ ...base, account: 'a$(id)`id`' })
      .split('\n')
      .includes('#SBATCH --account="a$(id)`id`"'),
    'sbatch does not expand $ or backquotes',
  );
  for (const bad of ['a"b', 'a\\b']) assert.throws(() => batchScript({ ...base, account: bad }), SlurmScriptError, bad);
});

test(
  'hostile but legal names (quotes, $(…), backquotes, ;) reach the node command intact under bash, and nothing is executed',
  { timeout: 30_000 },
  async (t) => {
    const dir = await tempDir(t);
    const evil = `run '$(touch ${dir}/pwned1)' \`touch ${dir}/pwned2\`; touch ${dir}/pwned3 x`;
    const runDir = path.join(dir, evil);
    await mkdir(path.join(runDir, 'shard-0'), { recursive: true });
    const fake = path.join(dir, 'fake node.sh');
    await writeFile(fake, `#!/bin/bash\nprintf '%s\\n' "$@" > ${shellQuote(path.join(dir, 'args'))}\n`, { mode: 0o755 });
    const script = batchScript({
      runDir,
      workDir: dir,
      nodeCommand: shellQuote(fake),
      tasksFile: `${dir}/$(touch ${dir}/pwned4).tasks.jsonl`,
      submitArgs: ['--dict', `d'; touch ${dir}/pwned5; '.jsonl`, '--url', '$(touch pwned6)'],
    });
    const file = path.join(dir, 'batch.sh');
    await writeFile(file, script);
    const r = spawnSync('bash', [file], { cwd: dir, env: { ...process.env, SLURM_ARRAY_TASK_ID: '0' }, encoding: 'utf8', timeout: 20_000 });
    assert.equal(r.status, 0, r.stderr);
    const args = (await readFile(path.join(dir, 'args'), 'utf8')).split('\n');
    assert.deepEqual(args.slice(0, 8), [
      'submit',
      `${runDir}/shard-0/tasks.jsonl`,
      '--out',
      `${runDir}/shard-0/out`,
      '--dict',
      `d'; touch ${dir}/pwned5; '.jsonl`,
      '--url',
      '$(touch pwned6)',
    ]);
    for (const n of [1, 2, 3, 4, 5]) await assert.rejects(access(path.join(dir, `pwned${n}`)), `pwned${n} was not created`);
    await assert.rejects(access(path.join(dir, 'pwned6')));
  },
);
