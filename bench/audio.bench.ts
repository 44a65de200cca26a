// Time to analyse a 10-minute 24 kHz WAV for the preview (first open, then cached), side by side
// with a plain decode of the same file and with wavefile's decoder.
// `node --import tsx bench/audio.bench.ts [minutes]`
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { WaveFile } from 'wavefile';
import { decodeWav, encodeWav, resample } from '../server/src/core/audio/wav';
import { analyseFile, AudioAnalysisCache } from '../server/src/core/audio/analysis';
import { f0Yin, mfcc } from '../server/src/core/audio/dsp';

const minutes = Number(process.argv[2] ?? 10);
const sr = 24000;

/** Speech-like: a gliding harmonic tone in syllable-sized bursts, plus a little noise. Deterministic. */
function speechLike(seconds: number): Float32Array {
  const n = Math.round(seconds * sr);
  const out = new Float32Array(n);
  let phase = 0;
  let seed = 7;
  for (let i = 0; i < n; i++) {
    const t = i / sr;
    const f0 = 140 + 40 * Math.sin(2 * Math.PI * 0.7 * t);
    phase += (2 * Math.PI * f0) / sr;
    const env = Math.max(0, Math.sin(2 * Math.PI * 2.5 * t)) ** 2;
    let v = 0;
    for (let h = 1; h <= 4; h++) v += Math.sin(h * phase) / h;
    seed = (seed * 1103515245 + 12345) % 2147483648;
    out[i] = 0.3 * env * v + 0.01 * (seed / 2147483648 - 0.5);
  }
  return out;
}

/** Wall and CPU milliseconds of `fn` (CPU time stays meaningful on a busy machine). */
async function timed<T>(fn: () => Promise<T> | T): Promise<{ value: T; wall: number; cpu: number }> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const value = await fn();
  const wall = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return { value, wall, cpu: (c.user + c.system) / 1000 };
}

function row(label: string, t: { wall: number; cpu: number }, note = '') {
  console.log(`${label.padEnd(40)}${t.wall.toFixed(1).padStart(9)}${t.cpu.toFixed(1).padStart(9)}   ${note}`);
}

export async function run(): Promise<void> {
  console.log(`\n## Audio preview analysis (${minutes}-minute WAV at ${sr} Hz)`);
  const dir = await mkdtemp(path.join(tmpdir(), 'audio-bench-'));
  try {
    const file = path.join(dir, `${minutes}min.wav`);
    const gen = await timed(async () => {
      const samples = speechLike(minutes * 60);
      await writeFile(file, encodeWav(samples, sr));
      return samples.length;
    });
    console.log(
      `generated ${minutes} min, ${sr} Hz, 16-bit mono (${((gen.value * 2) / 1e6).toFixed(1)} MB) in ${gen.wall.toFixed(0)} ms\n`,
    );
    console.log(`${''.padEnd(40)}${'wall ms'.padStart(9)}${'cpu ms'.padStart(9)}`);

    const decode = await timed(async () => decodeWav(await readFile(file)));
    row('readFile + decodeWav (reference)', decode);
    const bytes = await readFile(file);
    row('wavefile decode (not used)', await timed(() => new WaveFile(bytes).getSamples(false, Float32Array)));

    row('preview analysis, first open', await timed(() => new AudioAnalysisCache().analyse(file)), '(cold process)');
    const cache = new AudioAnalysisCache();
    const first = await timed(() => cache.analyse(file));
    row('preview analysis, not cached', first, '(warm process)');
    const again = await timed(() => cache.analyse(file));
    row('preview analysis, cached', again);
    if (!first.value.ok || !again.value.ok || !again.value.cached) throw new Error('analysis failed');
    const json = await timed(() => JSON.stringify(first.value));
    row('JSON of the answer', json, `(${(json.value.length / 1024).toFixed(0)} KiB)`);

    const tenSeconds = decode.value.channels[0]!.subarray(0, 10 * sr);
    const utterance = path.join(dir, 'utterance.wav');
    await writeFile(utterance, encodeWav(tenSeconds, sr));
    row('preview analysis of a 10 s take', await timed(() => cache.analyse(utterance)), '(with its pitch track)');
    const zoomed = await timed(() => analyseFile(file, { range: { start: 300, end: 305 } }));
    if (!zoomed.value.ok) throw new Error('range analysis failed');
    row(`zoomed 5 s of the ${minutes} min file`, zoomed, '(read + detail + pitch)');
    console.log();
    row('mfcc of 10 s', await timed(() => mfcc(tenSeconds, sr)));
    row('f0Yin of 10 s', await timed(() => f0Yin(tenSeconds, sr)));
    row('resample 10 s 24 kHz → 16 kHz', await timed(() => resample(tenSeconds, sr, 16000)));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (require.main === module) void run();
