import { isPySpace, jiebaLoaded, posseg } from './jieba';
import { BoundedCache } from '../../util/boundedCache';
import {
  NO_PINYIN,
  isPypinyinHan,
  phraseSyllableId,
  pinyinItems,
  singleCharId,
  syllableCount,
  twoCharPhrase,
  syllableFinal,
  syllableInitial,
  pypinyinLoaded,
} from './pypinyin';
import { tokensToPinyin } from '../../formats/notation';

/**
 * GLM-TTS's G2P (data/glmtts/utils/glm_g2p.py, `G2P_zh()(text)[0]`) in TypeScript, exact: the teacher's
 * preprocessing, split_sentence, jieba posseg per part (./jieba.ts), pypinyin INITIALS + FINALS_TONE3 per word
 * (./pypinyin.ts), the punctuation branch, iii/ii, separators and remove_endsyllable.
 *
 *   g2pPhonemes('重庆银行') → ['ch', 'ong2', '-', 'q', 'ing4', '-', 'in2', '-', 'h', 'ang2']
 *   g2pReadings('重庆银行') → ['chong2', 'qing4', 'yin2', 'hang2']
 *
 * Where the Python raises (a Han character that pypinyin reads as '' in both styles: one with no reading in
 * pypinyin's dictionary, or 㕶 ň / 𠮾 ǹ; glm_g2p does `py_[0]` on the empty string: IndexError), g2pPhonemes
 * throws G2PError; g2pReadings gives null for that character and goes on, as if it were not there.
 */

const SYL = '-';
/** glm_g2p's punctuation_marks: a pinyin made only of these is punctuation. */
const PUNCT = '，。；：！？、';

/** The teacher's G2P failed on this text as the Python would (IndexError: string index out of range). */
export class G2PError extends Error {
  constructor(
    readonly text: string,
    readonly index: number,
  ) {
    const cp = text.codePointAt(index)!;
    super(
      `GLM-TTS's G2P fails on ${String.fromCodePoint(cp)} (U+${cp.toString(16).toUpperCase()}, offset ${index}): pypinyin gives it no initial and no final, glm_g2p.py raises IndexError`,
    );
  }
}

/** A character glm_g2p's first two re.sub calls turn into (a run collapsing to one) '，'. */
function isPunctRun(c: number): boolean {
  switch (c) {
    // [",!\.\?\-—…“”‘’\s]
    case 0x22:
    case 0x2c:
    case 0x21:
    case 0x2e:
    case 0x3f:
    case 0x2d:
    case 0x2014:
    case 0x2026:
    case 0x201c:
    case 0x201d:
    case 0x2018:
    case 0x2019:
    // [，。；：！？、\s]
    case 0xff0c:
    case 0x3002:
    case 0xff1b:
    case 0xff1a:
    case 0xff01:
    case 0xff1f:
    case 0x3001:
      return true;
    default:
      return isPySpace(c);
  }
}

/** glm_g2p.is_chinese (per code point). */
function isChinese(cp: number): boolean {
  return (
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x20000 && cp <= 0x2a6df) ||
    (cp >= 0x2a700 && cp <= 0x2ebef) ||
    (cp >= 0x30000 && cp <= 0x323af) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0x2f800 && cp <= 0x2fa1f) ||
    (cp >= 0x2e80 && cp <= 0x2eff)
  );
}

/**
 * The preprocessed text and, per UTF-16 unit of it, the offset of the unit it came from in the input (null when
 * they are the same: no punctuation or whitespace to collapse).
 */
function preprocess(text: string): { s: string; from: Int32Array | null } {
  let i = 0;
  while (i < text.length && !isPunctRun(text.charCodeAt(i))) i++;
  if (i === text.length) {
    const s = text.includes('嗯') || text.includes('呣') ? text.replace(/嗯/g, '恩').replace(/呣/g, '母') : text;
    return { s, from: null };
  }
  const from = new Int32Array(text.length);
  let out = '';
  let n = 0;
  let runStart = -1;
  let chunkStart = 0; // text[chunkStart, i) is copied unchanged, except 嗯/呣
  const flush = (to: number) => {
    if (to > chunkStart) {
      out += text.slice(chunkStart, to);
      for (let k = chunkStart; k < to; k++) from[n++] = k;
    }
  };
  for (; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (isPunctRun(c)) {
      if (runStart < 0) {
        flush(i);
        runStart = i;
        out += '，';
        from[n++] = i;
      }
      chunkStart = i + 1;
    } else runStart = -1;
  }
  flush(text.length);
  // .strip(): nothing left to strip (every whitespace is now '，'). Then the two replacements.
  if (out.includes('嗯') || out.includes('呣')) out = out.replace(/嗯/g, '恩').replace(/呣/g, '母');
  return { s: out, from: from.subarray(0, n) };
}

/** Per syllable index: the phonemes glm_g2p writes (iii/ii applied) and the canonical reading. Built once. */
let sylShengmu: string[] | undefined;
let sylYunmu: string[] = [];
let sylReading: Array<string | null> = [];

function syllableTables(): void {
  if (sylShengmu) return;
  const n = syllableCount();
  const sh: string[] = new Array(n);
  sylYunmu = new Array(n);
  sylReading = new Array(n);
  for (let id = 0; id < n; id++) {
    const shengmu = syllableInitial(id);
    let yunmu = syllableFinal(id);
    if (yunmu.startsWith('i') && (shengmu === 'zh' || shengmu === 'ch' || shengmu === 'sh' || shengmu === 'r'))
      yunmu = 'iii' + yunmu.slice(1);
    else if (yunmu.startsWith('i') && (shengmu === 'z' || shengmu === 'c' || shengmu === 's')) yunmu = 'ii' + yunmu.slice(1);
    sh[id] = shengmu;
    sylYunmu[id] = yunmu;
    let reading: string | null = null;
    if (yunmu) {
      try {
        const r = tokensToPinyin(`${shengmu ? `<|${shengmu.toUpperCase()}|>` : ''}<|${yunmu.toUpperCase()}|>`);
        reading = r.length === 1 ? r[0]! : null;
      } catch {
        reading = null;
      }
    }
    sylReading[id] = reading;
  }
  sylShengmu = sh;
}

/** What one run of the G2P gives: the phonemes and, per UTF-16 unit of the input, where its syllable starts. */
export interface G2PDetail {
  /** `G2P_zh()(text)[0]`: initials, finals, '-' between syllables, '，' for punctuation; raw text of non-Han runs twice. */
  phonemes: string[];
  /**
   * Per UTF-16 unit of the input: the index in `phonemes` of the first phoneme of the syllable the G2P gives this
   * character (Han characters read from pypinyin's dictionaries only), -1 otherwise.
   */
  charPhoneme: Int32Array;
  /** Per UTF-16 unit: the reading in canonical pinyin (`hang2`, `lv4`, `de5`), null when there is none. */
  readings: Array<string | null>;
  /** Set when the Python would raise: the input offset of the character it fails on. */
  failsAt: number;
}

function run(text: string, cacheParts = true): G2PDetail {
  syllableTables();
  const shengmuOf = sylShengmu!;
  const { s, from } = preprocess(text);
  const phones: string[] = [];
  const charPhoneme = new Int32Array(text.length).fill(-1);
  const readings: Array<string | null> = new Array(text.length).fill(null);
  let failsAt = -1;
  // split_sentence: maximal runs of is_chinese / not, by code point.
  let partStart = 0;
  let partChinese = false;
  for (let i = 0; i <= s.length;) {
    let cp = -1;
    let zh = false;
    if (i < s.length) {
      cp = s.codePointAt(i)!;
      zh = isChinese(cp);
      if (i === 0) partChinese = zh;
    }
    if (i === s.length || zh !== partChinese) {
      if (i > partStart) {
        // One part: s[partStart, i). sent_part.strip() changes nothing (no whitespace is left).
        const part = s.slice(partStart, i);
        const partPhones = phones.length;
        let off = partStart;
        for (const word of cacheParts ? wordsOf(part) : posseg(part).map((p) => p.word)) {
          let items: readonly number[] | undefined;
          let id0: number;
          let id1 = 0;
          let count: number;
          const c0 = word.charCodeAt(0);
          if (word.length === 1 || (word.length === 2 && c0 >= 0xd800 && c0 <= 0xdbff)) {
            // One code point: no segmentation, no phrase, no cache.
            id0 = singleCharId(word.codePointAt(0)!);
            count = 1;
          } else if (word.length === 2 && c0 < 0xd800 && isPypinyinHan(c0) && isPypinyinHan(word.charCodeAt(1))) {
            // Two BMP Han characters: a phrase, or two single characters (see twoCharPhrase); no cache.
            const p = twoCharPhrase(word);
            id0 = p >= 0 ? phraseSyllableId(p, 0) : singleCharId(c0);
            id1 = p >= 0 ? phraseSyllableId(p, 1) : singleCharId(word.charCodeAt(1));
            count = 2;
          } else {
            items = pinyinItems(word);
            id0 = items[0]!;
            count = items.length / 3;
          }
          for (let k = 0; k < count; k++) {
            const id = k === 0 ? id0 : items ? items[3 * k]! : id1;
            const start = items ? items[3 * k + 1]! : k;
            if (id >= 0) {
              const shengmu = shengmuOf[id]!;
              const at = from ? from[off + start]! : off + start;
              const yunmu = sylYunmu[id]!;
              if (!yunmu && !shengmu) {
                // py_ == '' is "all punctuation" in Python, then py_[0] raises IndexError.
                if (failsAt < 0) failsAt = at;
                continue;
              }
              charPhoneme[at] = phones.length;
              readings[at] = sylReading[id]!;
              if (shengmu) phones.push(shengmu);
              // yunmu '' (ń, ň, hm…): the Python pushes '' and '|', and filters them out at the end.
              if (yunmu) phones.push(yunmu);
              phones.push(SYL);
              continue;
            }
            if (id === NO_PINYIN) {
              if (failsAt < 0) failsAt = from ? from[off + start]! : off + start;
              continue;
            }
            // RAW_TEXT: both styles return the text unchanged; py_ = text + text.
            const raw = items ? word.slice(start, items[3 * k + 2]) : word;
            let allPunct = true;
            for (let c = 0; c < raw.length; c++)
              if (!PUNCT.includes(raw[c]!)) {
                allPunct = false;
                break;
              }
            if (allPunct) {
              if (phones.length > partPhones && phones[phones.length - 1] === SYL) phones.pop();
              phones.push(raw[0]!);
              continue;
            }
            // A raw shengmu is never zh/ch/sh/r/z/c/s with a yunmu starting with i (they are the same string).
            phones.push(raw, raw, SYL);
          }
          off += word.length;
        }
        // remove_endsyllable(tmp_phones)
        while (phones.length > partPhones && phones[phones.length - 1] === SYL) phones.pop();
      }
      partStart = i;
      partChinese = zh;
    }
    if (i === s.length) break;
    i += cp > 0xffff ? 2 : 1;
  }
  // Final cleanup: '|' and '' were never pushed; remove_endsyllable.
  while (phones.length && phones[phones.length - 1] === SYL) phones.pop();
  return { phonemes: phones, charPhoneme, readings, failsAt };
}

/**
 * jieba's words of one Chinese part, cached by the part: parts (clauses between punctuation) recur
 * across the lines of a corpus more often than whole lines do, and posseg is the costliest step.
 */
const partWords = new BoundedCache<string, readonly string[]>(10_000);
function wordsOf(part: string): readonly string[] {
  let w = partWords.get(part);
  if (w) return w;
  w = posseg(part).map((p) => p.word);
  if (part.length <= 200) partWords.set(part, w);
  return w;
}

/** Longer texts are not kept (the cache stays a few MB at most). */
const MAX_CACHED_TEXT = 1000;
const cache = new BoundedCache<string, G2PDetail>(2000);
let cacheTexts = true;

/**
 * Whether results are kept per text (default yes). The readings workers turn it off: they are
 * never asked for the same text twice (1 hit in 50,000 lines), and it held ~7 MB each.
 */
export function keepG2PTexts(keep: boolean): void {
  cacheTexts = keep;
  if (!keep) cache.clear();
}

/** The whole result for one text, cached (do not modify it). */
export function g2pDetail(text: string): G2PDetail {
  if (!cacheTexts) return run(text);
  let d = cache.get(text);
  if (d) return d;
  d = run(text);
  if (text.length <= MAX_CACHED_TEXT) cache.set(text, d);
  return d;
}

/** The same without the per-text and per-part caches (benchmarks). */
export function g2pDetailUncached(text: string): G2PDetail {
  return run(text, false);
}

/** Exactly `G2P_zh()(text)[0]` of GLM-TTS's utils/glm_g2p.py. Throws G2PError where the Python raises. */
export function g2pPhonemes(text: string): string[] {
  const d = g2pDetail(text);
  if (d.failsAt >= 0) throw new G2PError(text, d.failsAt);
  return d.phonemes.slice();
}

/**
 * One entry per UTF-16 unit of `text`: the tone-numbered pinyin the teacher's G2P gives each Han character (on the
 * first unit of a surrogate pair) in canonical form (`hang2`, `yi4`, `lv4`, neutral tone `de5`), null for anything
 * else, for characters it leaves as text, and for readings the teacher's phoneme set cannot write (ń, hm, ê…).
 */
export function g2pReadings(text: string): Array<string | null> {
  return g2pDetail(text).readings.slice();
}

/** Whether this thread has both ports' data loaded (the first reading otherwise loads it: a quarter of a second). */
export function g2pLoaded(): boolean {
  return jiebaLoaded() && pypinyinLoaded();
}

/** Warms up both ports' data (jieba, pypinyin) and the syllable tables. */
export function preloadG2P(): void {
  g2pDetail('预热');
}
