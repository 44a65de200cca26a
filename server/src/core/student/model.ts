// The G2P student: its one-file format and its prediction. No training code here, so that the
// language server can load a model without carrying the trainer or the lexicon data.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import {
  contextKeyOf,
  contextKeys,
  HitBuffer,
  LexiconIndex,
  type LexiconWord,
  type RawLexicon,
  readRawLexicons,
  wordFeatureWords,
  type WordFeatureMode,
} from './features';
import { isHan as isHanCode } from '../formats/notation';
import { pinyinProGuess } from './readings';

export const MODEL_FORMAT = 'tts-distill-g2p-student';
/**
 * Version 2: named lexicons, the longest-word vote, a calibrated confidence. Version 3: the words
 * covering the target as features of their own (`wordFeatures`). Versions 1 and 2 still load.
 */
export const MODEL_FORMAT_VERSION = 3;
const READABLE_VERSIONS = [1, 2, 3];

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
  /** Version 3: the words covering the target are context features `W<word>` (all of them, or the longest). */
  wordFeatures?: WordFeatureMode;
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

/** A character as the loaded model scores it: weights looked up by number, vote weights summed once. */
interface CharWeights {
  readings: string[];
  /** Context feature (contextKeyOf) → one weight per reading. */
  context: Map<number, number[]>;
  /** Word feature (the word, without its `W`) → one weight per reading. */
  words: Map<string, number[]>;
  /** Per lexicon (in `lexicons` order) 8 slots: `<name>`, `<name>1`..`<name>6`, `<name>M`; shared + per-character weight. */
  votes: Float64Array;
  pp: number;
  ppNew: number;
  /** Scratch scores (predictions are synchronous). */
  scores: Float64Array;
}

const VOTE_SLOTS = 8;

class LoadedStudent implements G2PStudent {
  readonly version: string;
  /** By code point. */
  private readonly chars = new Map<number, CharWeights>();
  private readonly lexicons: LexiconIndex[];
  private readonly width: number;
  private readonly usePinyinPro: boolean;
  private readonly longestVote: boolean;
  private readonly wordMode: WordFeatureMode | undefined;
  private readonly calibration: Calibration | null;
  private readonly keys = new Float64Array(12);
  private readonly hits = new HitBuffer();
  private readonly found: string[] = [];

  /** `raw`: the lexicons read from the model file's text (`file.lexicons` is then empty). */
  constructor(
    readonly file: StudentModelFile,
    raw?: ReadonlyArray<readonly [string, RawLexicon]>,
  ) {
    this.version = `${file.formatVersion}:${file.trainingData.sha256.slice(0, 12)}:${file.seed}`;
    this.width = file.contextWidth;
    this.longestVote = file.longestWordVote === true;
    this.wordMode = file.formatVersion >= 3 ? file.wordFeatures : undefined;
    this.usePinyinPro = file.agreement.includes('pinyinPro');
    this.calibration = file.calibration ?? null;
    const lexicons = file.lexicons ?? { lex: file.lexicon ?? {} };
    const rawByName = new Map(raw);
    const names = raw ? [...rawByName.keys()].sort() : Object.keys(lexicons).sort();
    this.lexicons = names.map((name) => new LexiconIndex(raw ? rawByName.get(name)! : lexicons[name]!));
    const shared = (name: string) => file.shared[name] ?? 0;
    for (const [ch, m] of Object.entries(file.chars)) {
      const cp = ch.codePointAt(0);
      if (cp === undefined || ch.length !== String.fromCodePoint(cp).length) continue;
      const weight = (name: string) => shared(name) + (m.agreement[name] ?? 0);
      const votes = new Float64Array(names.length * VOTE_SLOTS);
      names.forEach((name, i) => {
        votes[i * VOTE_SLOTS] = weight(name);
        for (let l = 1; l <= 6; l++) votes[i * VOTE_SLOTS + l] = weight(name + l);
        votes[i * VOTE_SLOTS + 7] = weight(name + 'M');
      });
      const context = new Map<number, number[]>();
      const words = new Map<string, number[]>();
      for (const [f, w] of Object.entries(m.context)) {
        if (f.startsWith('W')) {
          words.set(f.slice(1), w);
          continue;
        }
        const k = contextKeyOf(f);
        if (k !== undefined) context.set(k, w);
      }
      this.chars.set(cp, {
        readings: m.readings,
        context,
        words,
        votes,
        pp: weight('pp'),
        ppNew: weight('ppNew'),
        scores: new Float64Array(m.readings.length),
      });
    }
  }

  /** A word's readings as indices among its characters' readings, resolved the first time the word is met. */
  private idsOf(word: string, e: LexiconWord): Int16Array {
    if (e.ids) return e.ids;
    const ids = new Int16Array(word.length).fill(-1);
    for (let o = 0; o < word.length; o++) {
      const c = this.chars.get(word.codePointAt(o)!);
      if (c) ids[o] = c.readings.indexOf(e.readings[o]!);
    }
    return (e.ids = ids);
  }

  predict(text: string, index: number): string | undefined {
    return this.raw(text, index, false)?.reading;
  }

  maxConfidence(text: string, index: number): number {
    // A character the model never saw gets the calibrated accuracy of such guesses, whatever the guess.
    if (this.calibration && !this.chars.has(text.codePointAt(index) ?? -1)) return this.calibration.unseen;
    return 1;
  }

  predictWithConfidence(text: string, index: number): ScoredReading | undefined {
    const r = this.raw(text, index, true);
    if (!r) return undefined;
    return { reading: r.reading, confidence: confidenceOf(r, this.calibration) };
  }

  /**
   * The student's reading with its confidence where it reads text[index] otherwise than
   * `reading`; undefined where it agrees (or has no reading). The same answers as `predict` and
   * then `predictWithConfidence`, scoring the character once.
   */
  judge(text: string, index: number, reading: string): ScoredReading | undefined {
    const r = this.raw(text, index, reading);
    if (!r || r.reading === reading) return undefined;
    return { reading: r.reading, confidence: confidenceOf(r, this.calibration) };
  }

  /**
   * The reading and, when `withMargin`, its exact margin (otherwise the margin may be a lower
   * bound). `withMargin` may also be a reading: the margin is exact unless the student reads that.
   */
  raw(text: string, index: number, withMargin: boolean | string = true): RawPrediction | undefined {
    const unit = text.charCodeAt(index);
    if (Number.isNaN(unit) || (unit >= 0xdc00 && unit <= 0xdfff)) return undefined;
    const cp = text.codePointAt(index)!;
    if (!isHanCode(cp)) return undefined;
    const m = this.chars.get(cp);
    // A character the teacher never showed: pinyin-pro's guess is the best we have.
    if (!m) {
      const g = pinyinProGuess(text, index);
      return g === undefined ? undefined : { reading: g, kind: 'unseen', margin: 0 };
    }
    if (m.readings.length === 1) return { reading: m.readings[0]!, kind: 'single', margin: 0 };
    const scores = m.scores;
    scores.fill(0);
    const keys = this.keys;
    for (let i = 0, n = contextKeys(text, index, this.width, keys); i < n; i++) {
      const w = m.context.get(keys[i]!);
      if (w) for (let k = 0; k < w.length; k++) scores[k]! += w[k]!;
    }
    // The lexicon words covering the target vote for their reading (agreementFeatures' votes, in its order).
    const hits = this.hits;
    const found = this.found;
    found.length = 0;
    for (let li = 0; li < this.lexicons.length; li++) {
      const n = this.lexicons[li]!.scan(text, index, hits);
      let longest = -1;
      for (let h = 0; h < n; h++) {
        const k = this.idsOf(hits.word[h]!, hits.entry[h]!)[hits.offset[h]!]!;
        const length = hits.length[h]!;
        if (k >= 0) scores[k]! += m.votes[li * VOTE_SLOTS]! + m.votes[li * VOTE_SLOTS + Math.min(length, 6)]!;
        if (longest < 0 || length > hits.length[longest]!) longest = h;
        if (this.wordMode && m.words.size) found.push(hits.word[h]!);
      }
      if (longest >= 0 && this.longestVote) {
        const k = this.idsOf(hits.word[longest]!, hits.entry[longest]!)[hits.offset[longest]!]!;
        if (k >= 0) scores[k]! += m.votes[li * VOTE_SLOTS + 7]!;
      }
    }
    if (found.length) {
      for (const word of wordFeatureWords(found, this.wordMode!)) {
        const w = m.words.get(word);
        if (w) for (let k = 0; k < w.length; k++) scores[k]! += w[k]!;
      }
    }
    let best = 0;
    for (let k = 1; k < scores.length; k++) if (scores[k]! > scores[best]! + 1e-9) best = k;
    if (!this.usePinyinPro)
      return { reading: m.readings[best]!, kind: 'model', margin: scores.length > 1 ? scores[best]! - runnerUpOf(scores, best) : 0 };
    // pinyin-pro's vote adds one weight to one reading (and wins ties), or brings in a reading the
    // examples never showed, scored by a weight of its own. When the best reading leads by more
    // than those weights, the guess cannot change the answer: the costliest step is skipped.
    const ppWeight = m.pp;
    const newWeight = m.ppNew;
    if (withMargin === false || withMargin === m.readings[best]) {
      const runnerUp = runnerUpOf(scores, best);
      if (scores[best]! - runnerUp > Math.abs(ppWeight) + 1e-6 && scores[best]! > newWeight + 1e-6)
        return { reading: m.readings[best]!, kind: 'model', margin: scores[best]! - runnerUp - Math.abs(ppWeight) };
    }
    const guess = pinyinProGuess(text, index);
    if (guess === undefined) return { reading: m.readings[best]!, kind: 'model', margin: scores[best]! - runnerUpOf(scores, best) };
    const g = m.readings.indexOf(guess);
    if (g < 0) {
      // The guess is one more candidate, scored newWeight.
      if (newWeight >= scores[best]! - 1e-9) return { reading: guess, kind: 'model', margin: newWeight - scores[best]! };
      return { reading: m.readings[best]!, kind: 'model', margin: scores[best]! - runnerUpOf(scores, best, newWeight) };
    }
    scores[g]! += ppWeight;
    // Ties go to pinyin-pro's guess.
    best = g;
    for (let k = 0; k < scores.length; k++) if (scores[k]! > scores[best]! + 1e-9) best = k;
    return { reading: m.readings[best]!, kind: 'model', margin: scores[best]! - runnerUpOf(scores, best) };
  }
}

/** The highest score but scores[b] (or `extra` if higher). */
function runnerUpOf(scores: Float64Array, b: number, extra = -Infinity): number {
  let r = extra;
  for (let k = 0; k < scores.length; k++) if (k !== b && scores[k]! > r) r = scores[k]!;
  return r;
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
export type LoadedStudentModel = G2PStudent &
  Required<Pick<G2PStudent, 'predictWithConfidence'>> & {
    readonly file: StudentModelFile;
    raw(text: string, index: number, withMargin?: boolean | string): RawPrediction | undefined;
    judge(text: string, index: number, reading: string): ScoredReading | undefined;
    maxConfidence(text: string, index: number): number;
  };

export function studentFromJson(json: unknown, source = 'model', raw?: ReadonlyArray<readonly [string, RawLexicon]>): LoadedStudentModel {
  const f = json as Partial<StudentModelFile> | null;
  if (!f || typeof f !== 'object' || f.format !== MODEL_FORMAT)
    throw new StudentFormatError(`${source} is not a G2P student model (format ≠ ${MODEL_FORMAT})`);
  if (!READABLE_VERSIONS.includes(f.formatVersion as number)) {
    throw new StudentFormatError(
      `${source} has format version ${String(f.formatVersion)}; this build reads versions ${READABLE_VERSIONS.slice(0, -1).join(', ')} and ${READABLE_VERSIONS.at(-1)!}: train the student again (TTS Distill: Train Student, or tts-distill train)`,
    );
  }
  const lexiconsOk = f.formatVersion === 1 ? typeof f.lexicon === 'object' : typeof f.lexicons === 'object';
  if (
    typeof f.chars !== 'object' ||
    typeof f.shared !== 'object' ||
    !lexiconsOk ||
    !Array.isArray(f.agreement) ||
    typeof f.trainingData?.sha256 !== 'string'
  ) {
    throw new StudentFormatError(
      `${source} is incomplete (chars, shared, ${f.formatVersion === 1 ? 'lexicon' : 'lexicons'}, agreement, trainingData)`,
    );
  }
  return new LoadedStudent(f as StudentModelFile, f.formatVersion === 1 ? undefined : raw);
}

export async function loadStudent(file: string): Promise<LoadedStudentModel> {
  const raw = await readFile(file);
  let text: string;
  try {
    text = (file.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8');
  } catch (err) {
    throw new StudentFormatError(`${file}: not gzip (${(err as Error).message})`);
  }
  // The lexicons (most of the file: 170,000 words) are read where they are, not parsed into objects.
  const split = readRawLexicons(text);
  let json: unknown;
  try {
    json = JSON.parse(split ? split.rest : text);
  } catch (err) {
    throw new StudentFormatError(`${file}: not JSON (${(err as Error).message})`);
  }
  return studentFromJson(json, file, split?.lexicons);
}

/** The default student's file name (scripts/build-default-student.ts writes it). */
export const DEFAULT_STUDENT_NAME = 'default-student.json.gz';

/**
 * Where the default student is: server/src/core/student/data/ from source, dist/data/ from a
 * bundle in dist/ (scripts/build.mjs copies it there); undefined when neither has it.
 */
export function defaultStudentPath(): string | undefined {
  return [join(__dirname, 'data', DEFAULT_STUDENT_NAME), join(__dirname, 'student', 'data', DEFAULT_STUDENT_NAME)].find((p) =>
    existsSync(p),
  );
}

let defaultStudent: Promise<LoadedStudentModel> | undefined;
/** The default student (trained on CPP dev), loaded once. */
export function loadDefaultStudent(): Promise<LoadedStudentModel> {
  const file = defaultStudentPath();
  if (!file)
    return Promise.reject(new StudentFormatError(`the default G2P student (${DEFAULT_STUDENT_NAME}) is not installed: run npm run build`));
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
