/**
 * The QA gates: thresholds (`ttsDistill.qa.*`) applied to the signal measures of every teacher
 * output of a run, plus what only the run as a whole can tell — the speaking rate against the
 * run's median (truncation, hallucination) and the loudness spread. Pure: runQa.ts does the I/O.
 */
import type { Settings } from '../settings';
import { isHan } from '../formats/notation';
import type { SignalMeasures } from './signal';

export type QaThresholds = Omit<Settings['qa'], 'promptChecks'>;
export type QaVerdict = 'ok' | 'excluded';
export type QaOverride = 'include' | 'exclude';

/** Lines with fewer Han syllables than this get no speaking rate (too short to judge). */
export const MIN_RATE_SYLLABLES = 3;

/** One line of `qa.jsonl`. */
export interface QaRecord {
  name: string;
  /** 0-based line of the task in its task file. */
  line: number;
  /** WAV path relative to the run folder. */
  audio: string;
  /** Null when the WAV could not be measured (see reasons). */
  measures: SignalMeasures | null;
  /** Han characters of the text (one syllable each). */
  syllables: number;
  /** Seconds of sound (first to last sound) per Han syllable; null below MIN_RATE_SYLLABLES or without sound. */
  secondsPerSyllable: number | null;
  /** The final verdict: the gates', unless the user overrode it. */
  verdict: QaVerdict;
  /** Why the gates exclude the line, `code: detail` (kept when an override includes it anyway). */
  reasons: string[];
  /** The user's decision from qa-overrides.json, when there is one. */
  override?: QaOverride;
}

/** What runQa hands the gates for one manifest line. */
export interface QaInput {
  name: string;
  line: number;
  audio: string;
  text: string;
  measures: SignalMeasures | null;
  /** Why the WAV could not be measured. */
  error?: string;
  /** The judges' scores of this WAV (the run's judges.jsonl), when it was judged. */
  judges?: { cer: number | null; similarity: number | null };
}

export interface QaSummary {
  total: number;
  ok: number;
  excluded: number;
  /** Excluded lines per reason code (a line with two reasons counts under both); overrides are not counted here. */
  byReason: Record<string, number>;
  /** Lines whose verdict comes from qa-overrides.json. */
  overrides: { include: number; exclude: number };
  /** Integrated loudness across the run (LUFS): median, extremes and the 10th–90th percentile range (LU). */
  loudness: { median: number; min: number; max: number; rangeLu: number } | null;
  /** The run's median seconds per Han syllable. */
  medianSecondsPerSyllable: number | null;
}

const fmt = (x: number, digits = 1) => x.toFixed(digits);

/** The reason code of a `code: detail` reason. */
export function reasonCode(reason: string): string {
  const i = reason.indexOf(':');
  return i < 0 ? reason : reason.slice(0, i);
}

/**
 * The per-recording gates (no run context): what is wrong with one recording against the
 * thresholds. Also what the prompt-audio diagnostics report (`prompt` leaves out the gates
 * that only make sense for teacher outputs: loudness, silence ratio, DC).
 */
export function signalReasons(m: SignalMeasures, t: QaThresholds, opts: { prompt?: boolean } = {}): string[] {
  const out: string[] = [];
  if (m.durationSeconds === 0 || m.peakDbfs === null) return ['silent: the recording holds no sound'];
  // A prompt whose amplitudes are not speech-like (a test tone: no SNR estimate) is not judged: the gates are for speech.
  if (opts.prompt && m.snrDb === null) return [];
  if (m.snrDb !== null && m.snrDb < t.minSnrDb) out.push(`snr: WADA-SNR ${fmt(m.snrDb)} dB, below ${t.minSnrDb} dB (noise)`);
  if (m.clipRatio > t.maxClipRatio)
    out.push(`clipping: ${fmt(m.clipRatio * 100, 2)} % of the samples are clipped (at most ${fmt(t.maxClipRatio * 100, 2)} %)`);
  if (m.bandwidthHz !== null && m.bandwidthHz < t.minBandwidthHz)
    out.push(`bandwidth: content only up to ${Math.round(m.bandwidthHz)} Hz, below ${t.minBandwidthHz} Hz (band-limited or upsampled)`);
  if (m.leadingSilenceSeconds > t.maxLeadingSilenceS)
    out.push(`leading-silence: ${fmt(m.leadingSilenceSeconds, 2)} s of silence before the first sound (at most ${t.maxLeadingSilenceS} s)`);
  if (m.trailingSilenceSeconds > t.maxTrailingSilenceS)
    out.push(
      `trailing-silence: ${fmt(m.trailingSilenceSeconds, 2)} s of silence after the last sound (at most ${t.maxTrailingSilenceS} s)`,
    );
  if (m.longestPauseSeconds > t.maxPauseS) out.push(`pause: a pause of ${fmt(m.longestPauseSeconds, 2)} s (at most ${t.maxPauseS} s)`);
  if (!opts.prompt) {
    if (Math.abs(m.dcOffset) > t.maxDcOffset) out.push(`dc-offset: DC offset ${m.dcOffset.toFixed(3)} (at most ${t.maxDcOffset})`);
    if (m.silenceRatio > t.maxSilenceRatio)
      out.push(`silence: ${fmt(m.silenceRatio * 100, 0)} % silence (at most ${fmt(t.maxSilenceRatio * 100, 0)} %)`);
    if (m.loudnessLufs !== null && m.loudnessLufs < t.minLoudnessLufs)
      out.push(`loudness: ${fmt(m.loudnessLufs)} LUFS, quieter than ${t.minLoudnessLufs} LUFS`);
    if (m.loudnessLufs !== null && m.loudnessLufs > t.maxLoudnessLufs)
      out.push(`loudness: ${fmt(m.loudnessLufs)} LUFS, louder than ${t.maxLoudnessLufs} LUFS`);
  }
  return out;
}

export function hanSyllables(text: string): number {
  let n = 0;
  for (const ch of text) if (isHan(ch.codePointAt(0)!)) n++;
  return n;
}

function median(xs: number[]): number | null {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

function percentile(sorted: number[], p: number): number {
  const i = Math.min(sorted.length - 1, Math.max(0, Math.round(p * (sorted.length - 1))));
  return sorted[i]!;
}

/** Applies every gate to a run's lines, then the user's overrides. Records come back in line order. */
export function applyGates(
  inputs: readonly QaInput[],
  t: QaThresholds,
  overrides: ReadonlyMap<string, QaOverride> = new Map(),
): { records: QaRecord[]; summary: QaSummary } {
  const rated = inputs.map((inp) => {
    const syllables = hanSyllables(inp.text);
    const m = inp.measures;
    const sound = m ? m.durationSeconds - m.leadingSilenceSeconds - m.trailingSilenceSeconds : 0;
    const secondsPerSyllable = m && syllables >= MIN_RATE_SYLLABLES && sound > 0 ? sound / syllables : null;
    return { inp, syllables, secondsPerSyllable };
  });
  const medianRate = median(rated.map((r) => r.secondsPerSyllable).filter((x): x is number => x !== null));
  const louds = inputs
    .map((i) => i.measures?.loudnessLufs)
    .filter((x): x is number => typeof x === 'number')
    .sort((a, b) => a - b);
  const medianLoudness = median(louds);
  const byReason: Record<string, number> = {};
  const summary: QaSummary = {
    total: inputs.length,
    ok: 0,
    excluded: 0,
    byReason,
    overrides: { include: 0, exclude: 0 },
    loudness: louds.length
      ? { median: medianLoudness!, min: louds[0]!, max: louds[louds.length - 1]!, rangeLu: percentile(louds, 0.9) - percentile(louds, 0.1) }
      : null,
    medianSecondsPerSyllable: medianRate,
  };
  const records: QaRecord[] = [];
  for (const { inp, syllables, secondsPerSyllable } of rated) {
    const m = inp.measures;
    const reasons = m ? signalReasons(m, t) : [`unreadable: ${inp.error ?? 'the WAV could not be measured'}`];
    if (m && m.loudnessLufs !== null && medianLoudness !== null && Math.abs(m.loudnessLufs - medianLoudness) > t.maxLoudnessDeviationLu) {
      reasons.push(
        `loudness-spread: ${fmt(m.loudnessLufs)} LUFS is ${fmt(Math.abs(m.loudnessLufs - medianLoudness))} LU from the run's median ${fmt(medianLoudness)} LUFS (at most ${t.maxLoudnessDeviationLu} LU)`,
      );
    }
    if (secondsPerSyllable !== null && medianRate !== null && medianRate > 0) {
      const ratio = secondsPerSyllable / medianRate;
      if (ratio > t.speakingRateFactor)
        reasons.push(
          `speaking-rate: ${fmt(secondsPerSyllable, 3)} s per syllable, ${fmt(ratio, 2)}× the run's median ${fmt(medianRate, 3)} s (too slow: a hallucination or a gap?)`,
        );
      else if (ratio < 1 / t.speakingRateFactor)
        reasons.push(
          `speaking-rate: ${fmt(secondsPerSyllable, 3)} s per syllable, ${fmt(ratio, 2)}× the run's median ${fmt(medianRate, 3)} s (too fast: truncated?)`,
        );
    }
    const j = inp.judges;
    if (j?.cer !== null && j?.cer !== undefined && j.cer > t.maxCer)
      reasons.push(`cer: the judges' character error rate ${fmt(j.cer, 3)} is above ${t.maxCer} (hallucinated, truncated or misread)`);
    if (j?.similarity !== null && j?.similarity !== undefined && j.similarity < t.minSimilarity)
      reasons.push(`similarity: speaker similarity ${fmt(j.similarity, 3)} to the prompt, below ${t.minSimilarity} (the voice is lost)`);
    const override = overrides.get(inp.name);
    const verdict: QaVerdict = override ? (override === 'include' ? 'ok' : 'excluded') : reasons.length ? 'excluded' : 'ok';
    const rec: QaRecord = {
      name: inp.name,
      line: inp.line,
      audio: inp.audio,
      measures: m,
      syllables,
      secondsPerSyllable,
      verdict,
      reasons,
    };
    if (override) {
      rec.override = override;
      summary.overrides[override]++;
    } else {
      for (const code of new Set(reasons.map(reasonCode))) byReason[code] = (byReason[code] ?? 0) + 1;
    }
    if (verdict === 'ok') summary.ok++;
    else summary.excluded++;
    records.push(rec);
  }
  records.sort((a, b) => a.line - b.line);
  return { records, summary };
}

/** A teacher output's QA in one line (preview, code lens tooltip): the measures a listener checks first. */
export function qaSummaryLine(r: QaRecord): string {
  const m = r.measures!;
  const parts = [
    m.snrDb !== null ? `SNR ${m.snrDb.toFixed(0)} dB` : 'SNR n/a',
    m.loudnessLufs !== null ? `${m.loudnessLufs.toFixed(1)} LUFS` : undefined,
    m.bandwidthHz !== null ? `band ${(m.bandwidthHz / 1000).toFixed(1)} kHz` : undefined,
    m.clipRatio > 0 ? `clipped ${(m.clipRatio * 100).toFixed(2)} %` : undefined,
    r.secondsPerSyllable !== null ? `${r.secondsPerSyllable.toFixed(2)} s/syllable` : undefined,
    `silence ${(m.silenceRatio * 100).toFixed(0)} %`,
  ];
  return parts.filter((p): p is string => !!p).join(' · ');
}
