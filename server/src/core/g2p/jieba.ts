/**
 * jieba 0.42.1's part-of-speech segmentation (`jieba.posseg.lcut(sentence)`, HMM on), ported exactly.
 *
 * GLM-TTS's G2P (data/glmtts/utils/glm_g2p.py) segments every Chinese part with jieba.posseg before pypinyin reads
 * it word by word, so the student must see the same words. This is a line-by-line port of
 * jieba/posseg/__init__.py (`__cut_internal`, `__cut_DAG`, `__cut_detail`, `__cut`), jieba/posseg/viterbi.py and
 * the Tokenizer's `get_DAG` / `calc` from jieba/__init__.py, with:
 * - the regexes as Python reads them (re_han_internal, re_skip_internal with Python's Unicode `\s`, which differs
 *   from JavaScript's: it has U+001C–U+001F and U+0085, not U+FEFF; re_han_detail, re_skip_detail, re_num, re_eng);
 * - Python's iteration by code point where jieba iterates characters (astral characters stay whole);
 * - `max()` over (value, key) tuples: ties go to the larger key (the larger end index in `calc`, the larger
 *   (BMES, tag) state in the Viterbi), sums added in Python's order, MIN_FLOAT = -3.14e100;
 * - the natural logs of the dictionary frequencies taken from the data file (Python's math.log: V8's Math.log
 *   differs in the last bit for some integers, which would change ties).
 * The data (dict.txt words with frequency and tag, the HMM tables, char_state_tab) is generated from Debian's
 * python3-jieba by scripts/g2p-data/jieba.py into data/jieba.txt.gz and loaded once, lazily.
 * See docs/g2p-jieba-choice.md for why a port and not a jieba package from npm.
 */
import { readG2PText } from './data';

export interface PosPair {
  word: string;
  flag: string;
}

const DATA_FILE = 'jieba.txt.gz';
const MIN_FLOAT = -3.14e100;

interface Model {
  /** Every dict word and every prefix of one: index into the word arrays (0 = a prefix that is not a word: freq 0). */
  index: Map<string, number>;
  /** Per word index: frequency (0 for prefixes), Python's log(freq or 1) - log(total), tag index (-1: none). */
  freq: Int32Array;
  logp: Float64Array;
  tag: Int16Array;
  tags: string[];
  /** log(1) - log(total): the weight of a single character that is not a word. */
  logpOne: number;
  // HMM
  nStates: number;
  /** 'B' | 'M' | 'E' | 'S' of each state. */
  statePos: string[];
  stateTag: string[];
  start: Float64Array;
  /** trans[i * n + j], -Infinity when jieba's trans_p[i] has no j. */
  trans: Float64Array;
  /** The states trans_p[i] lists (its keys). */
  next: Int32Array[];
  /** Per character (code unit): its raw emit / char_state_tab line, parsed on first use. */
  charLines: Map<number, string>;
  emitRows: Map<number, Float64Array>;
  charStates: Map<number, Int32Array | null>;
  /** The emission row of a character no table knows: MIN_FLOAT everywhere. */
  emitNone: Float64Array;
  allStates: Int32Array;
}

let model: Model | undefined;

function load(): Model {
  const text = readG2PText(DATA_FILE);
  let pos = 0;
  const line = (): string => {
    const end = text.indexOf('\n', pos);
    const s = text.slice(pos, end);
    pos = end + 1;
    return s;
  };
  const head = line().split(' ');
  if (head[0] !== 'jieba-posseg' || head[1] !== '0.42.1') throw new Error(`${DATA_FILE}: not a jieba 0.42.1 posseg data file`);
  const logTotal = parseFloat(line());
  const logOf = new Map<number, number>();
  for (const kv of line().split(' ')) {
    const c = kv.indexOf(':');
    logOf.set(parseInt(kv.slice(0, c), 10), parseFloat(kv.slice(c + 1)));
  }
  const tags = line().split(' ');
  const stateNames = line().split(' ');
  const n = stateNames.length;
  const start = Float64Array.from(line().split(' '), parseFloat);
  const trans = new Float64Array(n * n).fill(-Infinity);
  const nextLists: number[][] = stateNames.map(() => []);
  for (const t of line().split(' ')) {
    const [i, j, p] = t.split(',');
    trans[+i! * n + +j!] = parseFloat(p!);
    nextLists[+i!]!.push(+j!);
  }
  const charLines = new Map<number, string>();
  const nChars = parseInt(line().slice(2), 10);
  for (let k = 0; k < nChars; k++) {
    const l = line();
    const tab = l.indexOf('\t');
    charLines.set(parseInt(l.slice(0, tab), 16), l.slice(tab + 1));
  }
  const nWords = parseInt(line().slice(2), 10);
  const index = new Map<string, number>();
  const freq = new Int32Array(nWords + 1);
  const logp = new Float64Array(nWords + 1);
  const tag = new Int16Array(nWords + 1).fill(-1);
  const logpOne = logOf.get(1)! - logTotal;
  logp[0] = logpOne;
  let prev = '';
  for (let w = 1; w <= nWords; w++) {
    const t1 = text.indexOf('\t', pos);
    const t2 = text.indexOf('\t', t1 + 1);
    const t3 = text.indexOf('\t', t2 + 1);
    const end = text.indexOf('\n', t3 + 1);
    const shared = parseInt(text.slice(pos, t1), 10);
    const word = prev.slice(0, shared) + text.slice(t1 + 1, t2);
    const f = parseInt(text.slice(t2 + 1, t3), 10);
    freq[w] = f;
    logp[w] = (f ? logOf.get(f)! : logOf.get(1)!) - logTotal;
    tag[w] = parseInt(text.slice(t3 + 1, end), 10);
    index.set(word, w);
    pos = end + 1;
    prev = word;
  }
  // gen_pfdict: every prefix of a word that is not itself a word gets frequency 0.
  for (const word of [...index.keys()]) {
    for (let k = 1; k < word.length; k++) {
      const frag = word.slice(0, k);
      if (!index.has(frag)) index.set(frag, 0);
    }
  }
  const allStates = new Int32Array(n);
  for (let i = 0; i < n; i++) allStates[i] = i;
  return {
    index, freq, logp, tag, tags, logpOne,
    nStates: n,
    statePos: stateNames.map((s) => s[0]!),
    stateTag: stateNames.map((s) => s.slice(1)),
    start, trans,
    next: nextLists.map((l) => Int32Array.from(l)),
    charLines, emitRows: new Map(), charStates: new Map(),
    emitNone: new Float64Array(n).fill(MIN_FLOAT),
    allStates,
  };
}

function getModel(): Model {
  return (model ??= load());
}

/** Loads the data now (it is otherwise loaded on the first call). */
export function preloadJieba(): void {
  getModel();
}

function parseChar(m: Model, code: number): void {
  const l = m.charLines.get(code);
  if (l === undefined) {
    m.emitRows.set(code, m.emitNone);
    m.charStates.set(code, null);
    return;
  }
  const tab = l.indexOf('\t');
  const row = new Float64Array(m.nStates).fill(MIN_FLOAT);
  const em = l.slice(0, tab);
  if (em) {
    for (const kv of em.split(' ')) {
      const c = kv.indexOf(':');
      row[parseInt(kv.slice(0, c), 10)] = parseFloat(kv.slice(c + 1));
    }
  }
  const cs = l.slice(tab + 1);
  m.emitRows.set(code, row);
  m.charStates.set(code, cs ? Int32Array.from(cs.split(' '), (s) => parseInt(s, 10)) : null);
}

function emitRow(m: Model, code: number): Float64Array {
  let r = m.emitRows.get(code);
  if (!r) {
    parseChar(m, code);
    r = m.emitRows.get(code)!;
  }
  return r;
}

function charStates(m: Model, code: number): Int32Array | null {
  if (!m.emitRows.has(code)) parseChar(m, code);
  return m.charStates.get(code)!;
}

/** posseg/viterbi.py. `obs` holds only BMP characters (a run of U+4E00–U+9FD5). Returns the state of each char. */
function viterbi(m: Model, obs: string): Int32Array {
  const n = m.nStates;
  const T = obs.length;
  const V = new Float64Array(T * n);
  const back = new Int32Array(T * n);
  // The states present at each t (the keys of V[t] / mem_path[t]).
  let cur: Int32Array = charStates(m, obs.charCodeAt(0)) ?? m.allStates;
  const layers: Int32Array[] = [];
  {
    const e = emitRow(m, obs.charCodeAt(0));
    for (const y of cur) V[y] = m.start[y]! + e[y]!;
    layers.push(cur);
  }
  const mark = new Uint8Array(n);
  const inObs = new Uint8Array(n);
  const prevBuf = new Int32Array(n);
  for (let t = 1; t < T; t++) {
    let np = 0;
    for (const x of cur) if (m.next[x]!.length > 0) prevBuf[np++] = x;
    mark.fill(0);
    let nExpect = 0;
    for (let a = 0; a < np; a++) {
      for (const y of m.next[prevBuf[a]!]!) {
        if (!mark[y]) {
          mark[y] = 1;
          nExpect++;
        }
      }
    }
    const code = obs.charCodeAt(t);
    const cs = charStates(m, code) ?? m.allStates;
    const picked: number[] = [];
    for (const y of cs) if (mark[y] && !inObs[y]) { inObs[y] = 1; picked.push(y); }
    for (const y of picked) inObs[y] = 0;
    let obsStates: Int32Array;
    if (picked.length > 0) obsStates = Int32Array.from(picked);
    else if (nExpect > 0) {
      obsStates = new Int32Array(nExpect);
      let k = 0;
      for (let y = 0; y < n; y++) if (mark[y]) obsStates[k++] = y;
    } else obsStates = m.allStates;
    if (np === 0) throw new Error('max() arg is an empty sequence'); // what jieba's viterbi raises here
    const e = emitRow(m, code);
    const base = (t - 1) * n;
    const out = t * n;
    for (const y of obsStates) {
      const em = e[y]!;
      let best = -Infinity;
      let bestState = -1;
      for (let a = 0; a < np; a++) {
        const y0 = prevBuf[a]!;
        const p = V[base + y0]! + m.trans[y0 * n + y]! + em;
        if (bestState < 0 || p > best || (p === best && y0 > bestState)) {
          best = p;
          bestState = y0;
        }
      }
      V[out + y] = best;
      back[out + y] = bestState;
    }
    cur = obsStates;
    layers.push(cur);
  }
  let best = -Infinity;
  let state = -1;
  const lastBase = (T - 1) * n;
  for (const y of cur) {
    const p = V[lastBase + y]!;
    if (state < 0 || p > best || (p === best && y > state)) {
      best = p;
      state = y;
    }
  }
  const route = new Int32Array(T);
  for (let i = T - 1; i >= 0; i--) {
    route[i] = state;
    state = back[i * n + state]!;
  }
  return route;
}

/** POSTokenizer.__cut: HMM over a run of Han characters. */
function cutHMM(m: Model, sentence: string, out: PosPair[]): void {
  const route = viterbi(m, sentence);
  let begin = 0;
  let nexti = 0;
  const N = sentence.length;
  for (let i = 0; i < N; i++) {
    const st = route[i]!;
    const p = m.statePos[st];
    if (p === 'B') begin = i;
    else if (p === 'E') {
      out.push({ word: sentence.slice(begin, i + 1), flag: m.stateTag[st]! });
      nexti = i + 1;
    } else if (p === 'S') {
      out.push({ word: sentence[i]!, flag: m.stateTag[st]! });
      nexti = i + 1;
    }
  }
  if (nexti < N) out.push({ word: sentence.slice(nexti), flag: m.stateTag[route[nexti]!]! });
}

const isHanDetail = (c: number): boolean => c >= 0x4e00 && c <= 0x9fd5;
const isDigitOrDot = (c: number): boolean => (c >= 0x30 && c <= 0x39) || c === 0x2e;
const isAlnum = (c: number): boolean => (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);

/** POSTokenizer.__cut_detail: Han runs through the HMM; the rest split by re_skip_detail. */
function cutDetail(m: Model, s: string, out: PosPair[]): void {
  const N = s.length;
  let i = 0;
  while (i < N) {
    let j = i;
    if (isHanDetail(s.charCodeAt(i))) {
      while (j < N && isHanDetail(s.charCodeAt(j))) j++;
      cutHMM(m, s.slice(i, j), out);
    } else {
      while (j < N && !isHanDetail(s.charCodeAt(j))) j++;
      skipDetail(s.slice(i, j), out);
    }
    i = j;
  }
}

/** re_skip_detail.split(blk) = "([\.0-9]+|[a-zA-Z0-9]+)", then m / eng / x by re_num, re_eng on each non-empty part. */
function skipDetail(blk: string, out: PosPair[]): void {
  const N = blk.length;
  let gap = 0;
  let i = 0;
  const emit = (x: string): void => {
    const c = x.charCodeAt(0);
    out.push({ word: x, flag: isDigitOrDot(c) ? 'm' : isAlnum(c) ? 'eng' : 'x' });
  };
  while (i < N) {
    const c = blk.charCodeAt(i);
    let j = i;
    if (isDigitOrDot(c)) while (j < N && isDigitOrDot(blk.charCodeAt(j))) j++;
    else if (isAlnum(c)) while (j < N && isAlnum(blk.charCodeAt(j))) j++;
    if (j === i) {
      i++;
      continue;
    }
    if (gap < i) emit(blk.slice(gap, i));
    emit(blk.slice(i, j));
    gap = i = j;
  }
  if (gap < N) emit(blk.slice(gap));
}

function tagOf(m: Model, word: string): string {
  const w = m.index.get(word);
  if (w === undefined || w === 0) return 'x';
  const t = m.tag[w]!;
  return t < 0 ? 'x' : m.tags[t]!;
}

/** POSTokenizer.__cut_DAG over one re_han_internal block (BMP characters only). */
function cutDAG(m: Model, s: string, out: PosPair[]): void {
  const N = s.length;
  const { index, freq, logp } = m;
  // calc(): route[idx] = max((log(FREQ.get(frag) or 1) - logtotal + route[x+1][0], x) for x in DAG[idx]).
  const routeP = new Float64Array(N + 1);
  const routeX = new Int32Array(N + 1);
  for (let k = N - 1; k >= 0; k--) {
    let best = 0;
    let bestX = -1;
    let i = k;
    let frag = s[k]!;
    let w = index.get(frag);
    while (i < N && w !== undefined) {
      if (freq[w]) {
        const p = logp[w]! + routeP[i + 1]!;
        if (bestX < 0 || p >= best) {
          best = p;
          bestX = i;
        }
      }
      i++;
      if (i >= N) break;
      frag = s.slice(k, i + 1);
      w = index.get(frag);
    }
    if (bestX < 0) {
      best = m.logpOne + routeP[k + 1]!;
      bestX = k;
    }
    routeP[k] = best;
    routeX[k] = bestX;
  }
  let x = 0;
  let bufStart = -1;
  const flush = (end: number): void => {
    const buf = s.slice(bufStart, end);
    if (buf.length === 1) out.push({ word: buf, flag: tagOf(m, buf) });
    else {
      const w = index.get(buf);
      if (w === undefined || !freq[w]) cutDetail(m, buf, out);
      else for (const elem of buf) out.push({ word: elem, flag: tagOf(m, elem) });
    }
    bufStart = -1;
  };
  while (x < N) {
    const y = routeX[x]! + 1;
    if (y - x === 1) {
      if (bufStart < 0) bufStart = x;
    } else {
      if (bufStart >= 0) flush(x);
      const word = s.slice(x, y);
      out.push({ word, flag: tagOf(m, word) });
    }
    x = y;
  }
  if (bufStart >= 0) flush(N);
}

/** re_han_internal = [\u4E00-\u9FD5a-zA-Z0-9+#&\._] */
function isHanInternal(c: number): boolean {
  return (c >= 0x4e00 && c <= 0x9fd5) || isAlnum(c) || c === 0x2b || c === 0x23 || c === 0x26 || c === 0x2e || c === 0x5f;
}

/** Python's `\s` on str patterns (Py_UNICODE_ISSPACE). */
function isPySpace(c: number): boolean {
  if (c <= 0x20) return (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x20);
  if (c < 0x85) return false;
  return c === 0x85 || c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 ||
    c === 0x202f || c === 0x205f || c === 0x3000;
}

/** The non-han part of __cut_internal: re_skip_internal.split(blk), whitespace → x, other characters one by one. */
function cutSkip(blk: string, out: PosPair[]): void {
  const N = blk.length;
  let i = 0;
  while (i < N) {
    const c = blk.charCodeAt(i);
    if (c === 0x0d && blk.charCodeAt(i + 1) === 0x0a) {
      out.push({ word: '\r\n', flag: 'x' });
      i += 2;
    } else if (isPySpace(c)) {
      out.push({ word: blk[i]!, flag: 'x' });
      i++;
    } else {
      // A run of non-whitespace x: `for xx in x` by code point; re_num.match(xx) → m, re_eng.match(x) → eng.
      let j = i;
      while (j < N && !isPySpace(blk.charCodeAt(j))) j++;
      const engChunk = isAlnum(c);
      for (let k = i; k < j;) {
        const cp = blk.codePointAt(k)!;
        const len = cp > 0xffff ? 2 : 1;
        out.push({ word: blk.slice(k, k + len), flag: isDigitOrDot(cp) ? 'm' : engChunk ? 'eng' : 'x' });
        k += len;
      }
      i = j;
    }
  }
}

/** `jieba.posseg.lcut(sentence)` (HMM on): the words and their POS flags. */
export function posseg(sentence: string): PosPair[] {
  const out: PosPair[] = [];
  if (!sentence) return out;
  const m = getModel();
  const N = sentence.length;
  let i = 0;
  while (i < N) {
    let j = i;
    if (isHanInternal(sentence.charCodeAt(i))) {
      while (j < N && isHanInternal(sentence.charCodeAt(j))) j++;
      cutDAG(m, sentence.slice(i, j), out);
    } else {
      while (j < N && !isHanInternal(sentence.charCodeAt(j))) j++;
      cutSkip(sentence.slice(i, j), out);
    }
    i = j;
  }
  return out;
}
