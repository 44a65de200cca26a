// What the student looks at around a character. One definition, used by training and prediction.
import { BoundedCache } from '../util/boundedCache';
import { pinyinProGuess } from './readings';

const BOS = '\u0002';
const EOS = '\u0003';

/**
 * Context features of text[index] that vote for readings through per-character weights:
 * the neighbouring characters (±1..±3), bigrams and trigrams on each side, and the pair around it.
 * Measured on CPP: without them the student gets 96.2 %, with them 96.7 %.
 */
export function contextFeatures(text: string, index: number, width: number): string[] {
  const ch = (k: number) => (k < 0 ? BOS : k >= text.length ? EOS : text[k]!);
  const after = index + (isHigh(text.charCodeAt(index)) ? 2 : 1);
  const l1 = ch(index - 1),
    l2 = ch(index - 2),
    l3 = ch(index - 3);
  const r1 = ch(after),
    r2 = ch(after + 1),
    r3 = ch(after + 2);
  return [
    'b',
    'L1' + l1,
    'R1' + r1,
    'LR' + l1 + r1,
    'L2' + l2 + l1,
    'R2' + r1 + r2,
    'L3' + l3 + l2 + l1,
    'R3' + r1 + r2 + r3,
    'l2' + l2,
    'r2' + r2,
    'l3' + l3,
    'r3' + r3,
  ].slice(0, width >= 3 ? 12 : width === 2 ? 10 : 4);
}

/** The tags of contextFeatures in their order, and how many characters each carries. */
const CONTEXT_TAGS: ReadonlyArray<readonly [string, number]> = [
  ['b', 0],
  ['L1', 1],
  ['R1', 1],
  ['LR', 2],
  ['L2', 2],
  ['R2', 2],
  ['L3', 3],
  ['R3', 3],
  ['l2', 1],
  ['r2', 1],
  ['l3', 1],
  ['r3', 1],
];

function key(t: number, a: number, b: number, c: number): number {
  return t * 281474976710656 + a * 4294967296 + b * 65536 + c;
}

/**
 * A context feature as a number: its tag and its (up to three) UTF-16 units, exactly, in 52 bits;
 * undefined for a string contextFeatures never produces. The loaded model looks features up by
 * these numbers (contextKeys) instead of building the strings.
 */
export function contextKeyOf(feature: string): number | undefined {
  for (let t = 0; t < CONTEXT_TAGS.length; t++) {
    const [tag, n] = CONTEXT_TAGS[t]!;
    if (feature.length !== tag.length + n || !feature.startsWith(tag)) continue;
    const u = (k: number) => (k < n ? feature.charCodeAt(tag.length + k) : 0);
    return key(t, u(0), u(1), u(2));
  }
  return undefined;
}

/** The UTF-16 unit at k, BOS / EOS outside the text. */
function unitAt(text: string, k: number): number {
  return k < 0 ? 2 : k >= text.length ? 3 : text.charCodeAt(k);
}

/** contextFeatures(text, index, width).map(contextKeyOf), into `out`, without building strings; returns the count. */
export function contextKeys(text: string, index: number, width: number, out: Float64Array): number {
  const after = index + (isHigh(text.charCodeAt(index)) ? 2 : 1);
  const l1 = unitAt(text, index - 1),
    l2 = unitAt(text, index - 2),
    l3 = unitAt(text, index - 3);
  const r1 = unitAt(text, after),
    r2 = unitAt(text, after + 1),
    r3 = unitAt(text, after + 2);
  out[0] = key(0, 0, 0, 0);
  out[1] = key(1, l1, 0, 0);
  out[2] = key(2, r1, 0, 0);
  out[3] = key(3, l1, r1, 0);
  if (width < 2) return 4;
  out[4] = key(4, l2, l1, 0);
  out[5] = key(5, r1, r2, 0);
  out[6] = key(6, l3, l2, l1);
  out[7] = key(7, r1, r2, r3);
  out[8] = key(8, l2, 0, 0);
  out[9] = key(9, r2, 0, 0);
  if (width < 3) return 10;
  out[10] = key(10, l3, 0, 0);
  out[11] = key(11, r3, 0, 0);
  return 12;
}

function isHigh(c: number): boolean {
  return c >= 0xd800 && c <= 0xdbff;
}

/** A word of the lexicon that covers the target: its length and the reading it gives the target. */
export interface LexiconHit {
  length: number;
  reading: string;
}

/** A word of the lexicon as the index keeps it. */
export interface LexiconWord {
  /** One reading per character; `-` for a character the model does not score. */
  readonly readings: string[];
  /** The word (set by the index that resolved it). */
  readonly word?: string;
  /** Set by the loaded model when it first meets the word: per offset, the reading's index among that character's readings (-1: none). */
  ids?: Int16Array;
}

/** The words found by `LexiconIndex.scan`, in reused arrays (no allocation per lookup). */
export class HitBuffer {
  n = 0;
  readonly offset: number[] = [];
  readonly length: number[] = [];
  readonly word: string[] = [];
  readonly entry: LexiconWord[] = [];
}

const TRIPLE_CHAR = 2 ** 28;
const TRIPLE_KEY = 2 ** 16;

/**
 * The triples of one word into `found` from `n` (returns the new count): the word is
 * `w[ws, ws + wl)`, its readings (space-separated, one per UTF-16 unit, `-` for a character the
 * model does not score) are `r[rs, re)`. A word is context around the target: at least two units;
 * offsets and lengths fit 6 bits. A word whose every reading is `-` adds none.
 */
function addTriples(found: Float64Array, n: number, w: string, ws: number, wl: number, r: string, rs: number, re: number): number {
  if (wl < 2 || wl > 63) return n;
  for (let o = 0, at = rs; o < wl; o++) {
    let end = r.indexOf(' ', at);
    if (end < 0 || end > re) end = re;
    const dash = r.charCodeAt(at) === 45 /* - */ && end === at + 1;
    at = end + 1;
    if (dash) continue;
    found[n++] = w.charCodeAt(ws + o) * TRIPLE_CHAR + (o * 64 + wl) * TRIPLE_KEY + w.charCodeAt(ws + (o > 0 ? o - 1 : 1));
  }
  return n;
}

/**
 * A lexicon as a model file's text holds it — `{"word":"readings",...}`, words sorted, no escapes
 * (what `serializeModel` writes) — found by `readRawLexicons` without parsing it: per word, four
 * offsets into `text` (word start and end, readings start and end). Words are found by binary search.
 */
export class RawLexicon {
  constructor(
    readonly text: string,
    readonly off: Int32Array,
    readonly count: number,
  ) {}

  /** The readings of `word`, undefined when it is not in the lexicon. */
  get(word: string): string | undefined {
    const { text, off } = this;
    let lo = 0,
      hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const c = compareSpans(text, off[4 * mid]!, off[4 * mid + 1]!, word, 0, word.length);
      if (c === 0) return text.slice(off[4 * mid + 2]!, off[4 * mid + 3]!);
      if (c < 0) lo = mid + 1;
      else hi = mid;
    }
    return undefined;
  }
}

/** `x[a, b)` compared with `y[c, d)` as JavaScript compares strings (by UTF-16 unit): < 0, 0 or > 0. */
function compareSpans(x: string, a: number, b: number, y: string, c: number, d: number): number {
  const n = Math.min(b - a, d - c);
  for (let i = 0; i < n; i++) {
    const diff = x.charCodeAt(a + i) - y.charCodeAt(c + i);
    if (diff !== 0) return diff;
  }
  return b - a - (d - c);
}

/**
 * The lexicons of a model file's text (`"lexicons":{"<name>":{"word":"readings",...},...}` at the
 * top level), read in place, and the text with their value replaced by `{}` for JSON.parse. Only
 * the canonical form is read so (compact, words sorted, no escape in a word or its readings);
 * anything else gives undefined and the caller parses the whole text.
 */
export function readRawLexicons(text: string): { rest: string; lexicons: Array<[string, RawLexicon]> } | undefined {
  const at = topLevelValue(text, 'lexicons');
  if (at === undefined || text.charCodeAt(at) !== 123 /* { */) return undefined;
  const lexicons: Array<[string, RawLexicon]> = [];
  let i = at + 1;
  if (text.charCodeAt(i) !== 125 /* } */) {
    for (;;) {
      // "name":{
      const nameEnd = plainString(text, i);
      if (nameEnd < 0 || text.charCodeAt(nameEnd + 1) !== 58 || text.charCodeAt(nameEnd + 2) !== 123) return undefined;
      const name = text.slice(i + 1, nameEnd);
      i = nameEnd + 3;
      const offs: number[] = [];
      if (text.charCodeAt(i) !== 125) {
        for (;;) {
          const wEnd = plainString(text, i);
          if (wEnd < 0 || text.charCodeAt(wEnd + 1) !== 58) return undefined;
          const rEnd = plainString(text, wEnd + 2);
          if (rEnd < 0) return undefined;
          const k = offs.length;
          // Sorted, each once: what binary search needs.
          if (k && compareSpans(text, offs[k - 4]!, offs[k - 3]!, text, i + 1, wEnd) >= 0) return undefined;
          offs.push(i + 1, wEnd, wEnd + 3, rEnd);
          i = rEnd + 1;
          const c = text.charCodeAt(i);
          if (c === 44 /* , */) i++;
          else if (c === 125) break;
          else return undefined;
        }
      }
      lexicons.push([name, new RawLexicon(text, Int32Array.from(offs), offs.length / 4)]);
      i++;
      const c = text.charCodeAt(i);
      if (c === 44) i++;
      else if (c === 125) break;
      else return undefined;
    }
  }
  return { rest: text.slice(0, at) + '{}' + text.slice(i + 1), lexicons };
}

/** The end (closing quote) of the JSON string at text[i], -1 when there is none there or it has an escape. */
function plainString(text: string, i: number): number {
  if (text.charCodeAt(i) !== 34 /* " */) return -1;
  for (let j = i + 1; j < text.length; j++) {
    const c = text.charCodeAt(j);
    if (c === 34) return j;
    if (c === 92 /* \ */ || c < 0x20) return -1;
  }
  return -1;
}

/** Where the value of the top-level member `key` starts in compact JSON text, undefined when it cannot tell. */
function topLevelValue(text: string, key: string): number | undefined {
  if (text.charCodeAt(0) !== 123) return undefined;
  let i = 1;
  while (i < text.length) {
    const kEnd = plainString(text, i);
    if (kEnd < 0 || text.charCodeAt(kEnd + 1) !== 58) return undefined;
    const v = kEnd + 2;
    if (text.slice(i + 1, kEnd) === key) return v;
    // Skip the value: strings (escapes and all), nesting counted outside strings.
    let depth = 0;
    let j = v;
    for (; j < text.length; j++) {
      const c = text.charCodeAt(j);
      if (c === 34) {
        for (j++; j < text.length && text.charCodeAt(j) !== 34; j++) if (text.charCodeAt(j) === 92) j++;
      } else if (c === 123 || c === 91) depth++;
      else if (c === 125 || c === 93) {
        if (depth === 0) break;
        depth--;
      } else if (c === 44 && depth === 0) break;
    }
    if (text.charCodeAt(j) !== 44) return undefined;
    i = j + 1;
  }
  return undefined;
}

/**
 * The words of a sorted lexicon grouped by their first two UTF-16 units (words of one unit are
 * in none): group `g` is the words [start[g], end[g]), found by its two units in an
 * open-addressing table. Most places of a text start no word: one probe says so.
 */
class PrefixRanges {
  /** Per group, its first word and the word after its last. */
  readonly start: Int32Array;
  readonly end: Int32Array;
  /** The table: the two units of a group (first × 65536 + second, as int32) and its group + 1 (0: empty slot). */
  private readonly keys: Int32Array;
  private readonly groups: Int32Array;
  private readonly shift: number;

  constructor(text: string, off: Int32Array, count: number) {
    // Sorted words: a group's words are contiguous (a word of one unit sorts before its group).
    const starts: number[] = [];
    const ends: number[] = [];
    let last = 0;
    for (let k = 0; k < count; k++) {
      const ws = off[4 * k]!;
      if (off[4 * k + 1]! - ws < 2) continue;
      const key = (text.charCodeAt(ws) << 16) | text.charCodeAt(ws + 1);
      if (!starts.length || key !== last) {
        starts.push(k);
        ends.push(k + 1);
        last = key;
      } else ends[ends.length - 1] = k + 1;
    }
    let bits = 4;
    while (1 << bits < 1.5 * starts.length) bits++;
    this.shift = 32 - bits;
    this.keys = new Int32Array(1 << bits);
    this.groups = new Int32Array(1 << bits);
    this.start = Int32Array.from(starts);
    this.end = Int32Array.from(ends);
    starts.forEach((k, g) => {
      const ws = off[4 * k]!;
      this.insert((text.charCodeAt(ws) << 16) | text.charCodeAt(ws + 1), g);
    });
  }

  private insert(key: number, g: number): void {
    const mask = this.keys.length - 1;
    for (let i = Math.imul(key, 0x9e3779b1) >>> this.shift; ; i = (i + 1) & mask) {
      if (this.groups[i] === 0) {
        this.keys[i] = key;
        this.groups[i] = g + 1;
        return;
      }
    }
  }

  /** The group of the words starting with units a, b; -1 when there is none. */
  find(a: number, b: number): number {
    const key = (a << 16) | b;
    const mask = this.keys.length - 1;
    for (let i = Math.imul(key, 0x9e3779b1) >>> this.shift; ; i = (i + 1) & mask) {
      const g = this.groups[i]!;
      if (g === 0) return -1;
      if (this.keys[i] === key) return g - 1;
    }
  }
}

/**
 * A lexicon's words that cover a position of a text. The words are kept sorted (a `RawLexicon`:
 * in place in the model file's text, or written so from an object), and the words starting at a
 * position of the text are found from the range of those sharing its first two units (a table),
 * narrowed one unit at a time. A text's starts are looked at once each (its positions are asked
 * one after another), and a word covering the target counts when some word of the lexicon has a
 * reading for the target's character at that place, with that length and that neighbour: the
 * (character, shape, neighbour) triples.
 */
export class LexiconIndex {
  /** The words, sorted; each with its readings (space-separated, one per UTF-16 unit, `-` for a character not kept). */
  private readonly lex: RawLexicon;
  /**
   * Every (character, shape, neighbour) of the words, sorted and distinct, each packed in one number:
   * character × 2^28 + (offset × 64 + length) × 2^16 + neighbour (the left neighbour when the offset
   * is > 0, else the right one). Looked up only for a word whose own reading there is `-`.
   */
  private readonly triples: Float64Array;
  /** The ranges of the words (of two units or more) by their first two units. */
  private readonly prefixes: PrefixRanges;
  /** The longest word with a reading kept (≤ 63). */
  private readonly longest: number;
  /** How many words have a reading kept (`size`). */
  private readonly kept: number;
  /** The words met lately, by their index in `lex` (NOT_A_WORD: no reading kept). */
  private readonly resolved = new BoundedCache<number, LexiconWord>(20_000);
  /** The text whose starts `pairs` holds, and per start: `stamp` (= `gen` once looked at), its first pair and their count. */
  private text: string | undefined;
  private gen = 0;
  private stamp = new Int32Array(0);
  private firstPair = new Int32Array(0);
  private pairCount = new Int32Array(0);
  /** (length, word index) pairs of the words found at the starts looked at, by start, each by length. */
  private pairs = new Int32Array(256);
  private nPairs = 0;

  constructor(words: Record<string, string> | RawLexicon, keep?: (ch: string) => boolean) {
    const lex = words instanceof RawLexicon ? words : rawLexiconOf(words, keep);
    const { text, off, count } = lex;
    let room = 0;
    for (let k = 0; k < count; k++) room += off[4 * k + 1]! - off[4 * k]!;
    const found = new Float64Array(room);
    let n = 0;
    let kept = 0;
    let longest = 0;
    const prefixes = new PrefixRanges(text, off, count);
    for (let k = 0; k < count; k++) {
      const ws = off[4 * k]!;
      const wl = off[4 * k + 1]! - ws;
      const before = n;
      n = addTriples(found, n, text, ws, wl, text, off[4 * k + 2]!, off[4 * k + 3]!);
      if (n > before) {
        kept++;
        if (wl > longest) longest = wl;
      }
    }
    this.lex = lex;
    this.kept = kept;
    this.longest = longest;
    this.prefixes = prefixes;
    this.triples = found.subarray(0, n).sort();
  }

  /** The words kept, as the model file stores them: readings of the characters not kept written `-`. */
  toJSON(): Record<string, string> {
    const out: Record<string, string> = {};
    const { text, off, count } = this.lex;
    for (let k = 0; k < count; k++) {
      const readings = this.readingsOf(k);
      if (readings !== undefined) out[text.slice(off[4 * k]!, off[4 * k + 1]!)] = readings;
    }
    return out;
  }

  get size(): number {
    return this.kept;
  }

  /** The readings of word `k` when it is a word of the index (two to 63 units, a reading kept), else undefined. */
  private readingsOf(k: number): string | undefined {
    const { text, off } = this.lex;
    const wl = off[4 * k + 1]! - off[4 * k]!;
    const r = text.slice(off[4 * k + 2]!, off[4 * k + 3]!);
    if (wl < 2 || wl > 63 || !/[^ -]/.test(r)) return undefined;
    return r;
  }

  /** The words covering text[index] into `out` (by offset, then length); returns how many. */
  scan(text: string, index: number, out: HitBuffer): number {
    out.n = 0;
    if (index < 0 || index >= text.length || this.longest === 0) return 0;
    if (text !== this.text) this.lookAt(text);
    const c = text.charCodeAt(index);
    for (let o = 0, last = Math.min(index, this.longest - 1); o <= last; o++) {
      const s = index - o;
      if (this.stamp[s] !== this.gen) this.findAt(text, s);
      for (let p = this.firstPair[s]!, end = p + 2 * this.pairCount[s]!; p < end; p += 2) {
        const length = this.pairs[p]!;
        // Words too short to reach the target (those that do come later: by length).
        if (length <= o) continue;
        const e = this.entry(this.pairs[p + 1]!);
        if (e === NOT_A_WORD) continue;
        if (e.readings[o] === '-') {
          const neighbour = text.charCodeAt(o > 0 ? index - 1 : index + 1);
          if (!this.hasTriple(c * TRIPLE_CHAR + (o * 64 + length) * TRIPLE_KEY + neighbour)) continue;
        }
        const k = out.n++;
        out.offset[k] = o;
        out.length[k] = length;
        out.word[k] = e.word!;
        out.entry[k] = e;
      }
    }
    return out.n;
  }

  /** A new text: no start looked at yet. */
  private lookAt(text: string): void {
    this.text = text;
    this.nPairs = 0;
    if (this.stamp.length < text.length) {
      const size = Math.max(text.length, 2 * this.stamp.length, 64);
      this.stamp = new Int32Array(size);
      this.firstPair = new Int32Array(size);
      this.pairCount = new Int32Array(size);
      this.gen = 0;
    }
    this.gen++;
  }

  /**
   * The words starting at text[s], by length: the range of those starting with its first two
   * units (a table), then narrowed one unit at a time.
   */
  private findAt(text: string, s: number): void {
    const { text: lt, off } = this.lex;
    this.stamp[s] = this.gen;
    this.firstPair[s] = this.nPairs;
    this.pairCount[s] = 0;
    if (s + 1 >= text.length) return;
    const g = this.prefixes.find(text.charCodeAt(s), text.charCodeAt(s + 1));
    if (g < 0) return;
    let lo = this.prefixes.start[g]!;
    let hi = this.prefixes.end[g]!;
    let n = 0;
    // [lo, hi): the words starting with text[s, s + d + 1), sorted; one equal to it comes first.
    for (let d = 1; ;) {
      if (off[4 * lo + 1]! - off[4 * lo]! === d + 1) {
        if (this.nPairs + 2 > this.pairs.length) {
          const more = new Int32Array(2 * this.pairs.length);
          more.set(this.pairs);
          this.pairs = more;
        }
        this.pairs[this.nPairs++] = d + 1;
        this.pairs[this.nPairs++] = lo;
        n++;
        lo++;
      }
      d++;
      if (lo >= hi || d >= this.longest || s + d >= text.length) break;
      const ch = text.charCodeAt(s + d);
      let a = lo,
        b = hi;
      while (a < b) {
        const mid = (a + b) >>> 1;
        if (lt.charCodeAt(off[4 * mid]! + d) < ch) a = mid + 1;
        else b = mid;
      }
      lo = a;
      b = hi;
      while (a < b) {
        const mid = (a + b) >>> 1;
        if (lt.charCodeAt(off[4 * mid]! + d) <= ch) a = mid + 1;
        else b = mid;
      }
      hi = a;
      if (lo >= hi) break;
    }
    this.pairCount[s] = n;
  }

  private entry(k: number): LexiconWord {
    let e = this.resolved.get(k);
    if (!e) {
      const readings = this.readingsOf(k);
      const { text, off } = this.lex;
      e = readings === undefined ? NOT_A_WORD : { readings: readings.split(' '), word: text.slice(off[4 * k]!, off[4 * k + 1]!) };
      this.resolved.set(k, e);
    }
    return e;
  }

  private hasTriple(v: number): boolean {
    const t = this.triples;
    let lo = 0,
      hi = t.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (t[mid]! < v) lo = mid + 1;
      else hi = mid;
    }
    return t[lo] === v;
  }

  hits(text: string, index: number): LexiconHit[] {
    return this.wordHits(text, index).map(({ length, reading }) => ({ length, reading }));
  }

  /** The hits with the words themselves. */
  wordHits(text: string, index: number): Array<LexiconHit & { word: string }> {
    const buf = new HitBuffer();
    const out: Array<LexiconHit & { word: string }> = [];
    for (let k = 0, n = this.scan(text, index, buf); k < n; k++)
      out.push({ length: buf.length[k]!, reading: buf.entry[k]!.readings[buf.offset[k]!]!, word: buf.word[k]! });
    return out;
  }
}

const NOT_A_WORD: LexiconWord = { readings: [] };

/**
 * A lexicon given as an object (the trainer's, a model file not in canonical form) written as the
 * model file's text holds one: its words of two to 63 units, sorted, each followed by its readings
 * (those of the characters `keep` refuses written `-`).
 */
function rawLexiconOf(words: Record<string, string>, keep?: (ch: string) => boolean): RawLexicon {
  // A model file's lexicon that is not an object (hand-edited, truncated) is an empty one.
  const list =
    words && typeof words === 'object'
      ? Object.keys(words).filter((w) => typeof words[w] === 'string' && w.length >= 2 && w.length <= 63)
      : [];
  list.sort();
  const parts: string[] = [];
  const off = new Int32Array(4 * list.length);
  let at = 0;
  for (let k = 0; k < list.length; k++) {
    const word = list[k]!;
    let readings = words[word]!;
    if (keep) {
      const rs = readings.split(' ');
      for (let o = 0; o < word.length; o++) if (!keep(word[o]!)) rs[o] = '-';
      readings = rs.join(' ');
    }
    off[4 * k] = at;
    off[4 * k + 1] = at + word.length;
    off[4 * k + 2] = at + word.length;
    off[4 * k + 3] = at + word.length + readings.length;
    at += word.length + readings.length;
    parts.push(word, readings);
  }
  return new RawLexicon(parts.join(''), off, list.length);
}

/**
 * Features that vote for one particular reading (the one a source suggests): pinyin-pro's guess
 * and each lexicon word covering the target. Their weights are shared by all characters (how far
 * to trust the source) plus a per-character correction. Lexicons are named: `lex` (the words of
 * @pinyin-pro/data's complete dictionary), `pyp` (pypinyin's phrases, the teacher's dictionary).
 * Each word covering the target votes as `<name>` and `<name><length>`; with `longestVote`
 * (format 2) the longest one votes once more as `<name>M`.
 */
export function agreementFeatures(
  text: string,
  index: number,
  lexicons: ReadonlyArray<readonly [string, LexiconIndex]>,
  usePinyinPro = true,
  longestVote = true,
  words?: Set<string>,
): { guess: string | undefined; votes: Array<[string, string]> } {
  const guess = usePinyinPro ? pinyinProGuess(text, index) : undefined;
  const votes: Array<[string, string]> = [];
  if (guess) votes.push(['pp', guess]);
  for (const [name, lexicon] of lexicons) {
    let longest: LexiconHit | undefined;
    for (const h of lexicon.wordHits(text, index)) {
      words?.add(h.word);
      votes.push([name, h.reading]);
      votes.push([name + Math.min(h.length, 6), h.reading]);
      if (!longest || h.length > longest.length) longest = h;
    }
    // The longest word covering the target votes once more: a longer word usually decides.
    if (longest && longestVote) votes.push([name + 'M', longest.reading]);
  }
  return { guess, votes };
}

/** How the words covering the target are features of their own (per character, one weight per reading). */
export type WordFeatureMode = 'all' | 'longest';

/** The word features of the words covering the target: `W<word>`. */
export function wordFeatures(words: Iterable<string>, mode: WordFeatureMode): string[] {
  return wordFeatureWords([...words], mode).map((w) => 'W' + w);
}

/** The words (found in any order, possibly twice) that are features: all of them, sorted and distinct, or the longest (the first in order on a tie). */
export function wordFeatureWords(words: string[], mode: WordFeatureMode): string[] {
  if (mode === 'all') return words.length < 2 ? words : [...new Set(words)].sort();
  let longest: string | undefined;
  for (const w of words) if (!longest || w.length > longest.length || (w.length === longest.length && w < longest)) longest = w;
  return longest ? [longest] : [];
}
