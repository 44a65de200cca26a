import { test } from 'node:test';
import assert from 'node:assert/strict';
import { f0Yin, FFT, levels, mcd, melSpectrogram, mfcc, peaks, stft } from '../../server/src/core/audio/dsp';

const sine = (f: number, sr: number, seconds: number, amp = 0.5) =>
  Float32Array.from({ length: Math.round(sr * seconds) }, (_, i) => amp * Math.sin((2 * Math.PI * f * i) / sr));

void test('FFT matches a direct DFT and inverts', () => {
  const n = 16;
  const x = Array.from({ length: n }, (_, i) => Math.cos(i * 0.7) + 0.3 * Math.sin(i * 2.1) + (i % 3));
  const re = Float64Array.from(x),
    im = new Float64Array(n);
  FFT.of(n).forward(re, im);
  for (let k = 0; k < n; k++) {
    let r = 0,
      s = 0;
    for (let j = 0; j < n; j++) {
      r += x[j]! * Math.cos((2 * Math.PI * k * j) / n);
      s -= x[j]! * Math.sin((2 * Math.PI * k * j) / n);
    }
    assert.ok(Math.abs(re[k]! - r) < 1e-9 && Math.abs(im[k]! - s) < 1e-9, `bin ${k}`);
  }
  FFT.of(n).inverse(re, im);
  for (let j = 0; j < n; j++) assert.ok(Math.abs(re[j]! - x[j]!) < 1e-12 && Math.abs(im[j]!) < 1e-12);
  assert.throws(() => new FFT(12), /power of two/);
});

void test('stft puts a bin-centred sine in its bin', () => {
  const sr = 16000,
    n = 512;
  const f = (40 * sr) / n; // exactly bin 40
  const frames = stft(sine(f, sr, 0.2), { fftSize: n, hopSize: 160 });
  assert.equal(frames.length, Math.floor(3200 / 160) + 1);
  const mid = frames[10]!;
  let best = 0;
  for (let k = 1; k < mid.length; k++) if (mid[k]! > mid[best]!) best = k;
  assert.equal(best, 40);
});

void test('stft computes frames in pairs exactly as one at a time', () => {
  let seed = 3;
  const x = Float32Array.from({ length: 5000 }, () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648 - 0.5);
  const all = stft(x, { fftSize: 256, hopSize: 100, winLength: 200 });
  assert.equal(all.length, 51);
  for (const t of [0, 1, 7, 25, 50]) {
    const [one] = stft(x, { fftSize: 256, hopSize: 100, winLength: 200, frameIndices: [t] });
    for (let k = 0; k < one!.length; k++) assert.ok(Math.abs(one![k]! - all[t]![k]!) <= 1e-4 * (1 + one![k]!), `frame ${t} bin ${k}`);
  }
});

void test('YIN finds the F0 of sines within 1 % and calls silence unvoiced', () => {
  for (const [f, sr] of [
    [100, 16000],
    [220, 24000],
    [331, 22050],
    [440, 48000],
  ] as const) {
    const { f0, hopSeconds } = f0Yin(sine(f, sr, 0.5), sr);
    assert.ok(Math.abs(hopSeconds - 0.01) < 1e-3);
    const voiced = [...f0.slice(5, -5)];
    assert.ok(voiced.length > 20);
    for (const v of voiced) assert.ok(Math.abs(v - f) / f < 0.01, `${f} Hz at ${sr} Hz: got ${v}`);
  }
  const { f0 } = f0Yin(new Float32Array(8000), 16000);
  assert.ok(f0.every((v) => v === 0));
  // A harmonic-rich tone (sawtooth-like) still gives the fundamental, not an octave above.
  const sr = 24000,
    f = 150;
  const rich = Float32Array.from(
    { length: sr / 2 },
    (_, i) => [1, 2, 3, 4, 5].reduce((s, h) => s + Math.sin((2 * Math.PI * f * h * i) / sr) / h, 0) * 0.3,
  );
  const r = f0Yin(rich, sr).f0.slice(5, -5);
  for (const v of r) assert.ok(Math.abs(v - f) / f < 0.01, `rich 150 Hz: got ${v}`);
});

void test('peaks of a known signal', () => {
  const x = Float32Array.from([0, 1, -1, 0.5, -0.25, 0.25, 0.1, -0.9]);
  const p = peaks(x, 4);
  assert.deepEqual([...p.min], [0, -1, -0.25, -0.9].map(Math.fround));
  assert.deepEqual([...p.max], [1, 0.5, 0.25, 0.1].map(Math.fround));
  const q = peaks(Float32Array.from([0.5, -0.5]), 4); // fewer samples than buckets
  assert.deepEqual([...q.min], [0.5, 0.5, -0.5, -0.5]);
  assert.deepEqual([...q.max], [0.5, 0.5, -0.5, -0.5]);
  const e = peaks(new Float32Array(0), 3);
  assert.deepEqual([...e.min, ...e.max], [0, 0, 0, 0, 0, 0]);
});

void test('mel spectrogram: silence is the floor everywhere, a tone lights the mel band holding it', () => {
  const sr = 24000;
  const silent = melSpectrogram(new Float32Array(sr), sr, { nMels: 80 });
  assert.equal(silent.frames.length, 101);
  assert.equal(silent.hopSeconds, 0.01);
  for (const fr of silent.frames) for (const v of fr) assert.equal(v, -100);
  const tone = melSpectrogram(sine(1000, sr, 1), sr, { nMels: 80 });
  const mid = tone.frames[50]!;
  let best = 0;
  for (let m = 1; m < mid.length; m++) if (mid[m]! > mid[best]!) best = m;
  // HTK mel of 1 kHz is 1000 mel; band centres are spaced (mel(12 kHz)/81) apart.
  const expected = 1000 / ((2595 * Math.log10(1 + 12000 / 700)) / 81) - 1;
  assert.ok(Math.abs(best - expected) <= 1, `band ${best}, expected ≈${expected.toFixed(1)}`);
  assert.ok(mid[best]! > mid[(best + 40) % 80]! + 60, 'the tone stands far above other bands');
});

void test('MFCC/MCD: identical signals give 0, a different one does not, a gain changes only c0', () => {
  const sr = 16000;
  const a = mfcc(sine(300, sr, 0.3), sr);
  const b = mfcc(sine(300, sr, 0.3), sr);
  const c = mfcc(sine(900, sr, 0.3), sr);
  // Broadband so that no mel band sits on the log floor, where a gain is not a shift.
  let seed = 1;
  const noise = Float32Array.from({ length: sr * 0.3 }, () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648 - 0.5) * 0.2);
  const n1 = mfcc(noise, sr);
  const quieter = mfcc(
    noise.map((v) => v * 0.25),
    sr,
  );
  assert.equal(a.frames[0]!.length, 13);
  for (let t = 0; t < a.frames.length; t++) assert.equal(mcd(a.frames[t]!, b.frames[t]!), 0);
  assert.ok(mcd(a.frames[10]!, c.frames[10]!) > 5);
  assert.ok(mcd(n1.frames[10]!, quieter.frames[10]!) < 1e-3);
  assert.ok(Math.abs(n1.frames[10]![0]! - quieter.frames[10]![0]!) > 1);
});

void test('levels: a full-scale sine peaks at 0 dBFS with RMS −3 dBFS; silence is −Infinity', () => {
  const l = levels([sine(1000, 48000, 1, 1)]);
  assert.ok(Math.abs(l.peakDbfs) < 0.01);
  assert.ok(Math.abs(l.rmsDbfs + 3.0103) < 0.01);
  assert.ok(l.clippedSamples > 0);
  const s = levels([new Float32Array(10), new Float32Array(10)]);
  assert.equal(s.peakDbfs, -Infinity);
  assert.equal(s.rmsDbfs, -Infinity);
  assert.equal(s.clippedSamples, 0);
});
