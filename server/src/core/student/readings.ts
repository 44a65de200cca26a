// The student's reading notation is the project's: tone-numbered pinyin, ü as `v`, neutral tone 5.
import { pinyin } from 'pinyin-pro';
import { isHan as isHanCode } from '../formats/notation';
import { candidateReadings } from '../pronunciation/teacherReadings';

/** pinyin-pro writes the neutral tone as 0; CPP writes ü as `u:`. Both become the project notation. */
export function normalizeReading(r: string): string {
  return r.trim().toLowerCase().replace(/u:/g, 'v').replace(/ü/g, 'v').replace(/0$/, '5');
}

/** The CPP `.lb` notation (ü written `u:`). */
export function toCppReading(r: string): string {
  return r.replace(/v/g, 'u:');
}

/** The character (code point) that starts at UTF-16 index `index`, or undefined inside a pair / out of range. */
export function charAt(text: string, index: number): string | undefined {
  const c = text.charCodeAt(index);
  if (Number.isNaN(c) || (c >= 0xdc00 && c <= 0xdfff)) return undefined;
  if (c >= 0xd800 && c <= 0xdbff) return text.slice(index, index + 2);
  return text[index];
}

/** A Han character as the teacher counts them (notation.ts). */
export function isHan(ch: string): boolean {
  return isHanCode(ch.codePointAt(0) ?? 0);
}

/** Every reading pinyin-pro knows for a character, most common first: the teacher's list (core/pronunciation/teacherReadings.ts). */
export { candidateReadings };

/** Characters of context pinyin-pro sees on each side: enough for its words, and 8× faster than the whole line. */
export const GUESS_WINDOW = 4;

/**
 * pinyin-pro's reading of text[index] in a window of context (undefined for non-Han characters).
 * The window keeps the student fast; it loses nothing measurable against whole-sentence
 * conversion on CPP (91.1 % vs 90.9 %).
 */
export function pinyinProGuess(text: string, index: number): string | undefined {
  const ch = charAt(text, index);
  if (!ch || !isHan(ch)) return undefined;
  let start = Math.max(0, index - GUESS_WINDOW);
  if (start > 0 && isLowSurrogate(text.charCodeAt(start))) start--;
  let end = Math.min(text.length, index + ch.length + GUESS_WINDOW);
  if (end < text.length && isLowSurrogate(text.charCodeAt(end))) end++;
  const sub = text.slice(start, end);
  // Tone marks, converted here for the one syllable needed: pinyin-pro's own tone-number
  // conversion of the whole window costs 5× more than the conversion itself. No tone sandhi:
  // the teacher's pypinyin does not apply it (core/pronunciation/teacherReadings.ts), so 一 stays yi1 as it says.
  const arr = pinyin(sub, { type: 'array', toneSandhi: false });
  // One entry per code point: find the target's.
  let k = 0;
  for (let u = start; u < index; u++) if (!isLowSurrogate(text.charCodeAt(u))) k++;
  const r = arr[k];
  return r && r !== ch ? markedToNumbered(r) : undefined;
}

const TONE_MARKS: Record<string, [string, number]> = {};
for (const [base, marks] of Object.entries({
  a: 'āáǎà',
  o: 'ōóǒò',
  e: 'ēéěè',
  i: 'īíǐì',
  u: 'ūúǔù',
  v: 'ǖǘǚǜ',
  n: '\u0144\u0148\u01f9',
  m: '\u1e3f',
})) {
  [...marks].forEach((m, k) => {
    TONE_MARKS[m] = [base, base === 'n' ? k + 2 : base === 'm' ? 2 : k + 1];
  });
}

/** `háng` → `hang2`, `lǜ` → `lv4`, `de` → `de5`; undefined when it is not a pinyin syllable. */
export function markedToNumbered(s: string): string | undefined {
  let tone = 5;
  let plain = '';
  for (const ch of s.normalize('NFC')) {
    const t = TONE_MARKS[ch];
    if (t) {
      plain += t[0];
      tone = t[1];
    } else plain += ch === 'ü' ? 'v' : ch;
  }
  return /^[a-z]+$/.test(plain) ? plain + tone : undefined;
}

function isLowSurrogate(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff;
}
