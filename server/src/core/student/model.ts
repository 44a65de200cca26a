// The G2P student: its one-file format and its prediction. No training code here, so that the
// language server can load a model without carrying the trainer or the lexicon data.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { agreementFeatures, contextFeatures, LexiconIndex } from './features';
import { charAt, isHan, pinyinProGuess } from './readings';

export const MODEL_FORMAT = 'tts-distill-g2p-student';
/** Version 2: named lexicons, the longest-word vote, a calibrated confidence. Version 1 files still load. */
export const MODEL_FORMAT_VERSION = 2;
const READABLE_VERSIONS = [1, 2];

/** A reading with how likely it is to be right. */
export interface ScoredReading {
  reading: string;
  /** Calibrated probability that `reading` is right (out-of-fold on the training data); null when the model has no calibration. */
  confidence: number | null;
}

/** The contract the polyphone diagnostics use as their second opinion. */
export interface G2PStudent {
  readonly version: string;
  /** Tone-numbered pinyin of text[index] (ü as v, neutral tone 5); undefined for non-Han characters. */
  predict(text: string, index: number): string | undefined;
  /** The same reading with its calibrated confidence. */
  predictWithConfidence?(text: string, index: number): ScoredReading | undefined;
}

export interface StudentMetrics {
  trainExamples: number;
  heldOutExamples: number;
  trainAccuracy: number;
  /** Null when nothing was held out. */
  heldOutAccuracy: number | null;
  /** pinyin-pro alone on the same held-out examples. */
  heldOutPinyinProAccuracy: number | null;
}

/**
 * How the score margin becomes a probability: Platt scaling, p = 1 / (1 + exp(-(a·margin + b))),
 * fitted on out-of-fold predictions of the training data; characters the model never saw and
 * characters with a single reading get the out-of-fold accuracy of such cases.
 */
export interface Calibration {
  a: number;
  b: number;
  unseen: number;
  single: number;
  /** Out-of-fold predictions the fit used, and how many folds. */
  examples: number;
  folds: number;
}

/** The model file (JSON). Keys are sorted and weights rounded, so the same data and seed give the same bytes. */
export interface StudentModelFile {
  format: typeof MODEL_FORMAT;
  formatVersion: number;
  createdWith: { pinyinPro: string };
  seed: number;
  epochs: number;
  heldOutFraction: number;
  /** Context width: 1..3 characters on each side. */
  contextWidth: number;
  /** Sources whose suggestion is a feature. */
  agreement: AgreementSource[];
  /** Version 2: the longest lexicon word covering the target votes once more (`<lexicon>M`). */
  longestWordVote?: boolean;
  trainingData: { sha256: string; examples: number; sources: string[] };
  metrics: StudentMetrics;
  /** Weights of agreement features shared by every character (trust in pinyin-pro, in the lexicons). */
  shared: Record<string, number>;
  chars: Record<string, CharModel>;
  /** Version 1: words whose reading differs from pinyin-pro's built-in dictionary, for the characters above. */
  lexicon?: Record<string, string>;
  /** Version 2: the same per named lexicon (`lex`: @pinyin-pro/data, `pyp`: pypinyin's phrases). */
  lexicons?: Record<string, Record<string, string>>;
  /** Version 2: null when the model was trained without calibration. */
  calibration?: Calibration | null;
}

export type AgreementSource = 'pinyinPro' | 'lexicon' | 'pypinyin';

/** The vote name of each lexicon source. */
export const LEXICON_NAMES: Partial<Record<AgreementSource, string>> = { lexicon: 'lex', pypinyin: 'pyp' };

export interface CharModel {
  readings: string[];
  /** Context feature → one weight per reading. */
  context: Record<string, number[]>;
  /** Per-character correction of the shared agreement weights. */
  agreement: Record<string, number>;
}

/** A prediction with its score margin over the runner-up, before calibration. */
export interface RawPrediction {
  reading: string;
  /** `model`: scored by the character's weights; `unseen`: pinyin-pro for a character the model lacks; `single`: one reading only. */
  kind: 'model' | 'unseen' | 'single';
  margin: number;
}

class LoadedStudent implements G2PStudent {
  readonly version: string;
  private readonly chars = new Map<string, { readings: string[]; context: Map<string, number[]>; agreement: Map<string, number> }>();
  private readonly shared: Map<string, number>;
  private readonly lexicons: Array<[string, LexiconIndex]>;
  private readonly width: number;
  private readonly usePinyinPro: boolean;
  private readonly longestVote: boolean;
  private readonly calibration: Calibration | null;

  constructor(readonly file: StudentModelFile) {
    this.version = `${file.formatVersion}:${file.trainingData.sha256.slice(0, 12)}:${file.seed}`;
    this.shared = new Map(Object.entries(file.shared));
    this.width = file.contextWidth;
    this.longestVote = file.longestWordVote === true;
    this.usePinyinPro = file.agreement.includes('pinyinPro');
    this.calibration = file.calibration ?? null;
    for (const [ch, m] of Object.entries(file.chars)) {
      this.chars.set(ch, { readings: m.readings, context: new Map(Object.entries(m.context)), agreement: new Map(Object.entries(m.agreement)) });
    }
    const lexicons = file.lexicons ?? { lex: file.lexicon ?? {} };
    this.lexicons = Object.keys(lexicons).sort().map((name) => [name, new LexiconIndex(lexicons[name]!)]);
  }

  predict(text: string, index: number): string | undefined {
    return this.raw(text, index, false)?.reading;
  }

  predictWithConfidence(text: string, index: number): ScoredReading | undefined {
    const r = this.raw(text, index, true);
    if (!r) return undefined;
    return { reading: r.reading, confidence: confidenceOf(r, this.calibration) };
  }

  /** The reading and, when `withMargin`, its exact margin (otherwise the margin may be a lower bound). */
  raw(text: string, index: number, withMargin = true): RawPrediction | undefined {
    const ch = charAt(text, index);
    if (!ch || !isHan(ch)) return undefined;
    const m = this.chars.get(ch);
    // A character the teacher never showed: pinyin-pro's guess is the best we have.
    if (!m) {
      const g = pinyinProGuess(text, index);
      return g === undefined ? undefined : { reading: g, kind: 'unseen', margin: 0 };
    }
    if (m.readings.length === 1) return { reading: m.readings[0]!, kind: 'single', margin: 0 };
    const scores = new Float64Array(m.readings.length);
    for (const f of contextFeatures(text, index, this.width)) {
      const w = m.context.get(f);
      if (w) for (let k = 0; k < w.length; k++) scores[k]! += w[k]!;
    }
    for (const [name, reading] of agreementFeatures(text, index, this.lexicons, false, this.longestVote).votes) {
      const k = m.readings.indexOf(reading);
      if (k >= 0) scores[k]! += (this.shared.get(name) ?? 0) + (m.agreement.get(name) ?? 0);
    }
    let best = 0;
    for (let k = 1; k < scores.length; k++) if (scores[k]! > scores[best]! + 1e-9) best = k;
    const runnerUpOf = (b: number, extra = -Infinity) => {
      let r = extra;
      for (let k = 0; k < scores.length; k++) if (k !== b && scores[k]! > r) r = scores[k]!;
      return r;
    };
    if (!this.usePinyinPro) return { reading: m.readings[best]!, kind: 'model', margin: scores.length > 1 ? scores[best]! - runnerUpOf(best) : 0 };
    // pinyin-pro's vote adds one weight to one reading (and wins ties), or brings in a reading the
    // examples never showed, scored by a weight of its own. When the best reading leads by more
    // than those weights, the guess cannot change the answer: the costliest step is skipped.
    const ppWeight = this.weight(m, 'pp');
    const newWeight = this.weight(m, 'ppNew');
    if (!withMargin) {
      const runnerUp = runnerUpOf(best);
      if (scores[best]! - runnerUp > Math.abs(ppWeight) + 1e-6 && scores[best]! > newWeight + 1e-6) return { reading: m.readings[best]!, kind: 'model', margin: scores[best]! - runnerUp - Math.abs(ppWeight) };
    }
    const guess = pinyinProGuess(text, index);
    if (guess === undefined) return { reading: m.readings[best]!, kind: 'model', margin: scores[best]! - runnerUpOf(best) };
    const g = m.readings.indexOf(guess);
    if (g < 0) {
      // The guess is one more candidate, scored newWeight.
      if (newWeight >= scores[best]! - 1e-9) return { reading: guess, kind: 'model', margin: newWeight - scores[best]! };
      return { reading: m.readings[best]!, kind: 'model', margin: scores[best]! - runnerUpOf(best, newWeight) };
    }
    scores[g]! += ppWeight;
    // Ties go to pinyin-pro's guess.
    best = g;
    for (let k = 0; k < scores.length; k++) if (scores[k]! > scores[best]! + 1e-9) best = k;
    return { reading: m.readings[best]!, kind: 'model', margin: scores[best]! - runnerUpOf(best) };
  }

  private weight(m: { agreement: Map<string, number> }, name: string): number {
    return (this.shared.get(name) ?? 0) + (m.agreement.get(name) ?? 0);
  }
}

/** The calibrated probability of a raw prediction. */
export function confidenceOf(r: RawPrediction, c: Calibration | null): number | null {
  if (!c) return null;
  if (r.kind === 'unseen') return c.unseen;
  if (r.kind === 'single') return c.single;
  return 1 / (1 + Math.exp(-(c.a * r.margin + c.b)));
}

export class StudentFormatError extends Error {}

/** Checks the shape of a parsed model file and builds the student. */
export type LoadedStudentModel = G2PStudent & Required<Pick<G2PStudent, 'predictWithConfidence'>> & { readonly file: StudentModelFile; raw(text: string, index: number, withMargin?: boolean): RawPrediction | undefined };

export function studentFromJson(json: unknown, source = 'model'): LoadedStudentModel {
  const f = json as Partial<StudentModelFile> | null;
  if (!f || typeof f !== 'object' || f.format !== MODEL_FORMAT) throw new StudentFormatError(`${source} is not a G2P student model (format ≠ ${MODEL_FORMAT})`);
  if (!READABLE_VERSIONS.includes(f.formatVersion as number)) {
    throw new StudentFormatError(`${source} has format version ${String(f.formatVersion)}; this build reads versions ${READABLE_VERSIONS.join(' and ')}: train the student again (TTS Distill: Train Student, or tts-distill train)`);
  }
  const lexiconsOk = f.formatVersion === 1 ? typeof f.lexicon === 'object' : typeof f.lexicons === 'object';
  if (typeof f.chars !== 'object' || typeof f.shared !== 'object' || !lexiconsOk || !Array.isArray(f.agreement) || typeof f.trainingData?.sha256 !== 'string') {
    throw new StudentFormatError(`${source} is incomplete (chars, shared, ${f.formatVersion === 1 ? 'lexicon' : 'lexicons'}, agreement, trainingData)`);
  }
  return new LoadedStudent(f as StudentModelFile);
}

export async function loadStudent(file: string): Promise<LoadedStudentModel> {
  const raw = await readFile(file);
  let text: string;
  try {
    text = (file.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8');
  } catch (err) {
    throw new StudentFormatError(`${file}: not gzip (${(err as Error).message})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new StudentFormatError(`${file}: not JSON (${(err as Error).message})`);
  }
  return studentFromJson(json, file);
}

/** The default student's file name (scripts/build-default-student.ts writes it). */
export const DEFAULT_STUDENT_NAME = 'default-student.json.gz';

/**
 * Where the default student is: server/src/core/student/data/ from source, dist/data/ from a
 * bundle in dist/ (scripts/build.mjs copies it there); undefined when neither has it.
 */
export function defaultStudentPath(): string | undefined {
  return [join(__dirname, 'data', DEFAULT_STUDENT_NAME), join(__dirname, 'student', 'data', DEFAULT_STUDENT_NAME)].find((p) => existsSync(p));
}

let defaultStudent: Promise<LoadedStudentModel> | undefined;
/** The default student (trained on CPP dev), loaded once. */
export function loadDefaultStudent(): Promise<LoadedStudentModel> {
  const file = defaultStudentPath();
  if (!file) return Promise.reject(new StudentFormatError(`the default G2P student (${DEFAULT_STUDENT_NAME}) is not installed: run npm run build`));
  defaultStudent ??= loadStudent(file);
  return defaultStudent;
}

/** Canonical bytes of a model file: compact JSON with sorted keys at every level. */
export function serializeModel(model: StudentModelFile): string {
  return JSON.stringify(sortKeys(model)) + '\n';
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) out[k] = sortKeys((v as Record<string, unknown>)[k]);
    return out;
  }
  return v;
}
