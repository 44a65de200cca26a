// Integration: `tts-distill teacher serve` as a real process, spoken to over real HTTP on loopback.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeWav, encodeWav } from '../../server/src/core/audio/wav';
import { readFailures, readManifest, sha256 } from '../../server/src/core/batch/manifest';
import { runBatch } from '../../server/src/core/batch/runner';
import { HttpTeacher } from '../../server/src/core/teacher/http';
import { exitOf, spawnCli, waitFor, webuiLines, writePromptWav } from './teacherHelpers';

const TOKEN = 'test-token-123';
let dir: string;
let url: string;
let server: ReturnType<typeof spawnCli>;

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'teacher-http-'));
  await writeFile(path.join(dir, 'G2P_replace_dict.jsonl'), '{"银行": "银<|X|><|ING2|>"}\n');
  server = spawnCli(['teacher', 'serve', '--port', '0', '--require-token'], { cwd: dir, env: { TTS_DISTILL_TEACHER_TOKEN: TOKEN } });
  url = await waitFor(
    () => /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(server.out.join(''))?.[1],
    30_000,
    `the server to listen (stderr: ${server.err.join('')})`,
  );
});

after(async () => {
  server.kill('SIGTERM');
  const exit = await exitOf(server);
  assert.equal(exit.code, 0, 'serve ends cleanly on SIGTERM');
  await rm(dir, { recursive: true, force: true });
});

test('http teacher: a batch over loopback HTTP, with the dictionary applied by the server and no cloning claimed', async () => {
  await writePromptWav(path.join(dir, 'prompt.wav'));
  await writeFile(path.join(dir, 'a.tasks.jsonl'), webuiLines(6));
  const out = path.join(dir, 'out');
  const teacher = new HttpTeacher({ url, token: TOKEN });
  assert.equal((await teacher.health()).ok, true);
  const s = await runBatch({
    tasksFile: path.join(dir, 'a.tasks.jsonl'),
    outDir: out,
    teacher,
    concurrency: 3,
    sampleRate: 32000,
    backoffMs: 1,
  });
  assert.deepEqual([s.done, s.failed], [6, 0]);
  const m = await readManifest(path.join(out, 'manifest.jsonl'));
  assert.equal(m[0]!.backend, 'http');
  assert.equal(m[0]!.clonedVoice, false, 'the embedded server says it did not clone');
  assert.match(m[0]!.note ?? '', /cannot clone voices/);
  assert.match(m[0]!.phonemes, /^银<\|X\|><\|ING2\|>/, 'the server applied its dictionary');
  assert.equal(m[0]!.readings[1], 'xing2');
  for (const r of m) {
    const wav = await readFile(path.join(out, r.audio));
    assert.equal(sha256(wav), r.wavSha256);
    assert.equal(decodeWav(wav).sampleRate, 32000);
  }
});

test("http teacher: a wrong token is a permanent failure with the server's words; bad requests get 400", async () => {
  await writeFile(path.join(dir, 'b.tasks.jsonl'), webuiLines(2));
  const out = path.join(dir, 'out-b');
  const s = await runBatch({
    tasksFile: path.join(dir, 'b.tasks.jsonl'),
    outDir: out,
    teacher: new HttpTeacher({ url, token: 'wrong' }),
    backoffMs: 1,
  });
  assert.equal(s.failed, 2);
  const f = await readFailures(path.join(out, 'failures.jsonl'));
  assert.match(f[0]!.reason, /HTTP 401 .*bearer token/);
  assert.equal(f[0]!.attempts, 1, '4xx is not retried');
  const post = (body: unknown) =>
    fetch(`${url}/v1/audio/speech`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  assert.equal((await post({ model: 'm', input: '你好', response_format: 'mp3' })).status, 400);
  assert.equal((await post({ model: 'm', input: '' })).status, 400);
  assert.equal((await post({ model: 'm', input: '你好', sample_rate: 16000 })).status, 400);
  assert.equal((await post({ model: 'm', input: '你好', prompt_audio: Buffer.from('not a wav').toString('base64') })).status, 400);
  const ok = await post({ model: 'm', input: '你好', response_format: 'wav', seed: 42, sample_rate: 24000, prompt_text: '提示' });
  assert.equal(ok.status, 200);
  assert.equal(ok.headers.get('content-type'), 'audio/wav');
  assert.equal(decodeURIComponent(ok.headers.get('x-tts-phonemes')!), '你<|H|><|AO3|>', '好 is a polyphone: its reading is spelled out');
});

test('http teacher: an unreachable server is a transient failure, retried, then recorded', async () => {
  await writeFile(path.join(dir, 'c.tasks.jsonl'), webuiLines(1));
  const out = path.join(dir, 'out-c');
  const closed = createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  const port = (closed.address() as AddressInfo).port;
  await new Promise((r) => closed.close(r));
  const s = await runBatch({
    tasksFile: path.join(dir, 'c.tasks.jsonl'),
    outDir: out,
    teacher: new HttpTeacher({ url: `http://127.0.0.1:${port}` }),
    retries: 2,
    backoffMs: 1,
  });
  assert.equal(s.failed, 1);
  const [f] = await readFailures(path.join(out, 'failures.jsonl'));
  assert.match(f!.reason, /cannot reach the HTTP teacher.*ECONNREFUSED/);
  assert.deepEqual([f!.attempts, f!.transient], [3, true]);
});

test('http teacher: a community-style server (no X-TTS headers, its own WAV format) gets the documented request; outputs are converted and say so', async () => {
  const seen: Array<{ auth?: string; body: Record<string, unknown> }> = [];
  const community = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({ auth: req.headers.authorization, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown> });
      const wav16k = Buffer.from(
        encodeWav(
          new Float32Array(16000).map((_, i) => 0.2 * Math.sin(i / 7)),
          16000,
        ),
      );
      res.writeHead(200, { 'content-type': 'audio/wav' });
      res.end(wav16k);
    });
  });
  await new Promise<void>((r) => community.listen(0, '127.0.0.1', r));
  try {
    await writePromptWav(path.join(dir, 'prompt.wav'));
    await writeFile(path.join(dir, 'd.tasks.jsonl'), webuiLines(1));
    const out = path.join(dir, 'out-d');
    const teacher = new HttpTeacher({
      url: `http://127.0.0.1:${(community.address() as AddressInfo).port}/`,
      model: 'glm-tts',
      token: 'sekret',
    });
    const s = await runBatch({ tasksFile: path.join(dir, 'd.tasks.jsonl'), outDir: out, teacher, seed: 7, sampleRate: 24000 });
    assert.equal(s.done, 1);
    const { auth, body } = seen[0]!;
    assert.equal(auth, 'Bearer sekret');
    assert.deepEqual(Object.keys(body).sort(), [
      'input',
      'model',
      'prompt_audio',
      'prompt_text',
      'response_format',
      'sample_rate',
      'seed',
      'voice',
    ]);
    assert.deepEqual(
      [body.model, body.voice, body.response_format, body.seed, body.sample_rate, body.prompt_text],
      ['glm-tts', 'clone', 'wav', 7, 24000, '今天天气很好。'],
    );
    assert.deepEqual(Buffer.from(body.prompt_audio as string, 'base64'), await readFile(path.join(dir, 'prompt.wav')));
    const [r] = await readManifest(path.join(out, 'manifest.jsonl'));
    assert.equal(r!.sampleRate, 24000);
    assert.equal(decodeWav(await readFile(path.join(out, r!.audio))).sampleRate, 24000);
    assert.equal(r!.clonedVoice, true);
    assert.match(r!.note!, /local G2P estimate/);
    assert.match(r!.note!, /did not say whether it cloned/);
    assert.match(r!.note!, /converted from 16000 Hz/);
  } finally {
    await new Promise((r) => community.close(r));
  }
});
