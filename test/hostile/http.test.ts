// Issue 17, item 4: a hostile HTTP teacher cannot make the client hold unbounded bodies, keep trailing bytes, follow redirects elsewhere or crash on a header.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { writeFile } from 'node:fs/promises';
import { encodeWav } from '../../server/src/core/audio/wav';
import { readFailures } from '../../server/src/core/batch/manifest';
import { runBatch } from '../../server/src/core/batch/runner';
import { HttpTeacher, retryAfterMs } from '../../server/src/core/teacher/http';
import { TeacherError } from '../../server/src/core/teacher/types';
import { tempDir } from './helpers';

type Handler = (req: IncomingMessage, res: ServerResponse, body: Buffer) => void;

async function serve(t: { after(fn: () => Promise<void>): void }, handler: Handler) {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => handler(req, res, Buffer.concat(chunks)));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(
    () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  );
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const WAV = encodeWav(new Float32Array(2400).fill(0.1), 24000);
const task = { line: 0, name: 'a', text: '你好' };
const opts = { seed: 1, sampleRate: 24000 };

/** Streams `total` bytes (a WAV header claiming them first) without ever holding them; counts what went out. */
function streamHuge(res: ServerResponse, total: number, status = 200, counter = { sent: 0 }) {
  res.writeHead(status, { 'content-type': status === 200 ? 'audio/wav' : 'text/plain' });
  const chunk = Buffer.alloc(1 << 20, 1);
  if (status === 200) {
    const head = Buffer.from(WAV.subarray(0, 44));
    head.writeUInt32LE(total - 8, 4);
    head.writeUInt32LE(total - 44, 40);
    res.write(head);
    counter.sent += 44;
  }
  const pump = () => {
    while (counter.sent < total) {
      counter.sent += chunk.length;
      if (!res.write(chunk)) return void res.once('drain', pump);
    }
    res.end();
  };
  res.on('close', () => {
    counter.sent = Math.max(counter.sent, 0);
  });
  pump();
  return counter;
}

test('a 1 GiB answer is cut off at the cap while it streams and is not kept', { timeout: 30_000 }, async (t) => {
  const counter = { sent: 0 };
  const url = await serve(t, (_req, res) => streamHuge(res, 1 << 30, 200, counter));
  const teacher = new HttpTeacher({ url, maxResponseBytes: 4 << 20 });
  const before = process.memoryUsage().arrayBuffers;
  await assert.rejects(
    teacher.synthesize(task, opts),
    (e: Error) => e instanceof TeacherError && /passed the limit of 4 MB/.test(e.message) && !e.transient,
  );
  assert.ok(counter.sent < 256 << 20, `the server could send only a bounded amount before the client hung up (${counter.sent} bytes)`);
  assert.ok(process.memoryUsage().arrayBuffers - before < 64 << 20, 'no large buffer held');
});

test('a declared Content-Length over the cap fails before reading the body', { timeout: 30_000 }, async (t) => {
  const url = await serve(t, (_req, res) => {
    res.writeHead(200, { 'content-type': 'audio/wav', 'content-length': String(2 ** 31) });
    res.write(WAV);
  });
  await assert.rejects(new HttpTeacher({ url, maxResponseBytes: 1 << 20 }).synthesize(task, opts), /more than the limit/);
});

test('a 512 MiB error body is not read whole: the error arrives with what fits', { timeout: 30_000 }, async (t) => {
  const counter = { sent: 0 };
  const url = await serve(t, (_req, res) => streamHuge(res, 512 << 20, 503, counter));
  await assert.rejects(
    new HttpTeacher({ url }).synthesize(task, opts),
    (e: Error) => e instanceof TeacherError && /^HTTP 503/.test(e.message) && e.transient,
  );
  assert.ok(counter.sent < 128 << 20, `bounded (${counter.sent} bytes sent)`);
});

test('bytes after the data chunk are refused', { timeout: 30_000 }, async (t) => {
  const url = await serve(t, (_req, res) => {
    const b = Buffer.concat([WAV, Buffer.from('#!/bin/sh\nrm -rf ~\n')]);
    res.writeHead(200, { 'content-type': 'audio/wav', 'content-length': b.length });
    res.end(b);
  });
  await assert.rejects(new HttpTeacher({ url }).synthesize(task, opts), /byte\(s\) after its data chunk/);
});

test('a redirect to another origin is not followed: the prompt audio is never re-posted there', { timeout: 30_000 }, async (t) => {
  const dir = await tempDir(t);
  const prompt = path.join(dir, 'p.wav');
  await writeFile(prompt, encodeWav(new Float32Array(16000 * 4).fill(0.05), 16000));
  let elsewhere = 0;
  const other = await serve(t, (_req, res) => {
    elsewhere++;
    res.writeHead(200, { 'content-type': 'audio/wav' });
    res.end(WAV);
  });
  for (const status of [301, 302, 307, 308]) {
    const url = await serve(t, (_req, res) => {
      res.writeHead(status, { location: `${other}/steal` });
      res.end();
    });
    await assert.rejects(
      new HttpTeacher({ url, token: 'secret' }).synthesize({ ...task, promptAudio: prompt }, opts),
      (e: Error) => e instanceof TeacherError && /redirects are not followed/.test(e.message) && !e.transient,
    );
  }
  assert.equal(elsewhere, 0);
});

test('Retry-After of a 429 is honoured by the runner before the next attempt', { timeout: 30_000 }, async (t) => {
  const dir = await tempDir(t);
  const at: number[] = [];
  const url = await serve(t, (_req, res) => {
    at.push(Date.now());
    if (at.length === 1) {
      res.writeHead(429, { 'retry-after': '1', 'content-type': 'application/json' });
      res.end('{"error":"slow down"}');
      return;
    }
    res.writeHead(200, { 'content-type': 'audio/wav', 'content-length': WAV.length });
    res.end(WAV);
  });
  const s = await runBatch({
    tasks: [{ ...task, promptAudio: '' }],
    outDir: path.join(dir, 'out'),
    teacher: new HttpTeacher({ url }),
    backoffMs: 1,
    retries: 2,
  });
  assert.equal(s.done, 1);
  assert.equal(at.length, 2);
  assert.ok(at[1]! - at[0]! >= 950, `waited ${at[1]! - at[0]!} ms, the server asked for 1 s`);
  assert.equal(retryAfterMs('120'), 120_000);
  assert.equal(retryAfterMs('999999'), 600_000, 'capped at 10 minutes');
  assert.equal(retryAfterMs(new Date(Date.now() + 5000).toUTCString()) !== undefined, true);
  assert.equal(retryAfterMs('soon'), undefined);
});

test('a malformed X-TTS-Readings does not crash the line: the local estimate is used and said so', { timeout: 30_000 }, async (t) => {
  const dir = await tempDir(t);
  const bad = ['{"a":1}', '[1,2]', '["ni3"]', 'not json', '["ni3","<script>"]', JSON.stringify(['x'.repeat(1e4), 'hao3'])];
  let i = 0;
  const url = await serve(t, (_req, res) => {
    res.writeHead(200, {
      'content-type': 'audio/wav',
      'content-length': WAV.length,
      'x-tts-phonemes': 'x',
      'x-tts-readings': encodeURIComponent(bad[i++ % bad.length]!),
    });
    res.end(WAV);
  });
  const teacher = new HttpTeacher({ url });
  for (let k = 0; k < bad.length; k++) {
    const r = await teacher.synthesize(task, opts);
    assert.deepEqual(r.readings, ['ni3', 'hao3'], bad[k]);
    assert.match(r.note ?? '', /X-TTS-Readings is not a list/);
  }
  const s = await runBatch({ tasks: [{ ...task, promptAudio: '' }], outDir: path.join(dir, 'out'), teacher });
  assert.equal(s.done, 1);
  assert.deepEqual(await readFailures(path.join(dir, 'out', 'failures.jsonl')), []);
});
