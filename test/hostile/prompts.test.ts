// Issue 17, item 2: prompt files are never read blindly (devices, FIFOs, non-WAV files, huge files).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { lstat, readFile, symlink, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { encodeWav } from '../../server/src/core/audio/wav';
import { readFailures, readManifest } from '../../server/src/core/batch/manifest';
import { runBatch } from '../../server/src/core/batch/runner';
import { HttpTeacher } from '../../server/src/core/teacher/http';
import { mkfifo, runCliBounded, tempDir } from './helpers';

const line = (name: string, prompt: string) =>
  JSON.stringify({ prompt_audio: prompt, prompt_text: '提示', input_text: '你好。', output_name: name });

/** A loopback speech server that records every prompt it receives and answers with a short WAV. */
async function recordingServer(t: { after(fn: () => Promise<void>): void }) {
  const prompts: string[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { prompt_audio?: string };
      prompts.push(
        Buffer.from(body.prompt_audio ?? '', 'base64')
          .subarray(0, 4)
          .toString('latin1'),
      );
      const wav = encodeWav(new Float32Array(2400).fill(0.1), 24000);
      res.writeHead(200, { 'content-type': 'audio/wav', 'content-length': wav.length });
      res.end(wav);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(
    () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  );
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, prompts };
}

test(
  'CLI submit to the HTTP teacher: /dev/zero, a FIFO, a text file and a directory as prompt_audio fail their lines at once; nothing of them is sent',
  { timeout: 60_000 },
  async (t) => {
    const dir = await tempDir(t);
    await writeFile(path.join(dir, 'good.wav'), encodeWav(new Float32Array(16000 * 4).fill(0.05), 16000));
    await writeFile(path.join(dir, 'secret.txt'), 'root:x:0:0:root:/root:/bin/bash\n');
    await symlink('/dev/zero', path.join(dir, 'zero.wav'));
    const fifo = mkfifo(path.join(dir, 'pipe.wav'));
    const tasks = [
      line('ok', 'good.wav'),
      line('zero', 'zero.wav'),
      line('devzero', '/dev/zero'),
      line('secret', 'secret.txt'),
      line('folder', '.'),
    ];
    if (fifo) tasks.push(line('fifo', 'pipe.wav'));
    await writeFile(path.join(dir, 'b.tasks.jsonl'), tasks.join('\n') + '\n');
    const srv = await recordingServer(t);
    const r = await runCliBounded(
      ['submit', 'b.tasks.jsonl', '--out', 'out', '--teacher', 'http', '--url', srv.url, '--timeout', '5', '--retries', '0', '--quiet'],
      { cwd: dir, timeoutMs: 45_000, maxOldSpaceMb: 192 },
    );
    assert.equal(r.timedOut, false, 'the batch does not hang on a FIFO');
    assert.equal(r.code, 2, r.err);
    assert.deepEqual(srv.prompts, ['RIFF'], 'only the real WAV went to the server');
    assert.deepEqual(
      (await readManifest(path.join(dir, 'out', 'manifest.jsonl'))).map((m) => m.name),
      ['ok'],
    );
    const f = await readFailures(path.join(dir, 'out', 'failures.jsonl'));
    const reasons = new Map(f.map((x) => [x.name, x.reason]));
    assert.deepEqual(
      [...reasons.keys()].sort(),
      fifo ? ['devzero', 'fifo', 'folder', 'secret', 'zero'] : ['devzero', 'folder', 'secret', 'zero'],
    );
    assert.match(reasons.get('zero')!, /device/);
    assert.match(reasons.get('devzero')!, /device/);
    assert.match(reasons.get('secret')!, /RIFF\/WAVE/);
    if (fifo) assert.match(reasons.get('fifo')!, /FIFO/);
    assert.ok(
      f.every((x) => !x.transient),
      'not retried',
    );
    await assert.rejects(lstat(path.join(dir, 'out', '.tts-distill.lock')), 'the lock is released');
  },
);

test('the HTTP teacher refuses a prompt over the size cap without reading it', { timeout: 30_000 }, async (t) => {
  const dir = await tempDir(t);
  const big = path.join(dir, 'big.wav');
  await writeFile(big, encodeWav(new Float32Array(16000 * 4).fill(0.05), 16000));
  const srv = await recordingServer(t);
  const teacher = new HttpTeacher({ url: srv.url, maxPromptBytes: 10_000 });
  await assert.rejects(
    teacher.synthesize({ line: 0, name: 'a', text: '你好', promptAudio: big }, { seed: 1, sampleRate: 24000 }),
    /more than the limit/,
  );
  const s = await runBatch({
    tasks: [{ line: 0, name: 'a', text: '你好', promptAudio: big }],
    outDir: path.join(dir, 'out'),
    teacher,
    maxPromptBytes: 10_000,
    retries: 0,
  });
  assert.deepEqual([s.done, s.failed], [0, 1]);
  assert.match((await readFailures(path.join(dir, 'out', 'failures.jsonl')))[0]!.reason, /larger than the limit/);
  assert.deepEqual(srv.prompts, []);
});

test(
  'validate on a FIFO or device prompt finishes at once with an error on the line (never opens it for good)',
  { timeout: 60_000 },
  async (t) => {
    const dir = await tempDir(t);
    if (!mkfifo(path.join(dir, 'pipe.wav'))) return t.skip('no mkfifo here');
    await writeFile(path.join(dir, 'b.tasks.jsonl'), [line('a', 'pipe.wav'), line('b', '/dev/zero')].join('\n') + '\n');
    const r = await runCliBounded(['validate', 'b.tasks.jsonl'], { cwd: dir, timeoutMs: 30_000 });
    assert.equal(r.timedOut, false, 'validate does not hang on a FIFO');
    assert.equal(r.code, 1, r.err);
    assert.match(r.out, /b\.tasks\.jsonl:1:\d+: error: .*FIFO/);
    assert.match(r.out, /b\.tasks\.jsonl:2:\d+: error: .*device/);
    assert.equal((await readFile(path.join(dir, 'b.tasks.jsonl'), 'utf8')).split('\n').length, 3);
  },
);
