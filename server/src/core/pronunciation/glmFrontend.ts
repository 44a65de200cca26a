import { isHan } from '../formats/notation';
import { type DictFragment, pyLen, type ReplaceDict } from './dictionary';

/**
 * The GLM-TTS frontend as the dictionary meets it: the text normalisation before the dictionary,
 * the chunks it is applied in, and the whole-text application (`applyLikeTeacher`).
 */

// What the teacher's text normalisation does to text before the dictionary sees it
// (cosyvoice/cli/frontend.py text_normalize + WeTextProcessing with full_to_half, then
// post_replace, special_replace and normalize_punctuation; configs/custom_replace.jsonl).

/** Punctuation the teacher collapses when two follow each other (PUNCTUATION_CHARS). */
export const PUNCTUATION_CHARS = '。？！；：、.?!;:，,';

const SENTINEL = '\u0000';

const GREEK: Record<string, string> = {
  α: '阿尔法',
  β: '贝塔',
  γ: '伽玛',
  Γ: '伽玛',
  δ: '德尔塔',
  Δ: '德尔塔',
  '△': '德尔塔',
  ε: '艾普西龙',
  ζ: '捷塔',
  η: '依塔',
  θ: '西塔',
  Θ: '西塔',
  ι: '艾欧塔',
  κ: '喀帕',
  λ: '拉姆达',
  Λ: '拉姆达',
  μ: '缪',
  ν: '拗',
  ξ: '克西',
  Ξ: '克西',
  ο: '欧米克伦',
  π: '派',
  Π: '派',
  ρ: '肉',
  ς: '西格玛',
  Σ: '西格玛',
  σ: '西格玛',
  τ: '套',
  υ: '宇普西龙',
  φ: '服艾',
  Φ: '服艾',
  χ: '器',
  ψ: '普赛',
  Ψ: '普赛',
  ω: '欧米伽',
  Ω: '欧米伽',
  '□': '方框',
};
const MATH: Record<string, string> = {
  '>': '大于',
  '<': '小于',
  '∈': '属于',
  '∉': '不属于',
  '∪': '并',
  '∩': '交',
  '⊥': '垂直',
  '∥': '平行',
  '≠': '不等于',
  '∵': '因为',
  '∴': '所以',
  '∅': '空集',
  '⊂': '真包含于',
  '⊃': '包含',
  '⊆': '包含于',
  '⊇': '真包含',
  '⊄': '不属于',
  '⊅': '非超集',
  '⊈': '不属于',
  '⊉': '非超集',
  '²': '平方',
  '³': '立方',
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
      case ',':
      case ':':
      case ';':
        return '，';
      case '.':
        return '。';
      case '!':
        return '.';
      case '/':
        return '每';
      case '~':
        return '到';
      case '\n':
      case '\r':
      case '\t':
        return '';
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
    case '、':
      return '，';
    case '。':
      return undefined;
    case '…':
      return '。';
    case '！':
      return '.';
    case '？':
      return '?';
    case '～':
      return '到';
    case '†':
      return '，';
    case '\u3000':
      return '';
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
 * character that produced `view[i]` (omitted when every character gave one: `origin[i]` = i).
 */
export function teacherTextView(text: string): { view: string; origin?: number[] } {
  // Most texts are said by the per-code table; spaces and the characters that become several need the rules.
  return tableView(text) ?? teacherTextViewByChar(text);
}

/** teacherTextView by the rules, one character at a time (exported for the tests: the table must agree). */
export function teacherTextViewByChar(text: string): { view: string; origin: number[] } {
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
  for (let i = 0; i < text.length;) {
    const cp = text.codePointAt(i)!;
    const n = cp > 0xffff ? 2 : 1;
    const ch = text.slice(i, i + n);
    if (ch === ' ') {
      // replace_space: a space survives only between two letters/digits (or after . , ! ? ; : before one).
      const prev = view[view.length - 1] ?? '';
      let j = i + 1;
      while (text[j] === ' ') j++;
      const next = text[j] ?? '';
      const nextView = next ? (rewriteChar(next, next.charCodeAt(0)) ?? next) : '';
      if ((ALNUM.test(prev) || ('.,!?;:'.includes(prev) && prev !== '')) && ALNUM.test(nextView.slice(0, 1))) push(' ', i);
      i = j;
      continue;
    }
    push(charView(ch, cp), i);
    i += n;
  }
  return { view, origin };
}

/** What one character (not a space) becomes in the view, before punctuation collapses. */
function charView(ch: string, cp: number): string {
  if (ch.length === 1 && isHan(cp) && !(ch in CUSTOM_REPLACE)) return ch;
  // emoji_norm removes them
  if (EMOJI.test(ch)) return '';
  const r = ch.length === 1 ? rewriteChar(ch, cp) : undefined;
  return r === undefined ? ch : r;
}

const PUNCT_FLAG = 0x10000;
/** TABLE entries that are not a code: not looked at yet, removed, said only by the rules (a space, a surrogate, several characters). */
const UNSEEN = -2;
const REMOVED_CODE = -3;
const BY_RULES = -1;
/**
 * Per UTF-16 code: the one code it becomes (| PUNCT_FLAG when it is punctuation), REMOVED_CODE,
 * or BY_RULES; filled on first sight from charView (the CJK block at once).
 */
const TABLE = (() => {
  const t = new Int32Array(0x10000).fill(UNSEEN);
  for (let c = 0x4e00; c <= 0x9fff; c++) t[c] = c;
  for (const ch of Object.keys(CUSTOM_REPLACE)) t[ch.charCodeAt(0)] = UNSEEN;
  for (let c = 0xd800; c <= 0xdfff; c++) t[c] = BY_RULES;
  t[0x20] = BY_RULES;
  return t;
})();

function tableEntry(c: number): number {
  const v = charView(String.fromCharCode(c), c);
  const m =
    v.length === 0 ? REMOVED_CODE : v.length === 1 ? v.charCodeAt(0) | (PUNCT_CODES.has(v.charCodeAt(0)) ? PUNCT_FLAG : 0) : BY_RULES;
  TABLE[c] = m;
  return m;
}

/**
 * The view when every character is said by the table: each stays, becomes one other character or
 * goes, and punctuation collapses as `push` does. The origin map only when something went.
 * Undefined when some character needs the rules.
 */
function tableView(text: string): { view: string; origin?: number[] } | undefined {
  let out: string | undefined;
  let origin: number[] | undefined;
  let last = 0;
  let prevPunct = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    let m = TABLE[c]!;
    if (m === UNSEEN) m = tableEntry(c);
    if (m === BY_RULES) return undefined;
    if (m === REMOVED_CODE || m & PUNCT_FLAG & prevPunct) {
      // Gone: from here on the view needs its origin map (so far, one to one).
      if (!origin) {
        origin = new Array<number>(i);
        for (let k = 0; k < i; k++) origin[k] = k;
      }
      out = (out ?? '') + text.slice(last, i);
      last = i + 1;
      continue;
    }
    prevPunct = m & PUNCT_FLAG;
    origin?.push(i);
    const o = m & 0xffff;
    if (o !== c) {
      // Changes are rare (digits, upper case, ASCII punctuation): copy the unchanged runs as slices.
      out = (out ?? '') + text.slice(last, i) + String.fromCharCode(o);
      last = i + 1;
    }
  }
  const view = out === undefined ? text : out + text.slice(last);
  return origin ? { view, origin } : { view };
}

/** Why a key can never match after the teacher's normalisation, or undefined when it can. */
export function keyNeverMatches(key: string): { index: number; length: number; reason: string } | undefined {
  for (let i = 0; i < key.length;) {
    const cp = key.codePointAt(i)!;
    const n = cp > 0xffff ? 2 : 1;
    const ch = key.slice(i, i + n);
    const at = (reason: string) => ({ index: i, length: n, reason });
    if (ch >= '0' && ch <= '9')
      return at(
        `"${ch}" is a digit: the teacher spells numbers out before applying the dictionary, so this key never matches. Write the number in Chinese characters as the teacher reads it`,
      );
    if (ch >= 'A' && ch <= 'Z')
      return at(
        `"${ch}" is upper-case: the teacher lower-cases text before applying the dictionary, so this key never matches. Write "${key.toLowerCase()}"`,
      );
    if (EMOJI.test(ch)) return at(`"${ch}" is an emoji: the teacher removes emoji before applying the dictionary`);
    if (ch === ' ') {
      const prev = key[i - 1] ?? '',
        next = key[i + 1] ?? '';
      if (!(/[a-z0-9.,!?;:]/i.test(prev) && /[a-z0-9]/i.test(next)))
        return at('a space here is removed by the teacher (spaces survive only between letters or digits), so this key never matches');
    } else if ((n === 1 && !isHan(cp)) || ch in CUSTOM_REPLACE) {
      const r = rewriteChar(ch, cp);
      if (r !== undefined) {
        if (cp >= 0xff01 && cp <= 0xff5e)
          return at(
            `"${ch}" is a full-width character: the teacher turns it into ${r === '' ? 'nothing' : r === SENTINEL ? 'a spelled-out digit' : `"${r}"`} before applying the dictionary, so this key never matches`,
          );
        if (r === '') return at(`the teacher removes "${ch}" before applying the dictionary, so this key never matches`);
        if (r === SENTINEL)
          return at(`"${ch}" is a digit: the teacher spells numbers out before applying the dictionary, so this key never matches`);
        return at(
          `the teacher rewrites "${ch}" as "${r}" before applying the dictionary, so this key never matches${ch in CUSTOM_REPLACE ? ' (configs/custom_replace.jsonl)' : ''}`,
        );
      }
    }
    if (PUNCT_SET.has(ch) && i + n < key.length && PUNCT_SET.has(key[i + n]!)) {
      return at(`"${ch}${key[i + n]}": the teacher keeps only the first of two punctuation marks in a row, so this key never matches`);
    }
    i += n;
  }
  if (pyLen(key) > MAX_CHUNK)
    return {
      index: 0,
      length: key.length,
      reason: `the key is ${pyLen(key)} characters long: the teacher applies the dictionary inside chunks of at most ${MAX_CHUNK} characters, so it never matches`,
    };
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
  for (let i = 0; i < view.length;) {
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
    if (
      (c >= 0x41 && c <= 0x5a) ||
      (c >= 0x61 && c <= 0x7a) ||
      c === 0x20 ||
      c === 0x09 ||
      (c >= 0xd800 && c <= 0xdfff) ||
      (c >= 0x80 && c < 0x3000)
    )
      return undefined;
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
