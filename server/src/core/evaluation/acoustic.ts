// Student audio against teacher audio for the same task: duration ratio, mel-cepstral
// distortion along a DTW alignment, and F0 RMSE over frames both voice.
import { f0Yin, mcd, melCepstrum } from '../audio/dsp';
import { decodeWav, mixDown, resample } from '../audio/wav';
import { dtw } from './dtw';
import type { AcousticMetrics } from './types';

export type { AcousticMetrics };

/** Both signals are analysed at this rate, so that MCD compares the same mel bands. */
export const ANALYSIS_RATE = 16000;
/**
 * Mel bands stop below the lower Nyquist frequency: a student vocoder at 16 kHz has nothing above
 * ~7.2 kHz after resampling, and empty bands against full ones would dominate the distortion
 * (a 16 → 24 → 16 kHz round trip of the same noise measured 24.7 dB with bands up to 8 kHz).
 */
const CEPSTRUM_OPTIONS = { fMax: 7000 };
/** Longer signals are aligned on every k-th frame, so that the DTW matrix stays below this many cells. */
const MAX_DTW_CELLS = 4_000_000;

export function compareAudio(teacherWav: Uint8Array, studentWav: Uint8Array): AcousticMetrics {
  const t = decodeWav(teacherWav),
    s = decodeWav(studentWav);
  return compareSignals(mixDown(t.channels), t.sampleRate, mixDown(s.channels), s.sampleRate);
}

export function compareSignals(teacher: Float32Array, teacherRate: number, student: Float32Array, studentRate: number): AcousticMetrics {
  const a = teacherRate === ANALYSIS_RATE ? teacher : resample(teacher, teacherRate, ANALYSIS_RATE);
  const b = studentRate === ANALYSIS_RATE ? student : resample(student, studentRate, ANALYSIS_RATE);
  const ca = melCepstrum(a, ANALYSIS_RATE, CEPSTRUM_OPTIONS).frames,
    cb = melCepstrum(b, ANALYSIS_RATE, CEPSTRUM_OPTIONS).frames;
  const step = Math.max(1, Math.ceil(Math.sqrt((ca.length * cb.length) / MAX_DTW_CELLS)));
  const sa = ca.filter((_, i) => i % step === 0),
    sb = cb.filter((_, i) => i % step === 0);
  const { path } = dtw(sa.length, sb.length, (i, j) => mcd(sa[i]!, sb[j]!));
  let sum = 0;
  for (const [i, j] of path) sum += mcd(sa[i]!, sb[j]!);
  // F0 frames share the cepstrum's 10 ms hop, so the same path aligns them.
  const fa = f0Yin(a, ANALYSIS_RATE).f0,
    fb = f0Yin(b, ANALYSIS_RATE).f0;
  let se = 0,
    voiced = 0;
  for (const [i, j] of path) {
    const x = fa[Math.min(i * step, fa.length - 1)] ?? 0,
      y = fb[Math.min(j * step, fb.length - 1)] ?? 0;
    if (x > 0 && y > 0) {
      se += (x - y) ** 2;
      voiced++;
    }
  }
  const teacherSeconds = teacher.length / teacherRate,
    studentSeconds = student.length / studentRate;
  return {
    teacherSeconds,
    studentSeconds,
    durationRatio: teacherSeconds > 0 ? studentSeconds / teacherSeconds : Number.NaN,
    mcd: path.length ? sum / path.length : 0,
    f0Rmse: voiced ? Math.sqrt(se / voiced) : null,
    voicedFrames: voiced,
  };
}
