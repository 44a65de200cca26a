/**
 * Signal QA without models: measures of one recording (mono float samples + sample rate) that
 * tell a clean take from a noisy, clipped, truncated or band-limited one. Pure and deterministic;
 * every measure is tested on synthetic signals with a known answer (test/unit/qa.signal.test.ts).
 *
 * - WADA-SNR (Kim & Stern, Interspeech 2008): the SNR is read off the statistic
 *   G = ln E|z| − E ln|z| of the waveform, which rises from the Gaussian value (noise only) to the
 *   value of Gamma-distributed speech amplitudes (shape 0.4). The G(SNR) curve is computed here
 *   exactly from that model (noncentral χ² moments + quadrature), not copied from a Monte-Carlo table.
 * - Integrated loudness per ITU-R BS.1770-4: K-weighting (shelf + high-pass, designed for any
 *   sample rate), 400 ms blocks with 75 % overlap, absolute gate −70 LUFS, relative gate −10 LU.
 * - Silence from 10 ms frames: quieter than the loudest frames by `silenceDb` (or below an
 *   absolute floor) is silence; leading, trailing, the longest pause in between, the share.
 * - Effective bandwidth: the highest frequency whose long-term spectrum (over the non-silent
 *   frames) is within `bandwidthDb` of its maximum. An 8 kHz recording upsampled to 24 kHz has
 *   nothing above 4 kHz and is caught.
 */
import { mixDown } from '../audio/wav';
import { nextPow2, stft } from '../audio/dsp';

export interface SignalMeasures {
  durationSeconds: number;
  sampleRate: number;
  channels: number;
  /** WADA-SNR estimate, dB (−20…100); null for digital silence and for signals that are not speech-like (a pure tone). */
  snrDb: number | null;
  /** Share of samples in flat runs (≥ 3 samples) at the positive or negative peak: clipped tops. */
  clipRatio: number;
  /** Mean sample value (−1…1). */
  dcOffset: number;
  /** Largest absolute sample in dBFS; null for digital silence. */
  peakDbfs: number | null;
  leadingSilenceSeconds: number;
  trailingSilenceSeconds: number;
  /** Longest silence between the first and the last sound. */
  longestPauseSeconds: number;
  /** Share of 10 ms frames that are silence (0…1). */
  silenceRatio: number;
  /** Highest frequency with content (Hz); null when there is no sound at all. */
  bandwidthHz: number | null;
  /** Integrated loudness per ITU-R BS.1770-4 (LUFS); null when no 400 ms block passes the gates. */
  loudnessLufs: number | null;
}

export interface SignalOptions {
  /** A frame quieter than the loudest frames by this many dB is silence; default 40. */
  silenceDb?: number;
  /** A frame below this level (dBFS RMS) is always silence; default −60. */
  silenceFloorDbfs?: number;
  /** Content reaches up to where the long-term spectrum is this many dB below its maximum; default 50. */
  bandwidthDb?: number;
}

const FRAME_SECONDS = 0.01;

/**
 * Every measure of a recording. `channels` are the WAV's channels: loudness sums their K-weighted
 * power (BS.1770, front channels weighted 1); the other measures read their mean.
 */
export function measureChannels(channels: readonly Float32Array[], sampleRate: number, opts: SignalOptions = {}): SignalMeasures {
  if (!channels.length) throw new RangeError('no channels');
  if (!(sampleRate > 0)) throw new RangeError(`the sample rate must be positive, not ${sampleRate}`);
  const mono = mixDown(channels);
  const m = measureSignal(mono, sampleRate, opts);
  return { ...m, channels: channels.length, loudnessLufs: integratedLoudness(channels, sampleRate) };
}

/** The measures of one mono signal (`channels` is 1). */
export function measureSignal(samples: Float32Array, sampleRate: number, opts: SignalOptions = {}): SignalMeasures {
  if (!(sampleRate > 0)) throw new RangeError(`the sample rate must be positive, not ${sampleRate}`);
  const n = samples.length;
  let sum = 0,
    peak = 0;
  for (let i = 0; i < n; i++) {
    const v = samples[i]!;
    sum += v;
    const a = v < 0 ? -v : v;
    if (a > peak) peak = a;
  }
  const dcOffset = n ? sum / n : 0;
  const centred = new Float32Array(n);
  for (let i = 0; i < n; i++) centred[i] = samples[i]! - dcOffset;
  const silence = silenceMeasures(centred, sampleRate, opts);
  return {
    durationSeconds: n / sampleRate,
    sampleRate,
    channels: 1,
    snrDb: wadaSnr(centred),
    clipRatio: clipRatio(samples),
    dcOffset,
    peakDbfs: peak > 0 ? 20 * Math.log10(peak) : null,
    leadingSilenceSeconds: silence.leading,
    trailingSilenceSeconds: silence.trailing,
    longestPauseSeconds: silence.longestPause,
    silenceRatio: silence.ratio,
    bandwidthHz: effectiveBandwidth(centred, sampleRate, opts),
    loudnessLufs: integratedLoudness([samples], sampleRate),
  };
}

// ---------------------------------------------------------------------------------------------
// Clipping

/** Two samples this close (2 LSB of 16-bit) are "the same level". */
const FLAT_TOLERANCE = 6e-5;
const MIN_FLAT_RUN = 3;
/** A flat top quieter than this (−20 dBFS) is not taken for clipping (a constant or silent stretch). */
const MIN_CLIP_LEVEL = 0.1;

/**
 * Share of samples in runs of ≥ 3 consecutive samples at the signal's positive (or negative)
 * extreme. A clean tone touches its peak in at most two samples per period, so it scores 0;
 * a clipped one sits on the rail. Also catches clipping scaled down afterwards.
 */
export function clipRatio(samples: Float32Array): number {
  const n = samples.length;
  if (!n) return 0;
  let max = -Infinity,
    min = Infinity;
  for (let i = 0; i < n; i++) {
    const v = samples[i]!;
    if (v > max) max = v;
    if (v < min) min = v;
  }
  let clipped = 0;
  const count = (rail: number, sign: 1 | -1) => {
    if (sign * rail < MIN_CLIP_LEVEL) return;
    let run = 0;
    for (let i = 0; i <= n; i++) {
      if (i < n && Math.abs(samples[i]! - rail) <= FLAT_TOLERANCE) run++;
      else {
        if (run >= MIN_FLAT_RUN) clipped += run;
        run = 0;
      }
    }
  };
  count(max, 1);
  count(min, -1);
  return clipped / n;
}

// ---------------------------------------------------------------------------------------------
// Silence

export function frameLevelsDb(samples: Float32Array, sampleRate: number): Float64Array {
  const frame = Math.max(1, Math.round(sampleRate * FRAME_SECONDS));
  const count = Math.ceil(samples.length / frame);
  const out = new Float64Array(count);
  for (let f = 0; f < count; f++) {
    const start = f * frame,
      end = Math.min(samples.length, start + frame);
    let s = 0;
    for (let i = start; i < end; i++) s += samples[i]! * samples[i]!;
    const ms = s / (end - start);
    out[f] = ms > 0 ? 10 * Math.log10(ms) : -Infinity;
  }
  return out;
}

/** Which 10 ms frames are silence: below the floor, or `silenceDb` below the loud frames (the 95th percentile). */
export function silentFrames(
  samples: Float32Array,
  sampleRate: number,
  opts: SignalOptions = {},
): { silent: Uint8Array; frameSeconds: number } {
  const levels = frameLevelsDb(samples, sampleRate);
  const frameSeconds = Math.max(1, Math.round(sampleRate * FRAME_SECONDS)) / sampleRate;
  const sorted = Array.from(levels)
    .filter(Number.isFinite)
    .sort((a, b) => a - b);
  const loud = sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.95))]! : -Infinity;
  const threshold = Math.max(opts.silenceFloorDbfs ?? -60, loud - (opts.silenceDb ?? 40));
  const silent = new Uint8Array(levels.length);
  for (let f = 0; f < levels.length; f++) silent[f] = levels[f]! < threshold ? 1 : 0;
  return { silent, frameSeconds };
}

function silenceMeasures(samples: Float32Array, sampleRate: number, opts: SignalOptions) {
  const { silent, frameSeconds } = silentFrames(samples, sampleRate, opts);
  const frames = silent.length;
  const duration = samples.length / sampleRate;
  let first = 0;
  while (first < frames && silent[first]) first++;
  if (first === frames) return { leading: duration, trailing: duration, longestPause: 0, ratio: frames ? 1 : 0 };
  let last = frames - 1;
  while (last > first && silent[last]) last--;
  let longest = 0,
    run = 0,
    total = 0;
  for (let f = 0; f < frames; f++) if (silent[f]) total++;
  for (let f = first; f <= last; f++) {
    if (silent[f]) longest = Math.max(longest, ++run);
    else run = 0;
  }
  return {
    leading: Math.min(duration, first * frameSeconds),
    trailing: Math.max(0, duration - (last + 1) * frameSeconds),
    longestPause: longest * frameSeconds,
    ratio: total / frames,
  };
}

// ---------------------------------------------------------------------------------------------
// Bandwidth

/**
 * The highest frequency whose long-term spectrum (Hann, ~40 ms frames, the non-silent ones,
 * smoothed over ~±2 bins) is within `bandwidthDb` (default 50) of its maximum.
 */
export function effectiveBandwidth(samples: Float32Array, sampleRate: number, opts: SignalOptions = {}): number | null {
  const fftSize = Math.max(256, nextPow2(Math.round(sampleRate * 0.04)));
  if (samples.length < fftSize) return null;
  const frames = stft(samples, { fftSize, hopSize: fftSize >> 1, center: false });
  const energies = frames.map((p) => p.reduce((a, b) => a + b, 0));
  const loudest = Math.max(...energies);
  if (!(loudest > 0)) return null;
  const keep = 10 ** (-(opts.silenceDb ?? 40) / 10) * loudest;
  const bins = fftSize / 2 + 1;
  const avg = new Float64Array(bins);
  for (let f = 0; f < frames.length; f++) {
    if (energies[f]! < keep) continue;
    const p = frames[f]!;
    for (let k = 0; k < bins; k++) avg[k]! += p[k]!;
  }
  const smooth = new Float64Array(bins);
  for (let k = 0; k < bins; k++) {
    let s = 0,
      c = 0;
    for (let j = Math.max(1, k - 2); j <= Math.min(bins - 1, k + 2); j++) {
      s += avg[j]!;
      c++;
    }
    smooth[k] = c ? s / c : 0;
  }
  let max = 0;
  for (let k = 1; k < bins; k++) if (smooth[k]! > max) max = smooth[k]!;
  if (!(max > 0)) return null;
  const floor = max * 10 ** (-(opts.bandwidthDb ?? 50) / 10);
  let top = 1;
  for (let k = bins - 1; k >= 1; k--) {
    if (smooth[k]! >= floor) {
      top = k;
      break;
    }
  }
  return Math.min(sampleRate / 2, ((top + 0.5) * sampleRate) / fftSize);
}

// ---------------------------------------------------------------------------------------------
// Loudness (ITU-R BS.1770-4)

interface Biquad {
  b0: number;
  b1: number;
  b2: number;
  a1: number;
  a2: number;
}

/**
 * The two K-weighting stages for a sample rate: the high-shelf (+4 dB above ~1.7 kHz, the
 * head) and the RLB high-pass (~38 Hz), by the bilinear transform of the analogue prototypes.
 * At 48 kHz they reproduce the coefficients printed in BS.1770-4 to 1e-4.
 */
export function kWeighting(sampleRate: number): [Biquad, Biquad] {
  // The analogue prototypes' parameters (as in libebur128), bilinear-transformed with pre-warping.
  const shelf = (() => {
    const G = 3.999843853973347,
      Q = 0.7071752369554196,
      fc = 1681.974450955533;
    const K = Math.tan((Math.PI * fc) / sampleRate);
    const Vh = 10 ** (G / 20),
      Vb = Vh ** 0.4996667741545416;
    const a0 = 1 + K / Q + K * K;
    return {
      b0: (Vh + (Vb * K) / Q + K * K) / a0,
      b1: (2 * (K * K - Vh)) / a0,
      b2: (Vh - (Vb * K) / Q + K * K) / a0,
      a1: (2 * (K * K - 1)) / a0,
      a2: (1 - K / Q + K * K) / a0,
    };
  })();
  const highPass = (() => {
    const Q = 0.5003270373238773,
      fc = 38.13547087602444;
    const K = Math.tan((Math.PI * fc) / sampleRate);
    const a0 = 1 + K / Q + K * K;
    return { b0: 1, b1: -2, b2: 1, a1: (2 * (K * K - 1)) / a0, a2: (1 - K / Q + K * K) / a0 };
  })();
  return [shelf, highPass];
}

function filter(x: Float64Array, f: Biquad): Float64Array {
  const y = new Float64Array(x.length);
  let x1 = 0,
    x2 = 0,
    y1 = 0,
    y2 = 0;
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    const out = f.b0 * v + f.b1 * x1 + f.b2 * x2 - f.a1 * y1 - f.a2 * y2;
    x2 = x1;
    x1 = v;
    y2 = y1;
    y1 = out;
    y[i] = out;
  }
  return y;
}

/**
 * Integrated loudness (LUFS) of one programme, per ITU-R BS.1770-4: K-weighted mean square in
 * 400 ms blocks every 100 ms, summed over channels (weight 1: mono, stereo, the front channels),
 * gated at −70 LUFS and then 10 LU below the mean of what passed. Null when nothing passes
 * (silence, or shorter than one block).
 */
export function integratedLoudness(channels: readonly Float32Array[], sampleRate: number): number | null {
  const n = channels[0]?.length ?? 0;
  const block = Math.round(0.4 * sampleRate),
    step = Math.round(0.1 * sampleRate);
  if (n < block || block < 1) return null;
  const [shelf, hp] = kWeighting(sampleRate);
  // Prefix sums of the weighted power, summed over channels.
  const prefix = new Float64Array(n + 1);
  for (const ch of channels) {
    const y = filter(filter(Float64Array.from(ch), shelf), hp);
    let acc = 0;
    for (let i = 0; i < n; i++) {
      acc += y[i]! * y[i]!;
      prefix[i + 1]! += acc;
    }
  }
  const z: number[] = [];
  for (let start = 0; start + block <= n; start += step) z.push((prefix[start + block]! - prefix[start]!) / block);
  const lufs = (p: number) => -0.691 + 10 * Math.log10(p);
  const absolute = z.filter((p) => p > 0 && lufs(p) > -70);
  if (!absolute.length) return null;
  const relative = lufs(absolute.reduce((a, b) => a + b, 0) / absolute.length) - 10;
  const gated = absolute.filter((p) => lufs(p) > relative);
  if (!gated.length) return null;
  return lufs(gated.reduce((a, b) => a + b, 0) / gated.length);
}

// ---------------------------------------------------------------------------------------------
// WADA-SNR

/** Shape of the Gamma distribution of clean speech amplitudes in the WADA model. */
const WADA_ALPHA = 0.4;
const WADA_DB_MIN = -20,
  WADA_DB_MAX = 100;
/** How far below the noise-only statistic a signal may read before it is "not speech" (the estimate's spread on white noise is ~0.003). */
const WADA_NOT_SPEECH_MARGIN = 0.03;
let wadaTable: Float64Array | undefined;

/** G(SNR) = ln E|z| − E ln|z| for z = Gamma(0.4)-amplitude speech + Gaussian noise, at every whole dB from −20 to 100. */
export function wadaCurve(): Float64Array {
  if (wadaTable) return wadaTable;
  const table = new Float64Array(WADA_DB_MAX - WADA_DB_MIN + 1);
  for (let i = 0; i < table.length; i++) table[i] = wadaG(WADA_DB_MIN + i);
  return (wadaTable = table);
}

/** The WADA statistic of the model at one SNR (dB), noise σ = 1. */
export function wadaG(snrDb: number): number {
  const a = WADA_ALPHA;
  // Speech amplitude s = θ·g, g ~ Gamma(a, 1); E s² = θ² a (a + 1) = SNR.
  const theta = Math.sqrt(10 ** (snrDb / 10) / (a * (a + 1)));
  // Substituting g = t^(1/a) makes the Gamma density smooth: dP = exp(−t^(1/a)) / Γ(a + 1) dt.
  // Simpson's rule on t ∈ [0, 4] (the tail beyond holds e^−32 of the mass).
  const steps = 4000,
    T = 4,
    h = T / steps;
  let w = 0,
    e1 = 0,
    el = 0;
  for (let k = 0; k <= steps; k++) {
    const t = k * h;
    const coef = k === 0 || k === steps ? 1 : k % 2 ? 4 : 2;
    const weight = coef * Math.exp(-(t ** (1 / a)));
    const mu = theta * t ** (1 / a);
    w += weight;
    e1 += weight * meanAbsNormal(mu);
    el += weight * meanLogAbsNormal(mu);
  }
  return Math.log(e1 / w) - el / w;
}

/** E|X| for X ~ N(μ, 1). */
function meanAbsNormal(mu: number): number {
  return Math.sqrt(2 / Math.PI) * Math.exp(-(mu * mu) / 2) + mu * erf(mu / Math.SQRT2);
}

const EULER_GAMMA = 0.5772156649015329;

/**
 * E ln|X| for X ~ N(μ, 1): half the log-moment of a noncentral χ²(1, μ²),
 * ½ (ln 2 + Σ_j Poisson(j; μ²/2) ψ(½ + j)); for large μ, ln μ − 1/(2μ²) − 1/(2μ⁴)… (asymptotic).
 */
function meanLogAbsNormal(mu: number): number {
  if (mu > 12) {
    const m2 = mu * mu;
    return Math.log(mu) - 1 / (2 * m2) - 1 / (2 * m2 * m2) - 5 / (6 * m2 * m2 * m2);
  }
  const lambda = (mu * mu) / 2;
  let psi = -EULER_GAMMA - 2 * Math.LN2; // ψ(½)
  let poisson = Math.exp(-lambda);
  let s = poisson * psi;
  for (let j = 1; j < 400; j++) {
    psi += 1 / (j - 0.5);
    poisson *= lambda / j;
    s += poisson * psi;
    if (j > lambda && poisson < 1e-17) break;
  }
  return 0.5 * (Math.LN2 + s);
}

/** The error function (Numerical Recipes erfc, Chebyshev fit; relative error below 1.2e-7). */
function erf(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? 1 - r : r - 1;
}

/**
 * WADA-SNR (dB) of a signal (DC removed by the caller). Exact zeros (digital silence, padding)
 * carry no information about the noise and are skipped. Clamped to −20…100 dB; null when every
 * sample is zero, or when the amplitudes are not speech-like at all (a pure tone).
 */
export function wadaSnr(samples: Float32Array): number | null {
  let n = 0,
    sumAbs = 0,
    sumLog = 0;
  for (let i = 0; i < samples.length; i++) {
    const a = Math.abs(samples[i]!);
    if (a === 0) continue;
    n++;
    sumAbs += a;
    sumLog += Math.log(a);
  }
  if (n === 0) return null;
  const g = Math.log(sumAbs / n) - sumLog / n;
  const curve = wadaCurve();
  // Far below the noise-only value: the amplitudes are not speech plus noise at all (a test tone
  // scores ln(4/π) ≈ 0.24). The model does not apply; there is no estimate.
  if (g < curve[0]! - WADA_NOT_SPEECH_MARGIN) return null;
  if (g <= curve[0]!) return WADA_DB_MIN;
  if (g >= curve[curve.length - 1]!) return WADA_DB_MAX;
  let i = 0;
  while (i + 1 < curve.length && curve[i + 1]! < g) i++;
  const frac = (g - curve[i]!) / (curve[i + 1]! - curve[i]!);
  return WADA_DB_MIN + i + frac;
}
