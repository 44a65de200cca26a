/**
 * The HTTP teacher: an OpenAI-style speech server, as the community GLM-TTS servers expose it,
 * and `tts-distill teacher serve`, which serves any Teacher (the embedded one) the same way.
 *
 * Protocol (see README):
 *   POST <url>/v1/audio/speech   Authorization: Bearer <token> (when set)
 *     { "model", "input", "voice": "clone", "prompt_audio": <base64 WAV>, "prompt_text",
 *       "response_format": "wav", "seed", "sample_rate" }
 *   → 200 audio/wav; optional headers X-TTS-Phonemes / X-TTS-Readings (percent-encoded),
 *     X-TTS-Cloned-Voice (true|false), X-TTS-Engine, X-TTS-Note.
 *   POST <url>/v1/g2p { "input" } → { text, readings, pinyin, phonemes }   (ours; optional)
 *   GET  <url>/health → { ok, detail, engine }                            (ours; optional)
 */
import { stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DEFAULT_PROMPT_MAX_BYTES, parseWavHeader, readPromptWav } from '../audio/wavHeader';
import { embeddedG2P } from './embeddedG2P';
import { callTeacher, DEFAULT_MAX_RESPONSE_BYTES, errorText, httpFailure, wavAnswer } from './http/common';
import type { ReadingSource } from '../pronunciation/teacherReadings';
import {
  type SynthesisResult,
  type SynthesizeOptions,
  type Teacher,
  TeacherError,
  type TeacherG2P,
  type TeacherHealth,
  type TeacherTask,
} from './types';

export interface HttpTeacherOptions {
  /** Base URL; requests go to `<url>/v1/audio/speech`. */
  url: string;
  model?: string;
  /** Bearer token (in VS Code from SecretStorage, never from settings). */
  token?: string;
  /** Largest prompt file read (default 50 MB): a prompt must be a regular file with a RIFF/WAVE header. */
  maxPromptBytes?: number;
  /** Largest answer body read (default 256 MiB), checked while it streams in. */
  maxResponseBytes?: number;
}

/** The body of `POST /v1/audio/speech`. */
export interface SpeechRequest {
  model: string;
  input: string;
  voice?: string;
  /** The prompt WAV file, base64. */
  prompt_audio?: string;
  /** Transcript of the prompt audio. */
  prompt_text?: string;
  response_format?: 'wav';
  seed?: number;
  sample_rate?: number;
}

export const HEADER = {
  phonemes: 'x-tts-phonemes',
  readings: 'x-tts-readings',
  cloned: 'x-tts-cloned-voice',
  engine: 'x-tts-engine',
  note: 'x-tts-note',
  sources: 'x-tts-sources',
  dictionary: 'x-tts-dictionary-sha256',
} as const;

export class HttpTeacher implements Teacher {
  readonly kind = 'http' as const;
  private readonly base: string;

  constructor(private readonly opts: HttpTeacherOptions) {
    this.base = opts.url.replace(/\/+$/, '');
  }

  private headers(json: boolean): Record<string, string> {
    const h: Record<string, string> = {};
    if (json) h['content-type'] = 'application/json';
    if (this.opts.token) h.authorization = `Bearer ${this.opts.token}`;
    return h;
  }

  private call(path: string, init: { method: string; body?: string; signal?: AbortSignal }): Promise<Response> {
    // No redirects: a redirect to another host would carry the prompt audio (and the token) there.
    return callTeacher(this.base, path, { ...init, headers: this.headers(!!init.body) });
  }

  /** Thousands of lines share a few prompt WAVs: each is read and encoded once (again when it changes). */
  private readonly prompts = new Map<string, { key: string; base64: string }>();

  private async promptBase64(file: string): Promise<string> {
    const st = await stat(file);
    const key = `${st.mtimeMs}:${st.size}`;
    const hit = this.prompts.get(file);
    if (hit?.key === key) return hit.base64;
    // A regular file under the size cap with a RIFF/WAVE header, else nothing is read or sent (no /dev/zero, FIFO or /etc/passwd).
    const base64 = (await readPromptWav(file, this.opts.maxPromptBytes ?? DEFAULT_PROMPT_MAX_BYTES)).data.toString('base64');
    if (this.prompts.size >= 64) this.prompts.delete(this.prompts.keys().next().value!);
    this.prompts.set(file, { key, base64 });
    return base64;
  }

  async g2p(text: string): Promise<TeacherG2P> {
    try {
      const res = await this.call('/v1/g2p', { method: 'POST', body: JSON.stringify({ input: text }) });
      if (res.ok) return (await res.json()) as TeacherG2P;
    } catch {
      /* servers without /v1/g2p: the local reading is the best estimate */
    }
    return embeddedG2P(text);
  }

  async synthesize(task: TeacherTask, opts: SynthesizeOptions): Promise<SynthesisResult> {
    const body: SpeechRequest = {
      model: this.opts.model ?? 'glm-tts',
      input: task.text,
      voice: 'clone',
      response_format: 'wav',
      seed: opts.seed,
      sample_rate: opts.sampleRate,
    };
    if (task.promptAudio) {
      try {
        body.prompt_audio = await this.promptBase64(task.promptAudio);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        throw new TeacherError(
          `cannot use the prompt audio ${task.promptAudio}: ${code && code !== 'EUNSAFE' ? code : (err as Error).message}`,
          false,
        );
      }
    }
    if (task.promptText !== undefined) body.prompt_text = task.promptText;
    const res = await this.call('/v1/audio/speech', { method: 'POST', body: JSON.stringify(body), signal: opts.signal });
    if (!res.ok) throw await httpFailure(res);
    const { wav, header, converted } = await wavAnswer(res, opts.sampleRate, this.opts.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES);
    const phonemes = decodeHeader(res.headers.get(HEADER.phonemes));
    const readingsRaw = decodeHeader(res.headers.get(HEADER.readings));
    const cloned = res.headers.get(HEADER.cloned);
    const serverNote = decodeHeader(res.headers.get(HEADER.note));
    let g: TeacherG2P;
    const notes: string[] = [];
    const readings = phonemes !== undefined && readingsRaw !== undefined ? checkReadings(readingsRaw, task.text) : undefined;
    if (phonemes !== undefined && readings) {
      g = { text: task.text, readings, pinyin: readings.filter((r): r is string => !!r).join(' '), phonemes };
      // Who decided each reading, when the server says (X-TTS-Sources); otherwise unknown.
      const sources = checkSources(decodeHeader(res.headers.get(HEADER.sources)), task.text);
      g.sources = sources ?? readings.map((r) => (r ? null : 'none'));
      g.readingsFrom = 'teacher';
    } else {
      g = embeddedG2P(task.text);
      g.sources = g.readings.map((r) => (r ? null : 'none')); // estimates, not the teacher's
      g.readingsFrom = 'local-g2p';
      notes.push(
        readingsRaw === undefined || phonemes === undefined
          ? 'the server did not report its readings: readings and phonemes are the local G2P estimate'
          : "the server's X-TTS-Readings is not a list of one reading (or null) per character of the text: readings and phonemes are the local G2P estimate",
      );
    }
    if (serverNote) notes.unshift(serverNote);
    if (cloned === null && task.promptAudio) notes.push('the server did not say whether it cloned the prompt voice');
    const result: SynthesisResult = {
      ...g,
      wav,
      sampleRate: header.sampleRate,
      durationSeconds: header.durationSeconds,
      clonedVoice: cloned === null ? !!task.promptAudio : cloned === 'true',
      engine: decodeHeader(res.headers.get(HEADER.engine)) ?? `${this.opts.model ?? 'glm-tts'} @ ${this.base}`,
      // The server's dictionary is unknown unless it reports its sha256.
      dictionarySha256: /^[0-9a-f]{64}$/.test(res.headers.get(HEADER.dictionary) ?? '') ? res.headers.get(HEADER.dictionary)! : null,
    };
    if (!result.dictionarySha256) notes.push('the server did not report its G2P dictionary (X-TTS-Dictionary-Sha256): unknown');
    if (notes.length) result.note = notes.join('; ');
    if (converted) result.note = `${result.note ? result.note + '; ' : ''}the server's WAV was ${converted}`;
    return result;
  }

  async health(): Promise<TeacherHealth> {
    try {
      const res = await this.call('/health', { method: 'GET', signal: AbortSignal.timeout(5000) });
      if (res.ok) {
        const j = (await res.json().catch(() => ({}))) as Partial<TeacherHealth>;
        return {
          ok: j.ok !== false,
          backend: 'http',
          detail: `HTTP teacher at ${this.base}: ${j.detail ?? 'reachable'}`,
          ...(j.engine ? { engine: j.engine } : {}),
        };
      }
      if (res.status === 404) {
        const models = await this.call('/v1/models', { method: 'GET', signal: AbortSignal.timeout(5000) });
        return {
          ok: models.status < 500,
          backend: 'http',
          detail: `HTTP teacher at ${this.base}: ${models.ok ? 'reachable' : `HTTP ${models.status}`}`,
        };
      }
      return { ok: false, backend: 'http', detail: `HTTP teacher at ${this.base}: HTTP ${res.status} ${await errorText(res)}` };
    } catch (err) {
      return { ok: false, backend: 'http', detail: err instanceof Error ? err.message : String(err) };
    }
  }
}

export { DEFAULT_MAX_RESPONSE_BYTES, retryAfterMs } from './http/common';

const SOURCES = new Set(['dictionary', 'g2p', 'model', 'none']);

/** X-TTS-Sources: a JSON list with one of "dictionary" | "g2p" | "model" | "none" (or null) per UTF-16 unit of the text. */
function checkSources(raw: string | undefined, text: string): (ReadingSource | null)[] | undefined {
  if (raw === undefined) return undefined;
  try {
    const v = JSON.parse(raw) as unknown;
    if (Array.isArray(v) && v.length === text.length && v.every((x) => x === null || SOURCES.has(x as string)))
      return v as (ReadingSource | null)[];
  } catch {
    /* not JSON */
  }
  return undefined;
}

/** X-TTS-Readings as the protocol says: a JSON list with one tone-numbered reading or null per UTF-16 unit of the text. */
function checkReadings(raw: string, text: string): (string | null)[] | undefined {
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (!Array.isArray(v) || v.length !== text.length) return undefined;
  return v.every((r) => r === null || (typeof r === 'string' && r.length <= 16 && /^[a-zü:]+[1-5]?$/i.test(r)))
    ? (v as (string | null)[])
    : undefined;
}

function decodeHeader(v: string | null): string | undefined {
  if (v === null) return undefined;
  try {
    return decodeURIComponent(v);
  } catch {
    return v;
  }
}

export interface ServeOptions {
  port?: number;
  /** Only loopback by default: the server has no TLS. */
  host?: string;
  /** When set, requests must carry `Authorization: Bearer <token>`. */
  token?: string;
  log?(message: string): void;
}

const MAX_BODY = 64 * 1024 * 1024;

/** Serves `teacher` over the protocol above. Resolves once listening; `url` is the base URL. */
export async function serveTeacher(
  teacher: Teacher,
  opts: ServeOptions = {},
): Promise<{ server: Server; url: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    handle(teacher, opts, req, res).catch((err) => {
      opts.log?.(`teacher serve: ${err instanceof Error ? err.stack : String(err)}`);
      if (!res.headersSent) sendJson(res, 500, { error: { message: err instanceof Error ? err.message : String(err) } });
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const url = `http://${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}`;
  return {
    server,
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function handle(teacher: Teacher, opts: ServeOptions, req: IncomingMessage, res: ServerResponse) {
  const path = (req.url ?? '/').split('?')[0];
  if (opts.token && req.headers.authorization !== `Bearer ${opts.token}`)
    return sendJson(res, 401, { error: { message: 'missing or wrong bearer token' } });
  if (req.method === 'GET' && path === '/health') {
    const h = await teacher.health();
    return sendJson(res, h.ok ? 200 : 503, h);
  }
  if (req.method === 'GET' && path === '/v1/models')
    return sendJson(res, 200, { object: 'list', data: [{ id: `tts-distill-${teacher.kind}`, object: 'model' }] });
  if (req.method !== 'POST' || (path !== '/v1/audio/speech' && path !== '/v1/g2p'))
    return sendJson(res, 404, { error: { message: `no route ${req.method} ${path}` } });
  let body: Record<string, unknown>;
  try {
    const raw = await readBody(req);
    const v = JSON.parse(raw) as unknown;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('the body must be a JSON object');
    body = v as Record<string, unknown>;
  } catch (err) {
    return sendJson(res, 400, { error: { message: `bad request body: ${(err as Error).message}` } });
  }
  const input = body.input;
  if (typeof input !== 'string' || !input.trim()) return sendJson(res, 400, { error: { message: '"input" must be a non-empty string' } });
  if (path === '/v1/g2p') return sendJson(res, 200, await teacher.g2p(input));
  const format = body.response_format ?? 'wav';
  if (format !== 'wav')
    return sendJson(res, 400, { error: { message: `response_format "${String(format)}" is not supported; use "wav"` } });
  const sampleRate = body.sample_rate ?? 24000;
  if (sampleRate !== 24000 && sampleRate !== 32000) return sendJson(res, 400, { error: { message: 'sample_rate must be 24000 or 32000' } });
  const seed = body.seed ?? 42;
  if (typeof seed !== 'number' || !Number.isInteger(seed)) return sendJson(res, 400, { error: { message: 'seed must be an integer' } });
  if (body.prompt_audio !== undefined) {
    if (typeof body.prompt_audio !== 'string') return sendJson(res, 400, { error: { message: 'prompt_audio must be a base64 WAV' } });
    const audio = Buffer.from(body.prompt_audio, 'base64');
    try {
      parseWavHeader(audio, audio.length);
    } catch (err) {
      return sendJson(res, 400, { error: { message: `prompt_audio is not a WAV file: ${(err as Error).message}` } });
    }
  }
  const controller = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) controller.abort();
  });
  const task: TeacherTask = { line: 0, name: 'http', text: input };
  if (typeof body.prompt_text === 'string') task.promptText = body.prompt_text;
  let r: SynthesisResult;
  try {
    r = await teacher.synthesize(task, { seed, sampleRate, signal: controller.signal });
  } catch (err) {
    if (err instanceof TeacherError) return sendJson(res, err.transient ? 503 : 422, { error: { message: err.message } });
    throw err;
  }
  res.writeHead(200, {
    'content-type': 'audio/wav',
    'content-length': r.wav.length,
    [HEADER.phonemes]: encodeURIComponent(r.phonemes),
    [HEADER.readings]: encodeURIComponent(JSON.stringify(r.readings)),
    [HEADER.cloned]: String(r.clonedVoice),
    [HEADER.engine]: encodeURIComponent(r.engine),
    ...(r.note ? { [HEADER.note]: encodeURIComponent(r.note) } : {}),
    ...(r.sources ? { [HEADER.sources]: encodeURIComponent(JSON.stringify(r.sources)) } : {}),
    ...(r.dictionarySha256 ? { [HEADER.dictionary]: r.dictionarySha256 } : {}),
  });
  res.end(r.wav);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new Error('body larger than 64 MB'));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function sendJson(res: ServerResponse, status: number, value: unknown) {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
