/**
 * What the HTTP teachers share (ours in ../http.ts and the adapters for the community GLM-TTS
 * servers next to this file): a request that never follows redirects, answer bodies read under a
 * cap, the check of a WAV answer and its conversion to the batch's format, error bodies in the
 * shapes the servers send (ours `{error:{message}}`, FastAPI `{detail}`), readings from our G2P port
 * when a server reports none.
 */
import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import * as path from 'node:path';
import { decodeWav, encodeWav, mixDown, resample } from '../../audio/wav';
import { DEFAULT_PROMPT_MAX_BYTES, parseWavHeader, readPromptWav, type WavHeader, WavFormatError } from '../../audio/wavHeader';
import type { ReadingSource } from '../../pronunciation/teacherReadings';
import { embeddedG2P } from '../embeddedG2P';
import { TeacherError, type TeacherG2P } from '../types';

/** The default cap of an answer body (`ttsDistill.teacher.httpMaxResponseMegabytes`). */
export const DEFAULT_MAX_RESPONSE_BYTES = 256 * 1024 * 1024;

/** Reads a body, stopping (and failing the line) as soon as it passes `max` bytes: a 1 GiB answer is never held. */
export async function readCapped(res: Response, max: number): Promise<Uint8Array> {
  const declared = Number(res.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > max) {
    await res.body?.cancel().catch(() => undefined);
    throw new TeacherError(
      `the teacher's answer is ${declared} bytes, more than the limit of ${Math.round(max / 1048576)} MB (ttsDistill.teacher.httpMaxResponseMegabytes)`,
      false,
    );
  }
  if (!res.body) return new Uint8Array(0);
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > max) {
      await reader.cancel().catch(() => undefined);
      throw new TeacherError(
        `the teacher's answer passed the limit of ${Math.round(max / 1048576)} MB (ttsDistill.teacher.httpMaxResponseMegabytes): not kept`,
        false,
      );
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, size);
}

/** `Retry-After` in seconds or as an HTTP date, in ms from now (at most 10 minutes); undefined when absent or unreadable. */
export function retryAfterMs(v: string | null, now = Date.now()): number | undefined {
  if (!v) return undefined;
  const s = v.trim();
  const ms = /^\d+$/.test(s) ? Number(s) * 1000 : Date.parse(s) - now;
  return Number.isFinite(ms) ? Math.min(600_000, Math.max(0, ms)) : undefined;
}

/**
 * The words of an error answer, from at most 64 KiB of its body: `{"error":{"message"}}` or
 * `{"error":"…"}` (ours, OpenAI), `{"detail":"…"}` (FastAPI's HTTPException) or
 * `{"detail":[{"loc":[…],"msg":"…"}]}` (FastAPI's validation errors, HTTP 422); else the text.
 */
export async function errorText(res: Response): Promise<string> {
  const text = await readCapped(res, 64 * 1024)
    .then(
      (b) => Buffer.from(b).toString('utf8'),
      () => '',
    )
    .then((t) => t.slice(0, 500));
  try {
    const j = JSON.parse(text) as { error?: { message?: string } | string; detail?: unknown };
    const m = typeof j.error === 'string' ? j.error : j.error?.message;
    if (m) return m;
    if (typeof j.detail === 'string' && j.detail) return j.detail;
    if (Array.isArray(j.detail)) {
      const parts = j.detail.map((d: { loc?: unknown; msg?: unknown }) => {
        const loc = Array.isArray(d?.loc) ? d.loc.filter((x) => x !== 'body').join('.') : '';
        return `${loc ? loc + ': ' : ''}${typeof d?.msg === 'string' ? d.msg : JSON.stringify(d)}`;
      });
      if (parts.length) return parts.join('; ');
    }
  } catch {
    /* not JSON */
  }
  return text || res.statusText;
}

/**
 * fetch without following redirects (a redirect to another host would carry the prompt audio and
 * the token there); a connection failure is a transient TeacherError, an abort is rethrown as is.
 */
export async function callTeacher(
  base: string,
  path: string,
  init: { method: string; body?: RequestInit['body']; headers?: Record<string, string>; signal?: AbortSignal },
): Promise<Response> {
  try {
    return await fetch(base + path, {
      method: init.method,
      body: init.body ?? null,
      headers: init.headers ?? {},
      signal: init.signal ?? null,
      redirect: 'manual',
    });
  } catch (err) {
    if (init.signal?.aborted) throw init.signal.reason ?? err;
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    throw new TeacherError(`cannot reach the HTTP teacher at ${base}: ${cause?.code ?? cause?.message ?? (err as Error).message}`, true);
  }
}

/**
 * A non-2xx answer as a TeacherError: redirects are refused (permanent), 408/429/5xx are transient
 * (retried, with the server's Retry-After), the rest permanent; `explain` may add what the status
 * means for this server (e.g. an expired token).
 */
export async function httpFailure(res: Response, explain?: (status: number, detail: string) => string | undefined): Promise<TeacherError> {
  if (res.status >= 300 && res.status < 400) {
    await res.body?.cancel().catch(() => undefined);
    return new TeacherError(
      `HTTP ${res.status} from the teacher: redirects are not followed (the request carries the prompt audio); set the teacher URL to ${res.headers.get('location') ?? 'the final address'} if you trust it`,
      false,
    );
  }
  const detail = await errorText(res);
  const extra = explain?.(res.status, detail);
  const err = new TeacherError(
    `HTTP ${res.status} from the teacher: ${detail}${extra ? ` (${extra})` : ''}`,
    res.status === 408 || res.status === 429 || res.status >= 500,
  );
  const after = retryAfterMs(res.headers.get('retry-after'));
  if (after !== undefined) err.retryAfterMs = after;
  return err;
}

/**
 * Checks that a 2xx answer is one complete WAV and brings it to the batch's format (16-bit mono
 * PCM at `sampleRate`): `converted` says from what, when it had to. Bad audio is a transient failure.
 */
export async function wavAnswer(
  res: Response,
  sampleRate: number,
  maxBytes: number,
): Promise<{ wav: Uint8Array; header: WavHeader; converted?: string }> {
  let wav: Uint8Array = await readCapped(res, maxBytes);
  let header: WavHeader;
  try {
    header = parseWavHeader(wav, wav.length);
  } catch (err) {
    const ct = res.headers.get('content-type') ?? 'no content type';
    throw new TeacherError(
      `the teacher's answer is not a WAV file (${ct}, ${wav.length} bytes): ${err instanceof WavFormatError ? err.message : String(err)}`,
      true,
    );
  }
  if (header.truncated || header.dataBytes === 0)
    throw new TeacherError(`the teacher's WAV is ${header.truncated ? 'truncated' : 'empty'}`, true);
  const end = header.dataOffset + header.dataBytes + (header.dataBytes & 1);
  if (wav.length > end) throw new TeacherError(`the teacher's WAV has ${wav.length - end} byte(s) after its data chunk: not kept`, true);
  if (header.sampleRate === sampleRate && header.channels === 1 && header.bitsPerSample === 16 && header.formatCode === 1)
    return { wav, header };
  // Every output of a batch has the same format, whatever the server sends.
  try {
    const d = decodeWav(wav);
    wav = encodeWav(resample(mixDown(d.channels), d.sampleRate, sampleRate), sampleRate);
  } catch (err) {
    throw new TeacherError(`the teacher's WAV cannot be read: ${(err as Error).message}`, true);
  }
  const converted = `converted from ${header.sampleRate} Hz, ${header.channels} channel(s), ${header.bitsPerSample}-bit`;
  return { wav, header: parseWavHeader(wav, wav.length), converted };
}

/**
 * Readings for a server that reports none: our port of GLM-TTS's G2P (pinyin-pro + the able list,
 * no dictionary: the server's is unknown). `decidedBy` says who really decided each Han reading:
 * 'estimate' (unknown: sources null, the readings are a local estimate), or 'model' (the server
 * sends plain text to GLM-TTS's language model, which reads every character: the readings are
 * hints, and the text itself is what the teacher saw).
 */
export function localReadings(text: string, decidedBy: 'estimate' | 'model'): TeacherG2P {
  const g = embeddedG2P(text);
  if (decidedBy === 'model') {
    g.sources = g.readings.map((r): ReadingSource => (r ? 'model' : 'none'));
    g.phonemes = text;
  } else {
    g.sources = g.readings.map((r) => (r ? null : 'none'));
  }
  return g;
}

/**
 * Prompt WAVs as the servers get them: thousands of lines share a few prompts, each is read (a
 * regular file under the size cap with a RIFF/WAVE header, never a FIFO or /etc/passwd) and
 * hashed once, again when it changes.
 */
export class PromptFiles {
  private readonly cache = new Map<string, { key: string; data: Buffer; sha256: string }>();
  constructor(private readonly maxBytes = DEFAULT_PROMPT_MAX_BYTES) {}

  async read(file: string): Promise<{ data: Buffer; sha256: string }> {
    try {
      const st = await stat(file);
      const key = `${st.mtimeMs}:${st.size}`;
      const hit = this.cache.get(file);
      if (hit?.key === key) return hit;
      const data = (await readPromptWav(file, this.maxBytes)).data;
      const entry = { key, data, sha256: createHash('sha256').update(data).digest('hex') };
      if (this.cache.size >= 64) this.cache.delete(this.cache.keys().next().value!);
      this.cache.set(file, entry);
      return entry;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new TeacherError(`cannot use the prompt audio ${file}: ${code && code !== 'EUNSAFE' ? code : (err as Error).message}`, false);
    }
  }
}

/** The file name a prompt is uploaded under: the servers look only at its extension (.wav). */
export function uploadName(file: string): string {
  const base = path.basename(file);
  return /^[\w.-]{1,100}\.wav$/i.test(base) ? base : 'prompt.wav';
}

/** A small JSON answer (voice metadata, health), read under a 1 MiB cap; {} when it is not JSON. */
export async function jsonAnswer(res: Response, max = 1024 * 1024): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = Buffer.from(await readCapped(res, max)).toString('utf8');
  } catch (err) {
    if (!(err instanceof TeacherError)) throw err;
    throw new TeacherError(
      `the teacher's JSON answer to ${new URL(res.url || 'http://x/').pathname} is larger than ${Math.round(max / 1024)} KiB: not read`,
      false,
    );
  }
  try {
    const v = JSON.parse(text) as unknown;
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
