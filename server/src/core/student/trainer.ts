// Trains the G2P student: an averaged structured perceptron per polyphonic character, over
// context n-grams plus "agreement" features (pinyin-pro's guess, lexicon words) whose weights are
// shared by all characters. Chosen on CPP against logistic-regression-free baselines; see README.
import { createHash } from 'node:crypto';
import { DEFAULT_CALIBRATION_FOLDS, DEFAULT_EPOCHS, DEFAULT_HELDOUT, DEFAULT_SEED } from './defaults';
import { agreementFeatures, contextFeatures, LexiconIndex, wordFeatures, type WordFeatureMode } from './features';
import {
  LEXICON_NAMES,
  MODEL_FORMAT,
  MODEL_FORMAT_VERSION,
  studentFromJson,
  type AgreementSource,
  type Calibration,
  type CharModel,
  type StudentModelFile,
} from './model';
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
  /** Which agreement sources vote (all by default); turning them off gives the bench's baselines. */
  agreement?: AgreementSource[];
  /** The longest-word vote of format 2 (default true; false gives the format-1 features). */
  longestWordVote?: boolean;
  /** The lexicon words covering the target as per-character features (format 3): all of them (default), the longest, or none (false). */
  wordFeatures?: WordFeatureMode | false;
  /** Folds of the out-of-fold predictions the confidence is calibrated on (default 5; 0: no calibration). */
  calibrationFolds?: number;
  /** Names of the label files, recorded in the model. */
  sources?: string[];
  onProgress?: (p: TrainProgress) => void;
  /** An AbortSignal, or a flag a worker thread reads from shared memory. */
  signal?: { readonly aborted: boolean };
}

export interface TrainProgress {
  phase: 'features' | 'epoch' | 'calibrate' | 'evaluate';
  /** Epoch number (1-based) during `epoch`; examples done during `features`. */
  step: number;
  total: number;
  /** Share of training examples the perceptron got wrong during the epoch (its training loss). */
  errorRate?: number;
}

export { DEFAULT_CALIBRATION_FOLDS, DEFAULT_EPOCHS, DEFAULT_HELDOUT, DEFAULT_SEED };

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
export function splitExamples(
  examples: readonly LabelledExample[],
  heldOutFraction: number,
  seed: number,
): { train: LabelledExample[]; heldOut: LabelledExample[] } {
  const order = shuffle(
    examples.map((_, i) => i),
    seededRandom(seed),
  );
  const n = Math.round(examples.length * Math.min(Math.max(heldOutFraction, 0), 0.9));
  return { heldOut: order.slice(0, n).map((i) => examples[i]!), train: order.slice(n).map((i) => examples[i]!) };
}

/**
 * Words of each lexicon source (tools/ regenerates them). Loaded with require, not import: the
 * bundler still inlines them, and the type checker does not infer a type for 180k keys.
 */
let lexiconWords: Record<string, Record<string, string>> | undefined;
function lexiconWordsOf(name: string): Record<string, string> {
  lexiconWords ??= {
    lex: require('./lexicon.json') as Record<string, string>,
    pyp: require('./pypinyinLexicon.json') as Record<string, string>,
  };
  return lexiconWords[name]!;
}

interface FitConfig {
  seed: number;
  epochs: number;
  width: number;
  longestVote: boolean;
  agreement: AgreementSource[];
  wordFeatures: WordFeatureMode | undefined;
}

interface Fitted {
  shared: Record<string, number>;
  chars: Record<string, CharModel>;
  lexicons: Record<string, Record<string, string>>;
}

const round = (x: number) => Math.round(x * 1e4) / 1e4;

/** The averaged perceptron on `train`: weights grouped per character, averaged and rounded. */
function fit(train: readonly LabelledExample[], cfg: FitConfig, options: TrainOptions, report: boolean): Fitted {
  const { seed, epochs, width, agreement } = cfg;
  // Readings per character: pinyin-pro's list, plus any the teacher used that it does not know.
  const readings = new Map<string, string[]>();
  for (const e of train) {
    const ch = charAt(e.text, e.index);
    if (!ch) continue;
    let rs = readings.get(ch);
    if (!rs) readings.set(ch, (rs = [...candidateReadings(ch)]));
    if (!rs.includes(e.reading)) rs.push(e.reading);
  }
  const lexicons: Array<[string, LexiconIndex]> = [];
  for (const src of agreement) {
    const name = LEXICON_NAMES[src];
    if (name) lexicons.push([name, new LexiconIndex(lexiconWordsOf(name), (c) => readings.has(c))]);
  }
  lexicons.sort((a, b) => (a[0] < b[0] ? -1 : 1));

  const prepared: Prepared[] = [];
  for (let i = 0; i < train.length; i++) {
    const ex = train[i]!;
    const ch = charAt(ex.text, ex.index)!;
    const words = new Set<string>();
    const votes = agreementFeatures(ex.text, ex.index, lexicons, agreement.includes('pinyinPro'), cfg.longestVote, words).votes;
    const context = contextFeatures(ex.text, ex.index, width);
    if (cfg.wordFeatures) context.push(...wordFeatures(words, cfg.wordFeatures));
    prepared.push({ ex, ch, context, votes });
    if (i % 2000 === 1999) {
      checkCancel(options.signal);
      if (report) options.onProgress?.({ phase: 'features', step: i + 1, total: train.length });
    }
  }

  // Averaged perceptron with the usual lazy-averaging trick: u accumulates step × update.
  const w = new Map<string, number>();
  const u = new Map<string, number>();
  let step = 1;
  const key = (ch: string, f: string, r: string) => `${ch}\u0001${f}\u0001${r}`;
  const sharedKey = (name: string) => `\u0000${name}`;
  const charAgreeKey = (ch: string, name: string) => `${ch}\u0001\u0000${name}`;
  // The weight keys of an example for a reading are the same in every epoch: built once.
  const memo = new Map<Prepared, Map<string, string[]>>();
  const featuresOf = (p: Prepared, r: string): string[] => {
    let byReading = memo.get(p);
    if (!byReading) memo.set(p, (byReading = new Map()));
    let fs = byReading.get(r);
    if (!fs) byReading.set(r, (fs = keysOf(p, r)));
    return fs;
  };
  const keysOf = (p: Prepared, r: string): string[] => {
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
      if (s > bs + 1e-9) {
        bs = s;
        b = r;
      }
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
    if (report)
      options.onProgress?.({ phase: 'epoch', step: epoch, total: epochs, errorRate: prepared.length ? errors / prepared.length : 0 });
  }

  // Export averaged, rounded weights grouped per character.
  const shared: Record<string, number> = {};
  const chars: Record<string, CharModel> = {};
  for (const [ch, rs] of readings) chars[ch] = { readings: rs, context: {}, agreement: {} };
  for (const [k, v] of w) {
    const avg = round(v - (u.get(k) ?? 0) / step);
    if (avg === 0) continue;
    if (k.startsWith('\u0000')) {
      shared[k.slice(1)] = avg;
      continue;
    }
    const [ch, f, r] = k.split('\u0001') as [string, string, string | undefined];
    const m = chars[ch]!;
    if (f.startsWith('\u0000')) {
      m.agreement[f.slice(1)] = avg;
      continue;
    }
    const vec = (m.context[f] ??= new Array<number>(m.readings.length).fill(0));
    vec[m.readings.indexOf(r!)] = avg;
  }
  const lex: Record<string, Record<string, string>> = {};
  for (const [name, index] of lexicons) lex[name] = index.toJSON();
  return { shared, chars, lexicons: lex };
}

function modelFile(
  fitted: Fitted,
  cfg: FitConfig,
  examples: readonly LabelledExample[],
  heldOutFraction: number,
  sources: string[],
  calibration: Calibration | null,
): StudentModelFile {
  return {
    format: MODEL_FORMAT,
    // Version 3 only where its word features are used: other models stay readable by older builds.
    formatVersion: cfg.wordFeatures ? MODEL_FORMAT_VERSION : 2,
    createdWith: { pinyinPro: PINYIN_PRO_VERSION },
    seed: cfg.seed,
    epochs: cfg.epochs,
    heldOutFraction,
    contextWidth: cfg.width,
    longestWordVote: cfg.longestVote,
    ...(cfg.wordFeatures ? { wordFeatures: cfg.wordFeatures } : {}),
    agreement: cfg.agreement,
    trainingData: { sha256: examplesHash(examples), examples: examples.length, sources },
    metrics: { trainExamples: 0, heldOutExamples: 0, trainAccuracy: 0, heldOutAccuracy: null, heldOutPinyinProAccuracy: null },
    shared: fitted.shared,
    chars: fitted.chars,
    lexicons: fitted.lexicons,
    calibration,
  };
}

/**
 * Platt scaling of the score margin on out-of-fold predictions: the training examples split in
 * `folds` parts, each predicted by a model trained on the others. Deterministic (Newton's method
 * from a fixed start, a fixed number of steps).
 */
function calibrate(train: readonly LabelledExample[], cfg: FitConfig, folds: number, options: TrainOptions): Calibration | null {
  if (folds < 2 || train.length < folds * 2) return null;
  const order = shuffle(
    train.map((_, i) => i),
    seededRandom(cfg.seed ^ 0x2545f491),
  );
  const margins: number[] = [];
  const right: number[] = [];
  const other = { unseen: [0, 0], single: [0, 0] };
  for (let k = 0; k < folds; k++) {
    const inFold = new Set<number>();
    for (let j = k; j < order.length; j += folds) inFold.add(order[j]!);
    const part = train.filter((_, i) => !inFold.has(i));
    const student = studentFromJson(modelFile(fit(part, cfg, options, false), cfg, part, 0, [], null));
    for (const i of inFold) {
      const e = train[i]!;
      const r = student.raw(e.text, e.index);
      if (!r) continue;
      const ok = r.reading === e.reading ? 1 : 0;
      if (r.kind === 'model') {
        margins.push(r.margin);
        right.push(ok);
      } else {
        other[r.kind][0]! += ok;
        other[r.kind][1]! += 1;
      }
    }
    options.onProgress?.({ phase: 'calibrate', step: k + 1, total: folds });
  }
  const { a, b } = plattFit(margins, right);
  // Laplace-smoothed accuracy of the cases the margin does not describe.
  const rate = ([ok, n]: number[]) => round((ok! + 1) / (n! + 2));
  return { a: round(a), b: round(b), unseen: rate(other.unseen), single: rate(other.single), examples: margins.length, folds };
}

/**
 * Logistic regression of `y` on `x` (one feature and a bias, a little L2 on both, so that all-right
 * data gives a finite fit): Newton's method on the
 * standardised feature with backtracking, so that it cannot diverge on saturated margins.
 */
export function plattFit(x: readonly number[], y: readonly number[]): { a: number; b: number } {
  const n = x.length;
  if (!n) return { a: 0, b: 0 };
  let mean = 0;
  for (const v of x) mean += v;
  mean /= n;
  let sd = 0;
  for (const v of x) sd += (v - mean) ** 2;
  sd = Math.sqrt(sd / n) || 1;
  const z = x.map((v) => (v - mean) / sd);
  const lambda = 1e-3;
  const loss = (a: number, b: number) => {
    let l = 0.5 * lambda * (a * a + b * b);
    for (let i = 0; i < n; i++) {
      const t = a * z[i]! + b;
      // log(1 + e^t) - y·t, computed without overflow.
      l += (t > 0 ? t + Math.log1p(Math.exp(-t)) : Math.log1p(Math.exp(t))) - y[i]! * t;
    }
    return l;
  };
  let a = 0,
    b = 0,
    cur = loss(a, b);
  for (let it = 0; it < 100; it++) {
    let ga = lambda * a,
      gb = lambda * b,
      haa = lambda,
      hab = 0,
      hbb = lambda;
    for (let i = 0; i < n; i++) {
      const p = 1 / (1 + Math.exp(-(a * z[i]! + b)));
      const d = p - y[i]!;
      const h = p * (1 - p);
      ga += d * z[i]!;
      gb += d;
      haa += h * z[i]! * z[i]!;
      hab += h * z[i]!;
      hbb += h;
    }
    const det = haa * hbb - hab * hab;
    if (!(det > 1e-15)) break;
    const da = (hbb * ga - hab * gb) / det,
      db = (haa * gb - hab * ga) / det;
    let step = 1,
      next = loss(a - da, b - db);
    while (next > cur && step > 1e-6) {
      step /= 2;
      next = loss(a - step * da, b - step * db);
    }
    if (next > cur) break;
    a -= step * da;
    b -= step * db;
    const done = cur - next < 1e-12;
    cur = next;
    if (done) break;
  }
  // Back to the unstandardised margin: a·(x − mean)/sd + b.
  return { a: a / sd, b: b - (a * mean) / sd };
}

export function trainStudent(examples: readonly LabelledExample[], options: TrainOptions = {}): StudentModelFile {
  const cfg: FitConfig = {
    seed: options.seed ?? DEFAULT_SEED,
    epochs: options.epochs ?? DEFAULT_EPOCHS,
    width: options.contextWidth ?? 3,
    longestVote: options.longestWordVote ?? true,
    agreement: options.agreement ?? ['pinyinPro', 'lexicon', 'pypinyin'],
    wordFeatures: options.wordFeatures === false ? undefined : (options.wordFeatures ?? 'all'),
  };
  const heldOutFraction = options.heldOutFraction ?? DEFAULT_HELDOUT;
  const { train, heldOut } = splitExamples(examples, heldOutFraction, cfg.seed);
  const fitted = fit(train, cfg, options, true);
  const calibration = calibrate(train, cfg, options.calibrationFolds ?? DEFAULT_CALIBRATION_FOLDS, options);
  const model = modelFile(fitted, cfg, examples, heldOutFraction, options.sources ?? [], calibration);
  model.metrics.trainExamples = train.length;
  model.metrics.heldOutExamples = heldOut.length;
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
