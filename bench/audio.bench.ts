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

const ms = (t0: number) => (performance.now() - t0).toFixed(1).padStart(8);

async function main() {
  const dir = await mkdtemp(path.join(tmpdir(), 'audio-bench-'));
  try {
    const file = path.join(dir, `${minutes}min.wav`);
    let t0 = performance.now();
    const samples = speechLike(minutes * 60);
    await writeFile(file, encodeWav(samples, sr));
    console.log(`generated ${minutes} min, ${sr} Hz, 16-bit mono (${((samples.length * 2) / 1e6).toFixed(1)} MB) in ${ms(t0).trim()} ms\n`);

    console.log('                                     ms');
    t0 = performance.now();
    const bytes = await readFile(file);
    const decoded = decodeWav(bytes);
    console.log(`readFile + decodeWav (reference) ${ms(t0)}`);
    t0 = performance.now();
    new WaveFile(bytes).getSamples(false, Float32Array);
    console.log(`wavefile decode (not used)       ${ms(t0)}`);

    t0 = performance.now();
    await new AudioAnalysisCache().analyse(file);
    console.log(`preview analysis, first open     ${ms(t0)}   (cold process)`);
    const cache = new AudioAnalysisCache();
    t0 = performance.now();
    const first = await cache.analyse(file);
    console.log(`preview analysis, not cached     ${ms(t0)}   (warm process)`);
    t0 = performance.now();
    const again = await cache.analyse(file);
    console.log(`preview analysis, cached         ${ms(t0)}`);
    if (!first.ok || !again.ok || !again.cached) throw new Error('analysis failed');
    t0 = performance.now();
    const json = JSON.stringify(first);
    console.log(`JSON of the answer               ${ms(t0)}   (${(json.length / 1024).toFixed(0)} KiB)`);

    const tenSeconds = decoded.channels[0]!.subarray(0, 10 * sr);
    const utterance = path.join(dir, 'utterance.wav');
    await writeFile(utterance, encodeWav(tenSeconds, sr));
    t0 = performance.now();
    await cache.analyse(utterance);
    console.log(`preview analysis of a 10 s take   ${ms(t0)}   (with its pitch track)`);
    t0 = performance.now();
    const range = await analyseFile(file, { range: { start: 300, end: 305 } });
    if (!range.ok) throw new Error('range analysis failed');
    console.log(`zoomed 5 s of the 10 min file    ${ms(t0)}   (read + detail + pitch)`);
    t0 = performance.now();
    mfcc(tenSeconds, sr);
    console.log(`\nmfcc of 10 s                     ${ms(t0)}`);
    t0 = performance.now();
    f0Yin(tenSeconds, sr);
    console.log(`f0Yin of 10 s                    ${ms(t0)}`);
    t0 = performance.now();
    resample(tenSeconds, sr, 16000);
    console.log(`resample 10 s 24 kHz → 16 kHz    ${ms(t0)}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

void main();
