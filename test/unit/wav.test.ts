import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WaveFile } from 'wavefile';
import { decodeWav, encodeWav, resample, WavFormatError } from '../../server/src/core/audio/wav';

/** Builds a WAV with wavefile (an independent writer) from integer/float sample values. */
function build(channels: number, rate: number, depth: string, samples: number[][]): Uint8Array {
  const wav = new WaveFile();
  wav.fromScratch(channels, rate, depth, channels === 1 ? samples[0]! : samples);
  return wav.toBuffer();
}

function close(actual: Float32Array, expected: number[], tol: number) {
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < expected.length; i++)
    assert.ok(Math.abs(actual[i]! - expected[i]!) <= tol, `sample ${i}: ${actual[i]} vs ${expected[i]}`);
}

void test('8-bit PCM: unsigned with 128 as zero', () => {
  const d = decodeWav(build(1, 8000, '8', [[0, 128, 255, 64]]));
  assert.equal(d.format, 'pcm');
  assert.equal(d.bitsPerSample, 8);
  close(d.channels[0]!, [-1, 0, 127 / 128, -0.5], 1e-6);
});

void test('16-bit PCM mono: scale and duration', () => {
  const d = decodeWav(build(1, 16000, '16', [[0, 16384, -32768, 32767]]));
  assert.equal(d.sampleRate, 16000);
  assert.equal(d.channels.length, 1);
  assert.equal(d.durationSeconds, 4 / 16000);
  assert.equal(d.truncated, false);
  close(d.channels[0]!, [0, 0.5, -1, 32767 / 32768], 1e-6);
});

void test('24-bit PCM: sign extension of the top byte', () => {
  const d = decodeWav(build(1, 24000, '24', [[0, 4194304, -8388608, -1, 8388607]]));
  assert.equal(d.bitsPerSample, 24);
  close(d.channels[0]!, [0, 0.5, -1, -1 / 8388608, 8388607 / 8388608], 1e-7);
});

void test('32-bit PCM', () => {
  const d = decodeWav(build(1, 24000, '32', [[0, 1073741824, -2147483648]]));
  assert.equal(d.bitsPerSample, 32);
  close(d.channels[0]!, [0, 0.5, -1], 1e-7);
});

void test('32-bit and 64-bit float', () => {
  for (const depth of ['32f', '64']) {
    const d = decodeWav(build(1, 22050, depth, [[0, 0.25, -0.75, 1.5]]));
    assert.equal(d.format, 'float', depth);
    assert.equal(d.bitsPerSample, depth === '32f' ? 32 : 64);
    close(d.channels[0]!, [0, 0.25, -0.75, 1.5], 1e-7);
  }
});

void test('stereo: channels are de-interleaved', () => {
  const d = decodeWav(
    build(2, 44100, '16', [
      [100, 200, 300],
      [-100, -200, -300],
    ]),
  );
  assert.equal(d.channels.length, 2);
  close(
    d.channels[0]!,
    [100, 200, 300].map((v) => v / 32768),
    1e-7,
  );
  close(
    d.channels[1]!,
    [-100, -200, -300].map((v) => v / 32768),
    1e-7,
  );
});

/** A WAVE_FORMAT_EXTENSIBLE file written by hand (wavefile only writes the plain fmt chunk). */
function extensible(channels: number, rate: number, bits: number, subFormat: number, interleaved: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + 8 + 40 + 8 + interleaved.length);
  const v = new DataView(out.buffer);
  const ascii = (o: number, s: string) =>
    out.set(
      [...s].map((c) => c.charCodeAt(0)),
      o,
    );
  ascii(0, 'RIFF');
  v.setUint32(4, out.length - 8, true);
  ascii(8, 'WAVE');
  ascii(12, 'fmt ');
  v.setUint32(16, 40, true);
  v.setUint16(20, 0xfffe, true);
  v.setUint16(22, channels, true);
  v.setUint32(24, rate, true);
  v.setUint32(28, (rate * channels * bits) / 8, true);
  v.setUint16(32, (channels * bits) / 8, true);
  v.setUint16(34, bits, true);
  v.setUint16(36, 22, true);
  v.setUint16(38, bits, true);
  v.setUint32(40, 0x3f, true);
  v.setUint16(44, subFormat, true);
  out.set([0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71], 46);
  ascii(60, 'data');
  v.setUint32(64, interleaved.length, true);
  out.set(interleaved, 68);
  return out;
}

void test('WAVE_FORMAT_EXTENSIBLE: 6-channel 24-bit PCM and stereo float', () => {
  const frames = [
    [0, 1, 2, 3, 4, 5],
    [0, -1, -2, -3, -4, -5],
  ].map((f) => f.map((c) => c * 1000));
  const pcm = new Uint8Array(frames.length * 6 * 3);
  let o = 0;
  for (const f of frames)
    for (const s of f) {
      const u = s & 0xffffff;
      pcm.set([u & 0xff, (u >> 8) & 0xff, (u >> 16) & 0xff], o);
      o += 3;
    }
  const d = decodeWav(extensible(6, 48000, 24, 1, pcm));
  assert.equal(d.channels.length, 6);
  assert.equal(d.format, 'pcm');
  for (let c = 0; c < 6; c++) close(d.channels[c]!, [(c * 1000) / 8388608, (-c * 1000) / 8388608], 1e-7);
  const fl = new Float32Array([0.5, -0.5, 0.25, -0.25]);
  const f = decodeWav(extensible(2, 24000, 32, 3, new Uint8Array(fl.buffer)));
  assert.equal(f.format, 'float');
  close(f.channels[0]!, [0.5, 0.25], 0);
  close(f.channels[1]!, [-0.5, -0.25], 0);
});

void test('a truncated data chunk decodes the whole frames present and says so', () => {
  const full = build(2, 16000, '16', [
    [1, 2, 3, 4],
    [5, 6, 7, 8],
  ]);
  const cut = full.slice(0, full.length - 5); // 1¼ frames missing
  const d = decodeWav(cut);
  assert.equal(d.truncated, true);
  close(
    d.channels[0]!,
    [1, 2].map((v) => v / 32768),
    1e-7,
  );
  close(
    d.channels[1]!,
    [5, 6].map((v) => v / 32768),
    1e-7,
  );
});

void test('wrong header, too short, empty, unsupported codec: WavFormatError with a message', () => {
  const cases: Array<[Uint8Array, RegExp]> = [
    [new Uint8Array(0), /empty/],
    [new TextEncoder().encode('RIFF'), /too short/],
    [new TextEncoder().encode('ID3\u0003 this is an mp3 file really'), /not a WAV/],
    [
      (() => {
        const b = build(1, 8000, '16', [[1, 2]]);
        b[20] = 7;
        return b;
      })(),
      /µ-law/,
    ],
    [
      (() => {
        const b = build(1, 8000, '16', [[1, 2]]);
        b.set([0x64, 0x61, 0x74, 0x61], 12);
        return b;
      })(),
      /data chunk comes before the fmt/,
    ],
  ];
  for (const [buf, message] of cases) {
    assert.throws(
      () => decodeWav(buf),
      (err: unknown) => err instanceof WavFormatError && message.test(err.message),
    );
  }
});

void test('encodeWav writes 16-bit mono that decodes back, clipping out-of-range values and NaN', () => {
  const input = Float32Array.from([0, 0.5, -0.5, 1, -1, 2, -2, NaN]);
  const buf = encodeWav(input, 24000);
  const wf = new WaveFile(buf);
  assert.equal((wf.fmt as { numChannels: number }).numChannels, 1);
  assert.equal(wf.bitDepth, '16');
  const d = decodeWav(buf);
  assert.equal(d.sampleRate, 24000);
  close(d.channels[0]!, [0, 0.5, -0.5, 32767 / 32768, -1, 32767 / 32768, -1, 0], 1e-4);
});

void test('resample keeps a tone in band, removes one above the new Nyquist, and is deterministic', () => {
  const from = 48000,
    to = 16000;
  const n = from; // 1 s
  const tone = (f: number) => Float32Array.from({ length: n }, (_, i) => Math.sin((2 * Math.PI * f * i) / from));
  const rms = (x: Float32Array, a: number, b: number) => {
    let s = 0;
    for (let i = a; i < b; i++) s += x[i]! ** 2;
    return Math.sqrt(s / (b - a));
  };
  const low = resample(tone(1000), from, to);
  assert.equal(low.length, 16000);
  // Compare with the ideal 1 kHz sine at 16 kHz, away from the edges.
  let err = 0;
  for (let i = 200; i < low.length - 200; i++) err = Math.max(err, Math.abs(low[i]! - Math.sin((2 * Math.PI * 1000 * i) / to)));
  assert.ok(err < 1e-3, `max error ${err}`);
  const high = resample(tone(12000), from, to);
  assert.ok(rms(high, 200, high.length - 200) < 1e-3, 'a 12 kHz tone must not alias into a 16 kHz signal');
  assert.deepEqual(resample(tone(1000), from, to), low);
  // Upsampling by an odd ratio keeps the tone too.
  const up = resample(tone(1000), from, 44100);
  assert.equal(up.length, 44100);
  let e2 = 0;
  for (let i = 200; i < up.length - 200; i++) e2 = Math.max(e2, Math.abs(up[i]! - Math.sin((2 * Math.PI * 1000 * i) / 44100)));
  assert.ok(e2 < 1e-3, `max error ${e2}`);
});
