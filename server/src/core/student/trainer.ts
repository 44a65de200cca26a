// Trains the G2P student: an averaged structured perceptron per polyphonic character, over
// context n-grams plus "agreement" features (pinyin-pro's guess, lexicon words) whose weights are
// shared by all characters. Chosen on CPP against logistic-regression-free baselines; see README.
import { createHash } from 'node:crypto';
import { DEFAULT_EPOCHS, DEFAULT_HELDOUT, DEFAULT_SEED } from './defaults';
import { agreementFeatures, contextFeatures, LexiconIndex } from './features';
import lexiconWords from './lexicon.json';
import { MODEL_FORMAT, MODEL_FORMAT_VERSION, studentFromJson, type AgreementSource, type CharModel, type StudentModelFile } from './model';
import { seededRandom, shuffle } from './prng';
import { candidateReadings, charAt, pinyinProGuess } from './readings';
import { PINYIN_PRO_VERSION } from './version';

/** One labelled character: the teacher read text[index] as `reading`. */
export interface LabelledExample {
  text: string;
  index: number;
  reading: string;
}

export interface TrainOptions {
  seed?: number;
  epochs?: number;
  /** Share of examples kept out of training to measure accuracy (0 = train on all). */
  heldOutFraction?: number;
  /** 1..3 characters of context on each side. */
  contextWidth?: number;
  /** Which agreement sources vote (both by default); turning them off gives the bench's baselines. */
  agreement?: AgreementSource[];
  /** Names of the label files, recorded in the model. */
  sources?: string[];
  onProgress?: (p: TrainProgress) => void;
  /** An AbortSignal, or a flag a worker thread reads from shared memory. */
  signal?: { readonly aborted: boolean };
}

export interface TrainProgress {
  phase: 'features' | 'epoch' | 'evaluate';
  /** Epoch number (1-based) during `epoch`; examples done during `features`. */
  step: number;
  total: number;
  /** Share of training examples the perceptron got wrong during the epoch (its training loss). */
  errorRate?: number;
}

export { DEFAULT_EPOCHS, DEFAULT_HELDOUT, DEFAULT_SEED };

/** The agreement feature of a pinyin-pro guess outside the character's readings. */
export const NEW_READING = 'ppNew';

export class TrainingCancelled extends Error {
  constructor() {
    super('training cancelled');
  }
}

interface Prepared {
  ex: LabelledExample;
  ch: string;
  context: string[];
  votes: Array<[string, string]>;
}

/** sha256 of the examples in a canonical form, independent of the file format they came from. */
export function examplesHash(examples: readonly LabelledExample[]): string {
  const h = createHash('sha256');
  for (const e of examples) h.update(`${e.text}\t${e.index}\t${e.reading}\n`);
  return h.digest('hex');
}

/** Splits by a seeded shuffle: the same seed always holds out the same examples. */
export function splitExamples(examples: readonly LabelledExample[], heldOutFraction: number, seed: number): { train: LabelledExample[]; heldOut: LabelledExample[] } {
  const order = shuffle(examples.map((_, i) => i), seededRandom(seed));
  const n = Math.round(examples.length * Math.min(Math.max(heldOutFraction, 0), 0.9));
  return { heldOut: order.slice(0, n).map((i) => examples[i]!), train: order.slice(n).map((i) => examples[i]!) };
}

export function trainStudent(examples: readonly LabelledExample[], options: TrainOptions = {}): StudentModelFile {
  const seed = options.seed ?? DEFAULT_SEED;
  const epochs = options.epochs ?? DEFAULT_EPOCHS;
  const heldOutFraction = options.heldOutFraction ?? DEFAULT_HELDOUT;
  const width = options.contextWidth ?? 3;
  const { train, heldOut } = splitExamples(examples, heldOutFraction, seed);

  // Readings per character: pinyin-pro's list, plus any the teacher used that it does not know.
  const readings = new Map<string, string[]>();
  for (const e of train) {
    const ch = charAt(e.text, e.index);
    if (!ch) continue;
    let rs = readings.get(ch);
    if (!rs) readings.set(ch, (rs = [...candidateReadings(ch)]));
    if (!rs.includes(e.reading)) rs.push(e.reading);
  }
  const agreement: AgreementSource[] = options.agreement ?? ['pinyinPro', 'lexicon'];
  const lexicon = agreement.includes('lexicon') ? new LexiconIndex(lexiconWords as Record<string, string>, (c) => readings.has(c)) : undefined;

  const prepared: Prepared[] = [];
  for (let i = 0; i < train.length; i++) {
    const ex = train[i]!;
    const ch = charAt(ex.text, ex.index)!;
    prepared.push({ ex, ch, context: contextFeatures(ex.text, ex.index, width), votes: agreementFeatures(ex.text, ex.index, lexicon, agreement.includes('pinyinPro')).votes });
    if (i % 2000 === 1999) {
      checkCancel(options.signal);
      options.onProgress?.({ phase: 'features', step: i + 1, total: train.length });
    }
  }

  // Averaged perceptron with the usual lazy-averaging trick: u accumulates step × update.
  const w = new Map<string, number>();
  const u = new Map<string, number>();
  let step = 1;
  const key = (ch: string, f: string, r: string) => `${ch}\u0001${f}\u0001${r}`;
  const sharedKey = (name: string) => `\u0000${name}`;
  const charAgreeKey = (ch: string, name: string) => `${ch}\u0001\u0000${name}`;
  const featuresOf = (p: Prepared, r: string): string[] => {
    // A reading outside the character's list can only come from pinyin-pro's guess: it is scored
    // by a weight of its own (how far to trust such guesses), as the loaded model scores it.
    if (!readings.get(p.ch)!.includes(r)) return [sharedKey(NEW_READING), charAgreeKey(p.ch, NEW_READING)];
    const fs = p.context.map((f) => key(p.ch, f, r));
    for (const [name, vr] of p.votes) if (vr === r) fs.push(sharedKey(name), charAgreeKey(p.ch, name));
    return fs;
  };
  const score = (p: Prepared, r: string) => {
    let s = 0;
    for (const f of featuresOf(p, r)) s += w.get(f) ?? 0;
    return s;
  };
  const best = (p: Prepared) => {
    const rs = readings.get(p.ch)!;
    const guess = p.votes.find(([n]) => n === 'pp')?.[1];
    // pinyin-pro's guess is a candidate even when it is a reading the examples never showed.
    let b = guess ?? rs[0]!;
    let bs = score(p, b);
    for (const r of rs) {
      const s = score(p, r);
      if (s > bs + 1e-9) { bs = s; b = r; }
    }
    return b;
  };
  const update = (f: string, d: number) => {
    w.set(f, (w.get(f) ?? 0) + d);
    u.set(f, (u.get(f) ?? 0) + step * d);
  };
  const random = seededRandom(seed ^ 0x5bd1e995);
  const order = prepared.map((_, i) => i);
  for (let epoch = 1; epoch <= epochs; epoch++) {
    shuffle(order, random);
    let errors = 0;
    for (const i of order) {
      const p = prepared[i]!;
      const y = best(p);
      if (y !== p.ex.reading) {
        errors++;
        for (const f of featuresOf(p, p.ex.reading)) update(f, 1);
        for (const f of featuresOf(p, y)) update(f, -1);
      }
      if (++step % 4096 === 0) checkCancel(options.signal);
    }
    checkCancel(options.signal);
    options.onProgress?.({ phase: 'epoch', step: epoch, total: epochs, errorRate: prepared.length ? errors / prepared.length : 0 });
  }

  // Export averaged, rounded weights grouped per character.
  const round = (x: number) => Math.round(x * 1e4) / 1e4;
  const shared: Record<string, number> = {};
  const chars: Record<string, CharModel> = {};
  for (const [ch, rs] of readings) chars[ch] = { readings: rs, context: {}, agreement: {} };
  for (const [k, v] of w) {
    const avg = round(v - (u.get(k) ?? 0) / step);
    if (avg === 0) continue;
    if (k.startsWith('\u0000')) { shared[k.slice(1)] = avg; continue; }
    const [ch, f, r] = k.split('\u0001') as [string, string, string | undefined];
    const m = chars[ch]!;
    if (f.startsWith('\u0000')) { m.agreement[f.slice(1)] = avg; continue; }
    const vec = (m.context[f] ??= new Array<number>(m.readings.length).fill(0));
    vec[m.readings.indexOf(r!)] = avg;
  }

  const model: StudentModelFile = {
    format: MODEL_FORMAT,
    formatVersion: MODEL_FORMAT_VERSION,
    createdWith: { pinyinPro: PINYIN_PRO_VERSION },
    seed,
    epochs,
    heldOutFraction,
    contextWidth: width,
    agreement,
    trainingData: { sha256: examplesHash(examples), examples: examples.length, sources: options.sources ?? [] },
    metrics: { trainExamples: train.length, heldOutExamples: heldOut.length, trainAccuracy: 0, heldOutAccuracy: null, heldOutPinyinProAccuracy: null },
    shared,
    chars,
    lexicon: lexicon?.toJSON() ?? {},
  };
  // Metrics are measured on the model as it will be loaded (rounded weights), not on the trainer's state.
  options.onProgress?.({ phase: 'evaluate', step: 0, total: 1 });
  const student = studentFromJson(model);
  const acc = (set: LabelledExample[], f: (e: LabelledExample) => string | undefined) =>
    set.length ? round(set.filter((e) => f(e) === e.reading).length / set.length) : null;
  model.metrics.trainAccuracy = acc(train, (e) => student.predict(e.text, e.index)) ?? 0;
  model.metrics.heldOutAccuracy = acc(heldOut, (e) => student.predict(e.text, e.index));
  model.metrics.heldOutPinyinProAccuracy = acc(heldOut, (e) => pinyinProGuess(e.text, e.index));
  options.onProgress?.({ phase: 'evaluate', step: 1, total: 1 });
  return model;
}

function checkCancel(signal: { readonly aborted: boolean } | undefined): void {
  if (signal?.aborted) throw new TrainingCancelled();
}
