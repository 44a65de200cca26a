// The G2P student: its one-file format and its prediction. No training code here, so that the
// language server can load a model without carrying the trainer or the lexicon data.
import { readFile } from 'node:fs/promises';
import { agreementFeatures, contextFeatures, LexiconIndex } from './features';
import { charAt, isHan, pinyinProGuess } from './readings';

export const MODEL_FORMAT = 'tts-distill-g2p-student';
export const MODEL_FORMAT_VERSION = 1;

/** The contract the polyphone diagnostics use as their second opinion. */
export interface G2PStudent {
  readonly version: string;
  /** Tone-numbered pinyin of text[index] (ü as v, neutral tone 5); undefined for non-Han characters. */
  predict(text: string, index: number): string | undefined;
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
  trainingData: { sha256: string; examples: number; sources: string[] };
  metrics: StudentMetrics;
  /** Weights of agreement features shared by every character (trust in pinyin-pro, in the lexicon). */
  shared: Record<string, number>;
  chars: Record<string, CharModel>;
  /** Words whose reading differs from pinyin-pro's built-in dictionary, for the characters above. */
  lexicon: Record<string, string>;
}

export type AgreementSource = 'pinyinPro' | 'lexicon';

export interface CharModel {
  readings: string[];
  /** Context feature → one weight per reading. */
  context: Record<string, number[]>;
  /** Per-character correction of the shared agreement weights. */
  agreement: Record<string, number>;
}

class LoadedStudent implements G2PStudent {
  readonly version: string;
  private readonly chars = new Map<string, { readings: string[]; context: Map<string, number[]>; agreement: Map<string, number> }>();
  private readonly shared: Map<string, number>;
  private readonly lexicon: LexiconIndex;
  private readonly width: number;
  private readonly usePinyinPro: boolean;

  constructor(readonly file: StudentModelFile) {
    this.version = `${file.formatVersion}:${file.trainingData.sha256.slice(0, 12)}:${file.seed}`;
    this.shared = new Map(Object.entries(file.shared));
    this.width = file.contextWidth;
    this.usePinyinPro = file.agreement.includes('pinyinPro');
    for (const [ch, m] of Object.entries(file.chars)) {
      this.chars.set(ch, { readings: m.readings, context: new Map(Object.entries(m.context)), agreement: new Map(Object.entries(m.agreement)) });
    }
    this.lexicon = new LexiconIndex(file.lexicon);
  }

  predict(text: string, index: number): string | undefined {
    const ch = charAt(text, index);
    if (!ch || !isHan(ch)) return undefined;
    const m = this.chars.get(ch);
    // A character the teacher never showed: pinyin-pro's guess is the best we have.
    if (!m) return pinyinProGuess(text, index);
    if (m.readings.length === 1) return m.readings[0];
    const scores = new Float64Array(m.readings.length);
    for (const f of contextFeatures(text, index, this.width)) {
      const w = m.context.get(f);
      if (w) for (let k = 0; k < w.length; k++) scores[k]! += w[k]!;
    }
    for (const [name, reading] of agreementFeatures(text, index, this.lexicon, false).votes) {
      const k = m.readings.indexOf(reading);
      if (k >= 0) scores[k]! += (this.shared.get(name) ?? 0) + (m.agreement.get(name) ?? 0);
    }
    let best = 0;
    for (let k = 1; k < scores.length; k++) if (scores[k]! > scores[best]! + 1e-9) best = k;
    if (!this.usePinyinPro) return m.readings[best];
    // pinyin-pro's vote adds one weight to one reading (and wins ties), or brings in a reading the
    // examples never showed, scored by a weight of its own. When the best reading leads by more
    // than those weights, the guess cannot change the answer: the costliest step is skipped.
    const ppWeight = (this.shared.get('pp') ?? 0) + (m.agreement.get('pp') ?? 0);
    const newWeight = (this.shared.get('ppNew') ?? 0) + (m.agreement.get('ppNew') ?? 0);
    let runnerUp = -Infinity;
    for (let k = 0; k < scores.length; k++) if (k !== best && scores[k]! > runnerUp) runnerUp = scores[k]!;
    if (scores[best]! - runnerUp > Math.abs(ppWeight) + 1e-6 && scores[best]! > newWeight + 1e-6) return m.readings[best];
    const guess = pinyinProGuess(text, index);
    if (guess === undefined) return m.readings[best];
    const g = m.readings.indexOf(guess);
    if (g < 0) return newWeight >= scores[best]! - 1e-9 ? guess : m.readings[best];
    scores[g]! += ppWeight;
    // Ties go to pinyin-pro's guess.
    best = g;
    for (let k = 0; k < scores.length; k++) if (scores[k]! > scores[best]! + 1e-9) best = k;
    return m.readings[best];
  }
}

export class StudentFormatError extends Error {}

/** Checks the shape of a parsed model file and builds the student. */
export function studentFromJson(json: unknown, source = 'model'): G2PStudent & { readonly file: StudentModelFile } {
  const f = json as Partial<StudentModelFile> | null;
  if (!f || typeof f !== 'object' || f.format !== MODEL_FORMAT) throw new StudentFormatError(`${source} is not a G2P student model (format ≠ ${MODEL_FORMAT})`);
  if (f.formatVersion !== MODEL_FORMAT_VERSION) throw new StudentFormatError(`${source} has format version ${String(f.formatVersion)}; this build reads version ${MODEL_FORMAT_VERSION}`);
  if (typeof f.chars !== 'object' || typeof f.shared !== 'object' || typeof f.lexicon !== 'object' || !Array.isArray(f.agreement) || typeof f.trainingData?.sha256 !== 'string') {
    throw new StudentFormatError(`${source} is incomplete (chars, shared, lexicon, agreement, trainingData)`);
  }
  return new LoadedStudent(f as StudentModelFile);
}

export async function loadStudent(file: string): Promise<G2PStudent & { readonly file: StudentModelFile }> {
  const text = await readFile(file, 'utf8');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new StudentFormatError(`${file}: not JSON (${(err as Error).message})`);
  }
  return studentFromJson(json, file);
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
