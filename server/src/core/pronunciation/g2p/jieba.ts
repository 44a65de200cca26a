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
 * python3-jieba by scripts/g2p-data/jieba.py into data/jieba.bin.gz and loaded once, lazily.
 * See docs/g2p-jieba-choice.md for why a port and not a jieba package from npm.
 */
import { readG2PData } from './data';

export interface PosPair {
  word: string;
  flag: string;
}

const DATA_FILE = 'jieba.bin.gz';
const MIN_FLOAT = -3.14e100;
const NO_PAIR = 0xffffffff;

interface Model {
  // The dictionary: dict.txt's words sorted by UTF-16 code unit (= code point: all BMP), in columns. jieba's FREQ holds
  // every word (frequency > 0) and every prefix of one (frequency 0): a string is in FREQ when some word starts with it,
  // found by narrowing the sorted range one character at a time.
  wordOff: Int32Array;
  wordLen: Uint8Array;
  units: Uint16Array;
  /** Python's log(freq) - log(total) of each word. */
  logp: Float64Array;
  wordTag: Uint8Array;
  /** Words starting with code unit c: [first[c], first[c + 1]). */
  first: Int32Array;
  /** Words starting with two given code units: an open-addressing hash (key c0 << 16 | c1) to [pairLo, pairLo + pairCount). */
  pairKey: Uint32Array;
  pairLo: Int32Array;
  pairCount: Uint16Array;
  pairShift: number;
  tags: string[];
  /** log(1) - log(total): the weight of a single character that is not a word. */
  logpOne: number;
  // The HMM (posseg's prob_start, prob_trans, prob_emit, char_state_tab).
  nStates: number;
  /** 'B' | 'M' | 'E' | 'S' of each state. */
  statePos: string[];
  stateTag: string[];
  start: Float64Array;
  /** transT[j * n + i] = trans_p[i][j], -Infinity where trans_p[i] has no j. */
  transT: Float64Array;
  /** The states trans_p[i] lists (its keys), and the states whose trans_p lists j (preds[j]). */
  next: Int32Array[];
  preds: Int32Array[];
  /** 1 for the states with a transition to a state that more than 8 states lead to (E and S states). */
  toBig: Uint8Array;
  allStates: Int32Array;
  /** Per code unit: index of the character in the HMM tables, -1 when they do not know it. */
  charIndex: Int32Array;
  emitFrom: Int32Array;
  emitState: Uint8Array;
  emitVal: Uint16Array;
  values: Float64Array;
  cstFrom: Int32Array;
  cstState: Uint8Array;
  /** Emission rows (MIN_FLOAT where emit_p has no entry) and char_state_tab entries, built on first use. */
  emitRows: Map<number, Float64Array>;
  charStates: Map<number, Int32Array>;
  emitNone: Float64Array;
  /** Scratch buffers reused across calls. */
  work: {
    vA: Float64Array;
    vB: Float64Array;
    back: Uint8Array;
    prevMark: Int32Array;
    expMark: Int32Array;
    obsMark: Int32Array;
    gen: number;
    prevBuf: Int32Array;
    bigBuf: Int32Array;
    obsList: Int32Array;
    layerA: Int32Array;
    layerB: Int32Array;
    routeP: Float64Array;
    routeX: Int32Array;
    routeW: Int32Array;
  };
}

let model: Model | undefined;

interface Header {
  version: string;
  logTotal: number;
  freqs: Array<[number, number]>;
  tags: string[];
  states: string[];
  start: number[];
  trans: Array<[number, number, number]>;
  words: number;
  chars: number;
  suffixUnits: number;
  emitChars: number;
  emits: number;
  values: number;
  cst: number;
}

function load(): Model {
  const blob = readG2PData(DATA_FILE);
  if (blob.toString('latin1', 0, 8) !== 'JIEBAPOS') throw new Error(`${DATA_FILE}: not a jieba posseg data file`);
  const hLen = blob.readUInt32LE(8);
  const h = JSON.parse(blob.toString('utf8', 12, 12 + hLen)) as Header;
  if (h.version !== '0.42.1') throw new Error(`${DATA_FILE}: jieba ${h.version}, expected 0.42.1`);
  let pos = 12 + hLen;
  // Copies each column out of the blob (its byteOffset need not be aligned for a typed-array view).
  const take = <T>(Ctor: { new (b: ArrayBuffer): T; BYTES_PER_ELEMENT: number }, count: number): T => {
    pos = (pos + 7) & ~7;
    const bytes = count * Ctor.BYTES_PER_ELEMENT;
    const start = blob.byteOffset + pos;
    pos += bytes;
    if (pos > blob.length) throw new Error(`${DATA_FILE}: truncated`);
    return new Ctor(blob.buffer.slice(start, start + bytes) as ArrayBuffer);
  };
  const nWords = h.words;
  const shared = take(Uint8Array, nWords);
  const rest = take(Uint8Array, nWords);
  const suffix = take(Uint16Array, h.suffixUnits);
  const freqIdx = take(Uint16Array, nWords);
  const wordTag = take(Uint8Array, nWords);
  const codes = take(Uint16Array, h.emitChars);
  const emitCount = take(Uint16Array, h.emitChars);
  const cstCount = take(Uint8Array, h.emitChars);
  const emitState = take(Uint8Array, h.emits);
  const emitVal = take(Uint16Array, h.emits);
  const values = take(Float64Array, h.values);
  const cstState = take(Uint8Array, h.cst);

  const logOfIdx = Float64Array.from(h.freqs, ([, l]) => l - h.logTotal);
  const one = h.freqs.find(([f]) => f === 1)!;
  const wordOff = new Int32Array(nWords + 1);
  const logp = new Float64Array(nWords);
  const first = new Int32Array(0x10001);
  const wordLen = new Uint8Array(nWords);
  const units = new Uint16Array(h.chars);
  for (let w = 0, off = 0, prev = 0, sx = 0; w < nWords; w++) {
    // front-coded: the first shared[w] units are the previous word's, then rest[w] new ones
    const k = shared[w]!;
    const r = rest[w]!;
    for (let j = 0; j < k; j++) units[off + j] = units[prev + j]!;
    for (let j = 0; j < r; j++) units[off + k + j] = suffix[sx++]!;
    wordOff[w] = off;
    wordLen[w] = k + r;
    logp[w] = logOfIdx[freqIdx[w]!]!;
    first[units[off]! + 1]!++;
    prev = off;
    off += k + r;
    wordOff[w + 1] = off;
  }
  for (let c = 1; c <= 0x10000; c++) first[c]! += first[c - 1]!;
  const PAIR_BITS = 19;
  const pairShift = 32 - PAIR_BITS;
  const pairKey = new Uint32Array(1 << PAIR_BITS).fill(NO_PAIR);
  const pairLo = new Int32Array(1 << PAIR_BITS);
  const pairCount = new Uint16Array(1 << PAIR_BITS);
  const mask = (1 << PAIR_BITS) - 1;
  for (let w = 0, last = NO_PAIR, slot = -1; w < nWords; w++) {
    if (wordLen[w]! < 2) continue;
    const key = ((units[wordOff[w]!]! << 16) | units[wordOff[w]! + 1]!) >>> 0;
    if (key !== last) {
      slot = Math.imul(key, 0x9e3779b1) >>> pairShift;
      while (pairKey[slot] !== NO_PAIR) slot = (slot + 1) & mask;
      pairKey[slot] = key;
      pairLo[slot] = w;
      last = key;
    }
    if (pairCount[slot] === 0xffff) throw new Error(`${DATA_FILE}: too many words share a two-character prefix`);
    pairCount[slot]!++;
  }

  const n = h.states.length;
  const transT = new Float64Array(n * n).fill(-Infinity);
  const nextLists: number[][] = h.states.map(() => []);
  const predLists: number[][] = h.states.map(() => []);
  for (const [i, j, p] of h.trans) {
    transT[j * n + i] = p;
    nextLists[i]!.push(j);
    predLists[j]!.push(i);
  }
  const charIndex = new Int32Array(0x10000).fill(-1);
  const emitFrom = new Int32Array(h.emitChars + 1);
  const cstFrom = new Int32Array(h.emitChars + 1);
  for (let k = 0; k < h.emitChars; k++) {
    charIndex[codes[k]!] = k;
    emitFrom[k + 1] = emitFrom[k]! + emitCount[k]!;
    cstFrom[k + 1] = cstFrom[k]! + cstCount[k]!;
  }
  if (n > 256) throw new Error(`${DATA_FILE}: ${n} HMM states; the port keeps state numbers in bytes`);
  const allStates = new Int32Array(n);
  for (let i = 0; i < n; i++) allStates[i] = i;
  return {
    wordOff,
    wordLen,
    units,
    logp,
    wordTag,
    first,
    pairKey,
    pairLo,
    pairCount,
    pairShift,
    tags: h.tags,
    logpOne: one[1] - h.logTotal,
    nStates: n,
    statePos: h.states.map((s) => s[0]!),
    stateTag: h.states.map((s) => s.slice(1)),
    start: Float64Array.from(h.start),
    transT,
    next: nextLists.map((l) => Int32Array.from(l)),
    preds: predLists.map((l) => Int32Array.from(l)),
    toBig: Uint8Array.from(nextLists, (l) => (l.some((j) => predLists[j]!.length > 8) ? 1 : 0)),
    allStates,
    charIndex,
    emitFrom,
    emitState,
    emitVal,
    values,
    cstFrom,
    cstState,
    emitRows: new Map(),
    charStates: new Map(),
    emitNone: new Float64Array(n).fill(MIN_FLOAT),
    work: {
      vA: new Float64Array(n),
      vB: new Float64Array(n),
      back: new Uint8Array(0),
      gen: 0,
      prevMark: new Int32Array(n),
      expMark: new Int32Array(n),
      obsMark: new Int32Array(n),
      prevBuf: new Int32Array(n),
      bigBuf: new Int32Array(n),
      obsList: new Int32Array(n),
      layerA: new Int32Array(n),
      layerB: new Int32Array(n),
      routeP: new Float64Array(0),
      routeX: new Int32Array(0),
      routeW: new Int32Array(0),
    },
  };
}

function getModel(): Model {
  return (model ??= load());
}

/** Whether this thread has loaded the data (a call that needs it would load it first). */
export function jiebaLoaded(): boolean {
  return model !== undefined;
}

/** Loads the data now (it is otherwise loaded on the first call). */
export function preloadJieba(): void {
  getModel();
}

// The range of words starting with a given prefix, narrowed one code unit at a time (results in lo / hi).
let lo = 0;
let hi = 0;

/** Narrows [lo, hi) (the words starting with a prefix of length d) to those whose unit d is c. */
function narrow(m: Model, d: number, c: number): void {
  const { wordOff, wordLen, units } = m;
  let a = lo;
  if (a < hi && wordLen[a] === d) a++; // the prefix itself, sorted first
  // lower bound of c, then upper bound, on units[wordOff[w] + d]
  let l = a;
  let r = hi;
  while (l < r) {
    const mid = (l + r) >>> 1;
    if (units[wordOff[mid]! + d]! < c) l = mid + 1;
    else r = mid;
  }
  const start = l;
  r = hi;
  while (l < r) {
    const mid = (l + r) >>> 1;
    if (units[wordOff[mid]! + d]! <= c) l = mid + 1;
    else r = mid;
  }
  lo = start;
  hi = l;
}

/** Sets [lo, hi) to the words starting with c0 c1 (what narrow(m, 1, c1) gives after first[c0]), by the pair hash. */
function pairRange(m: Model, c0: number, c1: number): void {
  const key = ((c0 << 16) | c1) >>> 0;
  const keys = m.pairKey;
  const mask = keys.length - 1;
  let slot = Math.imul(key, 0x9e3779b1) >>> m.pairShift;
  for (;;) {
    const k = keys[slot]!;
    if (k === key) {
      lo = m.pairLo[slot]!;
      hi = lo + m.pairCount[slot]!;
      return;
    }
    if (k === NO_PAIR) {
      lo = hi = 0;
      return;
    }
    slot = (slot + 1) & mask;
  }
}

/** Index of a dict word (jieba: FREQ.get(word) is truthy), or -1. */
function wordIndex(m: Model, word: string): number {
  const c0 = word.charCodeAt(0);
  lo = m.first[c0]!;
  hi = m.first[c0 + 1]!;
  for (let d = 1; d < word.length && lo < hi; d++) narrow(m, d, word.charCodeAt(d));
  return lo < hi && m.wordLen[lo] === word.length ? lo : -1;
}

function tagOfIndex(m: Model, w: number): string {
  return w < 0 ? 'x' : m.tags[m.wordTag[w]!]!;
}

function parseChar(m: Model, code: number): void {
  const k = m.charIndex[code]!;
  if (k < 0) {
    m.emitRows.set(code, m.emitNone);
    m.charStates.set(code, m.allStates);
    return;
  }
  const row = new Float64Array(m.nStates).fill(MIN_FLOAT);
  for (let e = m.emitFrom[k]!; e < m.emitFrom[k + 1]!; e++) row[m.emitState[e]!] = m.values[m.emitVal[e]!]!;
  m.emitRows.set(code, row);
  // states.get(char, all_states); the tables have no empty entry.
  const a = m.cstFrom[k]!;
  const b = m.cstFrom[k + 1]!;
  m.charStates.set(code, b > a ? Int32Array.from(m.cstState.subarray(a, b)) : m.allStates);
}

function emitRow(m: Model, code: number): Float64Array {
  let r = m.emitRows.get(code);
  if (!r) {
    parseChar(m, code);
    r = m.emitRows.get(code)!;
  }
  return r;
}

function charStates(m: Model, code: number): Int32Array {
  let r = m.charStates.get(code);
  if (!r) {
    parseChar(m, code);
    r = m.charStates.get(code)!;
  }
  return r;
}

/**
 * One Viterbi step for the candidate states `ys` of time t: for each y reachable from prev_states (the states of t-1
 * with transitions, marked with `gen` in prevMark), V[out + y] and back[out + y] get the max over the y0 in
 * prev_states of (V[base + y0] + trans[y0][y] + emit[y], y0), and y is appended to `into`; unreachable y are left
 * out (jieba's `& prev_states_expect_next`). Returns the new length of `into`.
 */
function relax(
  m: Model,
  ys: Int32Array,
  gen: number,
  bigBuf: Int32Array,
  nBig: number,
  Vp: Float64Array,
  Vc: Float64Array,
  back: Uint8Array,
  out: number,
  e: Float64Array,
  into: Int32Array,
  k: number,
): number {
  const n = m.nStates;
  const transT = m.transT;
  const prevMark = m.work.prevMark;
  const seen = m.work.obsMark;
  for (let b = 0; b < ys.length; b++) {
    const y = ys[b]!;
    if (seen[y] === gen) continue; // a set in jieba
    seen[y] = gen;
    const em = e[y]!;
    const row = y * n;
    let best = -Infinity;
    let bestState = -1;
    const preds = m.preds[y]!;
    if (preds.length <= 8) {
      // few states lead to y (M and E states: only the B and M of their tag)
      for (let a = 0; a < preds.length; a++) {
        const y0 = preds[a]!;
        if (prevMark[y0] !== gen) continue;
        const p = Vp[y0]! + transT[row + y0]! + em;
        if (bestState < 0 || p > best || (p === best && y0 > bestState)) {
          best = p;
          bestState = y0;
        }
      }
    } else {
      // many lead to y (B and S states): they are all in bigBuf
      for (let a = 0; a < nBig; a++) {
        const y0 = bigBuf[a]!;
        const tr = transT[row + y0]!;
        if (tr === -Infinity) continue;
        const p = Vp[y0]! + tr + em;
        if (bestState < 0 || p > best || (p === best && y0 > bestState)) {
          best = p;
          bestState = y0;
        }
      }
    }
    if (bestState < 0) continue;
    Vc[y] = best;
    back[out + y] = bestState;
    into[k++] = y;
  }
  return k;
}

/** posseg/viterbi.py. `obs` holds only BMP characters (a run of U+4E00–U+9FD5). Returns the state of each char. */
function viterbi(m: Model, obs: string): Int32Array {
  const n = m.nStates;
  const T = obs.length;
  const w = m.work;
  // V: only the last two layers; the back pointers (states fit a byte) of every layer, kept for reuse up to 4 MB.
  let back = w.back;
  if (back.length < T * n) {
    back = new Uint8Array(T * n);
    if (T * n <= 1 << 22) w.back = back;
  }
  const { prevMark, expMark, prevBuf, bigBuf, obsList } = w;
  let Vp = w.vA;
  let Vc = w.vB;
  let cur = w.layerA;
  let nxt = w.layerB;
  // V[0]: the states of the first character (char_state_tab, or all states).
  let nCur = 0;
  {
    const code = obs.charCodeAt(0);
    const e = emitRow(m, code);
    for (const y of charStates(m, code)) {
      Vp[y] = m.start[y]! + e[y]!;
      cur[nCur++] = y;
    }
  }
  for (let t = 1; t < T; t++) {
    const gen = ++w.gen;
    // prev_states: the states of t-1 that have transitions (those with one to a B or S state also in bigBuf)
    let np = 0;
    let nBig = 0;
    for (let a = 0; a < nCur; a++) {
      const x = cur[a]!;
      if (m.next[x]!.length > 0) {
        prevBuf[np++] = x;
        prevMark[x] = gen;
        if (m.toBig[x]) bigBuf[nBig++] = x;
      }
    }
    if (np === 0) throw new Error('jieba posseg viterbi: max() arg is an empty sequence'); // as jieba raises here
    const code = obs.charCodeAt(t);
    const e = emitRow(m, code);
    const out = t * n;
    // obs_states = char_state_tab[char] & (the states some prev state has a transition to); for each,
    // V[t][y] = max((V[t-1][y0] + trans_p[y0].get(y, -inf) + emit, y0) for y0 in prev_states), ties to the larger y0.
    // A y is reachable exactly when some y0 in prev_states has a (finite) transition to it, and then only such y0
    // can win: so one pass over the candidates both tests reachability and takes the max.
    let nNxt = relax(m, charStates(m, code), gen, bigBuf, nBig, Vp, Vc, back, out, e, nxt, 0);
    if (nNxt === 0) {
      // none of the character's states is reachable: obs_states = all the reachable states
      for (let a = 0; a < np; a++) for (const y of m.next[prevBuf[a]!]!) expMark[y] = gen;
      let k = 0;
      for (let y = 0; y < n; y++) if (expMark[y] === gen) obsList[k++] = y;
      nNxt = relax(m, obsList.subarray(0, k), gen, bigBuf, nBig, Vp, Vc, back, out, e, nxt, 0);
    }
    const tmp = cur;
    cur = nxt;
    nxt = tmp;
    nCur = nNxt;
    const tv = Vp;
    Vp = Vc;
    Vc = tv;
  }
  let best = -Infinity;
  let state = -1;
  for (let a = 0; a < nCur; a++) {
    const y = cur[a]!;
    const p = Vp[y]!;
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

/** POSTokenizer.__cut_DAG over one re_han_internal block (BMP characters only). */
function cutDAG(m: Model, s: string, out: PosPair[]): void {
  const N = s.length;
  const { logp, wordLen, first } = m;
  // get_DAG + calc(): route[idx] = max((log(FREQ.get(frag) or 1) - logtotal + route[x+1][0], x) for x in DAG[idx]),
  // DAG[idx] = the ends x of the words s[idx..x] (or [idx] when there is none); ties to the larger x.
  const w = m.work;
  if (w.routeP.length < N + 1) {
    w.routeP = new Float64Array(2 * N + 2);
    w.routeX = new Int32Array(2 * N + 2);
    w.routeW = new Int32Array(2 * N + 2);
  }
  const { routeP, routeX, routeW } = w;
  routeP[N] = 0;
  for (let k = N - 1; k >= 0; k--) {
    let best = 0;
    let bestX = -1;
    let bestW = -1;
    const c0 = s.charCodeAt(k);
    lo = first[c0]!;
    hi = first[c0 + 1]!;
    let i = k;
    // while i < N and frag in FREQ: a word if the first word of the range is frag itself
    while (lo < hi) {
      if (wordLen[lo] === i - k + 1) {
        const p = logp[lo]! + routeP[i + 1]!;
        if (bestX < 0 || p >= best) {
          best = p;
          bestX = i;
          bestW = lo;
        }
      }
      i++;
      if (i >= N) break;
      if (i - k === 1) pairRange(m, c0, s.charCodeAt(i));
      else narrow(m, i - k, s.charCodeAt(i));
    }
    if (bestX < 0) {
      best = m.logpOne + routeP[k + 1]!;
      bestX = k;
    }
    routeP[k] = best;
    routeX[k] = bestX;
    routeW[k] = bestW;
  }
  let x = 0;
  let bufStart = -1;
  const flush = (end: number): void => {
    if (end - bufStart === 1) out.push({ word: s[bufStart]!, flag: tagOfIndex(m, routeW[bufStart]!) });
    else {
      const buf = s.slice(bufStart, end);
      if (wordIndex(m, buf) < 0) cutDetail(m, buf, out);
      else for (let k = bufStart; k < end; k++) out.push({ word: s[k]!, flag: tagOfIndex(m, routeW[k]!) });
    }
    bufStart = -1;
  };
  while (x < N) {
    const y = routeX[x]! + 1;
    if (y - x === 1) {
      if (bufStart < 0) bufStart = x;
    } else {
      if (bufStart >= 0) flush(x);
      out.push({ word: s.slice(x, y), flag: tagOfIndex(m, routeW[x]!) });
    }
    x = y;
  }
  if (bufStart >= 0) flush(N);
}

/** re_han_internal = [\u4E00-\u9FD5a-zA-Z0-9+#&\._] */
function isHanInternal(c: number): boolean {
  return (c >= 0x4e00 && c <= 0x9fd5) || isAlnum(c) || c === 0x2b || c === 0x23 || c === 0x26 || c === 0x2e || c === 0x5f;
}

/** Python's `\s` on str patterns (Py_UNICODE_ISSPACE), = str.isspace(). */
export function isPySpace(c: number): boolean {
  if (c <= 0x20) return (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x20);
  if (c < 0x85) return false;
  return (
    c === 0x85 ||
    c === 0xa0 ||
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000
  );
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
