import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { isHan, type ParseResult, parseReplacement, pinyinToTokens, readingToPinyin } from './notation';
import { parseJsonObject } from './jsonl';

/**
 * The teacher's G2P replacement dictionary, with exactly the semantics of GLM-TTS
 * (`cosyvoice/cli/frontend.py`, docs/FORMATS.md §2):
 * - loading: blank lines skipped, each line's object merged with `dict.update`, so a line may
 *   hold several keys and a later duplicate key wins (its value; the key keeps its first place);
 * - matching (`_tokenize_by_replace_dict`): left to right; at each position the longest key
 *   first (Python `len`, i.e. code points), exact `startswith`; matches do not overlap; a match
 *   emits the value verbatim; otherwise one character is kept and the scan moves on;
 * - it runs on normalised text, inside each chunk of 30–60 characters (see `teacherTextView`
 *   and `teacherChunks`).
 * The rule dialect `{"word","context","phoneme"}` means the upstream key `context` whose value
 * is `context` with every occurrence of `word` replaced by the tokens of `phoneme`.
 */
export type DictDialect = 'rule' | 'upstream';

export interface DictEntry {
  key: string;
  /** The replacement the teacher emits. */
  value: string;
  /** 0-based line of the definition that wins. */
  line: number;
  dialect: DictDialect;
  /** Rule lines: the word and its reading as written. */
  word?: string;
  phoneme?: string;
}

export interface DictFragment {
  start: number;
  end: number;
  /** The entry whose key matched here; undefined for text the dictionary left alone. */
  entry?: DictEntry;
}

const pyLen = (s: string): number => {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xd800 || c > 0xdbff || i + 1 >= s.length) n++;
  }
  return n;
};

export class ReplaceDict {
  /** Keys in the order Python's dict keeps them; values of the last definition. */
  readonly entries: ReadonlyMap<string, DictEntry>;
  /** Changes whenever what the teacher would do changes. */
  readonly version: string;
  /** Keys by their first UTF-16 unit, longest (in code points) first. */
  private readonly byFirst = new Map<number, string[]>();

  constructor(entries: Iterable<DictEntry>, readonly file?: string) {
    const map = new Map<string, DictEntry>();
    for (const e of entries) {
      // dict.update keeps the key's first position and takes the later value.
      map.set(e.key, e);
    }
    this.entries = map;
    const h = createHash('sha1');
    for (const [k, e] of map) {
      h.update(k).update('\u0000').update(e.value).update('\u0001');
      if (k === '') continue; // Python would loop forever on an empty key; it is reported, never matched here.
      const c = k.charCodeAt(0);
      const list = this.byFirst.get(c);
      if (list) list.push(k);
      else this.byFirst.set(c, [k]);
    }
    // sorted(key=len, reverse=True) is stable; among keys sharing a first unit only one of a given length can match.
    for (const list of this.byFirst.values()) list.sort((a, b) => pyLen(b) - pyLen(a));
    this.version = map.size ? h.digest('hex').slice(0, 16) : 'empty';
  }

  static readonly empty = new ReplaceDict([]);

  /** Both dialects; lines that are not valid JSON objects are skipped (dictFile reports them). */
  static fromText(text: string, file?: string): ReplaceDict {
    return new ReplaceDict(parseDictEntries(text), file);
  }

  get size(): number {
    return this.entries.size;
  }

  get(key: string): DictEntry | undefined {
    return this.entries.get(key);
  }

  /** The longest key that matches `text` at `i`, as the teacher picks it. */
  matchAt(text: string, i: number): DictEntry | undefined {
    const list = this.byFirst.get(text.charCodeAt(i));
    if (!list) return undefined;
    for (const k of list) if (text.startsWith(k, i)) return this.entries.get(k);
    return undefined;
  }

  /** Every place where any key occurs in `text` (not only where the teacher would match it). */
  occurrences(text: string): Array<{ key: string; at: number }> {
    const out: Array<{ key: string; at: number }> = [];
    if (this.byFirst.size === 0) return out;
    for (let i = 0; i < text.length; i++) {
      const list = this.byFirst.get(text.charCodeAt(i));
      if (!list) continue;
      for (const k of list) if (text.startsWith(k, i)) out.push({ key: k, at: i });
    }
    return out;
  }

  /** `_tokenize_by_replace_dict` on one chunk of (normalised) text. */
  apply(text: string): DictFragment[] {
    const out: DictFragment[] = [];
    if (this.byFirst.size === 0) return text ? [{ start: 0, end: text.length }] : out;
    let plainStart = 0;
    let i = 0;
    const n = text.length;
    while (i < n) {
      const e = this.matchAt(text, i);
      if (e) {
        if (i > plainStart) out.push({ start: plainStart, end: i });
        out.push({ start: i, end: i + e.key.length, entry: e });
        i += e.key.length;
        plainStart = i;
      } else {
        const c = text.charCodeAt(i);
        // Python steps one code point: never stop between the halves of a surrogate pair.
        i += c >= 0xd800 && c <= 0xdbff && i + 1 < n ? 2 : 1;
      }
    }
    if (n > plainStart) out.push({ start: plainStart, end: n });
    return out;
  }

  /** The text as the teacher passes it on: matched keys replaced by their values. */
  applyToString(text: string): string {
    let s = '';
    for (const f of this.apply(text)) s += f.entry ? f.entry.value : text.slice(f.start, f.end);
    return s;
  }
}

/** One dictionary line as JSON, both dialects, in file order (before merging). */
export function parseDictEntries(text: string): DictEntry[] {
  const out: DictEntry[] = [];
  const lines = text.split(/\r\n|\r|\n/);
  for (let i = 0; i < lines.length; i++) {
    const obj = parseJsonObject(lines[i]!.trim());
    if (!obj) continue;
    if (isRuleObject(obj)) {
      const { word, context, phoneme } = obj;
      if (typeof word !== 'string' || typeof context !== 'string' || typeof phoneme !== 'string') continue;
      const r = ruleToUpstream(word, context, phoneme);
      if (r.ok) out.push({ key: r.value.key, value: r.value.value, line: i, dialect: 'rule', word, phoneme });
      continue;
    }
    for (const [k, val] of Object.entries(obj)) if (typeof val === 'string') out.push({ key: k, value: val, line: i, dialect: 'upstream' });
  }
  return out;
}

export function isRuleObject(v: Record<string, unknown>): boolean {
  return 'word' in v || 'context' in v || 'phoneme' in v;
}

/** Han characters (code points) of a string, with their offsets. */
export function hanChars(s: string): Array<{ char: string; index: number }> {
  const out: Array<{ char: string; index: number }> = [];
  for (let i = 0; i < s.length; ) {
    const cp = s.codePointAt(i)!;
    const n = cp > 0xffff ? 2 : 1;
    if (isHan(cp)) out.push({ char: s.slice(i, i + n), index: i });
    i += n;
  }
  return out;
}

/**
 * A rule as the upstream entry it stands for: key `context`, value `context` with every
 * occurrence of `word` replaced by the tokens of `phoneme` (one syllable per Han character of
 * `word`; pinyin or tokens accepted).
 */
export function ruleToUpstream(word: string, context: string, phoneme: string): ParseResult<{ key: string; value: string; pinyin: string[] }> {
  if (word === '') return { ok: false, reason: '"word" is empty' };
  if (!context.includes(word)) return { ok: false, reason: `"context" "${context}" does not contain "word" "${word}": the rule can never apply` };
  const r = readingToPinyin(phoneme);
  if (!r.ok) return r;
  const han = hanChars(word);
  if (han.length !== r.value.length) {
    return { ok: false, reason: `"word" "${word}" has ${han.length} Chinese character${han.length === 1 ? '' : 's'} but "phoneme" has ${r.value.length} syllable${r.value.length === 1 ? '' : 's'}` };
  }
  let replaced = '';
  let last = 0;
  han.forEach((h, k) => {
    replaced += word.slice(last, h.index) + pinyinToTokens(r.value[k]!);
    last = h.index + h.char.length;
  });
  replaced += word.slice(last);
  return { ok: true, value: { key: context, value: context.split(word).join(replaced), pinyin: r.value } };
}

/**
 * The rule an upstream entry stands for, when there is one that means exactly the same
 * (converting it back gives the same value); undefined otherwise (the value rewrites text, or
 * pins characters in several places that one word cannot cover).
 */
export function upstreamToRule(key: string, value: string): { word: string; context: string; phoneme: string } | undefined {
  const parts = parseReplacement(value);
  if (parts.some((p) => p.kind === 'invalid')) return undefined;
  const first = parts.findIndex((p) => p.kind === 'syllable');
  if (first < 0) return undefined;
  let lastSyl = first;
  for (let k = first; k < parts.length; k++) if (parts[k]!.kind === 'syllable') lastSyl = k;
  const prefix = value.slice(0, parts[first]!.start);
  const suffix = value.slice(parts[lastSyl]!.end);
  if (!key.startsWith(prefix) || !key.endsWith(suffix) || prefix.length + suffix.length > key.length) return undefined;
  const word = key.slice(prefix.length, key.length - suffix.length);
  // Text kept between pinned syllables would become tokens too: not the same meaning.
  const middle = parts.slice(first, lastSyl + 1);
  if (middle.some((p) => p.kind !== 'syllable')) return undefined;
  const phoneme = middle.map((p) => (p.kind === 'syllable' ? p.pinyin : '')).join(' ');
  const back = ruleToUpstream(word, key, phoneme);
  if (!back.ok || back.value.value !== value) return undefined;
  return { word, context: key, phoneme };
}

/** One line of the rule dialect, as the seed files write it. */
export function formatRuleLine(r: { word: string; context: string; phoneme: string }): string {
  return `{"word": ${JSON.stringify(r.word)}, "context": ${JSON.stringify(r.context)}, "phoneme": ${JSON.stringify(r.phoneme)}}`;
}

/** One line of the upstream dialect, as Python's json.dumps(ensure_ascii=False) writes it. */
export function formatUpstreamLine(key: string, value: string): string {
  return `{${JSON.stringify(key)}: ${JSON.stringify(value)}}`;
}

export interface ConversionNote {
  /** 0-based line of the input. */
  line: number;
  message: string;
}

/**
 * Converts a dictionary file to the other dialect, line by line, keeping blank lines and the
 * order of keys (so "later wins" still holds). What cannot be said in the target dialect is
 * kept as it is and reported.
 */
export function convertDictionaryText(text: string, to: DictDialect): { text: string; notes: ConversionNote[] } {
  const lines = text.replace(/^\uFEFF/, '').split(/\r\n|\r|\n/);
  const out: string[] = [];
  const notes: ConversionNote[] = [];
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (line === '') {
      out.push('');
      return;
    }
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      out.push(raw);
      notes.push({ line: i, message: 'not valid JSON: kept as it is' });
      return;
    }
    if (typeof v !== 'object' || v === null || Array.isArray(v)) {
      out.push(raw);
      notes.push({ line: i, message: 'not a JSON object: kept as it is' });
      return;
    }
    const obj = v as Record<string, unknown>;
    if (isRuleObject(obj)) {
      const { word, context, phoneme } = obj;
      if (typeof word !== 'string' || typeof context !== 'string' || typeof phoneme !== 'string') {
        out.push(raw);
        notes.push({ line: i, message: 'incomplete rule: kept as it is' });
        return;
      }
      if (to === 'rule') {
        const r = readingToPinyin(phoneme);
        out.push(r.ok ? formatRuleLine({ word, context, phoneme: r.value.join(' ') }) : raw);
        if (!r.ok) notes.push({ line: i, message: `${r.reason}: kept as it is` });
        return;
      }
      const r = ruleToUpstream(word, context, phoneme);
      if (r.ok) out.push(formatUpstreamLine(r.value.key, r.value.value));
      else {
        out.push(raw);
        notes.push({ line: i, message: `${r.reason}: kept as it is` });
      }
      return;
    }
    const pieces: string[] = [];
    for (const [k, val] of Object.entries(obj)) {
      if (typeof val !== 'string') {
        pieces.push(formatUpstreamLine(k, String(val)));
        notes.push({ line: i, message: `the value of "${k}" is not a string: kept as it is` });
        continue;
      }
      if (to === 'upstream') {
        pieces.push(formatUpstreamLine(k, val));
        continue;
      }
      const rule = upstreamToRule(k, val);
      if (rule) pieces.push(formatRuleLine(rule));
      else {
        pieces.push(formatUpstreamLine(k, val));
        notes.push({ line: i, message: `"${k}" → "${val}" has no exact rule form (it rewrites text or pins several separate places): kept in the upstream dialect` });
      }
    }
    out.push(...pieces);
  });
  return { text: out.join('\n'), notes };
}

/** Which dialect a file is written in, from its lines (`unknown` when no line says). */
export function detectDictDialect(text: string): DictDialect | 'mixed' | 'unknown' {
  let rule = 0, up = 0;
  for (const raw of text.split(/\r\n|\r|\n/)) {
    const line = raw.trim().replace(/^\uFEFF/, '');
    if (!line) continue;
    try {
      const v = JSON.parse(line) as unknown;
      if (typeof v !== 'object' || v === null || Array.isArray(v)) continue;
      if (isRuleObject(v as Record<string, unknown>)) rule++;
      else up++;
    } catch {
      if (/"(word|context|phoneme)"\s*:/.test(line)) rule++;
      else if (line.startsWith('{')) up++;
    }
  }
  return rule && up ? 'mixed' : rule ? 'rule' : up ? 'upstream' : 'unknown';
}

// ---------------------------------------------------------------------------------------------
// What the teacher's text normalisation does to text before the dictionary sees it
// (cosyvoice/cli/frontend.py text_normalize + WeTextProcessing with full_to_half, then
// post_replace, special_replace and normalize_punctuation; configs/custom_replace.jsonl).

/** Punctuation the teacher collapses when two follow each other (PUNCTUATION_CHARS). */
export const PUNCTUATION_CHARS = '。？！；：、.?!;:，,';

const SENTINEL = '\u0000';

const GREEK: Record<string, string> = {
  α: '阿尔法', β: '贝塔', γ: '伽玛', Γ: '伽玛', δ: '德尔塔', Δ: '德尔塔', '△': '德尔塔', ε: '艾普西龙', ζ: '捷塔', η: '依塔', θ: '西塔', Θ: '西塔',
  ι: '艾欧塔', κ: '喀帕', λ: '拉姆达', Λ: '拉姆达', μ: '缪', ν: '拗', ξ: '克西', Ξ: '克西', ο: '欧米克伦', π: '派', Π: '派', ρ: '肉', ς: '西格玛',
  Σ: '西格玛', σ: '西格玛', τ: '套', υ: '宇普西龙', φ: '服艾', Φ: '服艾', χ: '器', ψ: '普赛', Ψ: '普赛', ω: '欧米伽', Ω: '欧米伽', '□': '方框',
};
const MATH: Record<string, string> = {
  '>': '大于', '<': '小于', '∈': '属于', '∉': '不属于', '∪': '并', '∩': '交', '⊥': '垂直', '∥': '平行', '≠': '不等于', '∵': '因为', '∴': '所以',
  '∅': '空集', '⊂': '真包含于', '⊃': '包含', '⊆': '包含于', '⊇': '真包含', '⊄': '不属于', '⊅': '非超集', '⊈': '不属于', '⊉': '非超集',
  '²': '平方', '³': '立方',
};
const CIRCLED = '①②③④⑤⑥⑦⑧⑨⑩';
const CIRCLED_TO = '一二三四五六七八九十';
/** Removed outright: brackets (remove_bracket), quotes, `_ · |`, `- \ * #`. */
const REMOVED = new Set([...'()（）【】「」`《》『』{}[]‘’“”\'"_·|-\\*#＂＇（）＿｀｛｝｜＼＊＃－']);
/** configs/custom_replace.jsonl of the GLM-TTS checkout (applied with str.replace before normalisation). */
export const CUSTOM_REPLACE: Readonly<Record<string, string>> = { 噢: '哦', 欸: '诶' };

/** What one character becomes; undefined when it stays as it is. '' = removed; SENTINEL = spelled out (a number). */
function rewriteChar(ch: string, code: number): string | undefined {
  if (code < 0x80) {
    if (code >= 0x30 && code <= 0x39) return SENTINEL;
    if (code >= 0x41 && code <= 0x5a) return String.fromCharCode(code + 32);
    if (code >= 0x61 && code <= 0x7a) return undefined;
    switch (ch) {
      case ',': case ':': case ';': return '，';
      case '.': return '。';
      case '!': return '.';
      case '/': return '每';
      case '~': return '到';
      case '\n': case '\r': case '\t': return '';
    }
    if (REMOVED.has(ch)) return '';
    return MATH[ch];
  }
  if (code >= 0xff01 && code <= 0xff5e) {
    if (code === 0xff0c) return undefined; // ，→ , → ， again
    if (code >= 0xff10 && code <= 0xff19) return SENTINEL;
    const half = String.fromCharCode(code - 0xfee0);
    if (half === '?') return '?';
    return rewriteChar(half, half.charCodeAt(0)) ?? half;
  }
  switch (ch) {
    case '、': return '，';
    case '。': return undefined;
    case '…': return '。';
    case '！': return '.';
    case '？': return '?';
    case '～': return '到';
    case '†': return '，';
    case '\u3000': return '';
  }
  if (REMOVED.has(ch)) return '';
  const c = CIRCLED.indexOf(ch);
  if (c >= 0) return CIRCLED_TO[c];
  return CUSTOM_REPLACE[ch] ?? GREEK[ch] ?? MATH[ch];
}

const PUNCT_SET = new Set([...PUNCTUATION_CHARS]);
const PUNCT_CODES = new Set([...PUNCTUATION_CHARS].map((c) => c.charCodeAt(0)));
const ALNUM = /[a-z0-9\u0000]/;
const EMOJI = /\p{Extended_Pictographic}/u;

/**
 * The text as the teacher's dictionary sees it, as far as it can be said character by
 * character: upper case folded, full-width forms made half-width, punctuation rewritten and
 * collapsed, brackets/quotes/emoji removed, custom replacements, Greek letters and math signs
 * spelled out. Digits are spelled out by the teacher in ways that depend on context; here each
 * becomes a placeholder that no key matches. `origin[i]` is the index in `text` of the
 * character that produced `view[i]` (omitted when the view is the text itself).
 */
export function teacherTextView(text: string): { view: string; origin?: number[] } {
  // Fast path: every character stays or becomes exactly one character (no origin map needed).
  const fast = oneToOneView(text);
  if (fast !== undefined) return { view: fast };
  let view = '';
  const origin: number[] = [];
  const push = (s: string, from: number) => {
    for (let k = 0; k < s.length; k++) {
      const ch = s[k]!;
      // normalize_punctuation: a run of punctuation keeps its first mark.
      if (PUNCT_SET.has(ch) && view.length && PUNCT_SET.has(view[view.length - 1]!)) continue;
      view += ch;
      origin.push(from);
    }
  };
  for (let i = 0; i < text.length; ) {
    const cp = text.codePointAt(i)!;
    const n = cp > 0xffff ? 2 : 1;
    const ch = text.slice(i, i + n);
    if (ch === ' ') {
      // replace_space: a space survives only between two letters/digits (or after . , ! ? ; : before one).
      const prev = view[view.length - 1] ?? '';
      let j = i + 1;
      while (text[j] === ' ') j++;
      const next = text[j] ?? '';
      const nextView = next ? rewriteChar(next, next.charCodeAt(0)) ?? next : '';
      if ((ALNUM.test(prev) || '.,!?;:'.includes(prev) && prev !== '') && ALNUM.test(nextView.slice(0, 1))) push(' ', i);
      i = j;
      continue;
    }
    if (n === 1 && isHan(cp) && !(ch in CUSTOM_REPLACE)) {
      push(ch, i);
    } else if (EMOJI.test(ch)) {
      // emoji_norm removes them
    } else {
      const r = n === 1 ? rewriteChar(ch, cp) : undefined;
      push(r === undefined ? ch : r, i);
    }
    i += n;
  }
  return { view, origin };
}

const PUNCT_FLAG = 0x10000;
/** Per UTF-16 code: the one code it becomes (| PUNCT_FLAG when punctuation), or -1 when it is not a one-to-one case. */
const ONE_TO_ONE = (() => {
  const t = new Int32Array(0x10000).fill(-1);
  for (let c = 0x4e00; c <= 0x9fff; c++) t[c] = c;
  t[0x5662] = -1; // 噢 (custom_replace)
  t[0x6b38] = -1; // 欸
  for (let c = 0x61; c <= 0x7a; c++) t[c] = c;
  for (let c = 0x41; c <= 0x5a; c++) t[c] = c + 32;
  for (let c = 0x30; c <= 0x39; c++) t[c] = 0;
  for (let c = 0xff10; c <= 0xff19; c++) t[c] = 0;
  for (const c of [0xff0c, 0x3001, 0x2c, 0x3a, 0x3b, 0xff1a, 0xff1b]) t[c] = 0xff0c;
  for (const c of [0x2e, 0x2026, 0xff0e, 0x3002]) t[c] = 0x3002;
  t[0x21] = t[0xff01] = 0x2e;
  t[0x3f] = t[0xff1f] = 0x3f;
  t[0x7e] = t[0xff5e] = 0x5230; // 到
  t[0x2f] = 0x6bcf; // 每
  for (let c = 0; c < 0x10000; c++) if (t[c]! >= 0 && PUNCT_CODES.has(t[c]!)) t[c] = t[c]! | PUNCT_FLAG;
  return t;
})();

/** The view when each character maps to one character and no punctuation collapses; undefined otherwise. */
function oneToOneView(text: string): string | undefined {
  let out: string | undefined;
  let last = 0;
  let prevPunct = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const m = ONE_TO_ONE[c]!;
    if (m < 0) return undefined;
    const punct = m & PUNCT_FLAG;
    if (punct & prevPunct) return undefined;
    prevPunct = punct;
    const o = m & 0xffff;
    if (o !== c) {
      // Changes are rare (digits, upper case, ASCII punctuation): copy the unchanged runs as slices.
      out = (out ?? '') + text.slice(last, i) + String.fromCharCode(o);
      last = i + 1;
    }
  }
  return out === undefined ? text : out + text.slice(last);
}

/** Why a key can never match after the teacher's normalisation, or undefined when it can. */
export function keyNeverMatches(key: string): { index: number; length: number; reason: string } | undefined {
  for (let i = 0; i < key.length; ) {
    const cp = key.codePointAt(i)!;
    const n = cp > 0xffff ? 2 : 1;
    const ch = key.slice(i, i + n);
    const at = (reason: string) => ({ index: i, length: n, reason });
    if (ch >= '0' && ch <= '9') return at(`"${ch}" is a digit: the teacher spells numbers out before applying the dictionary, so this key never matches. Write the number in Chinese characters as the teacher reads it`);
    if (ch >= 'A' && ch <= 'Z') return at(`"${ch}" is upper-case: the teacher lower-cases text before applying the dictionary, so this key never matches. Write "${key.toLowerCase()}"`);
    if (EMOJI.test(ch)) return at(`"${ch}" is an emoji: the teacher removes emoji before applying the dictionary`);
    if (ch === ' ') {
      const prev = key[i - 1] ?? '', next = key[i + 1] ?? '';
      if (!(/[a-z0-9.,!?;:]/i.test(prev) && /[a-z0-9]/i.test(next))) return at('a space here is removed by the teacher (spaces survive only between letters or digits), so this key never matches');
    } else if (n === 1 && !isHan(cp) || ch in CUSTOM_REPLACE) {
      const r = rewriteChar(ch, cp);
      if (r !== undefined) {
        if (cp >= 0xff01 && cp <= 0xff5e) return at(`"${ch}" is a full-width character: the teacher turns it into ${r === '' ? 'nothing' : r === SENTINEL ? 'a spelled-out digit' : `"${r}"`} before applying the dictionary, so this key never matches`);
        if (r === '') return at(`the teacher removes "${ch}" before applying the dictionary, so this key never matches`);
        if (r === SENTINEL) return at(`"${ch}" is a digit: the teacher spells numbers out before applying the dictionary, so this key never matches`);
        return at(`the teacher rewrites "${ch}" as "${r}" before applying the dictionary, so this key never matches${ch in CUSTOM_REPLACE ? ' (configs/custom_replace.jsonl)' : ''}`);
      }
    }
    if (PUNCT_SET.has(ch) && i + n < key.length && PUNCT_SET.has(key[i + n]!)) {
      return at(`"${ch}${key[i + n]}": the teacher keeps only the first of two punctuation marks in a row, so this key never matches`);
    }
    i += n;
  }
  if (pyLen(key) > MAX_CHUNK) return { index: 0, length: key.length, reason: `the key is ${pyLen(key)} characters long: the teacher applies the dictionary inside chunks of at most ${MAX_CHUNK} characters, so it never matches` };
  return undefined;
}

const MIN_CHUNK = 30;
const MAX_CHUNK = 60;

/**
 * The chunks the teacher cuts normalised text into before applying the dictionary
 * (`split_by_len`: minimal sentences ending in punctuation of at least 30 units, then hard cuts
 * at 60; an English word counts 0.7 per syllable). Returns [start, end) offsets into `view`.
 * English syllables are counted with the teacher's regex fallback (it prefers the CMU
 * dictionary when a word is in it), so chunk ends after English words may differ by a unit.
 */
export function teacherChunks(view: string): Array<[number, number]> {
  if (view.length < MIN_CHUNK) return [[0, view.length]];
  const simple = simpleChunks(view);
  if (simple) return simple;
  // split_into_units
  const units: Array<{ s: number; e: number; text: string }> = [];
  let buf = -1;
  const flush = (at: number) => {
    if (buf >= 0) {
      units.push({ s: buf, e: at, text: view.slice(buf, at) });
      buf = -1;
    }
  };
  for (let i = 0; i < view.length; ) {
    const cp = view.codePointAt(i)!;
    const n = cp > 0xffff ? 2 : 1;
    const ch = view.slice(i, i + n);
    if (isHan(cp) || cp === 0x3002) {
      flush(i);
      units.push({ s: i, e: i + n, text: ch });
    } else if (/\p{L}/u.test(ch) || (buf >= 0 && (ch === "'" || ch === '-'))) {
      if (buf < 0) buf = i;
    } else {
      flush(i);
      units.push({ s: i, e: i + n, text: ch });
    }
    i += n;
  }
  flush(view.length);
  const merged: typeof units = [];
  for (const u of units) {
    if (u.text.trim() === '' && merged.length) {
      const last = merged[merged.length - 1]!;
      merged[merged.length - 1] = { s: last.s, e: u.e, text: last.text + u.text };
    } else merged.push(u);
  }
  const count = (us: typeof units) => {
    let r = 0;
    for (const u of us) {
      const t = u.text.trim();
      r += /^[A-Za-z]+$/.test(t) ? syllables(t) * 0.7 : 1;
    }
    return r;
  };
  const sentences: Array<typeof units> = [];
  let cur: typeof units = [];
  for (const u of merged) {
    cur.push(u);
    if (PUNCT_SET.has(u.text.trim()) && count(cur) >= MIN_CHUNK) {
      sentences.push(cur);
      cur = [];
    }
  }
  if (cur.length) sentences.push(cur);
  const chunks: Array<[number, number]> = [];
  for (let sent of sentences) {
    while (count(sent) > MAX_CHUNK && sent.length > MAX_CHUNK) {
      const cut = PUNCT_SET.has(sent[MAX_CHUNK]!.text.trim()) ? MAX_CHUNK + 1 : MAX_CHUNK;
      chunks.push([sent[0]!.s, sent[cut - 1]!.e]);
      sent = sent.slice(cut);
    }
    if (sent.length) chunks.push([sent[0]!.s, sent[sent.length - 1]!.e]);
  }
  return chunks;
}

/** split_by_len when every character is its own unit counting 1 (no letters, no spaces, no astral characters). */
function simpleChunks(view: string): Array<[number, number]> | undefined {
  const sentences: Array<[number, number]> = [];
  let start = 0;
  for (let i = 0; i < view.length; i++) {
    const c = view.charCodeAt(i);
    if ((c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x20 || c === 0x09 || (c >= 0xd800 && c <= 0xdfff) || c >= 0x80 && c < 0x3000) return undefined;
    if (PUNCT_CODES.has(c) && i + 1 - start >= MIN_CHUNK) {
      sentences.push([start, i + 1]);
      start = i + 1;
    }
  }
  if (start < view.length) sentences.push([start, view.length]);
  const chunks: Array<[number, number]> = [];
  for (const [first, e] of sentences) {
    let s = first;
    while (e - s > MAX_CHUNK) {
      const cut = PUNCT_CODES.has(view.charCodeAt(s + MAX_CHUNK)) ? MAX_CHUNK + 1 : MAX_CHUNK;
      chunks.push([s, s + cut]);
      s += cut;
    }
    if (e > s) chunks.push([s, e]);
  }
  return chunks;
}

function syllables(word: string): number {
  const w = word.toLowerCase();
  let n = (w.match(/(?!e$)[aeiouy]+/g) ?? []).length;
  if (/^[^aeiouy]*e$/.test(w)) n++;
  return Math.max(n, 1);
}

/**
 * Applies the dictionary to a whole text the way the teacher does: on the normalised view,
 * chunk by chunk. Fragment offsets are into the view.
 */
export function applyLikeTeacher(dict: ReplaceDict, text: string): { view: string; origin?: number[]; fragments: DictFragment[] } {
  const { view, origin } = teacherTextView(text);
  const fragments: DictFragment[] = [];
  if (dict.size === 0) return { view, origin, fragments: view ? [{ start: 0, end: view.length }] : [] };
  const whole = dict.apply(view);
  if (view.length < MIN_CHUNK || !whole.some((f) => f.entry)) return { view, origin, fragments: whole };
  const chunks = teacherChunks(view);
  if (chunks.length === 1) return { view, origin, fragments: whole };
  for (const [s, e] of chunks) {
    for (const f of dict.apply(view.slice(s, e))) fragments.push({ ...f, start: f.start + s, end: f.end + s });
  }
  return { view, origin, fragments };
}

// ---------------------------------------------------------------------------------------------

const cache = new Map<string, { mtimeMs: number; size: number; dict: ReplaceDict }>();

/** Loads a dictionary file (both dialects), cached by mtime and size. A missing file is an empty dictionary. */
export async function loadReplaceDict(file: string): Promise<ReplaceDict> {
  let st;
  try {
    st = await fs.stat(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      cache.delete(file);
      return ReplaceDict.empty;
    }
    throw err;
  }
  const hit = cache.get(file);
  if (hit && hit.mtimeMs === st.mtimeMs && hit.size === st.size) return hit.dict;
  const text = await fs.readFile(file, 'utf8');
  const dict = ReplaceDict.fromText(text, file);
  cache.set(file, { mtimeMs: st.mtimeMs, size: st.size, dict });
  return dict;
}
