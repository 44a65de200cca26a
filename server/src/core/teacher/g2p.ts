/**
 * The embedded teacher's G2P: pinyin-pro over the whole sentence, then the workspace G2P
 * dictionary applied as GLM-TTS applies it. A thin adapter until the pronunciation feature's
 * `teacherG2P.ts` / `dictEngine.ts` / `notation.ts` land; it follows their contract so that
 * switching is a change of imports.
 */
import { readFile, stat } from 'node:fs/promises';
import { pinyin } from 'pinyin-pro';
import type { TeacherG2P } from './types';

export interface CharReading {
  char: string;
  reading: string | null;
  source: 'dictionary' | 'model' | 'none';
  rule?: { key: string; line?: number };
  polyphone: boolean;
  candidates: string[];
}

const INITIALS = ['zh', 'ch', 'sh', 'b', 'p', 'm', 'f', 'd', 't', 'n', 'l', 'g', 'k', 'h', 'j', 'q', 'x', 'r', 'z', 'c', 's'];

/** `hang2` → `<|H|><|ANG2|>` (pypinyin strict initials, tone-3 finals; see FORMATS.md §2). */
export function pinyinToTokens(syllable: string): string {
  const m = /^([a-zü:]+?)([1-5])?$/i.exec(syllable.trim().toLowerCase().replace(/u:|ü/g, 'v'));
  if (!m) return syllable;
  const tone = m[2] ?? '5';
  let s = m[1]!;
  let initial = '';
  for (const i of INITIALS) if (s.startsWith(i) && s.length > i.length) { initial = i; break; }
  let final = s.slice(initial.length);
  if (!initial) {
    if (s.startsWith('yu')) final = 'v' + s.slice(2);
    else if (s.startsWith('yi')) final = 'i' + s.slice(2);
    else if (s === 'you') final = 'iou';
    else if (s.startsWith('y')) final = 'i' + s.slice(1);
    else if (s === 'wu') final = 'u';
    else if (s.startsWith('w')) final = 'u' + s.slice(1);
    if (final === 'ie' || final === 'ia' || final === 'iao' || final === 'ian' || final === 'iang' || final === 'iong') { /* already strict */ }
  } else {
    if ('jqx'.includes(initial) && final.startsWith('u')) final = 'v' + final.slice(1);
    else if (final === 'iu') final = 'iou';
    else if (final === 'ui') final = 'uei';
    else if (final === 'un') final = 'uen';
    if (final === 'i' && ['zh', 'ch', 'sh', 'r'].includes(initial)) final = 'iii';
    else if (final === 'i' && ['z', 'c', 's'].includes(initial)) final = 'ii';
  }
  s = final;
  return `${initial ? `<|${initial.toUpperCase()}|>` : ''}<|${s.toUpperCase()}${tone}|>`;
}

const NO_INITIAL: Record<string, string> = {
  I: 'yi', IA: 'ya', IE: 'ye', IAO: 'yao', IOU: 'you', IAN: 'yan', IN: 'yin', IANG: 'yang', ING: 'ying', IONG: 'yong',
  U: 'wu', UA: 'wa', UO: 'wo', UAI: 'wai', UEI: 'wei', UAN: 'wan', UEN: 'wen', UANG: 'wang', UENG: 'weng',
  V: 'yu', VE: 'yue', VAN: 'yuan', VN: 'yun',
};

/** `<|H|><|ANG2|>` → `['hang2']`; inverse of pinyinToTokens. */
export function tokensToPinyin(tokens: string): string[] {
  const out: string[] = [];
  let initial = '';
  for (const m of tokens.matchAll(/<\|([A-Z]+)([1-5]?)\|>/g)) {
    const [, body, tone] = m;
    if (!tone) { initial = body!.toLowerCase(); continue; }
    let f = body!;
    let s: string;
    if (!initial) s = NO_INITIAL[f] ?? f.toLowerCase();
    else {
      if (f === 'III' || f === 'II') f = 'I';
      else if ('JQX'.includes(initial.toUpperCase()) && f.startsWith('V')) f = 'U' + f.slice(1);
      else if (f === 'IOU') f = 'IU';
      else if (f === 'UEI') f = 'UI';
      else if (f === 'UEN') f = 'UN';
      s = initial + f.toLowerCase();
    }
    out.push(s + tone);
    initial = '';
  }
  return out;
}

interface Rule { key: string; value: string; line: number }

/** The teacher-exact replacement dictionary: longest key first at each position, no overlaps, values verbatim. */
export class ReplaceDict {
  private readonly rules = new Map<string, Rule>();
  private readonly lengths: number[];

  private constructor(rules: Rule[]) {
    for (const r of rules) this.rules.set(r.key, r); // a later duplicate wins, as with dict.update
    this.lengths = [...new Set([...this.rules.keys()].map((k) => k.length))].sort((a, b) => b - a);
  }

  get size(): number {
    return this.rules.size;
  }

  /** Both dialects: `{"银行": "银<|H|><|ANG2|>"}` and `{"word": "行", "context": "银行", "phoneme": "hang2"}`. */
  static fromText(text: string): ReplaceDict {
    const rules: Rule[] = [];
    const lines = text.split(/\r?\n/);
    for (let i = 0; i < lines.length; i++) {
      const l = lines[i]!.replace(/^\uFEFF/, '').trim();
      if (!l) continue;
      let v: unknown;
      try { v = JSON.parse(l); } catch { continue; }
      if (typeof v !== 'object' || v === null || Array.isArray(v)) continue;
      const o = v as Record<string, unknown>;
      if (typeof o.word === 'string' && typeof o.context === 'string' && typeof o.phoneme === 'string') {
        const at = o.context.indexOf(o.word);
        if (at < 0 || !o.word) continue;
        rules.push({ key: o.context, value: o.context.slice(0, at) + pinyinToTokens(o.phoneme) + o.context.slice(at + o.word.length), line: i });
        continue;
      }
      for (const [k, val] of Object.entries(o)) if (k && typeof val === 'string') rules.push({ key: k, value: val, line: i });
    }
    return new ReplaceDict(rules);
  }

  /** The rule matching at `pos`, longest key first. */
  matchAt(text: string, pos: number): Rule | undefined {
    for (const len of this.lengths) {
      if (pos + len > text.length) continue;
      const r = this.rules.get(text.slice(pos, pos + len));
      if (r) return r;
    }
    return undefined;
  }

  apply(text: string): string {
    let out = '';
    for (let i = 0; i < text.length;) {
      const r = this.matchAt(text, i);
      if (r) { out += r.value; i += r.key.length; } else out += text[i++];
    }
    return out;
  }
}

const dictCache = new Map<string, { mtimeMs: number; dict: ReplaceDict }>();

/** Loads a dictionary file, cached by mtime. */
export async function loadReplaceDict(file: string): Promise<ReplaceDict> {
  const st = await stat(file);
  const hit = dictCache.get(file);
  if (hit && hit.mtimeMs === st.mtimeMs) return hit.dict;
  const dict = ReplaceDict.fromText(await readFile(file, 'utf8'));
  dictCache.set(file, { mtimeMs: st.mtimeMs, dict });
  return dict;
}

const HAN = /[\u3400-\u9fff\uf900-\ufaff]/;
const TONE_MARK = /[āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜ]/;

/** One entry per UTF-16 unit of `text`: what the embedded teacher reads there and why. */
export function teacherReadings(text: string, dict?: ReplaceDict): CharReading[] {
  const out: CharReading[] = [];
  const model = pinyin(text, { type: 'all', toneType: 'num', v: true });
  for (const p of model) {
    const origin = p.origin;
    const isHan = p.isZh && HAN.test(origin) && origin.length === 1;
    const reading = isHan && p.pinyin ? p.pinyin.replace(/0$/, '5').replace(/^([a-z]+)$/, '$15') : null;
    const marked = (p.polyphonic ?? []).filter((c) => TONE_MARK.test(c) || /^[a-z]+$/.test(c));
    const candidates = isHan ? [...new Set(marked.length > 1 ? pinyin(origin, { multiple: true, type: 'array', toneType: 'num', v: true }).map((c) => c.replace(/0$/, '5')) : reading ? [reading] : [])] : [];
    out.push({ char: origin[0] ?? '', reading, source: reading ? 'model' : 'none', polyphone: candidates.length > 1, candidates });
    for (let k = 1; k < origin.length; k++) out.push({ char: origin[k]!, reading: null, source: 'none', polyphone: false, candidates: [] });
  }
  if (dict && dict.size) {
    for (let i = 0; i < text.length;) {
      const r = dict.matchAt(text, i);
      if (!r) { i++; continue; }
      applyRule(text, i, r, out);
      i += r.key.length;
    }
  }
  return out;
}

/** Aligns a rule's value with its key: plain characters keep the model's reading, tokens give theirs. */
function applyRule(text: string, pos: number, r: Rule, out: CharReading[]) {
  const units: Array<{ char: string } | { pinyin: string }> = [];
  const re = /((?:<\|[A-Z]+\|>)?<\|[A-Z]+[1-5]\|>)|([\s\S])/g;
  for (const m of r.value.matchAll(re)) {
    if (m[1]) units.push({ pinyin: tokensToPinyin(m[1])[0] ?? '' });
    else units.push({ char: m[2]! });
  }
  for (let k = 0; k < r.key.length; k++) {
    const e = out[pos + k];
    if (!e) break;
    const u = units[k];
    const rule = { key: r.key, line: r.line };
    if (u && 'pinyin' in u && HAN.test(text[pos + k]!)) out[pos + k] = { ...e, reading: u.pinyin, source: 'dictionary', rule };
    else out[pos + k] = { ...e, source: e.reading ? 'dictionary' : e.source, rule };
  }
}

/**
 * What the embedded teacher reads for `text`: readings, plain pinyin, and the token notation of
 * the text after the dictionary — dictionary values verbatim, polyphones the model resolved as
 * tokens, everything else as written (GLM-TTS with --use_phoneme tokenizes the characters that
 * are not in its list of safe characters, which are mostly the polyphones).
 */
export function embeddedG2P(text: string, dict?: ReplaceDict): TeacherG2P {
  const readings = teacherReadings(text, dict);
  let phonemes = '';
  for (let i = 0; i < text.length;) {
    const r = readings[i]!;
    if (r.source === 'dictionary' && r.rule && text.startsWith(r.rule.key, i) && dict) {
      phonemes += dict.apply(r.rule.key);
      i += r.rule.key.length;
      continue;
    }
    phonemes += r.polyphone && r.reading ? pinyinToTokens(r.reading) : text[i];
    i++;
  }
  const list = readings.map((r) => r.reading);
  return { text, readings: list, pinyin: list.filter((r): r is string => !!r).join(' '), phonemes };
}
