import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { isHan, type ParseResult, parseReplacement, pinyinToTokens, readingToPinyin } from '../formats/notation';
import { parseJsonObject } from '../formats/jsonl';

/**
 * The teacher's G2P replacement dictionary, with exactly the semantics of GLM-TTS
 * (`cosyvoice/cli/frontend.py`, docs/FORMATS.md §2):
 * - loading: blank lines skipped, each line's object merged with `dict.update`, so a line may
 *   hold several keys and a later duplicate key wins (its value; the key keeps its first place);
 * - matching (`_tokenize_by_replace_dict`): left to right; at each position the longest key
 *   first (Python `len`, i.e. code points), exact `startswith`; matches do not overlap; a match
 *   emits the value verbatim; otherwise one character is kept and the scan moves on;
 * - it runs on normalised text, inside each chunk of 30–60 characters (see `teacherTextView`
 *   and `teacherChunks` in glmFrontend.ts).
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

/** Python's `len`: code points. */
export const pyLen = (s: string): number => {
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

  constructor(
    entries: Iterable<DictEntry>,
    readonly file?: string,
  ) {
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
  for (let i = 0; i < s.length;) {
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
export function ruleToUpstream(
  word: string,
  context: string,
  phoneme: string,
): ParseResult<{ key: string; value: string; pinyin: string[] }> {
  if (word === '') return { ok: false, reason: '"word" is empty' };
  if (!context.includes(word))
    return { ok: false, reason: `"context" "${context}" does not contain "word" "${word}": the rule can never apply` };
  const r = readingToPinyin(phoneme);
  if (!r.ok) return r;
  const han = hanChars(word);
  if (han.length !== r.value.length) {
    return {
      ok: false,
      reason: `"word" "${word}" has ${han.length} Chinese character${han.length === 1 ? '' : 's'} but "phoneme" has ${r.value.length} syllable${r.value.length === 1 ? '' : 's'}`,
    };
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
        notes.push({
          line: i,
          message: `"${k}" → "${val}" has no exact rule form (it rewrites text or pins several separate places): kept in the upstream dialect`,
        });
      }
    }
    out.push(...pieces);
  });
  return { text: out.join('\n'), notes };
}

/** Which dialect a file is written in, from its lines (`unknown` when no line says). */
export function detectDictDialect(text: string): DictDialect | 'mixed' | 'unknown' {
  let rule = 0,
    up = 0;
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
