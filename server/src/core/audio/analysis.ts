import { readFile, stat } from 'node:fs/promises';
import { decodeWav, mixDown, WavFormatError } from './wav';
import { levels, melSpectrogram, nextPow2, peaks, stftFrameCount } from './dsp';
import type { AudioAnalysis, AudioAnalysisResult, AudioProblem } from './previewTypes';

export type { AudioAnalysis, AudioAnalysisResult, AudioProblem } from './previewTypes';

export interface AnalysisOptions {
  /** Waveform buckets; default 4096 (enough for a full-width panel on a 4K screen). */
  buckets?: number;
  /** Most spectrogram columns; longer files sample this many STFT frames evenly. Default 2048. */
  maxColumns?: number;
  nMels?: number;
  dynamicRangeDb?: number;
}

const MAX_LANES = 8;

/**
 * The preview's analysis of a WAV file's bytes: format, levels, decimated min/max peaks per
 * channel, and a log-mel spectrogram of the channel mix with at most `maxColumns` columns, so
 * that the cost and the size of the answer stay flat however long the file is.
 */
export function analyseWavBytes(buf: Uint8Array, file: { path: string; mtimeMs: number; sizeBytes: number }, opts: AnalysisOptions = {}): AudioAnalysis {
  const t0 = performance.now();
  const wav = decodeWav(buf);
  const buckets = opts.buckets ?? 4096;
  const maxColumns = opts.maxColumns ?? 2048;
  const nMels = opts.nMels ?? 80;
  const range = opts.dynamicRangeDb ?? 80;
  const lvl = levels(wav.channels);

  const laneSources = wav.channels.length <= MAX_LANES
    ? wav.channels
    : [...wav.channels.slice(0, MAX_LANES - 1), mixDown(wav.channels.slice(MAX_LANES - 1))];
  const lanes = laneSources.map((ch) => {
    const p = peaks(ch, buckets);
    return { min: toInt16Base64(p.min), max: toInt16Base64(p.max) };
  });

  const mono = mixDown(wav.channels);
  const sr = wav.sampleRate;
  const hopSize = Math.max(1, Math.round(sr * 0.01));
  const winLength = Math.round(sr * 0.025);
  const fftSize = nextPow2(winLength);
  const total = stftFrameCount(mono.length, { hopSize, fftSize });
  const columns = Math.min(total, maxColumns);
  let frameIndices: Uint32Array | undefined;
  if (columns < total) {
    frameIndices = new Uint32Array(columns);
    for (let c = 0; c < columns; c++) frameIndices[c] = Math.round((c * (total - 1)) / Math.max(1, columns - 1));
  }
  const mel = melSpectrogram(mono, sr, { hopSize, winLength, fftSize, nMels, frameIndices });
  let dbMax = -Infinity;
  for (const f of mel.frames) for (const v of f) if (v > dbMax) dbMax = v;
  if (!Number.isFinite(dbMax)) dbMax = -100;
  const q = new Uint8Array(mel.frames.length * nMels);
  const scale = 255 / range;
  mel.frames.forEach((f, c) => {
    for (let m = 0; m < nMels; m++) q[c * nMels + m] = Math.max(0, Math.min(255, Math.round((f[m]! - dbMax + range) * scale)));
  });
  const columnSeconds = frameIndices && columns > 1 ? ((total - 1) * mel.hopSeconds) / (columns - 1) : mel.hopSeconds;

  const finite = (x: number) => (Number.isFinite(x) ? x : null);
  return {
    ...file,
    sampleRate: sr,
    channels: wav.channels.length,
    bitsPerSample: wav.bitsPerSample,
    format: wav.format,
    durationSeconds: wav.durationSeconds,
    truncated: wav.truncated,
    peakDbfs: finite(lvl.peakDbfs),
    rmsDbfs: finite(lvl.rmsDbfs),
    clippedSamples: lvl.clippedSamples,
    waveform: { buckets, lanes },
    spectrogram: { frames: mel.frames.length, nMels, columnSeconds, fMaxHz: sr / 2, data: base64(q), dbMax, dynamicRangeDb: range },
    elapsedMs: performance.now() - t0,
  };
}

function toInt16Base64(x: Float32Array): string {
  const out = new Int16Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = Math.max(-32767, Math.min(32767, Math.round(x[i]! * 32767)));
  return base64(new Uint8Array(out.buffer));
}

function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/** Decodes what `analyseWavBytes` encoded (tests and the webview use the same layout). */
export function fromBase64(s: string): Uint8Array {
  const b = Buffer.from(s, 'base64');
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/**
 * Analyses of files, computed once per path, mtime and size (a rewritten file is analysed again),
 * least recently used dropped first. Concurrent requests for the same file share one analysis.
 */
export class AudioAnalysisCache {
  private readonly entries = new Map<string, { key: string; result: Promise<AudioAnalysisResult> }>();

  constructor(private readonly capacity = 32, private readonly opts: AnalysisOptions = {}) {}

  async analyse(path: string): Promise<AudioAnalysisResult> {
    let st;
    try {
      st = await stat(path);
    } catch (err) {
      return { ok: false, problem: problemOf(path, err) };
    }
    if (!st.isFile()) return { ok: false, problem: { path, kind: 'unreadable', message: 'This is not a file.' } };
    const key = `${st.mtimeMs}:${st.size}`;
    const hit = this.entries.get(path);
    if (hit && hit.key === key) {
      this.entries.delete(path);
      this.entries.set(path, hit);
      const r = await hit.result;
      return r.ok ? { ...r, cached: true } : r;
    }
    const result = (async (): Promise<AudioAnalysisResult> => {
      try {
        if (st.size === 0) return { ok: false, problem: { path, kind: 'empty', message: 'The file is empty (0 bytes): the recording or the synthesis did not write anything.' } };
        const buf = await readFile(path);
        const analysis = analyseWavBytes(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength), { path, mtimeMs: st.mtimeMs, sizeBytes: st.size }, this.opts);
        return { ok: true, analysis, cached: false };
      } catch (err) {
        return { ok: false, problem: problemOf(path, err) };
      }
    })();
    this.entries.set(path, { key, result });
    while (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
    return result;
  }

  clear(): void {
    this.entries.clear();
  }
}

function problemOf(path: string, err: unknown): AudioProblem {
  if (err instanceof WavFormatError) {
    const msg = err.message.charAt(0).toUpperCase() + err.message.slice(1);
    return { path, kind: /empty/.test(err.message) ? 'empty' : 'not-wav', message: `${msg}.` };
  }
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'ENOTDIR') return { path, kind: 'missing', message: 'The file does not exist (yet).' };
  return { path, kind: 'unreadable', message: `The file cannot be read: ${err instanceof Error ? err.message : String(err)}` };
}
