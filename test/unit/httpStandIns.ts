/**
 * Stand-ins for the community GLM-TTS servers, over loopback (node:http, port 0), with exactly
 * their request and answer shapes (docs/http-teachers.md cites the code they copy):
 * JerryAZR/GLM-TTS-Server (api/server.py, api/auth.py) and DuoHBshuijiao/GLM-TTS-FastAPI_Gateway
 * (tools/api_server.py). Bodies are parsed (JSON, multipart) and every request is kept for the
 * tests to assert on; `behaviour` makes chosen lines fail the way a real server does.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { encodeWav } from '../../server/src/core/audio/wav';

export interface Part {
  name: string;
  filename?: string;
  contentType?: string;
  data: Buffer;
}

/** A multipart/form-data body as a server reads it (RFC 7578); throws on anything malformed. */
export function parseMultipart(body: Buffer, contentType: string | undefined): Part[] {
  const m = /^multipart\/form-data;\s*boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType ?? '');
  if (!m) throw new Error(`not multipart/form-data: ${contentType}`);
  const delim = Buffer.from(`--${m[1] ?? m[2]}`);
  const next = Buffer.concat([Buffer.from('\r\n'), delim]);
  if (body.indexOf(delim) !== 0) throw new Error('the body does not start with the boundary');
  const parts: Part[] = [];
  let pos = delim.length;
  for (;;) {
    const after = body.subarray(pos, pos + 2).toString('latin1');
    if (after === '--') break;
    if (after !== '\r\n') throw new Error(`bad delimiter line at ${pos}`);
    const headEnd = body.indexOf('\r\n\r\n', pos + 2);
    if (headEnd < 0) throw new Error('part without a header end');
    const head = body.subarray(pos + 2, headEnd).toString('utf8');
    const end = body.indexOf(next, headEnd + 4);
    if (end < 0) throw new Error('part without a closing boundary');
    const disposition = /^content-disposition:\s*form-data(.*)$/im.exec(head);
    if (!disposition) throw new Error(`part without Content-Disposition: ${head}`);
    const name = /;\s*name="([^"]*)"/.exec(disposition[1]!)?.[1];
    if (name === undefined) throw new Error(`part without a name: ${head}`);
    const part: Part = { name, data: body.subarray(headEnd + 4, end) };
    const filename = /;\s*filename="([^"]*)"/.exec(disposition[1]!)?.[1];
    if (filename !== undefined) part.filename = filename;
    const ct = /^content-type:\s*(.+)$/im.exec(head)?.[1]?.trim();
    if (ct) part.contentType = ct;
    parts.push(part);
    pos = end + next.length;
  }
  return parts;
}

export type Behaviour = 'ok' | 'http500' | 'http400' | 'hang' | 'badwav';

function readAll(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function json(res: ServerResponse, status: number, value: unknown) {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/** FastAPI's 422 for a missing required field. */
function missing(res: ServerResponse, field: string) {
  json(res, 422, { detail: [{ type: 'missing', loc: ['body', field], msg: 'Field required', input: null }] });
}

function speechWav(sampleRate: number, seconds = 0.3): Buffer {
  const n = Math.round(sampleRate * seconds);
  return Buffer.from(
    encodeWav(
      Float32Array.from({ length: n }, (_, i) => 0.3 * Math.sin((2 * Math.PI * 440 * i) / sampleRate)),
      sampleRate,
    ),
  );
}

abstract class StandIn {
  server!: Server;
  url = '';
  inFlight = 0;
  maxInFlight = 0;
  /** Per request text: what the server does (default: synthesise). */
  behaviour: (input: string) => Behaviour = () => 'ok';
  /** How long a generation takes (ms): requests sent at once overlap. */
  generationMs = 15;

  protected abstract route(req: IncomingMessage, res: ServerResponse, path: string, body: Buffer): Promise<void>;

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      void readAll(req)
        .then((body) => this.route(req, res, (req.url ?? '/').split('?')[0]!, body))
        .catch((err: unknown) => {
          if (!res.headersSent) json(res, 500, { detail: String(err) });
        });
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  /** Synthesises (or misbehaves) as `behaviour` says, counting requests in flight. */
  protected async generate(res: ServerResponse, input: string, sampleRate: number, answer: (wav: Buffer) => void): Promise<void> {
    const b = this.behaviour(input);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      if (b === 'hang') {
        // Never answers: the client's time limit must end the request.
        await new Promise<void>((r) => res.once('close', () => r()));
        return;
      }
      await new Promise((r) => setTimeout(r, this.generationMs));
      if (b === 'http500') return json(res, 500, { detail: 'CUDA out of memory. Tried to allocate 2.00 GiB' });
      if (b === 'http400') return json(res, 400, { detail: 'input_text is empty' });
      if (b === 'badwav') {
        res.writeHead(200, { 'content-type': 'audio/wav' });
        res.end(Buffer.from('<html>proxy error</html>'));
        return;
      }
      answer(speechWav(sampleRate));
    } finally {
      this.inFlight--;
    }
  }
}

interface Voice {
  voice_id: string;
  name: string;
  prompt_text: string;
  created_at: string;
  audio: Buffer;
}

/** JerryAZR/GLM-TTS-Server (api/server.py): voices CRUD, OpenAI-style speech, JWT roles (api/auth.py). */
export class GlmTtsServerStandIn extends StandIn {
  /** The bundled sample voice (voices/jerry). */
  voices = new Map<string, Voice>([
    ['jerry', { voice_id: 'jerry', name: 'jerry', prompt_text: '你好', created_at: '2026-01-01T00:00:00+00:00', audio: Buffer.alloc(0) }],
  ]);
  /** Every POST /v1/voices, parsed, with the Authorization header and the answer's status. */
  uploads: Array<{ auth?: string; parts: Part[]; status: number }> = [];
  speeches: Array<{ auth?: string; body: Record<string, unknown> }> = [];
  voiceGets: string[] = [];
  /** GLM_TTS_SAMPLE_RATE. */
  sampleRate = 24000;
  /** Enrolled keys (token → role); empty: public, as with no authorized_keys.json. */
  keys = new Map<string, 'user' | 'admin'>();
  ready = true;
  mock = false;

  /** verify_auth(required_role): undefined when allowed, else the answer already sent. */
  private denied(req: IncomingMessage, res: ServerResponse, role: 'user' | 'admin'): boolean {
    if (!this.keys.size) return false;
    const h = req.headers.authorization;
    if (!h) {
      json(res, 401, { detail: 'Missing Authorization header' });
      return true;
    }
    const got = this.keys.get(h.replace(/^Bearer /, ''));
    if (!got) {
      json(res, 401, { detail: 'Invalid token signature' });
      return true;
    }
    if (role === 'admin' && got !== 'admin') {
      json(res, 403, { detail: "This endpoint requires the 'admin' role" });
      return true;
    }
    return false;
  }

  protected async route(req: IncomingMessage, res: ServerResponse, path: string, body: Buffer): Promise<void> {
    if (req.method === 'GET' && path === '/health') return json(res, 200, { status: 'ok' });
    if (req.method === 'GET' && path === '/ready') return json(res, 200, { ready: this.ready, mock: this.mock });
    if (req.method === 'GET' && path === '/status') {
      if (this.denied(req, res, 'user')) return;
      return json(res, 200, {
        version: 'abc1234',
        ready: this.ready,
        mock: this.mock,
        sample_rate: this.sampleRate,
        voices: this.voices.size,
        generating: this.inFlight > 0,
      });
    }
    if (req.method === 'POST' && path === '/v1/voices') return this.createVoice(req, res, body);
    const one = /^\/v1\/voices\/([^/]+)$/.exec(path);
    if (req.method === 'GET' && one) {
      if (this.denied(req, res, 'user')) return;
      this.voiceGets.push(one[1]!);
      const v = this.voices.get(one[1]!);
      if (!v) return json(res, 404, { detail: 'Voice not found' });
      return json(res, 200, { voice_id: v.voice_id, name: v.name, prompt_text: v.prompt_text, created_at: v.created_at });
    }
    if (req.method === 'POST' && path === '/v1/audio/speech') return this.speech(req, res, body);
    json(res, 404, { detail: 'Not Found' });
  }

  private createVoice(req: IncomingMessage, res: ServerResponse, body: Buffer) {
    const entry: { auth?: string; parts: Part[]; status: number } = { parts: [], status: 0 };
    if (req.headers.authorization) entry.auth = req.headers.authorization;
    this.uploads.push(entry);
    const send = (status: number, value: unknown) => {
      entry.status = status;
      json(res, status, value);
    };
    if (this.denied(req, res, 'admin')) {
      entry.status = res.statusCode;
      return;
    }
    entry.parts = parseMultipart(body, req.headers['content-type']);
    const field = (n: string) => entry.parts.find((p) => p.name === n && p.filename === undefined)?.data.toString('utf8');
    // name, prompt_text: Form(...); an empty form value is a missing one (FastAPI).
    for (const n of ['name', 'prompt_text'])
      if (!field(n)) {
        entry.status = 422;
        return missing(res, n);
      }
    const audio = entry.parts.find((p) => p.name === 'prompt_audio' && p.filename !== undefined);
    if (!audio) {
      entry.status = 422;
      return missing(res, 'prompt_audio');
    }
    const id = (field('voice_id') || `voice_${Math.random().toString(16).slice(2, 14)}`).trim();
    if (!/^[A-Za-z0-9_-]+$/.test(id)) return send(400, { detail: "voice_id must be alphanumeric with '-' or '_'" });
    if (this.voices.has(id)) return send(409, { detail: `Voice '${id}' already exists` });
    if (audio.data.subarray(0, 4).toString('latin1') !== 'RIFF')
      return send(400, { detail: 'Could not process audio file: Decoding failed. ffmpeg returned error code: 1' });
    const created_at = new Date().toISOString();
    this.voices.set(id, { voice_id: id, name: field('name')!, prompt_text: field('prompt_text')!, created_at, audio: audio.data });
    send(200, { voice_id: id, name: field('name'), created_at });
  }

  private async speech(req: IncomingMessage, res: ServerResponse, raw: Buffer) {
    if (this.denied(req, res, 'user')) return;
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(raw.toString('utf8')) as Record<string, unknown>;
    } catch {
      return json(res, 422, { detail: [{ type: 'json_invalid', loc: ['body', 0], msg: 'JSON decode error' }] });
    }
    const entry: { auth?: string; body: Record<string, unknown> } = { body };
    if (req.headers.authorization) entry.auth = req.headers.authorization;
    this.speeches.push(entry);
    if (!this.ready) return json(res, 503, { detail: 'Inference engine is not ready yet' });
    const input = body.input;
    if (typeof input !== 'string') return missing(res, 'input');
    if (input.length < 1 || [...input].length > 5000)
      return json(res, 422, {
        detail: [{ type: 'string_too_long', loc: ['body', 'input'], msg: 'String should have at most 5000 characters' }],
      });
    const format = body.response_format ?? 'wav';
    if (format !== 'wav' && format !== 'mp3') return json(res, 400, { detail: "response_format must be 'wav' or 'mp3'" });
    if (!input.trim()) return json(res, 400, { detail: 'input text cannot be empty' });
    // resolve_voice: explicit > "default" > the sole voice.
    const requested = body.voice as string | undefined;
    const ids = [...this.voices.keys()].sort();
    if (requested && !this.voices.has(requested))
      return json(res, 404, { detail: `Voice '${requested}' not found; available: [${ids.map((i) => `'${i}'`).join(', ')}]` });
    if (!requested && !this.voices.has('default') && ids.length !== 1) {
      return json(res, ids.length ? 400 : 404, {
        detail: ids.length ? `Multiple voices available; specify 'voice': [${ids.map((i) => `'${i}'`).join(', ')}]` : 'No voices available',
      });
    }
    await this.generate(res, input, this.sampleRate, (wav) => {
      res.writeHead(200, { 'content-type': 'audio/wav', 'content-length': wav.length });
      res.end(wav);
    });
  }
}

/** DuoHBshuijiao/GLM-TTS-FastAPI_Gateway (tools/api_server.py): multipart POST /api/v1/tts, no auth. */
export class FastapiGatewayStandIn extends StandIn {
  requests: Array<{ parts: Part[]; contentType?: string; status: number }> = [];

  protected async route(req: IncomingMessage, res: ServerResponse, path: string, body: Buffer): Promise<void> {
    if (req.method === 'GET' && path === '/health') return json(res, 200, { status: 'ok', service: 'glm-tts' });
    if (req.method !== 'POST' || path !== '/api/v1/tts') return json(res, 404, { detail: 'Not Found' });
    const entry: { parts: Part[]; contentType?: string; status: number } = { parts: [], status: 0 };
    if (req.headers['content-type']) entry.contentType = req.headers['content-type'];
    this.requests.push(entry);
    entry.parts = parseMultipart(body, req.headers['content-type']);
    const field = (n: string) => entry.parts.find((p) => p.name === n && p.filename === undefined)?.data.toString('utf8');
    for (const n of ['prompt_text', 'input_text'])
      if (!field(n)) {
        entry.status = 422;
        return missing(res, n);
      }
    const audio = entry.parts.find((p) => p.name === 'prompt_audio' && p.filename !== undefined);
    if (!audio) {
      entry.status = 422;
      return missing(res, 'prompt_audio');
    }
    const suffix = /\.[^.]*$/.exec(audio.filename ?? '')?.[0]?.toLowerCase() ?? '';
    if (!['.wav', '.flac', ''].includes(suffix)) {
      entry.status = 400;
      return json(res, 400, { detail: 'prompt_audio: use .wav or .flac' });
    }
    const int = (n: string, d: number) => (field(n) === undefined ? d : Number(field(n)));
    const seed = int('seed', 42),
      sampleRate = int('sample_rate', 24000);
    if (!Number.isInteger(seed) || !Number.isInteger(sampleRate)) {
      entry.status = 422;
      return json(res, 422, { detail: [{ type: 'int_parsing', loc: ['body', 'seed'], msg: 'Input should be a valid integer' }] });
    }
    if (!field('input_text')!.trim()) {
      entry.status = 400;
      return json(res, 400, { detail: 'input_text is empty' });
    }
    await this.generate(res, field('input_text')!, sampleRate, (wav) => {
      entry.status = 200;
      res.writeHead(200, {
        'content-type': 'audio/wav',
        'content-disposition': 'attachment; filename="glm_tts_out.wav"',
        'content-length': wav.length,
      });
      res.end(wav);
    });
    if (!entry.status) entry.status = res.statusCode;
  }
}
