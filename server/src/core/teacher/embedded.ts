/**
 * The embedded teacher: offline, no GPU. G2P = pinyin-pro + the workspace G2P dictionary; audio =
 * espeak-ng (WebAssembly, Mandarin voice `cmn`) fed with those readings as tone-numbered pinyin,
 * so a dictionary rule is heard as well as recorded. espeak-ng is GPL-3.0 and therefore an
 * optional dependency; without it a small built-in tone sketch speaks each syllable with its
 * tone contour, and every output says which engine made it. It never clones the prompt voice.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Worker } from 'node:worker_threads';
import { startWorker } from '../util/worker';
import { encodeWav, resample } from '../audio/wav';
import { embeddedG2P } from './embeddedG2P';
import { loadReplaceDict, type ReplaceDict } from '../pronunciation/dictionary';
import { dictionaryFileSha256 } from './dictionaryInstall';
import {
  type SynthesisResult,
  type SynthesizeOptions,
  type Teacher,
  TeacherError,
  type TeacherG2P,
  type TeacherHealth,
  type TeacherTask,
} from './types';

export interface EmbeddedTeacherOptions {
  /** The workspace G2P dictionary (either dialect); re-read when its mtime changes. Missing file: no dictionary. */
  dictionaryFile?: string;
  /** A dictionary given directly (tests); wins over `dictionaryFile`. */
  dict?: ReplaceDict;
  /** `auto` uses espeak-ng when installed; `sketch` forces the built-in synthesiser. */
  engine?: 'auto' | 'sketch';
  /** Worker threads that render audio (0: in this thread). */
  workers?: number;
  log?(message: string): void;
}

export const NOT_CLONED = 'The embedded teacher cannot clone voices: the prompt audio was not used.';
const ESPEAK_MODULE = '@echogarden/espeak-ng-emscripten';

interface EspeakWorker {
  set_voice(name: string): number;
  get_samplerate(): number;
  synthesize(text: string, cb: (samples: Int16Array, events: unknown[]) => boolean): void;
}
interface EspeakModule {
  eSpeakNGWorker: new () => EspeakWorker;
  HEAPU8: Uint8Array;
}
interface Espeak {
  worker: EspeakWorker;
  sampleRate: number;
  version: string;
  module: EspeakModule;
  snapshot: Uint8Array;
}

// One WebAssembly instance per process: loading it costs ~60 ms and 24 MB of voice data.
let espeakPromise: Promise<Espeak | { error: string }> | undefined;

// A real dynamic import that the CommonJS bundle keeps as such: the module is ESM and stays outside the bundle.
const importEsm = new Function('url', 'return import(url)') as (
  url: string,
) => Promise<{ default: (opts?: object) => Promise<EspeakModule> }>;

function loadEspeak(): Promise<Espeak | { error: string }> {
  espeakPromise ??= (async () => {
    let file: string;
    try {
      file = require.resolve(ESPEAK_MODULE);
    } catch {
      return { error: `${ESPEAK_MODULE} is not installed (optional, GPL-3.0)` };
    }
    try {
      const mod = await importEsm(pathToFileURL(file).href);
      const m = await mod.default({ print: () => undefined, printErr: () => undefined });
      const worker = new m.eSpeakNGWorker();
      if (worker.set_voice('cmn') !== 0) return { error: 'espeak-ng has no Mandarin voice (cmn)' };
      let version = '';
      try {
        version = (require(require.resolve(`${ESPEAK_MODULE}/package.json`)) as { version: string }).version;
      } catch {
        /* the version is only informative */
      }
      // espeak-ng carries state from one utterance to the next (its output drifts by a few samples),
      // so the heap is snapshotted once, warmed up, and restored before every utterance: the same
      // text then always gives the same bytes, whatever ran before and in which order.
      // The WebIDL glue keeps one piece of state outside the heap: the buffer its strings are copied
      // into (`ensureCache`, JS-side pointers into the heap). A text longer than that buffer made the
      // glue free and re-allocate it — after a restore, in memory the restored allocator considers
      // free — so espeak overwrote the text it was reading and the next utterances were cut short
      // (1.45 s instead of 7.41 s). The buffer is grown once, before the snapshot, to hold any text
      // up to MAX_ESPEAK_INPUT_BYTES; longer texts are refused, so the glue never allocates again.
      worker.set_voice('x'.repeat(MAX_ESPEAK_INPUT_BYTES)); // fails (no such voice); its argument sizes the string buffer
      if (worker.set_voice('cmn') !== 0) return { error: 'espeak-ng has no Mandarin voice (cmn)' }; // re-allocates the buffer at full size
      speakRaw(worker, 'ni3 hao3');
      return { worker, sampleRate: worker.get_samplerate(), version, module: m, snapshot: m.HEAPU8.slice() };
    } catch (err) {
      return { error: `espeak-ng failed to load: ${err instanceof Error ? err.message : String(err)}` };
    }
  })();
  return espeakPromise;
}

export class EmbeddedTeacher implements Teacher {
  readonly kind = 'embedded' as const;
  private announced = false;
  private pool: SynthPool | undefined;

  constructor(private readonly opts: EmbeddedTeacherOptions = {}) {}

  private async dictionary(): Promise<ReplaceDict | undefined> {
    if (this.opts.dict) return this.opts.dict;
    if (!this.opts.dictionaryFile) return undefined;
    try {
      return await loadReplaceDict(this.opts.dictionaryFile);
    } catch {
      return undefined; // no dictionary yet: the model's readings stand
    }
  }

  async g2p(text: string): Promise<TeacherG2P> {
    return embeddedG2P(text, await this.dictionary());
  }

  private announce(engine: string, note: string) {
    if (this.announced) return;
    this.announced = true;
    this.opts.log?.(
      engine === SKETCH_ENGINE
        ? `Embedded teacher: ${note.replace(NOT_CLONED + ' ', '')} (built-in tone sketch: a placeholder voice).`
        : `Embedded teacher: ${engine}, WebAssembly. ${NOT_CLONED.replace(': the prompt audio was not used', '')}`,
    );
  }

  private get mode(): 'auto' | 'sketch' {
    return this.opts.engine ?? 'auto';
  }

  async synthesize(task: TeacherTask, opts: SynthesizeOptions): Promise<SynthesisResult> {
    opts.signal?.throwIfAborted();
    if (!task.text.trim()) throw new TeacherError('the text is empty: nothing to speak', false);
    const g = await this.g2p(task.text);
    opts.signal?.throwIfAborted();
    const workers = this.opts.workers ?? 0;
    if (workers > 0 && !this.pool) this.pool = SynthPool.create(workers);
    const audio = this.pool
      ? await this.pool.render(g, opts.seed, opts.sampleRate, this.mode)
      : await renderAudio(g, opts.seed, opts.sampleRate, this.mode);
    this.announce(audio.engine, audio.note);
    return { ...g, ...audio, sampleRate: opts.sampleRate, clonedVoice: false, dictionarySha256: await this.dictionarySha256() };
  }

  private shaOf: { version: string; sha: string | null } | undefined;
  /** sha256 of the dictionary in the form GLM-TTS would read it (the same figure a glmtts-cli run records); null for a dictionary given directly. */
  private async dictionarySha256(): Promise<string | null> {
    if (this.opts.dict) return null;
    const version = (await this.dictionary())?.version ?? 'none';
    if (this.shaOf?.version !== version) this.shaOf = { version, sha: await dictionaryFileSha256(this.opts.dictionaryFile) };
    return this.shaOf.sha;
  }

  /** Cheap: asks a running worker, else checks that espeak-ng is installed without loading it (the status bar asks often). */
  async health(): Promise<TeacherHealth> {
    const e = this.pool ? await this.pool.engineInfo(this.mode) : espeakPromise ? await engineInfo(this.mode) : installedEngine(this.mode);
    return e.engine === SKETCH_ENGINE
      ? {
          ok: true,
          backend: 'embedded',
          engine: e.engine,
          detail: `Embedded teacher (offline): ${e.reason}; built-in tone sketch in use. Cannot clone voices.`,
        }
      : { ok: true, backend: 'embedded', engine: e.engine, detail: `Embedded teacher (offline): ${e.engine}. Cannot clone voices.` };
  }

  async close(): Promise<void> {
    await this.pool?.close();
    this.pool = undefined;
  }
}

const SKETCH_ENGINE = 'built-in tone sketch';

/** Which engine speaks in this thread, and why not espeak-ng when it does not. */
export async function engineInfo(mode: 'auto' | 'sketch'): Promise<{ engine: string; reason?: string }> {
  const e = mode === 'sketch' ? { error: 'built-in tone sketch requested' } : await loadEspeak();
  return 'error' in e ? { engine: SKETCH_ENGINE, reason: e.error } : { engine: espeakName(e) };
}

function installedEngine(mode: 'auto' | 'sketch'): { engine: string; reason?: string } {
  if (mode === 'sketch') return { engine: SKETCH_ENGINE, reason: 'built-in tone sketch requested' };
  try {
    const { version } = require(require.resolve(`${ESPEAK_MODULE}/package.json`)) as { version: string };
    return { engine: `espeak-ng cmn (${ESPEAK_MODULE} ${version})` };
  } catch {
    return { engine: SKETCH_ENGINE, reason: `${ESPEAK_MODULE} is not installed (optional, GPL-3.0)` };
  }
}

function espeakName(e: Espeak): string {
  return `espeak-ng cmn (${ESPEAK_MODULE}${e.version ? ' ' + e.version : ''})`;
}

export interface RenderedAudio {
  wav: Uint8Array;
  durationSeconds: number;
  engine: string;
  note: string;
}

/** The audio for a G2P result, at `sampleRate` as 16-bit mono WAV: CPU work, run in this thread (or a worker's). */
export async function renderAudio(g: TeacherG2P, seed: number, sampleRate: number, mode: 'auto' | 'sketch'): Promise<RenderedAudio> {
  const e = mode === 'sketch' ? { error: 'built-in tone sketch requested' } : await loadEspeak();
  let samples: Float32Array, rate: number, engine: string, note: string;
  if ('error' in e) {
    rate = SKETCH_RATE;
    samples = toneSketch(g, seed);
    engine = SKETCH_ENGINE;
    note = `${NOT_CLONED} ${e.error}: the audio is a tone sketch of the readings, not speech.`;
  } else {
    rate = e.sampleRate;
    samples = speak(e, espeakInput(g));
    engine = espeakName(e);
    note = NOT_CLONED;
  }
  if (samples.length === 0) throw new TeacherError('the synthesiser produced no audio for this text', false);
  const out = rate === sampleRate ? samples : resample(samples, rate, sampleRate);
  return { wav: encodeWav(out, sampleRate), durationSeconds: out.length / sampleRate, engine, note };
}

export type PoolRequest =
  | { id: number; kind: 'render'; g: TeacherG2P; seed: number; sampleRate: number; mode: 'auto' | 'sketch' }
  | { id: number; kind: 'engine'; mode: 'auto' | 'sketch' };
export type PoolReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; message: string; transient: boolean };

/**
 * Worker threads that render audio, so that synthesis neither blocks the language server nor
 * waits for one core. Each worker holds its own espeak-ng instance (restored to the same heap
 * snapshot before every utterance), so the bytes do not depend on which worker spoke.
 */
class SynthPool {
  private readonly workers: Array<{ worker: Worker; pending: Set<number> } | undefined>;
  private readonly waiting = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  private nextId = 1;

  private constructor(
    private readonly file: string,
    size: number,
  ) {
    this.workers = new Array(size).fill(undefined);
  }

  /** A pool when the worker script is there (bundled as dist/synthWorker.js, or the source under tsx). */
  static create(size: number): SynthPool | undefined {
    const file = [path.join(__dirname, 'synthWorker.js'), path.join(__dirname, 'synthWorker.ts')].find((f) => existsSync(f));
    return file ? new SynthPool(file, size) : undefined;
  }

  private slot(): { worker: Worker; pending: Set<number> } {
    let best = 0;
    for (let i = 0; i < this.workers.length; i++) {
      const w = this.workers[i];
      if (!w) {
        best = i;
        break;
      }
      if (w.pending.size < this.workers[best]!.pending.size) best = i;
    }
    let s = this.workers[best];
    if (!s) {
      // Running from the TypeScript sources (tests): the worker registers tsx itself, as loader hooks do not reach workers.
      const worker = startWorker(this.file);
      worker.unref();
      s = { worker, pending: new Set() };
      const slot = s;
      worker.on('message', (m: PoolReply) => {
        slot.pending.delete(m.id);
        const w = this.waiting.get(m.id);
        this.waiting.delete(m.id);
        if (!w) return;
        if (m.ok) w.resolve(m.value);
        else w.reject(new TeacherError(m.message, m.transient));
      });
      const fail = (why: string) => {
        this.workers[best] = undefined;
        for (const id of slot.pending) {
          this.waiting.get(id)?.reject(new TeacherError(`the synthesis worker ${why}`, true));
          this.waiting.delete(id);
        }
        slot.pending.clear();
      };
      worker.on('error', (err) => fail(`failed: ${err.message}`));
      worker.on('exit', (code) => fail(`exited with code ${code}`));
      this.workers[best] = s;
    }
    return s;
  }

  private call<T>(req: PoolRequest extends infer R ? (R extends unknown ? Omit<R, 'id'> : never) : never): Promise<T> {
    const id = this.nextId++;
    const s = this.slot();
    s.pending.add(id);
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      s.worker.postMessage({ ...req, id });
    });
  }

  render(g: TeacherG2P, seed: number, sampleRate: number, mode: 'auto' | 'sketch'): Promise<RenderedAudio> {
    return this.call<RenderedAudio>({ kind: 'render', g, seed, sampleRate, mode });
  }

  engineInfo(mode: 'auto' | 'sketch'): Promise<{ engine: string; reason?: string }> {
    return this.call({ kind: 'engine', mode });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w?.worker.terminate()));
    this.workers.fill(undefined);
  }
}

/** espeak-ng's Mandarin voice reads tone-numbered pinyin, so the teacher's readings (dictionary included) are what is heard. */
export function espeakInput(g: TeacherG2P): string {
  let s = '';
  for (let i = 0; i < g.text.length; i++) {
    const r = g.readings[i];
    s += r ? ` ${r} ` : g.text[i];
  }
  return s.replace(/ +/g, ' ').trim();
}

/** Longest espeak-ng input (UTF-8 bytes): the string buffer of the WebIDL glue is sized for it before the heap snapshot. */
export const MAX_ESPEAK_INPUT_BYTES = 256 * 1024;

function speak(e: Espeak, text: string): Float32Array {
  // +1 for the terminating NUL, +8 for the glue's alignment: a longer text would make the glue re-allocate outside the snapshot.
  if (Buffer.byteLength(text, 'utf8') + 9 >= MAX_ESPEAK_INPUT_BYTES) {
    throw new TeacherError(
      `the text is too long for the embedded teacher (${Buffer.byteLength(text, 'utf8')} bytes of espeak-ng input, at most ${MAX_ESPEAK_INPUT_BYTES - 9}): split the line`,
      false,
    );
  }
  const heap = e.module.HEAPU8;
  heap.set(e.snapshot);
  if (heap.length > e.snapshot.length) heap.fill(0, e.snapshot.length);
  return speakRaw(e.worker, text);
}

function speakRaw(worker: EspeakWorker, text: string): Float32Array {
  const chunks: Int16Array[] = [];
  worker.synthesize(text, (samples) => {
    if (samples.length) chunks.push(samples);
    return false;
  });
  let n = 0;
  for (const c of chunks) n += c.length;
  const out = new Float32Array(n);
  let o = 0;
  for (const c of chunks) for (let i = 0; i < c.length; i++) out[o++] = c[i]! / 32768;
  return out;
}

const SKETCH_RATE = 16000;
/** F0 contours (start, middle, end, in Hz) of the four tones and the neutral tone. */
const CONTOURS: Record<string, [number, number, number]> = {
  '1': [230, 230, 230],
  '2': [170, 200, 245],
  '3': [180, 140, 185],
  '4': [260, 210, 150],
  '5': [185, 180, 175],
};

/**
 * A placeholder voice, MIT, no dependencies: each syllable is a voiced tone (a few harmonics under a
 * vowel-like formant envelope) following its tone's contour; punctuation is a pause. Deterministic
 * for a given seed.
 */
export function toneSketch(g: TeacherG2P, seed: number): Float32Array {
  let rnd = seed >>> 0 || 1;
  const noise = () => {
    rnd ^= rnd << 13;
    rnd ^= rnd >>> 17;
    rnd ^= rnd << 5;
    return ((rnd >>> 0) / 0xffffffff) * 2 - 1;
  };
  const parts: Float32Array[] = [new Float32Array(SKETCH_RATE * 0.1)];
  for (let i = 0; i < g.text.length; i++) {
    const r = g.readings[i];
    const ch = g.text[i]!;
    if (r) {
      const tone = /[1-5]$/.exec(r)?.[0] ?? '5';
      const [a, b, c] = CONTOURS[tone]!;
      const n = Math.round(SKETCH_RATE * (tone === '5' ? 0.14 : 0.24));
      const seg = new Float32Array(n);
      let phase = 0;
      for (let k = 0; k < n; k++) {
        const t = k / n;
        const f0 = t < 0.5 ? a + (b - a) * t * 2 : b + (c - b) * (t - 0.5) * 2;
        phase += (2 * Math.PI * f0) / SKETCH_RATE;
        const env = Math.sin(Math.PI * Math.min(1, t * 1.15)) ** 0.6;
        let v = 0;
        for (let h = 1; h <= 6; h++) {
          const fh = f0 * h;
          const formant = Math.exp(-(((fh - 700) / 500) ** 2)) + 0.5 * Math.exp(-(((fh - 1200) / 400) ** 2)) + 0.2;
          v += (formant * Math.sin(phase * h)) / h;
        }
        seg[k] = 0.3 * env * v + 0.003 * noise();
      }
      parts.push(seg);
    } else if (/[，。！？、；：,.!?;:\s]/.test(ch)) {
      parts.push(new Float32Array(Math.round(SKETCH_RATE * (/[，、,\s]/.test(ch) ? 0.12 : 0.25))));
    } else if (/[A-Za-z0-9]/.test(ch)) {
      parts.push(new Float32Array(Math.round(SKETCH_RATE * 0.06)).map(() => 0.02 * noise()));
    }
  }
  parts.push(new Float32Array(SKETCH_RATE * 0.1));
  let total = 0;
  for (const p of parts) total += p.length;
  const out = new Float32Array(total);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
