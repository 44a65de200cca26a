import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseTrainerLine, runExternalTrainer, substituteCommand, type TrainerEvent } from '../../server/src/core/student/externalTrainer';

const TRAINER = join(__dirname, '..', 'fixtures', 'trainer', 'trainer.mjs');

function workspace(): { dir: string; manifest: string; out: string } {
  const dir = mkdtempSync(join(tmpdir(), 'ext-trainer-'));
  const manifest = join(dir, 'manifest.jsonl');
  writeFileSync(
    manifest,
    [
      { line: 0, name: 'a', text: '银行', readings: ['yin2', 'hang2'], durationSeconds: 0.8 },
      { line: 1, name: 'b', text: '行走', readings: ['xing2', 'zou3'], durationSeconds: 0.6 },
    ]
      .map((r) => JSON.stringify({ taskHash: 'h', wavSha256: 'w', audio: `${r.name}.wav`, ...r }))
      .join('\n') + '\n',
  );
  return { dir, manifest, out: join(dir, 'out') };
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met before the deadline');
    await new Promise((r) => setTimeout(r, 20));
  }
}

void test('protocol lines parse; anything else is a log line', () => {
  assert.deepEqual(parseTrainerLine('{"event":"progress","step":3,"total":10,"loss":0.5}'), {
    event: 'progress',
    step: 3,
    total: 10,
    loss: 0.5,
  });
  assert.deepEqual(parseTrainerLine('{"event":"done","model":"m.pt"}'), { event: 'done', model: 'm.pt' });
  assert.deepEqual(parseTrainerLine('{"event":"error","message":"oom"}'), { event: 'error', message: 'oom' });
  assert.deepEqual(parseTrainerLine('Epoch 1: 100%|####|'), { event: 'log', message: 'Epoch 1: 100%|####|', stream: 'stdout' });
  assert.deepEqual(parseTrainerLine('{"event":"progress"}'), { event: 'log', message: '{"event":"progress"}', stream: 'stdout' });
  assert.deepEqual(substituteCommand(['t', '--data=${manifest}', '${out}/x'], { manifest: '/m.jsonl', out: '/o' }), [
    't',
    '--data=/m.jsonl',
    '/o/x',
  ]);
});

void test('a trainer that finishes: progress with losses, logs, and the model it reports', async () => {
  const { dir, manifest, out } = workspace();
  try {
    const events: TrainerEvent[] = [];
    const r = await runExternalTrainer({
      command: [process.execPath, TRAINER, '${manifest}', '${out}', '--steps', '5', '--delay-ms', '1'],
      manifest,
      out,
      onEvent: (e) => events.push(e),
    });
    assert.equal(r.status, 'done', r.error);
    assert.equal(r.exitCode, 0);
    assert.equal(r.model, join(out, 'model.json'));
    assert.ok(existsSync(r.model!));
    assert.deepEqual(
      r.losses.map((l) => l.step),
      [1, 2, 3, 4, 5],
    );
    assert.ok(r.losses[4]!.loss < r.losses[0]!.loss, 'the loss falls');
    assert.ok(
      events.some((e) => e.event === 'log' && e.message === 'plain text: 2 utterances'),
      'non-JSON lines go to the log',
    );
    assert.ok(events.some((e) => e.event === 'log' && e.message === 'training on 2 utterances'));
    assert.equal(JSON.parse(readFileSync(r.model!, 'utf8')).hang2 > 0, true);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('a trainer that fails: its own error message and the exit code', async () => {
  const { dir, manifest, out } = workspace();
  try {
    const r = await runExternalTrainer({
      command: [process.execPath, TRAINER, '${manifest}', '${out}', '--steps', '5', '--delay-ms', '1', '--fail-at', '2'],
      manifest,
      out,
    });
    assert.equal(r.status, 'failed');
    assert.equal(r.exitCode, 3);
    assert.equal(r.error, 'diverged at step 2');
    const missing = await runExternalTrainer({ command: [join(dir, 'no-such-trainer')], manifest, out });
    assert.equal(missing.status, 'failed');
    assert.match(missing.error!, /cannot run .*no-such-trainer: .*ENOENT/);
    const silent = await runExternalTrainer({ command: [process.execPath, '-e', 'console.log("hi")'], manifest, out });
    assert.equal(silent.status, 'failed');
    assert.match(silent.error!, /without reporting \{"event":"done"\}/);
    const liar = await runExternalTrainer({
      command: [process.execPath, '-e', 'console.log(JSON.stringify({ event: "done", model: "nothing.pt" }))'],
      manifest,
      out,
    });
    assert.equal(liar.status, 'failed');
    assert.match(liar.error!, /reported the model .*nothing\.pt, which does not exist/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('cancel ends the whole process group, helpers included', async () => {
  const { dir, manifest, out } = workspace();
  try {
    const pidFile = join(dir, 'helper.pid');
    const controller = new AbortController();
    let steps = 0;
    const r = await runExternalTrainer({
      command: [process.execPath, TRAINER, '${manifest}', '${out}', '--steps', '100000', '--delay-ms', '5', '--child-pid-file', pidFile],
      manifest,
      out,
      signal: controller.signal,
      killGraceMs: 500,
      onEvent: (e) => {
        if (e.event === 'progress' && ++steps === 3) controller.abort();
      },
    });
    assert.equal(r.status, 'cancelled');
    assert.ok(steps >= 3);
    const helper = Number(readFileSync(pidFile, 'utf8'));
    await until(() => !alive(helper));
    assert.equal(existsSync(join(out, 'model.json')), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
