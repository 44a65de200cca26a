// The editor's path to Slurm: the language server's slurm requests against a REAL single-node
// Slurm (test/slurm/run.sh), over a real JSON-RPC connection to the built server.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { WaveFile } from 'wavefile';
import { fileUri, LspTestClient } from '../lsp/lspClient';
import { execFileSync } from 'node:child_process';
import {
  SlurmCancelRequest,
  SlurmRunsRequest,
  type SlurmRunRef,
  type SlurmRunStatus,
  SlurmStatusNotification,
  SlurmSubmitRequest,
  SlurmTrackRequest,
} from '../../protocol/lsp/slurm';

let ws = '';
/** The build under test: run.sh's copy of it (the shards then run its CLI), else this checkout's. */
const PKG = process.env.TTS_DISTILL_TEST_PKG ?? path.resolve(__dirname, '..', '..');
let client: LspTestClient;
const settings = { batch: { outputDir: 'teacher-out' }, slurm: { shards: 3, maxParallel: 3, pollSeconds: 0.5, sharedDir: 'slurm-runs' } };

async function tasks(name: string, n: number): Promise<string> {
  const file = path.join(ws, name);
  await writeFile(
    file,
    Array.from({ length: n }, (_, i) =>
      JSON.stringify({
        prompt_audio: 'p.wav',
        prompt_text: '你好，欢迎使用。',
        input_text: `银行行长第${i}次来重庆。`,
        output_name: `${path.basename(name, '.tasks.jsonl')}-${i}`,
      }),
    ).join('\n') + '\n',
  );
  return file;
}

before(async () => {
  assert.ok(process.env.SLURM_CONF, 'run through test/slurm/run.sh (it starts Slurm and sets SLURM_CONF)');
  ws = await mkdtemp(path.join(tmpdir(), 'tts-slurm-lsp-'));
  await mkdir(ws, { recursive: true });
  const wav = new WaveFile();
  wav.fromScratch(
    1,
    16000,
    '16',
    Array.from({ length: 16000 * 4 }, (_, i) => Math.round(6000 * Math.sin(i / 10))),
  );
  await writeFile(path.join(ws, 'p.wav'), Buffer.from(wav.toBuffer()));
  client = await LspTestClient.start({
    rootDir: ws,
    settings,
    command: [process.execPath, path.join(PKG, 'dist', 'server.js'), '--stdio'],
  });
});

after(async () => {
  await client?.stop();
  if (ws) await rm(ws, { recursive: true, force: true });
});

const statusOf = (runId: string, pred: (s: SlurmRunStatus) => boolean, timeoutMs = 120_000) =>
  client.waitForNotification<SlurmRunStatus>(SlurmStatusNotification.method, (s) => s.runId === runId && pred(s), timeoutMs);

test('submit from the editor: shards follow in status notifications, then the merged output', async () => {
  const file = await tasks('a.tasks.jsonl', 30);
  const ref = await client.request<SlurmRunRef>(SlurmSubmitRequest.method, { uri: fileUri(file) });
  assert.equal(ref.outDir, path.join(ws, 'teacher-out'));
  assert.ok(ref.runId.startsWith(path.join(ws, 'slurm-runs') + path.sep), ref.runId);
  const running = await statusOf(ref.runId, (s) => s.state === 'running' && !!s.progress?.shards.some((x) => x.state === 'RUNNING'));
  assert.ok(
    running.progress!.shards.every((x) => /^\d+_\d$/.test(x.jobId ?? '')),
    'every shard has its array task id',
  );
  const end = await statusOf(ref.runId, (s) => s.state === 'finished');
  assert.equal(end.exitCode, 0, end.message);
  assert.equal(end.progress!.done, 30);
  assert.deepEqual(
    end.progress!.shards.map((x) => [x.shard, x.state, x.node, x.total]),
    [
      [0, 'COMPLETED', 'localhost', 10],
      [1, 'COMPLETED', 'localhost', 10],
      [2, 'COMPLETED', 'localhost', 10],
    ],
  );
  const manifest = (await readFile(path.join(ws, 'teacher-out', 'manifest.jsonl'), 'utf8'))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { line: number });
  assert.deepEqual(
    manifest.map((r) => r.line),
    Array.from({ length: 30 }, (_, i) => i),
  );
  const runs = await client.request<SlurmRunStatus[]>(SlurmRunsRequest.method, undefined);
  assert.equal(runs.find((r) => r.runId === ref.runId)?.state, 'finished');
});

test('cancel from the editor: scancel, then a final "cancelled" status with what was merged', async () => {
  await client.setSettings({ ...settings, batch: { outputDir: 'cancel-out' }, slurm: { ...settings.slurm, shards: 4, maxParallel: 1 } });
  const file = await tasks('b.tasks.jsonl', 120);
  const ref = await client.request<SlurmRunRef>(SlurmSubmitRequest.method, { uri: fileUri(file) });
  await statusOf(ref.runId, (s) => (s.progress?.done ?? 0) >= 5);
  await client.request(SlurmCancelRequest.method, { runId: ref.runId });
  const end = await statusOf(ref.runId, (s) => s.state === 'cancelled', 10_000);
  assert.equal(end.exitCode, 130);
  assert.ok(end.progress!.done >= 5 && end.progress!.done < 120, `${end.progress!.done} done`);
  assert.ok(
    end.progress!.shards.every((x) => ['CANCELLED', 'COMPLETED', 'DONE'].includes(x.state)),
    JSON.stringify(end.progress!.shards.map((x) => x.state)),
  );
  const merged = (await readFile(path.join(ws, 'cancel-out', 'manifest.jsonl'), 'utf8')).trim().split('\n');
  assert.equal(merged.length, end.progress!.done);
});

test("a refused submission answers with Slurm's own words", async () => {
  await client.setSettings({
    ...settings,
    batch: { outputDir: 'refused-out' },
    slurm: { ...settings.slurm, partition: 'no-such-partition' },
  });
  const file = await tasks('c.tasks.jsonl', 3);
  await assert.rejects(
    client.request(SlurmSubmitRequest.method, { uri: fileUri(file) }),
    /Slurm refused the job: .*Invalid partition name specified/,
  );
});

test('after a reload the editor follows again a run whose jobs are still queued (here: one the CLI submitted with --no-wait)', async () => {
  await client.setSettings(settings);
  const file = await tasks('d.tasks.jsonl', 24);
  const out = path.join(ws, 'cli-out');
  const submitted = execFileSync(
    process.execPath,
    [
      path.join(PKG, 'bin', 'tts-distill.js'),
      'submit',
      file,
      '--out',
      out,
      '--slurm',
      '--shards',
      '3',
      '--shared-dir',
      path.join(ws, 'slurm-runs'),
      '--no-wait',
      '--teacher',
      'embedded',
      '--quiet',
    ],
    { cwd: ws, encoding: 'utf8' },
  );
  assert.match(submitted, /submitted: job \d+/);
  const refs = await client.request<SlurmRunRef[]>(SlurmTrackRequest.method, undefined);
  const ref = refs.find((r) => r.outDir === out);
  assert.ok(ref, JSON.stringify(refs));
  assert.equal(ref.uri, fileUri(file));
  const end = await statusOf(ref.runId, (s) => s.state === 'finished');
  assert.equal(end.exitCode, 0, end.message);
  assert.equal(end.progress!.jobIds.length, 1, 'nothing submitted a second time');
  const manifest = (await readFile(path.join(out, 'manifest.jsonl'), 'utf8')).trim().split('\n');
  assert.equal(manifest.length, 24);
  assert.deepEqual(await client.request<SlurmRunRef[]>(SlurmTrackRequest.method, undefined), [], 'nothing left to follow');
});
