import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { resample } from '../../server/src/core/audio/wav';
import {
  clipRatio,
  integratedLoudness,
  kWeighting,
  measureChannels,
  measureSignal,
  wadaCurve,
  wadaSnr,
} from '../../server/src/core/qa/signal';
import { seededRandom as rng } from '../../server/src/core/student/prng';

// Synthetic signals with a known answer; a seeded PRNG so that every run sees the same samples.
const random = rng(7);
const gauss = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
/** Gamma(a, 1) variates (Marsaglia–Tsang; a < 1 by the U^(1/a) boost). */
function gamma(a: number): number {
  if (a < 1) return gamma(a + 1) * (1 - random()) ** (1 / a);
  const d = a - 1 / 3,
    c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x, v;
    do {
      x = gauss();
      v = 1 + c * x;
    } while (v <= 0);
    v = v ** 3;
    if (Math.log(1 - random()) < 0.5 * x * x + d - d * v + d * Math.log(v)) return d * v;
  }
}
const sine = (f: number, sr: number, seconds: number, amp: number) =>
  Float32Array.from({ length: Math.round(sr * seconds) }, (_, i) => amp * Math.sin((2 * Math.PI * f * i) / sr));
const noise = (n: number, rms: number) => Float32Array.from({ length: n }, () => rms * gauss());
const near = (actual: number | null, expected: number, tol: number, what: string) => {
  assert.ok(actual !== null && Math.abs(actual - expected) <= tol, `${what}: ${actual} is not ${expected} ± ${tol}`);
};

describe('signal QA: WADA-SNR', () => {
  it('its G(SNR) curve runs from the Gaussian value (noise only) to the Gamma(0.4) value (clean speech), rising', () => {
    const c = wadaCurve();
    assert.equal(c.length, 121);
    // Noise only: ln E|n| − E ln|n| = ½ ln(2/π) + (γ + ln 2)/2.
    near(c[0]!, 0.5 * Math.log(2 / Math.PI) + (0.5772156649 + Math.LN2) / 2, 2e-4, 'G(−20 dB)');
    // Speech only: ln a − ψ(a) for a = 0.4 (ψ(0.4) = −2.561384…), approached at 100 dB.
    near(c[120]!, Math.log(0.4) + 2.5613845445851, 0.03, 'G(100 dB)');
    for (let i = 1; i < c.length; i++) assert.ok(c[i]! > c[i - 1]!, `rises at ${i - 20} dB`);
  });

  it('Gamma-distributed "speech" plus white noise at a given SNR: the estimate is within 1.5 dB', () => {
    const n = 16000 * 5;
    for (const snr of [0, 10, 20, 30]) {
      const s = Float64Array.from({ length: n }, () => (random() < 0.5 ? -1 : 1) * gamma(0.4));
      const ps = s.reduce((a, b) => a + b * b, 0) / n;
      const k = Math.sqrt(ps / 10 ** (snr / 10));
      const x = Float32Array.from(s, (v) => 0.02 * (v + k * gauss()));
      near(wadaSnr(x), snr, 1.5, `WADA at ${snr} dB`);
      near(measureSignal(x, 16000).snrDb, snr, 1.5, `measureSignal at ${snr} dB`);
    }
  });

  it('white noise alone reads far below any usable SNR; digital silence and a pure tone (not speech-like) have none', () => {
    assert.ok(wadaSnr(noise(24000 * 3, 0.1))! < -5);
    assert.equal(wadaSnr(sine(220, 16000, 2, 0.25)), null);
    assert.equal(wadaSnr(new Float32Array(1000)), null);
    assert.equal(measureSignal(new Float32Array(24000), 24000).snrDb, null);
  });
});

describe('signal QA: clipping, DC offset, peak', () => {
  it('a clean sine has no clipped samples; the same sine driven 2× into the rails has two thirds on them', () => {
    assert.equal(clipRatio(sine(1000, 24000, 1, 0.99)), 0);
    assert.equal(clipRatio(sine(100, 48000, 1, 1)), 0, 'a slow full-scale sine touches its peak in at most two samples');
    const driven = Float32Array.from(sine(440, 24000, 1, 2), (v) => Math.max(-1, Math.min(1, v)));
    // |2 sin θ| ≥ 1 where |sin θ| ≥ ½: two thirds of each period.
    near(clipRatio(driven), 2 / 3, 0.02, 'clip ratio');
    // Clipped, then turned down by 6 dB: still flat tops.
    near(clipRatio(Float32Array.from(driven, (v) => v * 0.5)), 2 / 3, 0.02, 'clipped then scaled');
    const m = measureSignal(driven, 24000);
    near(m.clipRatio, 2 / 3, 0.02, 'measureSignal');
    near(m.peakDbfs, 0, 1e-6, 'peak');
  });

  it('DC offset is the mean; the other measures ignore it', () => {
    const tone = sine(1000, 24000, 2, 0.25);
    const shifted = Float32Array.from(tone, (v) => v + 0.05);
    const m = measureSignal(shifted, 24000);
    near(m.dcOffset, 0.05, 1e-4, 'DC');
    near(measureSignal(tone, 24000).dcOffset, 0, 1e-4, 'no DC');
    assert.equal(m.leadingSilenceSeconds, 0);
    near(m.bandwidthHz, measureSignal(tone, 24000).bandwidthHz!, 1, 'bandwidth ignores DC');
  });
});

describe('signal QA: silence', () => {
  it('leading, trailing, longest pause and the share of silence, to the 10 ms frame', () => {
    const sr = 24000;
    const parts = [
      new Float32Array(sr * 0.5),
      sine(300, sr, 1, 0.3),
      new Float32Array(sr * 0.8),
      sine(300, sr, 1, 0.3),
      new Float32Array(sr * 0.3),
    ];
    const x = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
    let o = 0;
    for (const p of parts) {
      x.set(p, o);
      o += p.length;
    }
    const m = measureSignal(x, sr);
    near(m.durationSeconds, 3.6, 1e-9, 'duration');
    near(m.leadingSilenceSeconds, 0.5, 0.011, 'leading');
    near(m.trailingSilenceSeconds, 0.3, 0.011, 'trailing');
    near(m.longestPauseSeconds, 0.8, 0.021, 'pause');
    near(m.silenceRatio, 1.6 / 3.6, 0.01, 'silence ratio');
  });

  it('quiet noise under speech is silence (40 dB below the loud frames); all-silence is all leading', () => {
    const sr = 16000;
    const x = new Float32Array(sr * 2);
    x.set(noise(sr, 0.0005), 0);
    x.set(sine(200, sr, 1, 0.5), sr);
    near(measureSignal(x, sr).leadingSilenceSeconds, 1, 0.011, 'leading under a noise floor');
    const s = measureSignal(new Float32Array(sr), sr);
    assert.equal(s.leadingSilenceSeconds, 1);
    assert.equal(s.silenceRatio, 1);
    assert.equal(s.bandwidthHz, null);
    assert.equal(s.loudnessLufs, null);
  });
});

describe('signal QA: effective bandwidth', () => {
  it('white noise at 24 kHz reaches Nyquist; 8 kHz noise upsampled to 24 kHz is caught at ~4 kHz', () => {
    near(measureSignal(noise(24000 * 2, 0.1), 24000).bandwidthHz, 12000, 200, 'full band');
    const up = resample(noise(8000 * 2, 0.1), 8000, 24000);
    near(measureSignal(up, 24000).bandwidthHz, 4000, 400, 'telephone band');
    const up16 = resample(noise(16000 * 2, 0.1), 16000, 48000);
    near(measureSignal(up16, 48000).bandwidthHz, 8000, 600, '16 kHz upsampled to 48 kHz');
  });
});

describe('signal QA: loudness per ITU-R BS.1770-4', () => {
  it('the K-weighting filters reproduce the 48 kHz coefficients of the standard', () => {
    const [shelf, hp] = kWeighting(48000);
    const close = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-9, `${a} vs ${b}`);
    close(shelf.b0, 1.53512485958697);
    close(shelf.b1, -2.69169618940638);
    close(shelf.b2, 1.19839281085285);
    close(shelf.a1, -1.69065929318241);
    close(shelf.a2, 0.73248077421585);
    close(hp.a1, -1.99004745483398);
    close(hp.a2, 0.99007225036621);
  });

  it('a 997 Hz sine at 0 dBFS peak is −3.01 LUFS; 1 kHz at −20 dBFS is −23.0; stereo adds 3 dB; the gates drop silence', () => {
    near(integratedLoudness([sine(997, 48000, 5, 1)], 48000), -3.01, 0.05, '997 Hz 0 dBFS');
    for (const sr of [16000, 24000, 44100, 48000])
      near(measureSignal(sine(1000, sr, 5, 0.1), sr).loudnessLufs, -23.0, 0.3, `1 kHz −20 dBFS at ${sr} Hz`);
    const tone = sine(1000, 48000, 5, 0.1);
    near(measureChannels([tone, tone], 48000).loudnessLufs, -20.0, 0.3, 'the same tone on both channels');
    // Adding 5 s of digital silence changes nothing (absolute gate); a quiet tail 30 dB down is gated relatively.
    const padded = new Float32Array(48000 * 10);
    padded.set(tone);
    near(integratedLoudness([padded], 48000), -23.0, 0.3, 'with silence');
    const tail = new Float32Array(48000 * 10);
    tail.set(tone);
    tail.set(sine(1000, 48000, 5, 0.1 / 31.6), 48000 * 5);
    near(integratedLoudness([tail], 48000), -23.0, 0.3, 'with a quiet tail');
    assert.equal(integratedLoudness([sine(1000, 48000, 0.3, 0.5)], 48000), null, 'shorter than one 400 ms block');
  });

  it('measureChannels mixes down for the other measures and counts the channels', () => {
    const l = sine(1000, 24000, 1, 0.2),
      r = sine(1000, 24000, 1, 0.2);
    const m = measureChannels([l, r], 24000);
    assert.equal(m.channels, 2);
    near(m.peakDbfs, 20 * Math.log10(0.2), 0.01, 'peak of the mix');
    assert.throws(() => measureSignal(l, 0), /sample rate/);
  });
});
