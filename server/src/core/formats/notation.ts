import phonemeList from './phonemes.json';

/**
 * The two ways a reading is written (docs/FORMATS.md §2): tone-numbered pinyin (`hang2`, ü as `v`,
 * neutral tone `5`) and the teacher's token notation (`<|H|><|ANG2|>`: pypinyin strict initials
 * and tone-3 finals, upper-cased; y/w are not initials; `iou/uei/uen`; `iii`/`ii` after
 * zh/ch/sh/r and z/c/s). Every token is one of the 204 symbols of GLM-TTS's
 * `configs/G2P_all_phonemes.json`, shipped here as `phonemes.json`.
 */
export const PHONEME_SYMBOLS: ReadonlySet<string> = new Set(phonemeList as string[]);

export const INITIALS = [
  'b',
  'p',
  'm',
  'f',
  'd',
  't',
  'n',
  'l',
  'g',
  'k',
  'h',
  'j',
  'q',
  'x',
  'zh',
  'ch',
  'sh',
  'r',
  'z',
  'c',
  's',
] as const;
const INITIAL_SET: ReadonlySet<string> = new Set(INITIALS);

/**
 * Every syllable (without tone) a character can have according to pinyin-pro's dictionary,
 * minus the interjections m, n, ng, hng that the teacher's phoneme set cannot write.
 * Generated once from pinyin-pro 3.29 (`polyphonic` over U+3400–U+9FFF).
 */
const SYLLABLES = new Set(
  (
    'a ai an ang ao ba bai ban bang bao bei ben beng bi bian biao bie bin bing bo bu ca cai can cang cao ce cen ceng ' +
    'cha chai chan chang chao che chen cheng chi chong chou chu chua chuai chuan chuang chui chun chuo ci cong cou cu cuan cui cun cuo da dai ' +
    'dan dang dao de dei den deng di dia dian diao die ding diu dong dou du duan dui dun duo e ei en eng er fa fan fang fei fen feng fo fou fu ' +
    'ga gai gan gang gao ge gei gen geng gong gou gu gua guai guan guang gui gun guo ha hai han hang hao he hei hen heng hong hou hu hua huai ' +
    'huan huang hui hun huo ji jia jian jiang jiao jie jin jing jiong jiu ju juan jue jun ka kai kan kang kao ke kei ken keng kong kou ku kua ' +
    'kuai kuan kuang kui kun kuo la lai lan lang lao le lei leng li lia lian liang liao lie lin ling liu lo long lou lu luan lun luo lv lve ma ' +
    'mai man mang mao me mei men meng mi mian miao mie min ming miu mo mou mu na nai nan nang nao ne nei nen neng ni nian niang niao nie nin ' +
    'ning niu nong nou nu nuan nuo nv nve o ou pa pai pan pang pao pei pen peng pi pian piao pie pin ping po pou pu qi qia qian qiang qiao qie ' +
    'qin qing qiong qiu qu quan que qun ran rang rao re ren reng ri rong rou ru rua ruan rui run ruo sa sai san sang sao se sen seng sha shai ' +
    'shan shang shao she shei shen sheng shi shou shu shua shuai shuan shuang shui shun shuo si song sou su suan sui sun suo ta tai tan tang ' +
    'tao te tei teng ti tian tiao tie ting tong tou tu tuan tui tun tuo wa wai wan wang wei wen weng wo wu xi xia xian xiang xiao xie xin xing ' +
    'xiong xiu xu xuan xue xun ya yan yang yao ye yi yin ying yo yong you yu yuan yue yun za zai zan zang zao ze zei zen zeng zha zhai zhan ' +
    'zhang zhao zhe zhei zhen zheng zhi zhong zhou zhu zhua zhuai zhuan zhuang zhui zhun zhuo zi zong zou zu zuan zui zun zuo'
  ).split(' '),
);

/** Interjection syllables pinyin-pro knows (嗯 ng2, 呣 m2, 哼 hng) but the teacher's phonemes cannot write. */
const NO_TOKEN_FORM = new Set(['m', 'n', 'ng', 'hm', 'hng']);

export interface Pinyin {
  /** Canonical form: tone-numbered, ü as v, neutral tone 5 (`lv4`, `de5`). */
  text: string;
  /** The syllable without tone (`lv`). */
  base: string;
  tone: 1 | 2 | 3 | 4 | 5;
  /** pypinyin strict initial, '' for none (y/w are not initials). */
  initial: string;
  /** pypinyin strict final as the teacher writes it, lower-case (`iou`, `v`, `iii`). */
  final: string;
}

export type ParseResult<T> = { ok: true; value: T } | { ok: false; reason: string };

const TONE_MARKS: Record<string, [string, number]> = {
  ā: ['a', 1],
  á: ['a', 2],
  ǎ: ['a', 3],
  à: ['a', 4],
  ē: ['e', 1],
  é: ['e', 2],
  ě: ['e', 3],
  è: ['e', 4],
  ī: ['i', 1],
  í: ['i', 2],
  ǐ: ['i', 3],
  ì: ['i', 4],
  ō: ['o', 1],
  ó: ['o', 2],
  ǒ: ['o', 3],
  ò: ['o', 4],
  ū: ['u', 1],
  ú: ['u', 2],
  ǔ: ['u', 3],
  ù: ['u', 4],
  ǖ: ['v', 1],
  ǘ: ['v', 2],
  ǚ: ['v', 3],
  ǜ: ['v', 4],
  ń: ['n', 2],
  ň: ['n', 3],
  ǹ: ['n', 4],
  ḿ: ['m', 2],
};

/**
 * Parses one syllable of tone-numbered pinyin: `chong2`, `lv4` / `lü4` / `lu:4`, neutral tone `5`
 * or `0`; tone marks (`háng`) are accepted too. Upper case is folded.
 */
export function parsePinyinDetailed(input: string): ParseResult<Pinyin> {
  let s = input.trim().toLowerCase().replace(/u:/g, 'v').replace(/ü/g, 'v');
  if (s === '') return { ok: false, reason: 'empty reading' };
  let tone: number | undefined;
  const m = /^([a-z]+)([0-9])$/.exec(s);
  if (m) {
    s = m[1]!;
    tone = Number(m[2]);
    if (tone === 0) tone = 5;
    if (tone > 5) return { ok: false, reason: `"${input}": tone ${m[2]} does not exist (1–4, 5 or 0 for the neutral tone)` };
  } else {
    let marked: number | undefined;
    let plain = '';
    for (const ch of s) {
      const t = TONE_MARKS[ch];
      if (t) {
        if (marked !== undefined) return { ok: false, reason: `"${input}" has two tone marks` };
        marked = t[1];
        plain += t[0];
      } else plain += ch;
    }
    if (!/^[a-z]+$/.test(plain)) return { ok: false, reason: `"${input}" is not tone-numbered pinyin (like hang2 or lv4)` };
    if (marked === undefined)
      return { ok: false, reason: `"${input}" has no tone: write it with a tone number (1–4, 5 for the neutral tone)` };
    s = plain;
    tone = marked;
  }
  if (NO_TOKEN_FORM.has(s))
    return { ok: false, reason: `"${input}": the interjection syllable ${s} has no form in the teacher's phoneme set` };
  if (!SYLLABLES.has(s)) return { ok: false, reason: `"${input}": ${s} is not a Mandarin syllable` };
  const { initial, final } = splitSyllable(s);
  const text = `${s}${tone}`;
  const p: Pinyin = { text, base: s, tone: tone as Pinyin['tone'], initial, final };
  const bad = tokenSymbols(p).find((t) => !PHONEME_SYMBOLS.has(t));
  if (bad) return { ok: false, reason: `"${input}": the teacher's phoneme set has no ${bad} (${s} does not take tone ${tone})` };
  return { ok: true, value: p };
}

/** One syllable of pinyin, or undefined when it is not one the teacher can say. */
export function parsePinyin(input: string): Pinyin | undefined {
  const r = parsePinyinDetailed(input);
  return r.ok ? r.value : undefined;
}

/** Several syllables separated by spaces (`yin2 hang2`). */
export function parsePinyinListDetailed(input: string): ParseResult<Pinyin[]> {
  const parts = input
    .trim()
    .split(/\s+/)
    .filter((x) => x !== '');
  if (!parts.length) return { ok: false, reason: 'empty reading' };
  const out: Pinyin[] = [];
  for (const part of parts) {
    const r = parsePinyinDetailed(part);
    if (!r.ok) return r;
    out.push(r.value);
  }
  return { ok: true, value: out };
}

/** Canonical print: `lv4`, `de5`. */
export function printPinyin(p: Pinyin): string {
  return p.text;
}

/** Normalises any accepted spelling to the canonical one (`lü0` → `lv5`); undefined when invalid. */
export function normalizePinyin(input: string): string | undefined {
  return parsePinyin(input)?.text;
}

const Y_FINALS: Record<string, string> = {
  yi: 'i',
  yin: 'in',
  ying: 'ing',
  ya: 'ia',
  yan: 'ian',
  yang: 'iang',
  yao: 'iao',
  ye: 'ie',
  you: 'iou',
  yong: 'iong',
  yo: 'io',
  yu: 'v',
  yue: 've',
  yuan: 'van',
  yun: 'vn',
  wu: 'u',
  wa: 'ua',
  wo: 'uo',
  wai: 'uai',
  wei: 'uei',
  wan: 'uan',
  wen: 'uen',
  wang: 'uang',
  weng: 'ueng',
};

/** pypinyin's strict initial and final of a toneless syllable, with the teacher's iii/ii. */
function splitSyllable(s: string): { initial: string; final: string } {
  if (s[0] === 'y' || s[0] === 'w') return { initial: '', final: Y_FINALS[s] ?? s };
  const initial = s.length > 2 && INITIAL_SET.has(s.slice(0, 2)) ? s.slice(0, 2) : INITIAL_SET.has(s[0]!) && s.length > 1 ? s[0]! : '';
  let final = s.slice(initial.length);
  if ((initial === 'j' || initial === 'q' || initial === 'x') && final.startsWith('u')) final = 'v' + final.slice(1);
  if (final === 'iu') final = 'iou';
  else if (final === 'ui') final = 'uei';
  else if (final === 'un') final = 'uen';
  if (final === 'i') {
    if (initial === 'zh' || initial === 'ch' || initial === 'sh' || initial === 'r') final = 'iii';
    else if (initial === 'z' || initial === 'c' || initial === 's') final = 'ii';
  }
  return { initial, final };
}

function tokenSymbols(p: Pinyin): string[] {
  const fin = `${p.final.toUpperCase()}${p.tone}`;
  return p.initial ? [p.initial.toUpperCase(), fin] : [fin];
}

/** `hang2` → `<|H|><|ANG2|>`; several syllables (`yin2 hang2`) are concatenated. Throws NotationError when invalid. */
export function pinyinToTokens(input: string | Pinyin | readonly Pinyin[]): string {
  let list: readonly Pinyin[];
  if (typeof input === 'string') {
    const r = parsePinyinListDetailed(input);
    if (!r.ok) throw new NotationError(r.reason);
    list = r.value;
  } else list = Array.isArray(input) ? (input as readonly Pinyin[]) : [input as Pinyin];
  let out = '';
  for (const p of list) for (const t of tokenSymbols(p)) out += `<|${t}|>`;
  return out;
}

export class NotationError extends Error {}

/** A piece of a replacement string: plain text, one syllable written in tokens, or a broken token. */
export type ReplacementPart =
  | { kind: 'text'; text: string; start: number; end: number }
  | { kind: 'syllable'; pinyin: string; tokens: string; start: number; end: number }
  | { kind: 'invalid'; text: string; reason: string; start: number; end: number };

const TOKEN = /<\|([^|<>]*)\|>/g;

/**
 * Splits a replacement (`银<|H|><|ANG2|>`) into text characters and syllables. Each token must be
 * one of the 204 symbols; an initial must be followed by a final; an initial + final pair must
 * be a syllable the teacher writes that way (e.g. `<|ZH|><|I4|>` is not: the teacher writes III).
 */
export function parseReplacement(value: string): ReplacementPart[] {
  const parts: ReplacementPart[] = [];
  let last = 0;
  let pendingInitial: { sym: string; start: number; end: number } | undefined;
  const flushInitial = () => {
    if (pendingInitial) {
      parts.push({
        kind: 'invalid',
        text: value.slice(pendingInitial.start, pendingInitial.end),
        start: pendingInitial.start,
        end: pendingInitial.end,
        reason: `the initial <|${pendingInitial.sym}|> is not followed by a final`,
      });
      pendingInitial = undefined;
    }
  };
  const pushText = (from: number, to: number) => {
    if (to <= from) return;
    flushInitial();
    for (let i = from; i < to;) {
      const cp = value.codePointAt(i)!;
      const n = cp > 0xffff ? 2 : 1;
      parts.push({ kind: 'text', text: value.slice(i, i + n), start: i, end: i + n });
      i += n;
    }
  };
  TOKEN.lastIndex = 0;
  for (let m = TOKEN.exec(value); m; m = TOKEN.exec(value)) {
    pushText(last, m.index);
    last = m.index + m[0].length;
    const sym = m[1]!;
    const start = m.index,
      end = last;
    if (!PHONEME_SYMBOLS.has(sym)) {
      flushInitial();
      const lower =
        sym.toUpperCase() !== sym && PHONEME_SYMBOLS.has(sym.toUpperCase()) ? ` (write it upper-case: <|${sym.toUpperCase()}|>)` : '';
      parts.push({ kind: 'invalid', text: m[0], start, end, reason: `<|${sym}|> is not one of the teacher's 204 phoneme symbols${lower}` });
      continue;
    }
    if (INITIAL_SET.has(sym.toLowerCase())) {
      flushInitial();
      pendingInitial = { sym, start, end };
      continue;
    }
    const init = pendingInitial;
    pendingInitial = undefined;
    const r = syllableFromTokens(init?.sym ?? '', sym);
    const s0 = init ? init.start : start;
    if (r.ok) parts.push({ kind: 'syllable', pinyin: r.value, tokens: value.slice(s0, end), start: s0, end });
    else parts.push({ kind: 'invalid', text: value.slice(s0, end), start: s0, end, reason: r.reason });
  }
  pushText(last, value.length);
  flushInitial();
  return parts;
}

const Y_SPELLING: Record<string, string> = Object.fromEntries(Object.entries(Y_FINALS).map(([k, v]) => [v, k]));

/** Token initial (upper-case, '' for none) + tonal final → canonical pinyin. */
function syllableFromTokens(initial: string, finalTone: string): ParseResult<string> {
  const m = /^([A-Z]+)([1-5])$/.exec(finalTone);
  if (!m) return { ok: false, reason: `<|${finalTone}|> is not a final with a tone` };
  const ini = initial.toLowerCase();
  const fin = m[1]!.toLowerCase();
  const tone = m[2]!;
  const written = `${initial ? `<|${initial}|>` : ''}<|${finalTone}|>`;
  let base: string;
  if (!ini) {
    if (fin === 'ii' || fin === 'iii')
      return { ok: false, reason: `${written}: ${fin.toUpperCase()} only follows ${fin === 'ii' ? 'Z, C, S' : 'ZH, CH, SH, R'}` };
    base = Y_SPELLING[fin] ?? fin;
  } else {
    let f = fin;
    if (f === 'iii') {
      if (!['zh', 'ch', 'sh', 'r'].includes(ini)) return { ok: false, reason: `${written}: III only follows ZH, CH, SH, R` };
      f = 'i';
    } else if (f === 'ii') {
      if (!['z', 'c', 's'].includes(ini)) return { ok: false, reason: `${written}: II only follows Z, C, S` };
      f = 'i';
    } else if (f === 'i' && ['zh', 'ch', 'sh', 'r', 'z', 'c', 's'].includes(ini)) {
      return {
        ok: false,
        reason: `${written}: after ${initial} the teacher writes ${['z', 'c', 's'].includes(ini) ? 'II' : 'III'}, not I`,
      };
    } else if ((ini === 'j' || ini === 'q' || ini === 'x') && f.startsWith('v')) f = 'u' + f.slice(1);
    else if ((ini === 'j' || ini === 'q' || ini === 'x') && f.startsWith('u'))
      return { ok: false, reason: `${written}: after ${initial} the teacher writes V, not U` };
    else if (f === 'iou') f = 'iu';
    else if (f === 'uei') f = 'ui';
    else if (f === 'uen') f = 'un';
    else if (f === 'iu' || f === 'ui' || f === 'un')
      return { ok: false, reason: `${written}: the teacher writes ${({ iu: 'IOU', ui: 'UEI', un: 'UEN' } as Record<string, string>)[f]}` };
    base = ini + f;
  }
  if (!SYLLABLES.has(base)) return { ok: false, reason: `${written} is not a Mandarin syllable (${base}${tone})` };
  // Round-trip: the teacher writes exactly one token form per syllable.
  const p = parsePinyin(`${base}${tone}`);
  if (!p) return { ok: false, reason: `${written} is not a reading the teacher writes` };
  if (pinyinToTokens(p) !== written) return { ok: false, reason: `${written}: the teacher writes ${base}${tone} as ${pinyinToTokens(p)}` };
  return { ok: true, value: p.text };
}

/** `<|H|><|ANG2|>` → `['hang2']`. Throws NotationError when the string holds anything but valid syllable tokens. */
export function tokensToPinyin(tokens: string): string[] {
  const out: string[] = [];
  for (const part of parseReplacement(tokens.trim())) {
    if (part.kind === 'syllable') out.push(part.pinyin);
    else if (part.kind === 'invalid') throw new NotationError(part.reason);
    else if (part.text.trim() !== '') throw new NotationError(`"${part.text}" is not a phoneme token`);
  }
  return out;
}

/** Does this look like token notation rather than pinyin? */
export function looksLikeTokens(s: string): boolean {
  return s.includes('<|');
}

/** Converts a reading written either way to canonical pinyin syllables; the reason when it is neither. */
export function readingToPinyin(s: string): ParseResult<string[]> {
  if (looksLikeTokens(s)) {
    try {
      const r = tokensToPinyin(s);
      return r.length ? { ok: true, value: r } : { ok: false, reason: 'empty reading' };
    } catch (err) {
      return { ok: false, reason: (err as Error).message };
    }
  }
  const r = parsePinyinListDetailed(s);
  return r.ok ? { ok: true, value: r.value.map((p) => p.text) } : r;
}

/** Is this one Han character as the teacher counts them (glm_g2p.is_chinese)? */
export function isHan(cp: number): boolean {
  return (
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0x2e80 && cp <= 0x2eff) ||
    (cp >= 0x20000 && cp <= 0x2a6df) ||
    (cp >= 0x2a700 && cp <= 0x2ebef) ||
    (cp >= 0x30000 && cp <= 0x323af) ||
    (cp >= 0x2f800 && cp <= 0x2fa1f)
  );
}

/** Pinyin as pinyin-pro writes it with `toneType: 'num', v: true` (`de0`, `lv4`) → canonical (`de5`). */
export function fromPinyinPro(s: string): string {
  const last = s.charCodeAt(s.length - 1);
  if (last === 48 /* 0 */) return s.slice(0, -1) + '5';
  if (last < 48 || last > 57) return s + '5';
  return s;
}
