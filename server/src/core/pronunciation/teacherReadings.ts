import { pinyin, polyphonic } from 'pinyin-pro';
import { BoundedCache } from '../util/boundedCache';
import { type DictEntry, ReplaceDict } from './dictionary';
import { applyLikeTeacher } from './glmFrontend';
import { AbleList } from './g2p/ableList';
import { g2pReadings } from './g2p/glmG2P';
import { fromPinyinPro, isHan, parseReplacement } from '../formats/notation';

/**
 * What GLM-TTS (`--use_phoneme`) does with each character, as `frontend.py` does it: the
 * dictionary is applied first, exactly as the teacher does (normalised text, chunks, longest key
 * first), and its values are emitted verbatim; the text it leaves alone goes to the teacher's G2P
 * in the blocks the teacher gives it (a dictionary match ends a block), and only characters NOT
 * in the able list (`G2P_able_1word.json`) get the G2P's reading as phoneme tokens; the others
 * stay text and the language model decides how to read them.
 */
export type ReadingSource =
  /** A dictionary rule wrote this character's tokens. */
  | 'dictionary'
  /** The teacher's G2P wrote this character's tokens (not in the able list). */
  | 'g2p'
  /** Left as text: the language model reads it (able list, or kept as text inside a dictionary value); the reading is the G2P's hint. */
  | 'model'
  /** Not a Han character. */
  | 'none';

export const READING_SOURCES: readonly ReadingSource[] = ['dictionary', 'g2p', 'model', 'none'];

export interface CharReading {
  char: string;
  /**
   * Tone-numbered pinyin for Han characters (ü as v, neutral tone 5); null otherwise. For a
   * `model` character it is only the G2P's hint: the teacher's language model decides.
   */
  reading: string | null;
  source: ReadingSource;
  /** The dictionary entry that decided this character (line is 0-based in the dictionary file). */
  rule?: { key: string; line?: number };
  /** The character has more than one reading. */
  polyphone: boolean;
  /** Every reading pinyin-pro knows for the character, most common first. */
  candidates: string[];
}

// Tone sandhi is off: the teacher's pypinyin does not apply it either.
const OPTIONS = { type: 'array', toneType: 'num', v: true, toneSandhi: false } as const;
/** glm_g2p replaces these before pypinyin sees them. */
const G2P_REPLACE: Record<string, string> = { 嗯: '恩', 呣: '母' };

const candidateCache = new Map<string, string[]>();
const defaultCache = new Map<string, string | null>();
const NONE: string[] = [];

/** Every reading pinyin-pro knows for one character (canonical pinyin, most common first). Cached. */
export function candidateReadings(char: string): string[] {
  const code = char.length === 1 ? char.charCodeAt(0) : -1;
  if (code >= 0) {
    const hit = candidatesByCode[code];
    if (hit !== undefined) return hit;
  }
  let c = candidateCache.get(char);
  if (c === undefined) {
    const raw = polyphonic(char, OPTIONS)[0] ?? [];
    const out: string[] = [];
    for (const p of raw) {
      if (!/^[a-z]+[0-5]?$/.test(p)) continue;
      const canon = fromPinyinPro(p);
      if (!out.includes(canon)) out.push(canon);
    }
    c = out.length ? out : NONE;
    candidateCache.set(char, c);
  }
  if (code >= 0) candidatesByCode[code] = c;
  return c;
}

/** The same, indexed by UTF-16 code: the hot path looks characters up by code, not by string. */
const candidatesByCode: Array<string[] | undefined> = new Array(0x10000);

/** Candidates of the BMP character with this code (the character must be a Han character). */
export function candidatesOfCode(code: number): string[] {
  return candidatesByCode[code] ?? candidateReadings(String.fromCharCode(code));
}

/** pinyin-pro's reading of the character alone (no context). Cached. */
export function defaultReading(char: string): string | null {
  let d = defaultCache.get(char);
  if (d === undefined) {
    const p = pinyin(G2P_REPLACE[char] ?? char, OPTIONS)[0];
    d = p && /^[a-z]+[0-5]?$/.test(p) ? fromPinyinPro(p) : null;
    defaultCache.set(char, d);
  }
  return d;
}

/** Who the teacher's G2P is, in messages and hovers. */
export const G2P_NAME = 'jieba + pypinyin as GLM-TTS runs them (exact port)';

/**
 * The teacher's G2P (glm_g2p.py: jieba posseg + pypinyin) over text the dictionary left alone:
 * one entry per UTF-16 unit of `input`, tone-numbered pinyin on Han characters (on the first
 * unit of a pair), null elsewhere. Non-Han characters end a block. THE place where the G2P is
 * chosen: the exact TypeScript port of glm_g2p.py (core/pronunciation/g2p/glmG2P.ts), which reads each Chinese
 * block on its own as frontend.py feeds it. `pinyinProReadings` is the old estimate.
 */
export function g2pReadingsOf(input: string): Array<string | null> {
  return g2pReadings(input);
}

/** pinyin-pro over the whole text (no tone sandhi, 嗯→恩 and 呣→母 as glm_g2p does): the estimate used before the exact port. */
export function pinyinProReadings(input: string): Array<string | null> {
  let g2pInput = input;
  if (g2pInput.includes('嗯')) g2pInput = g2pInput.split('嗯').join('恩');
  if (g2pInput.includes('呣')) g2pInput = g2pInput.split('呣').join('母');
  const res = pinyin(g2pInput, OPTIONS);
  const out: Array<string | null> = new Array(input.length).fill(null);
  // One item per code point, back onto the UTF-16 units.
  let k = 0;
  for (let j = 0; j < input.length; j++) {
    const c = input.charCodeAt(j);
    if (c >= 0xdc00 && c <= 0xdfff && j > 0) continue;
    const r = res[k++];
    if (r === undefined || r.length < 2 || r.charCodeAt(0) < 97 || r.charCodeAt(r.length - 1) > 57) continue;
    if (isHan(input.codePointAt(j)!)) out[j] = r.charCodeAt(r.length - 1) === 48 ? r.slice(0, -1) + '5' : r;
  }
  return out;
}

const cache = new BoundedCache<string, CharReading[]>(1000);

/** One entry per UTF-16 code unit of `text` (the second half of a surrogate pair has char '' and no reading). Cached per text and dictionary version. */
export function teacherReadings(text: string, dict: ReplaceDict = ReplaceDict.empty, able: AbleList = AbleList.bundled): CharReading[] {
  let key = dict.size ? `${dict.version}\u0000${text}` : text;
  if (able !== AbleList.bundled) key = `${able.version}\u0001${key}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const out = compute(text, dict, able);
  cache.set(key, out);
  return out;
}

/** Drops cached predictions (tests, or when pinyin-pro's custom dictionary changes). */
export function clearTeacherCache(): void {
  cache.clear();
}

/** The teacher's readings of a line in compact form: the hot path of the polyphone flags. */
export interface LineReadings {
  /** Per UTF-16 unit: tone-numbered pinyin for Han characters (on the first unit of a pair), null otherwise. */
  readings: Array<string | null>;
  /** Indexes decided by a dictionary entry (absent when none were). */
  pinned?: Map<number, { key: string; line?: number }>;
  /** Han characters inside a dictionary match that its value keeps as text: the language model reads them (absent when none). */
  kept?: Set<number>;
}

/** Where the teacher's reading of the Han character at `i` comes from (see ReadingSource). */
export function sourceAt(lr: LineReadings, char: string, i: number, able: AbleList = AbleList.bundled): ReadingSource {
  if (lr.pinned?.has(i)) return 'dictionary';
  if (lr.kept?.has(i) || able.has(char) || !lr.readings[i]) return 'model';
  return 'g2p';
}

/**
 * What the teacher will say, per character, without building an object per character and
 * without caching (callers cache their own results). `teacherReadings` is the same, as objects.
 */
export function predictReadings(text: string, dict: ReplaceDict = ReplaceDict.empty): LineReadings {
  const { view, origin, fragments } = applyLikeTeacher(dict, text);
  // What the teacher's own G2P sees: matched spans are gone, so blocks do not read across them.
  let g2pInput = view;
  let matched = false;
  for (const f of fragments) if (f.entry) matched = true;
  if (matched) {
    let s = '';
    for (const f of fragments) s += f.entry ? '，'.repeat(f.end - f.start) : view.slice(f.start, f.end);
    g2pInput = s;
  }
  const res = g2pReadingsOf(g2pInput);
  const readings: Array<string | null> = new Array(text.length).fill(null);
  for (let j = 0; j < view.length; j++) {
    const r = res[j];
    if (!r) continue;
    const i = origin ? origin[j]! : j;
    if (isHan(text.codePointAt(i)!)) readings[i] = r;
  }
  let pinned: LineReadings['pinned'];
  let kept: LineReadings['kept'];
  if (matched) {
    for (const f of fragments) {
      if (!f.entry) continue;
      const pins = alignment(f.entry);
      for (let j = f.start; j < f.end; j++) {
        const i = origin ? origin[j]! : j;
        const cp = text.codePointAt(i)!;
        if (!isHan(cp)) continue;
        const pin = pins.get(j - f.start);
        if (pin !== undefined) {
          readings[i] = pin;
          (pinned ??= new Map()).set(i, { key: f.entry.key, line: f.entry.line });
        } else {
          // Kept as text inside a match: the teacher's LLM reads it without G2P.
          readings[i] = defaultReading(String.fromCodePoint(cp));
          (kept ??= new Set()).add(i);
        }
      }
    }
  }
  const out: LineReadings = { readings };
  if (pinned) out.pinned = pinned;
  if (kept) out.kept = kept;
  return out;
}

function compute(text: string, dict: ReplaceDict, able: AbleList): CharReading[] {
  const lr = predictReadings(text, dict);
  const { readings, pinned } = lr;
  const out: CharReading[] = new Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const cp = text.codePointAt(i)!;
    const n = cp > 0xffff ? 2 : 1;
    const char = text.slice(i, i + n);
    if (!isHan(cp)) {
      out[i] = reading(char, null, 'none', NONE);
    } else {
      const o = reading(char, readings[i] ?? defaultReading(char), sourceAt(lr, char, i, able), candidateReadings(char));
      const rule = pinned?.get(i);
      if (rule) o.rule = rule;
      out[i] = o;
    }
    if (n === 2) out[++i] = reading('', null, 'none', NONE);
  }
  return out;
}

/** All CharReading objects get the same shape (rule included), so the engine keeps them monomorphic. */
function reading(char: string, r: string | null, source: CharReading['source'], candidates: string[]): CharReading {
  return { char, reading: r, source, rule: undefined, polyphone: candidates.length > 1, candidates };
}

const alignments = new WeakMap<DictEntry, Map<number, string>>();

/** Which offsets of an entry's key its value pins to which syllable. */
function alignment(e: DictEntry): Map<number, string> {
  let a = alignments.get(e);
  if (a) return a;
  a = new Map();
  const parts = parseReplacement(e.value);
  const key = e.key;
  let i = 0,
    j = 0,
    ok = true;
  while (i < key.length && j < parts.length) {
    const cp = key.codePointAt(i)!;
    const n = cp > 0xffff ? 2 : 1;
    const p = parts[j]!;
    if (p.kind === 'text' && p.text === key.slice(i, i + n)) {
      i += n;
      j++;
    } else if (p.kind === 'syllable' && isHan(cp)) {
      a.set(i, p.pinyin);
      i += n;
      j++;
    } else {
      ok = false;
      break;
    }
  }
  if (!ok || i < key.length || j < parts.length) {
    // The value rewrites the text: pin its syllables to the key's Han characters in order when they line up.
    a = new Map();
    const syl = parts.filter((p) => p.kind === 'syllable');
    const han: number[] = [];
    for (let x = 0; x < key.length; x++) if (isHan(key.codePointAt(x)!)) han.push(x);
    if (syl.length === han.length) han.forEach((x, k) => a!.set(x, (syl[k] as { pinyin: string }).pinyin));
  }
  alignments.set(e, a);
  return a;
}

/** Space-separated readings, one token per character: pinyin for Han characters, other characters as they are (spaces dropped). */
export function formatReadings(readings: readonly CharReading[]): string {
  const parts: string[] = [];
  for (const r of readings) {
    if (r.char === '' || /^\s$/.test(r.char)) continue;
    parts.push(r.reading ?? r.char);
  }
  return parts.join(' ');
}
