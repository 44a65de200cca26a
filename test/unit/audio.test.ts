import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, stat, truncate, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { analyseWavBytes, AudioAnalysisCache, fromBase64 } from '../../server/src/core/audio/analysis';
import { WaveFile } from 'wavefile';
import { decodeWav, encodeWav, mixDown } from '../../server/src/core/audio/wav';
import { levels, melSpectrogram, peaks } from '../../server/src/core/audio/dsp';

const sr = 16000;
const file = { path: '/x.wav', mtimeMs: 1, sizeBytes: 0 };

/** 1 s: silence, then a 1 kHz tone at half scale from 0.5 s. */
function halfTone(): Float32Array {
  return Float32Array.from({ length: sr }, (_, i) => (i < sr / 2 ? 0 : 0.5 * Math.sin((2 * Math.PI * 1000 * i) / sr)));
}

const int16 = (b64: string) => new Int16Array(fromBase64(b64).slice().buffer);

void test('analysis: format, levels, peaks where the tone is, spectrogram bright only where it sounds', () => {
  const a = analyseWavBytes(encodeWav(halfTone(), sr), file, { buckets: 10 });
  assert.equal(a.sampleRate, sr);
  assert.equal(a.channels, 1);
  assert.equal(a.bitsPerSample, 16);
  assert.equal(a.durationSeconds, 1);
  assert.equal(a.truncated, false);
  assert.ok(Math.abs(a.peakDbfs! - -6.02) < 0.05, `peak ${a.peakDbfs}`);
  assert.ok(Math.abs(a.rmsDbfs! - (-6.02 - 3.01 - 3.01)) < 0.1, `rms ${a.rmsDbfs}`); // half the time at −9 dBFS
  const max = int16(a.waveform.lanes[0]!.max);
  assert.deepEqual([...max.slice(0, 5)], [0, 0, 0, 0, 0]);
  for (const v of max.slice(5)) assert.ok(Math.abs(v - 16383) <= 30, `bucket max ${v}`);
  const { frames, nMels, data, columnSeconds } = a.spectrogram;
  assert.equal(frames, 101);
  assert.equal(columnSeconds, 0.01);
  const q = fromBase64(data);
  assert.equal(q.length, frames * nMels);
  const loudest = (f: number) => Math.max(...q.slice(f * nMels, (f + 1) * nMels));
  assert.equal(loudest(20), 0, 'silence sits at the bottom of the range');
  assert.ok(loudest(80) > 240, 'the tone reaches the top of the range');
});

void test('analysis of a long file stays small: columns are decimated, buckets fixed', () => {
  const long = new Float32Array(sr * 120);
  for (let i = 0; i < long.length; i++) long[i] = 0.1 * Math.sin(i * 0.3);
  const a = analyseWavBytes(encodeWav(long, sr), file, { maxColumns: 500, buckets: 1000 });
  assert.equal(a.spectrogram.frames, 500);
  assert.ok(Math.abs(a.spectrogram.columnSeconds * 499 - 120) < 0.02);
  assert.equal(int16(a.waveform.lanes[0]!.min).length, 1000);
  assert.ok(JSON.stringify(a).length < 200_000);
});

void test('cache: computed once per path and mtime; problems for missing, empty, non-WAV and truncated files', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'audio-test-'));
  try {
    const cache = new AudioAnalysisCache();
    const wav = path.join(dir, 'a.wav');
    await writeFile(wav, encodeWav(halfTone(), sr));
    const first = await cache.analyse(wav);
    assert.ok(first.ok && !first.cached);
    const second = await cache.analyse(wav);
    assert.ok(second.ok && second.cached);

    await writeFile(wav, encodeWav(new Float32Array(sr * 2), sr));
    const t = new Date(Date.now() + 5000);
    await utimes(wav, t, t);
    const third = await cache.analyse(wav);
    assert.ok(third.ok && !third.cached && third.analysis.durationSeconds === 2 && third.analysis.peakDbfs === null);

    const missing = await cache.analyse(path.join(dir, 'nope.wav'));
    assert.ok(!missing.ok && missing.problem.kind === 'missing');

    const empty = path.join(dir, 'empty.wav');
    await writeFile(empty, '');
    const e = await cache.analyse(empty);
    assert.ok(!e.ok && e.problem.kind === 'empty' && /0 bytes/.test(e.problem.message));

    const text = path.join(dir, 'text.wav');
    await writeFile(text, 'this is not audio at all, just some text');
    const n = await cache.analyse(text);
    assert.ok(!n.ok && n.problem.kind === 'not-wav' && /not a WAV/i.test(n.problem.message));

    const cut = path.join(dir, 'cut.wav');
    await writeFile(cut, encodeWav(halfTone(), sr));
    await truncate(cut, (await stat(cut)).size - 8001);
    const c = await cache.analyse(cut);
    assert.ok(c.ok && c.analysis.truncated, JSON.stringify(c).slice(0, 300));
    assert.ok(Math.abs(c.analysis.durationSeconds - (sr - 4001) / sr) < 1e-9, `${c.analysis.durationSeconds}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

void test('the streaming analysis of a long stereo file equals the whole-file computation', () => {
  const rate = 8000,
    n = rate * 30; // several decoding blocks
  let seed = 5;
  const left = Float32Array.from({ length: n }, (_, i) => 0.4 * Math.sin(i * 0.05) * Math.sin(i * 0.0003));
  const right = Float32Array.from({ length: n }, () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648 - 0.5) * 0.3);
  const bytes = stereo16(left, right, rate);
  const a = analyseWavBytes(bytes, file, { buckets: 1000, maxColumns: 300 });
  const d = decodeWav(bytes);
  for (const [lane, ch] of [
    [0, d.channels[0]!],
    [1, d.channels[1]!],
  ] as const) {
    const p = peaks(ch, 1000);
    assert.deepEqual(
      [...int16(a.waveform.lanes[lane]!.min)],
      [...p.min].map((v) => Math.round(v * 32767)),
      `lane ${lane} min`,
    );
    assert.deepEqual(
      [...int16(a.waveform.lanes[lane]!.max)],
      [...p.max].map((v) => Math.round(v * 32767)),
      `lane ${lane} max`,
    );
  }
  const l = levels(d.channels);
  assert.ok(Math.abs(a.rmsDbfs! - l.rmsDbfs) < 1e-6 && Math.abs(a.peakDbfs! - l.peakDbfs) < 1e-9);
  const total = Math.floor(n / 80) + 1;
  const indices = Array.from({ length: 300 }, (_, c) => Math.round((c * (total - 1)) / 299));
  const mel = melSpectrogram(mixDown(d.channels), rate, { hopSize: 80, winLength: 200, fftSize: 256, frameIndices: indices });
  const q = fromBase64(a.spectrogram.data);
  const { dbMax, dynamicRangeDb, nMels } = a.spectrogram;
  let worst = 0;
  mel.frames.forEach((f, c) =>
    f.forEach((v, m) => {
      const expected = Math.max(0, Math.min(255, Math.round((v - dbMax + dynamicRangeDb) * (255 / dynamicRangeDb))));
      worst = Math.max(worst, Math.abs(q[c * nMels + m]! - expected));
    }),
  );
  assert.ok(worst <= 1, `spectrogram differs by ${worst} steps`);
});

void test('more channels than lanes: the last lane mixes the rest', () => {
  const rate = 8000,
    n = 8000,
    channels = 10;
  const interleaved = new Int16Array(n * channels);
  for (let i = 0; i < n; i++) for (let c = 0; c < channels; c++) interleaved[i * channels + c] = c * 1000;
  const wf = new WaveFile();
  wf.fromScratch(channels, rate, '16', interleaved);
  const a = analyseWavBytes(wf.toBuffer(), file, { buckets: 100 });
  assert.equal(a.channels, 10);
  assert.equal(a.waveform.lanes.length, 8);
  assert.equal(int16(a.waveform.lanes[6]!.max)[0], Math.round((6000 / 32768) * 32767));
  // Lane 7 mixes channels 7, 8 and 9: 8000 on average.
  assert.equal(int16(a.waveform.lanes[7]!.max)[0], Math.round((8000 / 32768) * 32767));
});

function stereo16(left: Float32Array, right: Float32Array, rate: number): Uint8Array {
  const wf = new WaveFile();
  const toInt = (x: Float32Array) => Array.from(x, (v) => Math.round(v * 32767));
  wf.fromScratch(2, rate, '16', [toInt(left), toInt(right)]);
  return wf.toBuffer();
}

void test('a zoomed range: peaks of that part, spectrogram columns at full resolution on the same timeline', () => {
  const rate = 8000,
    n = rate * 30;
  const chirp = Float32Array.from({ length: n }, (_, i) => 0.5 * Math.sin(2 * Math.PI * (100 + i / 2000) * (i / rate)));
  const bytes = encodeWav(chirp, rate);
  const a = analyseWavBytes(bytes, file, { buckets: 100, range: { start: 10, end: 12 } });
  assert.deepEqual(a.range, { start: 10, end: 12 });
  assert.equal(a.durationSeconds, 30, 'the duration stays the whole file');
  const d = decodeWav(bytes).channels[0]!;
  const p = peaks(d.subarray(80000, 96000), 100);
  assert.deepEqual(
    [...int16(a.waveform.lanes[0]!.max)],
    [...p.max].map((v) => Math.round(v * 32767)),
  );
  const { frames, columnSeconds, nMels, dbMax, dynamicRangeDb } = a.spectrogram;
  assert.equal(frames, 201);
  assert.ok(Math.abs(columnSeconds - 0.01) < 1e-12);
  const full = melSpectrogram(d, rate, {
    hopSize: 80,
    winLength: 200,
    fftSize: 256,
    frameIndices: Array.from({ length: 201 }, (_, c) => 1000 + c),
  });
  const q = fromBase64(a.spectrogram.data);
  let worst = 0;
  full.frames.forEach((f, c) =>
    f.forEach((v, m) => {
      worst = Math.max(
        worst,
        Math.abs(q[c * nMels + m]! - Math.max(0, Math.min(255, Math.round((v - dbMax + dynamicRangeDb) * (255 / dynamicRangeDb))))),
      );
    }),
  );
  assert.ok(worst <= 1, `spectrogram differs by ${worst} steps`);
});

void test('pitch is tracked for short parts (a 220 Hz tone reads 220 Hz) and skipped for long ones', () => {
  const rate = 16000;
  const tone = Float32Array.from({ length: rate * 2 }, (_, i) => 0.5 * Math.sin((2 * Math.PI * 220 * i) / rate));
  const a = analyseWavBytes(encodeWav(tone, rate), file);
  assert.ok(a.f0);
  assert.equal(a.f0.hopSeconds, 0.01);
  assert.ok(Math.abs(a.f0.medianHz! - 220) < 2.2, `median ${a.f0.medianHz}`);
  const hz = [...new Uint16Array(fromBase64(a.f0.values).slice().buffer)].map((v) => v / 10);
  assert.equal(hz.length, 201);
  assert.ok(hz.slice(5, -5).every((v) => Math.abs(v - 220) < 2.2));
  assert.equal(analyseWavBytes(encodeWav(new Float32Array(rate * 40), rate), file).f0, undefined);
  const silent = analyseWavBytes(encodeWav(new Float32Array(rate), rate), file);
  assert.equal(silent.f0?.medianHz, null);
});
