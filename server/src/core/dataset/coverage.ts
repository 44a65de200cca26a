/**
 * Reading coverage of a distillation dataset's task text: for every polyphone, how many lines
 * read it each way (by the teacher's G2P, pinned by the dictionary, or left to the teacher's
 * language model), which readings are thin, and the classic corpus-design figures: syllables,
 * tones and the teacher's phoneme tokens covered. Pure: no file system, no LSP.
 */
import { ReplaceDict } from '../pronunciation/dictionary';
import { AbleList } from '../pronunciation/g2p/ableList';
import { PHONEME_SYMBOLS, pinyinToTokens } from '../formats/notation';
import { candidateReadings, predictReadings, type ReadingSource, sourceAt } from '../pronunciation/teacherReadings';
import syllableList from './syllables.json';

/** One line of task text, where it is. */
export interface CoverageLine {
  file: string;
  /** 0-based line in the file. */
  line: number;
  text: string;
}

export interface LineRef {
  file: string;
  line: number;
}

export type CountedSource = Exclude<ReadingSource, 'none'>;

export interface ReadingCoverage {
  reading: string;
  /** Lines with at least one occurrence of the character read this way. */
  lines: number;
  occurrences: number;
  /** Occurrences by who decides the reading. */
  sources: Record<CountedSource, number>;
  /** The first lines (at most `maxRefs`). */
  refs: LineRef[];
  /** Fewer lines than `minExamples`. */
  thin: boolean;
}

export interface PolyphoneCoverage {
  char: string;
  /** Every reading pinyin-pro knows for the character, most common first. */
  candidates: string[];
  lines: number;
  occurrences: number;
  /** Readings seen, most lines first, then candidates never seen (0 lines). */
  readings: ReadingCoverage[];
  thinReadings: number;
}

export interface CoverageReport {
  lines: number;
  hanCharacters: number;
  minExamples: number;
  polyphones: PolyphoneCoverage[];
  /** Every thin (character, reading), fewest lines first. */
  thin: Array<{ char: string; reading: string; lines: number }>;
  /** Toneless syllables (of the 411 pinyin-pro writes for CJK characters). */
  syllables: { covered: number; total: number; missing: string[] };
  /** Tone-numbered syllables (of 1,380). */
  tonalSyllables: { covered: number; total: number };
  /** Han characters per tone (1–5, 5 neutral). */
  tones: Record<'1' | '2' | '3' | '4' | '5', number>;
  /** The teacher's 204 phoneme tokens, counted where the teacher writes tokens (g2p and dictionary readings; model-read characters stay text). */
  phonemes: { covered: number; total: number; missing: string[]; counts: Record<string, number> };
  mixedLanguage: { lines: number; share: number; refs: LineRef[] };
}

export interface CoverageOptions {
  dict?: ReplaceDict;
  able?: AbleList;
  /** Default 3 (`ttsDistill.coverage.minExamples`). */
  minExamples?: number;
  /** Line references kept per reading (default 200). */
  maxRefs?: number;
}

/** The tone-numbered syllables pinyin-pro writes for U+4E00–U+9FA5 (generated from its data; test/unit/dataset.coverage.test.ts keeps it in step). */
export const ALL_TONAL_SYLLABLES: readonly string[] = syllableList as string[];
const ALL_SYLLABLES: readonly string[] = [...new Set(ALL_TONAL_SYLLABLES.map((s) => s.slice(0, -1)))].sort();

const HAN_RE = /[\u3400-\u9fff\uf900-\ufaff]/;
const LATIN_WORD = /[A-Za-z]{2,}/;
const tokenCache = new Map<string, string[]>();

/** The phoneme symbols the teacher writes for one tone-numbered syllable (`hang2` → H, ANG2). */
export function phonemeSymbols(reading: string): string[] {
  let t = tokenCache.get(reading);
  if (!t) {
    try {
      t = [...pinyinToTokens(reading).matchAll(/<\|([^|]+)\|>/g)].map((m) => m[1]!);
    } catch {
      t = [];
    }
    tokenCache.set(reading, t);
  }
  return t;
}

/** Does the line mix Chinese and English words (as the task/mixed-language diagnostic says)? */
export function isMixedLanguage(text: string): boolean {
  return LATIN_WORD.test(text) && HAN_RE.test(text);
}

/** One Han character of a line with the teacher's reading and who decides it. */
export interface LineReading {
  index: number;
  char: string;
  reading: string;
  source: CountedSource;
  polyphone: boolean;
}

/** The teacher's reading of every Han character of a text (dictionary first, then its G2P; able-list characters are model-read). */
export function lineReadings(text: string, dict: ReplaceDict = ReplaceDict.empty, able: AbleList = AbleList.bundled): LineReading[] {
  const lr = predictReadings(text, dict);
  const out: LineReading[] = [];
  for (let i = 0; i < text.length; i++) {
    const r = lr.readings[i];
    if (!r) continue;
    const cp = text.codePointAt(i)!;
    const char = String.fromCodePoint(cp);
    const source = sourceAt(lr, char, i, able);
    out.push({ index: i, char, reading: r, source: source === 'none' ? 'model' : source, polyphone: candidateReadings(char).length > 1 });
  }
  return out;
}

/** Coverage of the given task lines. */
export function computeCoverage(lines: Iterable<CoverageLine>, opts: CoverageOptions = {}): CoverageReport {
  const steps = coverageSteps(lines, opts);
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}

/**
 * The same, yielding to the event loop every `chunkLines` lines (a language server stays
 * responsive on a 100,000-line workspace); undefined when `isCancelled` says so between chunks.
 */
export async function computeCoverageAsync(
  lines: Iterable<CoverageLine>,
  opts: CoverageOptions & { chunkLines?: number; isCancelled?: () => boolean } = {},
): Promise<CoverageReport | undefined> {
  const steps = coverageSteps(lines, opts);
  const chunk = opts.chunkLines ?? 500;
  for (let n = 1; ; n++) {
    const r = steps.next();
    if (r.done) return r.value;
    if (n % chunk === 0) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (opts.isCancelled?.()) return undefined;
    }
  }
}

function* coverageSteps(lines: Iterable<CoverageLine>, opts: CoverageOptions): Generator<void, CoverageReport, void> {
  const dict = opts.dict ?? ReplaceDict.empty;
  const able = opts.able ?? AbleList.bundled;
  const minExamples = opts.minExamples ?? 3;
  const maxRefs = opts.maxRefs ?? 200;
  const poly = new Map<string, { lines: number; occurrences: number; readings: Map<string, ReadingCoverage> }>();
  const syllables = new Set<string>();
  const tonal = new Set<string>();
  const tones = { 1: 0, 2: 0, 3: 0, 4: 0, 5: 0 } as Record<'1' | '2' | '3' | '4' | '5', number>;
  const phonemeCounts: Record<string, number> = {};
  const mixed: LineRef[] = [];
  let lineCount = 0,
    mixedCount = 0,
    han = 0;
  for (const l of lines) {
    lineCount++;
    if (isMixedLanguage(l.text)) {
      mixedCount++;
      if (mixed.length < maxRefs) mixed.push({ file: l.file, line: l.line });
    }
    const seenChar = new Set<string>();
    const seenReading = new Set<string>();
    for (const r of lineReadings(l.text, dict, able)) {
      han++;
      tonal.add(r.reading);
      syllables.add(r.reading.slice(0, -1));
      const tone = r.reading.slice(-1) as keyof typeof tones;
      if (tone in tones) tones[tone]++;
      if (r.source !== 'model') for (const s of phonemeSymbols(r.reading)) phonemeCounts[s] = (phonemeCounts[s] ?? 0) + 1;
      if (!r.polyphone) continue;
      let p = poly.get(r.char);
      if (!p) poly.set(r.char, (p = { lines: 0, occurrences: 0, readings: new Map() }));
      p.occurrences++;
      if (!seenChar.has(r.char)) {
        seenChar.add(r.char);
        p.lines++;
      }
      let rc = p.readings.get(r.reading);
      if (!rc)
        p.readings.set(
          r.reading,
          (rc = { reading: r.reading, lines: 0, occurrences: 0, sources: { dictionary: 0, g2p: 0, model: 0 }, refs: [], thin: false }),
        );
      rc.occurrences++;
      rc.sources[r.source]++;
      const key = `${r.char}\u0000${r.reading}`;
      if (!seenReading.has(key)) {
        seenReading.add(key);
        rc.lines++;
        if (rc.refs.length < maxRefs) rc.refs.push({ file: l.file, line: l.line });
      }
    }
    yield;
  }
  const polyphones: PolyphoneCoverage[] = [];
  const thin: CoverageReport['thin'] = [];
  for (const [char, p] of poly) {
    const candidates = candidateReadings(char);
    const readings = [...p.readings.values()].sort((a, b) => b.lines - a.lines || a.reading.localeCompare(b.reading));
    for (const c of candidates) {
      if (!p.readings.has(c))
        readings.push({ reading: c, lines: 0, occurrences: 0, sources: { dictionary: 0, g2p: 0, model: 0 }, refs: [], thin: false });
    }
    let thinReadings = 0;
    for (const r of readings) {
      r.thin = r.lines < minExamples;
      if (r.thin) {
        thinReadings++;
        thin.push({ char, reading: r.reading, lines: r.lines });
      }
    }
    polyphones.push({ char, candidates, lines: p.lines, occurrences: p.occurrences, readings, thinReadings });
  }
  polyphones.sort((a, b) => b.lines - a.lines || (a.char < b.char ? -1 : a.char > b.char ? 1 : 0));
  thin.sort((a, b) => a.lines - b.lines || (a.char < b.char ? -1 : a.char > b.char ? 1 : 0) || a.reading.localeCompare(b.reading));
  const missingPhonemes = [...PHONEME_SYMBOLS].filter((s) => !phonemeCounts[s]).sort();
  return {
    lines: lineCount,
    hanCharacters: han,
    minExamples,
    polyphones,
    thin,
    syllables: {
      covered: ALL_SYLLABLES.filter((s) => syllables.has(s)).length,
      total: ALL_SYLLABLES.length,
      missing: ALL_SYLLABLES.filter((s) => !syllables.has(s)),
    },
    tonalSyllables: { covered: ALL_TONAL_SYLLABLES.filter((s) => tonal.has(s)).length, total: ALL_TONAL_SYLLABLES.length },
    tones,
    phonemes: {
      covered: PHONEME_SYMBOLS.size - missingPhonemes.length,
      total: PHONEME_SYMBOLS.size,
      missing: missingPhonemes,
      counts: phonemeCounts,
    },
    mixedLanguage: { lines: mixedCount, share: lineCount ? mixedCount / lineCount : 0, refs: mixed },
  };
}

export interface CorpusSuggestion {
  /** 0-based line in the corpus file. */
  line: number;
  text: string;
  /** Its score when it was picked (thin readings it fills count 1 each; a new phoneme token 0.5; a new syllable 0.25). */
  gain: number;
  /** The thin readings it adds, `char:reading`. */
  adds: string[];
  newPhonemes: string[];
}

/**
 * Sentences of a corpus (one a line) that add the most to the coverage, picked greedily: each
 * pick fills thin readings (up to what each still lacks), then new phoneme tokens and syllables;
 * the gains of the rest are recomputed lazily (they only ever shrink).
 */
export function suggestFromCorpus(
  report: CoverageReport,
  corpus: readonly string[],
  opts: CoverageOptions & { limit?: number } = {},
): CorpusSuggestion[] {
  const dict = opts.dict ?? ReplaceDict.empty;
  const able = opts.able ?? AbleList.bundled;
  const limit = opts.limit ?? 20;
  const deficit = new Map<string, number>();
  for (const t of report.thin) deficit.set(`${t.char}:${t.reading}`, report.minExamples - t.lines);
  const haveSymbols = new Set(Object.keys(report.phonemes.counts));
  const missingSyllables = new Set(report.syllables.missing);
  interface Cand {
    line: number;
    text: string;
    pairs: string[];
    symbols: string[];
    syllables: string[];
    gain: number;
  }
  const cands: Cand[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < corpus.length; i++) {
    const text = corpus[i]!.replace(/\u2581/g, '').trim();
    if (!text || seen.has(text)) continue;
    seen.add(text);
    const pairs = new Set<string>(),
      symbols = new Set<string>(),
      syl = new Set<string>();
    for (const r of lineReadings(text, dict, able)) {
      if (r.polyphone) pairs.add(`${r.char}:${r.reading}`);
      if (r.source !== 'model') for (const s of phonemeSymbols(r.reading)) if (!haveSymbols.has(s)) symbols.add(s);
      const base = r.reading.slice(0, -1);
      if (missingSyllables.has(base)) syl.add(base);
    }
    const c: Cand = { line: i, text, pairs: [...pairs].filter((p) => deficit.has(p)), symbols: [...symbols], syllables: [...syl], gain: 0 };
    c.gain = gainOf(c);
    if (c.gain > 0) cands.push(c);
  }
  function gainOf(c: Cand): number {
    let g = 0;
    for (const p of c.pairs) if ((deficit.get(p) ?? 0) > 0) g += 1;
    for (const s of c.symbols) if (!haveSymbols.has(s)) g += 0.5;
    for (const s of c.syllables) if (missingSyllables.has(s)) g += 0.25;
    return g;
  }
  // Lazy greedy over a max-heap of (possibly stale) gains; ties keep corpus order.
  const heap = new MaxHeap<Cand>((a, b) => a.gain - b.gain || b.line - a.line);
  for (const c of cands) heap.push(c);
  const out: CorpusSuggestion[] = [];
  while (out.length < limit && heap.size) {
    const top = heap.pop()!;
    const g = gainOf(top);
    if (g <= 0) continue;
    if (g < top.gain) {
      top.gain = g;
      heap.push(top);
      continue;
    }
    const adds = top.pairs.filter((p) => (deficit.get(p) ?? 0) > 0);
    const newPhonemes = top.symbols.filter((s) => !haveSymbols.has(s));
    out.push({ line: top.line, text: top.text, gain: g, adds, newPhonemes });
    for (const p of adds) deficit.set(p, deficit.get(p)! - 1);
    for (const s of newPhonemes) haveSymbols.add(s);
    for (const s of top.syllables) missingSyllables.delete(s);
  }
  return out;
}

class MaxHeap<T> {
  private a: T[] = [];
  constructor(private readonly cmp: (x: T, y: T) => number) {}
  get size(): number {
    return this.a.length;
  }
  push(v: T): void {
    const a = this.a;
    a.push(v);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (this.cmp(a[i]!, a[p]!) <= 0) break;
      [a[i], a[p]] = [a[p]!, a[i]!];
      i = p;
    }
  }
  pop(): T | undefined {
    const a = this.a;
    if (!a.length) return undefined;
    const top = a[0]!;
    const last = a.pop()!;
    if (a.length) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1,
          r = l + 1;
        let m = i;
        if (l < a.length && this.cmp(a[l]!, a[m]!) > 0) m = l;
        if (r < a.length && this.cmp(a[r]!, a[m]!) > 0) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m]!, a[i]!];
        i = m;
      }
    }
    return top;
  }
}
