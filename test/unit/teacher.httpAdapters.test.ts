// The HTTP teacher adapters for the community GLM-TTS servers, against stand-ins over loopback
// with exactly those servers' request and answer shapes (test/unit/httpStandIns.ts).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { decodeWav } from '../../server/src/core/audio/wav';
import { readFailures, readManifest, sha256 } from '../../server/src/core/batch/manifest';
import { runBatch } from '../../server/src/core/batch/runner';
import { UnsafeFileError } from '../../server/src/core/util/safeFs';
import { withDefaults } from '../../server/src/core/settings';
import { shardSubmitArgs } from '../../server/src/features/slurm';
import { createTeacher, FastapiGatewayTeacher, GlmTtsServerTeacher, HttpTeacher } from '../../server/src/core/teacher';
import { VOICES_FILE, voiceIdFor } from '../../server/src/core/teacher/http/glmTtsServer';
import { FastapiGatewayStandIn, GlmTtsServerStandIn, parseMultipart } from './httpStandIns';
import { runCli } from './runCli';
import { writePromptWav } from './teacherHelpers';

let dir: string;
before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'teacher-http-adapters-'));
  await writePromptWav(path.join(dir, 'alice.wav'), 4);
  await writePromptWav(path.join(dir, 'bob.wav'), 5);
});
after(() => rm(dir, { recursive: true, force: true }));

interface Line {
  name: string;
  text: string;
  prompt?: string;
  promptText?: string;
}

/** Six lines on two prompts: alice ×4, bob ×2. */
function lines(marks: Record<number, string> = {}): Line[] {
  const texts = ['银行行长来了。', '长江很长。', '我们还要重新开始。', '他会还钱的。', '这个音乐很好听。', '行不行？'];
  return texts.map((t, i) => ({
    name: `utt${i}`,
    text: `${marks[i] ?? ''}${t}`,
    prompt: i < 4 ? 'alice.wav' : 'bob.wav',
    promptText: i < 4 ? '今天天气很好。' : '明天见。',
  }));
}

async function tasksFile(name: string, ls: Line[]): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(
    file,
    ls
      .map((l) =>
        JSON.stringify({
          prompt_audio: l.prompt ?? '',
          ...(l.promptText !== undefined ? { prompt_text: l.promptText } : {}),
          input_text: l.text,
          output_name: l.name,
        }),
      )
      .join('\n') + '\n',
  );
  return file;
}

const ok = { backoffMs: 1, retries: 1 } as const;

describe('glm-tts-server (JerryAZR/GLM-TTS-Server)', () => {
  let server: GlmTtsServerStandIn;
  before(async () => {
    server = await new GlmTtsServerStandIn().start();
    server.keys.set('admin-jwt', 'admin').set('user-jwt', 'user');
  });
  after(() => server.close());

  test('each prompt is uploaded once as a voice (multipart: name, prompt_text, prompt_audio, voice_id), then named by id in POST /v1/audio/speech', async () => {
    const out = path.join(dir, 'jerry-a');
    const teacher = new GlmTtsServerTeacher({ url: server.url + '/', token: 'admin-jwt' });
    const s = await runBatch({
      tasksFile: await tasksFile('jerry-a.tasks.jsonl', lines()),
      outDir: out,
      teacher,
      concurrency: 4,
      seed: 42,
      ...ok,
    });
    assert.deepEqual([s.done, s.failed], [6, 0]);
    assert.equal(server.uploads.length, 2, 'two prompts, two uploads, for six lines');
    assert.equal(teacher.uploads, 2);
    const alice = await readFile(path.join(dir, 'alice.wav'));
    const up = server.uploads[0]!;
    assert.equal(up.auth, 'Bearer admin-jwt');
    assert.deepEqual(up.parts.map((p) => p.name).sort(), ['name', 'prompt_audio', 'prompt_text', 'voice_id']);
    const part = (n: string) => up.parts.find((p) => p.name === n)!;
    assert.equal(part('prompt_text').data.toString('utf8'), '今天天气很好。');
    assert.equal(part('prompt_audio').filename, 'alice.wav');
    assert.equal(part('prompt_audio').contentType, 'audio/wav');
    assert.deepEqual(part('prompt_audio').data, alice, 'the prompt WAV, byte for byte');
    const aliceId = voiceIdFor(sha256(alice), '今天天气很好。');
    assert.equal(part('voice_id').data.toString('utf8'), aliceId);
    assert.match(aliceId, /^ttsd_[0-9a-f]{24}$/);
    assert.equal(server.voices.get(aliceId)?.prompt_text, '今天天气很好。');

    assert.equal(server.speeches.length, 6);
    for (const sp of server.speeches) {
      assert.deepEqual(
        Object.keys(sp.body).sort(),
        ['input', 'model', 'response_format', 'voice'],
        'SpeechRequest fields only: no seed, no inline prompt',
      );
      assert.equal(sp.auth, 'Bearer admin-jwt');
      assert.deepEqual([sp.body.model, sp.body.response_format], ['glm-tts', 'wav']);
    }
    assert.deepEqual(
      server.speeches.map((sp) => sp.body.voice),
      [aliceId, aliceId, aliceId, aliceId, server.speeches[4]!.body.voice, server.speeches[4]!.body.voice],
    );
    assert.notEqual(server.speeches[4]!.body.voice, aliceId);
    assert.equal(
      server.maxInFlight,
      1,
      'one request at a time although --concurrency 4 was asked: the server runs one generation at a time',
    );

    const m = await readManifest(path.join(out, 'manifest.jsonl'));
    assert.equal(m.length, 6);
    for (const r of m) {
      assert.equal(r.backend, 'http');
      assert.equal(r.seed, 0, 'the server seeds with 0 whatever is asked');
      assert.equal(r.readingsFrom, 'local-g2p');
      assert.equal(r.clonedVoice, true);
      assert.equal(r.dictionarySha256, null);
      assert.match(r.note!, /reports no readings: readings and phonemes are tts-distill's port of GLM-TTS's G2P/);
      assert.match(r.engine!, /^GLM-TTS-Server \(glm-tts\) @ http:\/\/127\.0\.0\.1:\d+$/);
      assert.equal(decodeWav(await readFile(path.join(out, r.audio))).sampleRate, 24000);
    }
    assert.equal(m[0]!.readings[1], 'hang2');
    assert.equal(m[0]!.sources![1], null, 'a local estimate, not a teacher label');
    assert.match(m[0]!.note!, new RegExp(`voice ${aliceId}`));
    const cache = (await readFile(path.join(out, VOICES_FILE), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { voiceId: string; server: string; promptAudio: string });
    assert.deepEqual(cache.map((c) => c.voiceId).sort(), [aliceId, server.speeches[4]!.body.voice as string].sort());
    assert.equal(cache[0]!.server, server.url);
    assert.equal(cache.find((c) => c.voiceId === aliceId)!.promptAudio, path.join(dir, 'alice.wav'));
  });

  test('resume: a new process reads the voice ids from the run folder and uploads nothing again; another folder reuses the voice after a 409', async () => {
    const out = path.join(dir, 'jerry-a');
    const uploads = server.uploads.length,
      speeches = server.speeches.length;
    const changed = lines({ 2: '再说一遍：' });
    const teacher = new GlmTtsServerTeacher({ url: server.url, token: 'admin-jwt' });
    const s = await runBatch({ tasksFile: await tasksFile('jerry-a.tasks.jsonl', changed), outDir: out, teacher, ...ok });
    assert.deepEqual([s.done, s.skipped, s.failed], [1, 5, 0]);
    assert.equal(server.uploads.length, uploads, 'no upload on resume');
    assert.equal(server.speeches.length, speeches + 1);

    // A fresh run folder (or a lost list): the upload answers 409 for our id, which is checked and used.
    const voices = server.voices.size;
    const other = new GlmTtsServerTeacher({ url: server.url, token: 'admin-jwt' });
    const s2 = await runBatch({
      tasksFile: await tasksFile('jerry-b.tasks.jsonl', lines().slice(0, 2)),
      outDir: path.join(dir, 'jerry-b'),
      teacher: other,
      ...ok,
    });
    assert.deepEqual([s2.done, s2.failed], [2, 0]);
    assert.deepEqual(
      server.uploads.slice(uploads).map((u) => u.status),
      [409],
      'one attempt for alice, answered 409',
    );
    assert.equal(server.voices.size, voices, 'no new voice on the server');
    assert.equal(other.uploads, 0);
    assert.deepEqual(server.voiceGets.slice(-1), [voiceIdFor(sha256(await readFile(path.join(dir, 'alice.wav'))), '今天天气很好。')]);
  });

  test('a voice deleted on the server is uploaded again, once, and the line succeeds', async () => {
    const out = path.join(dir, 'jerry-a');
    const aliceId = voiceIdFor(sha256(await readFile(path.join(dir, 'alice.wav'))), '今天天气很好。');
    server.voices.delete(aliceId);
    const uploads = server.uploads.length;
    const s = await runBatch({
      tasksFile: await tasksFile('jerry-a.tasks.jsonl', lines({ 0: '又：' })),
      outDir: out,
      teacher: new GlmTtsServerTeacher({ url: server.url, token: 'admin-jwt' }),
      ...ok,
    });
    assert.deepEqual([s.done, s.failed], [2, 0], 'line 0 changed; line 2 changed back');
    assert.deepEqual(
      server.uploads.slice(uploads).map((u) => u.status),
      [200],
    );
    assert.ok(server.voices.has(aliceId));
  });

  test('failures are per line with clear reasons (5xx retried, bad audio, time-out, too long, no transcript), the run goes on, and a resume finishes the lines', async () => {
    const out = path.join(dir, 'jerry-err');
    const ls = [
      ...lines({ 1: 'OOM', 3: 'BAD', 5: 'HANG' }),
      { name: 'long', text: '长'.repeat(5001), prompt: 'alice.wav', promptText: '今天天气很好。' },
      { name: 'notext', text: '没有提示文本。', prompt: 'bob.wav' },
    ];
    server.behaviour = (t) => (t.startsWith('OOM') ? 'http500' : t.startsWith('BAD') ? 'badwav' : t.startsWith('HANG') ? 'hang' : 'ok');
    const file = await tasksFile('jerry-err.tasks.jsonl', ls);
    const speeches = server.speeches.length;
    const s = await runBatch({
      tasksFile: file,
      outDir: out,
      teacher: new GlmTtsServerTeacher({ url: server.url, token: 'admin-jwt' }),
      timeoutMs: 1000,
      ...ok,
    });
    assert.deepEqual([s.done, s.failed], [3, 5]);
    const f = new Map((await readFailures(path.join(out, 'failures.jsonl'))).map((x) => [x.name, x]));
    assert.match(f.get('utt1')!.reason, /^HTTP 500 from the teacher: CUDA out of memory/);
    assert.deepEqual([f.get('utt1')!.attempts, f.get('utt1')!.transient], [2, true], '5xx is retried');
    assert.match(f.get('utt3')!.reason, /not a WAV file \(audio\/wav, 24 bytes\)/);
    assert.match(f.get('utt5')!.reason, /timed out after 1 s/);
    assert.match(f.get('long')!.reason, /at most 5000 characters of text; this line has 5001/);
    assert.equal(f.get('long')!.attempts, 1);
    assert.match(f.get('notext')!.reason, /requires prompt_text\): give this line a prompt_text/);
    assert.equal(f.get('notext')!.transient, false);
    assert.equal(server.speeches.length - speeches, 3 + 2 + 2 + 2, 'the too-long and transcript-less lines never reach the server');

    server.behaviour = () => 'ok';
    const uploads = server.uploads.length;
    const s2 = await runBatch({
      tasksFile: file,
      outDir: out,
      teacher: new GlmTtsServerTeacher({ url: server.url, token: 'admin-jwt' }),
      timeoutMs: 1000,
      ...ok,
    });
    assert.deepEqual([s2.done, s2.skipped, s2.failed], [3, 3, 2]);
    assert.equal(server.uploads.length, uploads, 'voices come from the run folder');
    assert.deepEqual((await readFailures(path.join(out, 'failures.jsonl'))).map((x) => x.name).sort(), ['long', 'notext']);
  });

  test('authentication: a user-role key cannot upload voices, a wrong token is refused, both said plainly and not retried', async () => {
    const out = path.join(dir, 'jerry-auth');
    await writePromptWav(path.join(dir, 'carol.wav'), 3.5);
    const file = await tasksFile('jerry-auth.tasks.jsonl', [
      { name: 'c0', text: '你好。', prompt: 'carol.wav', promptText: '我是卡罗尔。' },
    ]);
    const s = await runBatch({
      tasksFile: file,
      outDir: out,
      teacher: new GlmTtsServerTeacher({ url: server.url, token: 'user-jwt' }),
      ...ok,
    });
    assert.equal(s.failed, 1);
    let [f] = await readFailures(path.join(out, 'failures.jsonl'));
    assert.match(
      f!.reason,
      /HTTP 403 from the teacher: This endpoint requires the 'admin' role \(uploading a voice \(POST \/v1\/voices\) needs a key with the admin role\)/,
    );
    assert.equal(f!.attempts, 1);
    const s2 = await runBatch({
      tasksFile: file,
      outDir: out,
      teacher: new GlmTtsServerTeacher({ url: server.url, token: 'expired' }),
      ...ok,
    });
    assert.equal(s2.failed, 1);
    [f] = await readFailures(path.join(out, 'failures.jsonl'));
    assert.match(f!.reason, /HTTP 401 from the teacher: Invalid token signature \(GLM-TTS-Server wants a JWT .*scripts\/make_token\.py/);
    const h = await new GlmTtsServerTeacher({ url: server.url }).health();
    assert.equal(h.ok, false);
    assert.match(h.detail, /HTTP 401 .*Missing Authorization header/);
  });

  test("health reports readiness, sample rate and mock mode; the server's sample rate is converted to the batch's", async () => {
    const h = await new GlmTtsServerTeacher({ url: server.url, token: 'user-jwt' }).health();
    assert.equal(h.ok, true);
    assert.match(h.detail, /ready, 24000 Hz, \d+ voice\(s\)$/);
    server.mock = true;
    assert.match((await new GlmTtsServerTeacher({ url: server.url, token: 'user-jwt' }).health()).detail, /MOCK inference/);
    server.mock = false;
    server.ready = false;
    const notReady = await new GlmTtsServerTeacher({ url: server.url, token: 'user-jwt' }).health();
    assert.deepEqual([notReady.ok, /not loaded yet/.test(notReady.detail)], [false, true]);
    server.ready = true;

    const out = path.join(dir, 'jerry-32k');
    const s = await runBatch({
      tasksFile: await tasksFile('jerry-32k.tasks.jsonl', lines().slice(0, 1)),
      outDir: out,
      teacher: new GlmTtsServerTeacher({ url: server.url, token: 'admin-jwt' }),
      sampleRate: 32000,
      ...ok,
    });
    assert.equal(s.done, 1);
    const [r] = await readManifest(path.join(out, 'manifest.jsonl'));
    assert.equal(r!.sampleRate, 32000);
    assert.equal(decodeWav(await readFile(path.join(out, r!.audio))).sampleRate, 32000);
    assert.match(r!.note!, /converted from 24000 Hz/);
  });

  test("a line without prompt audio gets the server's default voice (its only one) and says it was not cloned", async () => {
    const fresh = await new GlmTtsServerStandIn().start();
    try {
      // (Task files require a prompt; the editor's and the API's callers may not.)
      const r = await new GlmTtsServerTeacher({ url: fresh.url }).synthesize(
        { line: 0, name: 'd0', text: '默认音色。' },
        { seed: 42, sampleRate: 24000 },
      );
      assert.deepEqual(Object.keys(fresh.speeches[0]!.body).sort(), ['input', 'model', 'response_format']);
      assert.equal(fresh.uploads.length, 0);
      assert.equal(r.clonedVoice, false);
      assert.match(r.note!, /no prompt audio: the server's default voice spoke/);
      assert.equal(decodeWav(r.wav).sampleRate, 24000);
    } finally {
      await fresh.close();
    }
  });

  test('the voice list of a run folder is never read or written through a symbolic link', async () => {
    const out = path.join(dir, 'jerry-link');
    await runBatch({
      tasksFile: await tasksFile('jerry-link.tasks.jsonl', []),
      outDir: out,
      teacher: new GlmTtsServerTeacher({ url: server.url }),
    });
    await writeFile(path.join(dir, 'elsewhere.txt'), 'keep me\n');
    await symlink(path.join(dir, 'elsewhere.txt'), path.join(out, VOICES_FILE));
    await assert.rejects(
      runBatch({
        tasksFile: await tasksFile('jerry-link.tasks.jsonl', lines().slice(0, 1)),
        outDir: out,
        teacher: new GlmTtsServerTeacher({ url: server.url, token: 'admin-jwt' }),
      }),
      UnsafeFileError,
    );
    assert.equal(await readFile(path.join(dir, 'elsewhere.txt'), 'utf8'), 'keep me\n');
  });
});

test("glm-tts-server: a hostile server's endless answer to the voice upload is cut at 1 MiB and fails the line", async () => {
  let sent = 0;
  const hostile = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      const pump = () => {
        while (sent < 64 * 1024 * 1024 && res.write(chunk)) sent += chunk.length;
        if (sent < 64 * 1024 * 1024) res.once('drain', pump);
        else res.end();
      };
      pump();
    });
  });
  await new Promise<void>((r) => hostile.listen(0, '127.0.0.1', r));
  try {
    const out = path.join(dir, 'jerry-hostile');
    const url = `http://127.0.0.1:${(hostile.address() as AddressInfo).port}`;
    const s = await runBatch({
      tasksFile: await tasksFile('jerry-hostile.tasks.jsonl', lines().slice(0, 1)),
      outDir: out,
      teacher: new GlmTtsServerTeacher({ url }),
      ...ok,
    });
    assert.equal(s.failed, 1);
    const [f] = await readFailures(path.join(out, 'failures.jsonl'));
    assert.match(f!.reason, /JSON answer to \/v1\/voices is larger than 1024 KiB: not read/);
    assert.ok(sent < 64 * 1024 * 1024, 'the client stopped reading');
  } finally {
    hostile.closeAllConnections();
    await new Promise((r) => hostile.close(r));
  }
});

describe('fastapi-gateway (DuoHBshuijiao/GLM-TTS-FastAPI_Gateway)', () => {
  let server: FastapiGatewayStandIn;
  before(async () => {
    server = await new FastapiGatewayStandIn().start();
  });
  after(() => server.close());

  test('every line is one multipart POST /api/v1/tts with the prompt, its transcript, the seed and the sample rate; one at a time', async () => {
    const out = path.join(dir, 'gw-a');
    const s = await runBatch({
      tasksFile: await tasksFile('gw-a.tasks.jsonl', lines()),
      outDir: out,
      teacher: new FastapiGatewayTeacher({ url: server.url }),
      concurrency: 3,
      seed: 7,
      sampleRate: 32000,
      ...ok,
    });
    assert.deepEqual([s.done, s.failed], [6, 0]);
    assert.equal(server.requests.length, 6);
    assert.equal(server.maxInFlight, 1, "no lock around the gateway's model: one request at a time");
    const bob = await readFile(path.join(dir, 'bob.wav'));
    for (const [i, rq] of server.requests.entries()) {
      assert.match(rq.contentType!, /^multipart\/form-data; boundary=/);
      assert.deepEqual(rq.parts.map((p) => p.name).sort(), [
        'input_text',
        'prompt_audio',
        'prompt_text',
        'sample_rate',
        'seed',
        'use_cache',
      ]);
      const v = (n: string) => rq.parts.find((p) => p.name === n)!.data.toString('utf8');
      assert.deepEqual([v('input_text'), v('seed'), v('sample_rate'), v('use_cache')], [lines()[i]!.text, '7', '32000', 'true']);
      const audio = rq.parts.find((p) => p.name === 'prompt_audio')!;
      assert.equal(audio.filename, i < 4 ? 'alice.wav' : 'bob.wav');
      if (i >= 4) assert.deepEqual(audio.data, bob);
    }
    const m = await readManifest(path.join(out, 'manifest.jsonl'));
    for (const r of m) {
      assert.deepEqual(
        [r.backend, r.seed, r.sampleRate, r.readingsFrom, r.clonedVoice, r.dictionarySha256],
        ['http', 7, 32000, 'local-g2p', true, null],
      );
      assert.equal(r.phonemes, r.text, 'the gateway sends plain text to the model (use_phoneme=False)');
      assert.match(r.note!, /use_phoneme=False: GLM-TTS's language model read every character/);
      assert.equal(decodeWav(await readFile(path.join(out, r.audio))).sampleRate, 32000);
    }
    assert.equal(m[0]!.readings[1], 'hang2');
    assert.deepEqual(m[0]!.sources!.slice(0, 3), ['model', 'model', 'model'], 'the language model decided: the readings are hints');
  });

  test("4xx is permanent with the server's detail, 5xx and bad audio retried, a hung request times out; the run goes on and a resume finishes", async () => {
    const out = path.join(dir, 'gw-err');
    const ls = [...lines({ 0: 'E400', 2: 'OOM', 3: 'BAD', 4: 'HANG' }), { name: 'notext', text: '没有提示文本。', prompt: 'bob.wav' }];
    server.behaviour = (t) =>
      t.startsWith('E400')
        ? 'http400'
        : t.startsWith('OOM')
          ? 'http500'
          : t.startsWith('BAD')
            ? 'badwav'
            : t.startsWith('HANG')
              ? 'hang'
              : 'ok';
    const file = await tasksFile('gw-err.tasks.jsonl', ls);
    const before = server.requests.length;
    const s = await runBatch({
      tasksFile: file,
      outDir: out,
      teacher: new FastapiGatewayTeacher({ url: server.url }),
      timeoutMs: 1000,
      ...ok,
    });
    assert.deepEqual([s.done, s.failed], [2, 5]);
    const f = new Map((await readFailures(path.join(out, 'failures.jsonl'))).map((x) => [x.name, x]));
    assert.deepEqual(
      [f.get('utt0')!.reason, f.get('utt0')!.attempts, f.get('utt0')!.transient],
      ['HTTP 400 from the teacher: input_text is empty', 1, false],
    );
    assert.match(f.get('utt2')!.reason, /HTTP 500 from the teacher: CUDA out of memory.*POST \/api\/v1\/clear_vram/);
    assert.equal(f.get('utt2')!.attempts, 2);
    assert.match(f.get('utt3')!.reason, /not a WAV file/);
    assert.match(f.get('utt4')!.reason, /timed out after 1 s/);
    assert.match(f.get('notext')!.reason, /requires the prompt's transcript/);
    assert.equal(server.requests.length - before, 2 + 1 + 2 + 2 + 2, 'lines the gateway would refuse are not sent');

    server.behaviour = () => 'ok';
    const s2 = await runBatch({
      tasksFile: file,
      outDir: out,
      teacher: new FastapiGatewayTeacher({ url: server.url }),
      timeoutMs: 1000,
      ...ok,
    });
    assert.deepEqual([s2.done, s2.skipped, s2.failed], [4, 2, 1]);
    // (Task files require a prompt; the editor's and the API's callers may not.)
    await assert.rejects(
      new FastapiGatewayTeacher({ url: server.url }).synthesize({ line: 0, name: 'x', text: '你好。' }, { seed: 1, sampleRate: 24000 }),
      (e: Error & { transient?: boolean }) => /requires prompt_audio, and this line has none/.test(e.message) && e.transient === false,
    );
  });

  test('health: GET /health', async () => {
    const h = await new FastapiGatewayTeacher({ url: server.url }).health();
    assert.deepEqual([h.ok, /reachable/.test(h.detail)], [true, true]);
    const down = await new FastapiGatewayTeacher({ url: 'http://127.0.0.1:9' }).health();
    assert.equal(down.ok, false);
  });
});

test('the setting and the CLI flag pick the adapter; a bad value is a clear error', async () => {
  const settings = (p: unknown) => withDefaults({ teacher: { backend: 'http', httpProtocol: p } });
  assert.ok(createTeacher(settings('tts-distill'), { baseDir: dir }) instanceof HttpTeacher);
  assert.ok(createTeacher(settings('glm-tts-server'), { baseDir: dir }) instanceof GlmTtsServerTeacher);
  assert.ok(createTeacher(settings('fastapi-gateway'), { baseDir: dir }) instanceof FastapiGatewayTeacher);
  assert.ok(createTeacher(settings('tts-distill'), { baseDir: dir, httpProtocol: 'fastapi-gateway' }) instanceof FastapiGatewayTeacher);
  assert.throws(
    () => createTeacher(settings('openai'), { baseDir: dir }),
    /ttsDistill\.teacher\.httpProtocol "openai" is not one of tts-distill, glm-tts-server, fastapi-gateway/,
  );
  const shard = shardSubmitArgs(settings('glm-tts-server'), dir);
  assert.deepEqual(
    shard.slice(shard.indexOf('--url'), shard.indexOf('--url') + 4),
    ['--url', 'http://127.0.0.1:8049', '--http-protocol', 'glm-tts-server'],
    'Slurm shards get the protocol',
  );

  const gw = await new FastapiGatewayStandIn().start();
  try {
    const file = await tasksFile('cli.tasks.jsonl', lines().slice(0, 2));
    const r = await runCli(
      [
        'submit',
        file,
        '--out',
        'cli-out',
        '--teacher',
        'http',
        '--http-protocol',
        'fastapi-gateway',
        '--url',
        gw.url,
        '--concurrency',
        '4',
      ],
      dir,
    );
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, /takes 1 request\(s\) at a time: concurrency 4 lowered to 1/);
    assert.equal(gw.requests.length, 2);
    const bad = await runCli(['submit', file, '--out', 'cli-out', '--teacher', 'http', '--http-protocol', 'openai'], dir);
    assert.equal(bad.code, 64);
    assert.match(bad.err, /--http-protocol must be one of tts-distill, glm-tts-server, fastapi-gateway/);
    const wrong = await runCli(['submit', file, '--out', 'cli-out', '--http-protocol', 'glm-tts-server'], dir);
    assert.equal(wrong.code, 64);
    assert.match(wrong.err, /--http-protocol goes with --teacher http/);
  } finally {
    await gw.close();
  }
});

test('the multipart parser of the stand-ins reads what fetch sends, and refuses what is not multipart', async () => {
  const form = new FormData();
  form.set('a', '一');
  form.set('f', new Blob([Buffer.from([0, 13, 10, 45, 45, 255])], { type: 'audio/wav' }), 'x.wav');
  const req = new Request('http://127.0.0.1/', { method: 'POST', body: form });
  const parts = parseMultipart(Buffer.from(await req.arrayBuffer()), req.headers.get('content-type') ?? undefined);
  assert.deepEqual(
    parts.map((p) => [p.name, p.filename, p.data.length]),
    [
      ['a', undefined, 3],
      ['f', 'x.wav', 6],
    ],
  );
  assert.deepEqual([...parts[1]!.data], [0, 13, 10, 45, 45, 255]);
  assert.throws(() => parseMultipart(Buffer.from('{}'), 'application/json'), /not multipart/);
});
