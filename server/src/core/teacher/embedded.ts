/**
 * The embedded teacher: offline, no GPU. G2P = pinyin-pro + the workspace G2P dictionary; audio =
 * espeak-ng (WebAssembly, Mandarin voice `cmn`) fed with those readings as tone-numbered pinyin,
 * so a dictionary rule is heard as well as recorded. espeak-ng is GPL-3.0 and therefore an
 * optional dependency; without it a small built-in tone sketch speaks each syllable with its
 * tone contour, and every output says which engine made it. It never clones the prompt voice.
 */
import { pathToFileURL } from 'node:url';
import { encodeWav, resample } from '../audio/wav';
import { embeddedG2P, loadReplaceDict, type ReplaceDict } from './g2p';
import { type SynthesisResult, type SynthesizeOptions, type Teacher, TeacherError, type TeacherG2P, type TeacherHealth, type TeacherTask } from './types';

export interface EmbeddedTeacherOptions {
  /** The workspace G2P dictionary (either dialect); re-read when its mtime changes. Missing file: no dictionary. */
  dictionaryFile?: string;
  /** A dictionary given directly (tests); wins over `dictionaryFile`. */
  dict?: ReplaceDict;
  /** `auto` uses espeak-ng when installed; `sketch` forces the built-in synthesiser. */
  engine?: 'auto' | 'sketch';
  log?(message: string): void;
}

export const NOT_CLONED = 'The embedded teacher cannot clone voices: the prompt audio was not used.';
const ESPEAK_MODULE = '@echogarden/espeak-ng-emscripten';

interface EspeakWorker {
  set_voice(name: string): number;
  get_samplerate(): number;
  synthesize(text: string, cb: (samples: Int16Array, events: unknown[]) => boolean): void;
}
interface EspeakModule { eSpeakNGWorker: new () => EspeakWorker; HEAPU8: Uint8Array }
interface Espeak { worker: EspeakWorker; sampleRate: number; version: string; module: EspeakModule; snapshot: Uint8Array }

// One WebAssembly instance per process: loading it costs ~60 ms and 24 MB of voice data.
let espeakPromise: Promise<Espeak | { error: string }> | undefined;

// A real dynamic import that the CommonJS bundle keeps as such: the module is ESM and stays outside the bundle.
const importEsm = new Function('url', 'return import(url)') as (url: string) => Promise<{ default: (opts?: object) => Promise<EspeakModule> }>;

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
      } catch { /* the version is only informative */ }
      // espeak-ng carries state from one utterance to the next (its output drifts by a few samples),
      // so the heap is snapshotted once, warmed up, and restored before every utterance: the same
      // text then always gives the same bytes, whatever ran before and in which order.
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

  private async engine(): Promise<Espeak | { error: string }> {
    const e = this.opts.engine === 'sketch' ? { error: 'built-in tone sketch requested' } : await loadEspeak();
    if (!this.announced) {
      this.announced = true;
      this.opts.log?.('error' in e
        ? `Embedded teacher: ${e.error}; speaking with the built-in tone sketch (a placeholder voice, not speech).`
        : `Embedded teacher: espeak-ng (WebAssembly, ${ESPEAK_MODULE} ${e.version}, voice cmn, ${e.sampleRate} Hz).`);
    }
    return e;
  }

  async synthesize(task: TeacherTask, opts: SynthesizeOptions): Promise<SynthesisResult> {
    opts.signal?.throwIfAborted();
    if (!task.text.trim()) throw new TeacherError('the text is empty: nothing to speak', false);
    const g = await this.g2p(task.text);
    const e = await this.engine();
    opts.signal?.throwIfAborted();
    let samples: Float32Array, rate: number, engine: string, note: string;
    if ('error' in e) {
      rate = SKETCH_RATE;
      samples = toneSketch(g, opts.seed);
      engine = 'built-in tone sketch';
      note = `${NOT_CLONED} ${e.error}: the audio is a tone sketch of the readings, not speech.`;
    } else {
      rate = e.sampleRate;
      samples = speak(e, espeakInput(g));
      engine = `espeak-ng cmn (${ESPEAK_MODULE}${e.version ? ' ' + e.version : ''})`;
      note = NOT_CLONED;
    }
    if (samples.length === 0) throw new TeacherError('the synthesiser produced no audio for this text', false);
    const out = rate === opts.sampleRate ? samples : resample(samples, rate, opts.sampleRate);
    return { ...g, wav: encodeWav(out, opts.sampleRate), sampleRate: opts.sampleRate, durationSeconds: out.length / opts.sampleRate, clonedVoice: false, note, engine };
  }

  async health(): Promise<TeacherHealth> {
    const e = await this.engine();
    return 'error' in e
      ? { ok: true, backend: 'embedded', engine: 'built-in tone sketch', detail: `Embedded teacher (offline): ${e.error}; built-in tone sketch in use. Cannot clone voices.` }
      : { ok: true, backend: 'embedded', engine: `espeak-ng cmn (${ESPEAK_MODULE} ${e.version})`, detail: `Embedded teacher (offline): espeak-ng voice cmn. Cannot clone voices.` };
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

function speak(e: Espeak, text: string): Float32Array {
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
  '1': [230, 230, 230], '2': [170, 200, 245], '3': [180, 140, 185], '4': [260, 210, 150], '5': [185, 180, 175],
};

/**
 * A placeholder voice, MIT, no dependencies: each syllable is a voiced tone (a few harmonics under a
 * vowel-like formant envelope) following its tone's contour; punctuation is a pause. Deterministic
 * for a given seed.
 */
export function toneSketch(g: TeacherG2P, seed: number): Float32Array {
  let rnd = (seed >>> 0) || 1;
  const noise = () => {
    rnd ^= rnd << 13; rnd ^= rnd >>> 17; rnd ^= rnd << 5;
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
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}
