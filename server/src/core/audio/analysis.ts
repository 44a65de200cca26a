import { readFile, stat } from 'node:fs/promises';
import { mixDown, WavFormatError, WavReader } from './wav';
import { f0Yin, levels, type Levels, melSpectrogram, nextPow2, peaks, stftFrameCount } from './dsp';
import type { AudioAnalysis, AudioAnalysisResult, AudioProblem } from '../../../../protocol/previewTypes';

export type { AudioAnalysis, AudioAnalysisResult, AudioProblem } from '../../../../protocol/previewTypes';

export interface AnalysisOptions {
  /** Waveform buckets; default 4096 (enough for a full-width panel on a 4K screen). */
  buckets?: number;
  /** Most spectrogram columns; longer files sample this many STFT frames evenly. Default 2048. */
  maxColumns?: number;
  nMels?: number;
  dynamicRangeDb?: number;
  /** Pitch is tracked when the analysed part is at most this long (seconds); default 30. */
  maxPitchSeconds?: number;
  /** Only this part of the file, in seconds (a zoomed-in view); levels then cover the part too. */
  range?: { start: number; end: number };
}

const MAX_LANES = 8;
/** Frames decoded at a time by the streaming pass (bounded memory whatever the file's length). */
const BLOCK_FRAMES = 1 << 16;

/**
 * The preview's analysis of a WAV file's bytes: format, levels, decimated min/max peaks per
 * channel, and a log-mel spectrogram of the channel mix with at most `maxColumns` columns, so
 * that the cost and the size of the answer stay flat however long the file is. Samples are
 * decoded block by block; the spectrogram decodes only the windows it shows.
 */
export function analyseWavBytes(
  buf: Uint8Array,
  file: { path: string; mtimeMs: number; sizeBytes: number },
  opts: AnalysisOptions = {},
): AudioAnalysis {
  const t0 = performance.now();
  const reader = new WavReader(buf);
  const { sampleRate: sr, channels: channelCount } = reader.header;
  const all = reader.frames;
  // The part analysed: [first, first + frames). Windows near its edges still read the samples beyond.
  const first = opts.range ? Math.max(0, Math.min(all, Math.floor(opts.range.start * sr))) : 0;
  const frames = opts.range ? Math.max(0, Math.min(all, Math.ceil(opts.range.end * sr)) - first) : all;
  const buckets = opts.buckets ?? 4096;
  const maxColumns = opts.maxColumns ?? 2048;
  const nMels = opts.nMels ?? 80;
  const range = opts.dynamicRangeDb ?? 80;

  const { lanes, lvl } = frames < buckets ? smallFilePeaks(reader, first, frames, buckets) : streamPeaks(reader, first, frames, buckets);

  const hopSize = Math.max(1, Math.round(sr * 0.01));
  const winLength = Math.round(sr * 0.025);
  const fftSize = nextPow2(winLength);
  const total = stftFrameCount(frames, { hopSize, fftSize });
  const columns = Math.min(total, maxColumns);
  let mel: { frames: Float32Array[]; hopSeconds: number };
  let columnSeconds: number;
  if (columns === total && !opts.range) {
    mel = melSpectrogram(mixedRange(reader, 0, frames), sr, { hopSize, winLength, fftSize, nMels });
    columnSeconds = mel.hopSeconds;
  } else {
    // Each column is STFT frame round(c·(total−1)/(columns−1)) of the centred STFT of the part: its
    // window is gathered into a row of windows that a non-centred STFT with hop = window reads back.
    const gathered = new Float32Array(columns * winLength + (fftSize - winLength));
    for (let c = 0; c < columns; c++) {
      const t = columns > 1 ? Math.round((c * (total - 1)) / (columns - 1)) : 0;
      gathered.set(mixedRange(reader, first + t * hopSize - (winLength >> 1), winLength), c * winLength);
    }
    mel = melSpectrogram(gathered, sr, { hopSize: winLength, winLength, fftSize, nMels, center: false });
    columnSeconds = columns > 1 ? ((total - 1) * hopSize) / sr / (columns - 1) : hopSize / sr;
  }
  let dbMax = -Infinity;
  for (const f of mel.frames) for (const v of f) if (v > dbMax) dbMax = v;
  if (!Number.isFinite(dbMax)) dbMax = -100;
  const q = new Uint8Array(mel.frames.length * nMels);
  const scale = 255 / range;
  mel.frames.forEach((f, c) => {
    for (let m = 0; m < nMels; m++) q[c * nMels + m] = Math.max(0, Math.min(255, Math.round((f[m]! - dbMax + range) * scale)));
  });

  const pitch = frames / sr <= (opts.maxPitchSeconds ?? 30) ? pitchTrack(mixedRange(reader, first, frames), sr) : undefined;

  const finite = (x: number) => (Number.isFinite(x) ? x : null);
  return {
    ...file,
    sampleRate: sr,
    channels: channelCount,
    bitsPerSample: reader.bitsPerSample,
    format: reader.format,
    durationSeconds: all / sr,
    truncated: reader.truncated,
    peakDbfs: finite(lvl.peakDbfs),
    rmsDbfs: finite(lvl.rmsDbfs),
    clippedSamples: lvl.clippedSamples,
    waveform: { buckets, lanes: lanes.map((l) => ({ min: toInt16Base64(l.min), max: toInt16Base64(l.max) })) },
    spectrogram: { frames: mel.frames.length, nMels, columnSeconds, fMaxHz: sr / 2, data: base64(q), dbMax, dynamicRangeDb: range },
    ...(pitch ? { f0: pitch } : {}),
    ...(opts.range ? { range: { start: first / sr, end: (first + frames) / sr } } : {}),
    elapsedMs: performance.now() - t0,
  };
}

/** YIN F0 in the range of speech (50–600 Hz) every 10 ms, with its median over voiced frames. */
function pitchTrack(mono: Float32Array, sr: number): NonNullable<AudioAnalysis['f0']> {
  const { f0, hopSeconds } = f0Yin(mono, sr, { fMin: 50, fMax: 600, hopSeconds: 0.01 });
  const q = new Uint16Array(f0.length);
  const voiced: number[] = [];
  for (let i = 0; i < f0.length; i++) {
    q[i] = Math.min(65535, Math.round(f0[i]! * 10));
    if (f0[i]! > 0) voiced.push(f0[i]!);
  }
  voiced.sort((a, b) => a - b);
  const medianHz = voiced.length ? Math.round(voiced[voiced.length >> 1]! * 10) / 10 : null;
  return { hopSeconds, values: base64(new Uint8Array(q.buffer)), medianHz };
}

type Lane = { min: Float32Array; max: Float32Array };

/** Which channels each waveform lane shows: one each, the last lane mixing the rest beyond MAX_LANES. */
function laneChannels(channelCount: number): number[][] {
  if (channelCount <= MAX_LANES) return Array.from({ length: channelCount }, (_, c) => [c]);
  const out = Array.from({ length: MAX_LANES - 1 }, (_, c) => [c]);
  out.push(Array.from({ length: channelCount - MAX_LANES + 1 }, (_, k) => MAX_LANES - 1 + k));
  return out;
}

/** Fewer frames than buckets: decode everything (it is tiny) and let `peaks` repeat samples. */
function smallFilePeaks(reader: WavReader, first: number, frames: number, buckets: number): { lanes: Lane[]; lvl: Levels } {
  const channels = Array.from({ length: reader.header.channels }, () => new Float32Array(frames));
  reader.read(first, frames, channels);
  const lanes = laneChannels(channels.length).map((cs) => peaks(mixDown(cs.map((c) => channels[c]!)), buckets));
  return { lanes, lvl: levels(channels) };
}

/**
 * One pass over the file in blocks: levels over all channels and min/max per bucket per lane,
 * with the same bucket boundaries as `peaks` (bucket b covers frames ⌊b·n/B⌋ … ⌊(b+1)·n/B⌋ − 1).
 */
function streamPeaks(reader: WavReader, first: number, n: number, buckets: number): { lanes: Lane[]; lvl: Levels } {
  const channelCount = reader.header.channels;
  const groups = laneChannels(channelCount);
  const perChannel = Array.from({ length: channelCount }, () => new BucketAccumulator(n, buckets));
  const mixed = groups.map((cs) => (cs.length > 1 ? new BucketAccumulator(n, buckets) : undefined));
  const block = Array.from({ length: channelCount }, () => new Float32Array(BLOCK_FRAMES));
  const mix = new Float32Array(BLOCK_FRAMES);
  let sum = 0,
    clipped = 0;
  for (let start = 0; start < n; start += BLOCK_FRAMES) {
    const count = Math.min(BLOCK_FRAMES, n - start);
    reader.read(first + start, count, block);
    for (let c = 0; c < channelCount; c++) {
      const acc = perChannel[c]!;
      acc.add(block[c]!, count, true);
      sum += acc.sumOfSquares;
      clipped += acc.clipped;
    }
    groups.forEach((cs, l) => {
      const acc = mixed[l];
      if (!acc) return;
      mix.fill(0, 0, count);
      for (const c of cs) for (let i = 0; i < count; i++) mix[i]! += block[c]![i]!;
      for (let i = 0; i < count; i++) mix[i]! /= cs.length;
      acc.add(mix, count, false);
    });
  }
  let peak = 0;
  for (const acc of perChannel) for (let b = 0; b < buckets; b++) peak = Math.max(peak, -acc.min[b]!, acc.max[b]!);
  const lanes = groups.map((cs, l) => mixed[l] ?? perChannel[cs[0]!]!);
  const total = n * channelCount;
  const rms = total ? Math.sqrt(sum / total) : 0;
  const db = (x: number) => (x > 0 ? 20 * Math.log10(x) : -Infinity);
  return { lanes, lvl: { peak, peakDbfs: db(peak), rms, rmsDbfs: db(rms), clippedSamples: clipped } };
}

/** Min and max per bucket of a signal fed block by block (at least one frame per bucket). */
class BucketAccumulator {
  readonly min: Float32Array;
  readonly max: Float32Array;
  /** Of the last `add` with levels: Σx² and the samples at full scale. */
  sumOfSquares = 0;
  clipped = 0;
  private bucket = 0;
  private frame = 0;
  private end: number;

  constructor(
    private readonly frames: number,
    private readonly buckets: number,
  ) {
    this.min = new Float32Array(buckets).fill(Infinity);
    this.max = new Float32Array(buckets).fill(-Infinity);
    this.end = Math.floor(frames / buckets);
  }

  add(x: Float32Array, count: number, withLevels: boolean): void {
    let i = 0;
    let sum = 0,
      clipped = 0;
    while (i < count) {
      const b = this.bucket;
      // The frames up to the bucket's end go through a tight loop with no boundary test.
      const take = Math.min(count - i, this.end - this.frame);
      if (take <= 0) break; // more frames than announced: ignore the excess
      const stop = i + take;
      let lo = this.min[b]!,
        hi = this.max[b]!;
      if (withLevels) {
        // One pass for peaks and levels: the block is read from memory once.
        for (; i < stop; i++) {
          const v = x[i]!;
          if (v < lo) lo = v;
          if (v > hi) hi = v;
          sum += v * v;
          if (v >= 0.999 || v <= -0.999) clipped++;
        }
      } else {
        for (; i < stop; i++) {
          const v = x[i]!;
          if (v < lo) lo = v;
          if (v > hi) hi = v;
        }
      }
      this.min[b] = lo;
      this.max[b] = hi;
      this.frame += take;
      if (this.frame >= this.end && b + 1 < this.buckets) {
        this.bucket = b + 1;
        this.end = Math.floor(((b + 2) * this.frames) / this.buckets);
      }
    }
    this.sumOfSquares = sum;
    this.clipped = clipped;
  }
}

/** Frames [start, start + count) mixed to mono (zeros outside the file). */
function mixedRange(reader: WavReader, start: number, count: number): Float32Array {
  const channels = Array.from({ length: reader.header.channels }, () => new Float32Array(count));
  reader.read(start, count, channels);
  return mixDown(channels);
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

/** Reads and analyses one file (no cache): what the cache runs, in process or in a worker thread. */
export async function analyseFile(path: string, opts: AnalysisOptions = {}): Promise<AudioAnalysisResult> {
  if (opts.range && !(opts.range.end > opts.range.start))
    return { ok: false, problem: { path, kind: 'unreadable', message: `Empty range ${opts.range.start}–${opts.range.end} s.` } };
  try {
    const st = await stat(path);
    if (!st.isFile()) return { ok: false, problem: { path, kind: 'unreadable', message: 'This is not a file.' } };
    if (st.size === 0)
      return {
        ok: false,
        problem: { path, kind: 'empty', message: 'The file is empty (0 bytes): the recording or the synthesis did not write anything.' },
      };
    const buf = await readFile(path);
    const analysis = analyseWavBytes(
      new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength),
      { path, mtimeMs: st.mtimeMs, sizeBytes: st.size },
      opts,
    );
    return { ok: true, analysis, cached: false };
  } catch (err) {
    return { ok: false, problem: problemOf(path, err) };
  }
}

/**
 * Analyses of files, computed once per path, mtime and size (a rewritten file is analysed again),
 * least recently used dropped first. Concurrent requests for the same file share one analysis.
 * `compute` does the work (in process by default; the language server hands it to a worker thread).
 */
export class AudioAnalysisCache {
  private readonly entries = new Map<string, { key: string; result: Promise<AudioAnalysisResult> }>();

  constructor(
    private readonly capacity = 32,
    private readonly compute: (path: string) => Promise<AudioAnalysisResult> = (p) => analyseFile(p),
  ) {}

  async analyse(path: string): Promise<AudioAnalysisResult> {
    let st;
    try {
      st = await stat(path);
    } catch (err) {
      return { ok: false, problem: problemOf(path, err) };
    }
    const key = `${st.mtimeMs}:${st.size}`;
    const hit = this.entries.get(path);
    if (hit && hit.key === key) {
      this.entries.delete(path);
      this.entries.set(path, hit);
      const r = await hit.result;
      return r.ok ? { ...r, cached: true } : r;
    }
    const result = this.compute(path);
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
