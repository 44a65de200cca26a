import { readFileSync } from 'node:fs';
import { pinyin, addDict, removeDict, polyphonic, convert } from 'pinyin-pro';
const complete: Record<string, [string, number]> = require('@pinyin-pro/data/complete.json');
const sents = readFileSync('/work/shared/data/cpp/dev.sent', 'utf8').split('\n').filter(Boolean);
const lbs = readFileSync('/work/shared/data/cpp/dev.lb', 'utf8').split('\n').filter(Boolean);
const norm = (p: string) => p.replace(/ü/g, 'v').replace(/0$/, '5');
const sym2num = (p: string) => norm(convert(p, { format: 'symbolToNum' }) as string);
function pp(text: string): (string|null)[] {
  const all = pinyin(text, { type: 'all', toneType: 'num', v: true }) as any[];
  const out: (string|null)[] = [];
  for (const a of all) { for (let k = 0; k < a.origin.length; k++) out.push(a.isZh ? norm(a.pinyin) : null); }
  return out;
}
const t0 = Date.now();
const lex = new Map<string, string[]>(); let maxLen = 0;
for (const [w, [py]] of Object.entries(complete)) {
  if (w.length < 2 || w.length !== [...w].length) continue;
  const pys = py.split(' '); if (pys.length !== w.length) continue;
  const def = pinyin(w, { type: 'array' }) as string[];
  if (pys.some((p, i) => p !== def[i])) { lex.set(w, pys.map(sym2num)); maxLen = Math.max(maxLen, w.length); }
}
console.log('lex', lex.size, maxLen, Date.now() - t0);
type Item = { text: string; idx: number; label: string; char: string; pp: string | null; ppc?: string | null };
const items: Item[] = sents.map((s, i) => { const idx = s.indexOf('\u2581'); const text = s.replace(/\u2581/g, ''); return { text, idx, char: text[idx]!, label: lbs[i]!.replace('u:', 'v'), pp: null }; });
for (const it of items) it.pp = pp(it.text)[it.idx]!;
addDict(complete as any, 'complete');
for (const it of items) it.ppc = pp(it.text)[it.idx]!;
removeDict('complete');
console.log('feat time', Date.now() - t0);
function mulberry32(a: number) { return () => { a |= 0; a = a + 0x6D2B79F5 | 0; let t = Math.imul(a ^ a >>> 15, 1 | a); t = t + Math.imul(t ^ t >>> 7, 61 | t) ^ t; return ((t ^ t >>> 14) >>> 0) / 4294967296; }; }
function shuffle<T>(a: T[], r: () => number) { for (let i = a.length - 1; i > 0; i--) { const j = Math.floor(r() * (i + 1)); [a[i], a[j]] = [a[j]!, a[i]!]; } return a; }
const order = shuffle(items.map((_, i) => i), mulberry32(42));
const nHeld = Math.round(items.length * 0.2);
const held = order.slice(0, nHeld).map(i => items[i]!), train = order.slice(nHeld).map(i => items[i]!);
const acc = (f: (it: Item) => string | null | undefined, set = held) => set.filter(it => f(it) === it.label).length / set.length;
console.log('held', held.length, 'pp', acc(it => it.pp), 'ppc', acc(it => it.ppc));

function lexMatches(text: string, idx: number): string[] {
  const out: string[] = [];
  for (let s = Math.max(0, idx - maxLen + 1); s <= idx; s++) for (let e = idx + 1; e <= Math.min(text.length, s + maxLen); e++) {
    if (e - s < 2) continue; const r = lex.get(text.slice(s, e)); if (r) out.push(`${e - s}:${r[idx - s]}`);
  }
  return out;
}
const cands = new Map<string, Set<string>>();
function candsOf(c: string): string[] { let s = cands.get(c); if (!s) { s = new Set((polyphonic(c, { toneType: 'num', v: true, type: 'array' })[0] as string[]).map(norm)); cands.set(c, s); } return [...s]; }
for (const it of train) candsOf(it.char) && cands.get(it.char)!.add(it.label);

const OPT = { usePPC: process.argv.includes('ppc'), useLex: !process.argv.includes('nolex'), ngram: !process.argv.includes('nong') };
function feats(it: Item): { glob: string[]; loc: string[]; y: Record<string, string[]> } {
  const t = it.text, i = it.idx, c = it.char;
  const ch = (k: number) => (k < 0 ? '<' : k >= t.length ? '>' : t[k]!);
  const loc: string[] = [];
  if (OPT.ngram) loc.push('b', 'L1' + ch(i - 1), 'R1' + ch(i + 1), 'L2' + ch(i - 2) + ch(i - 1), 'R2' + ch(i + 1) + ch(i + 2), 'LR' + ch(i - 1) + ch(i + 1),
    'L3' + ch(i - 3) + ch(i - 2) + ch(i - 1), 'R3' + ch(i + 1) + ch(i + 2) + ch(i + 3), 'l2' + ch(i - 2), 'r2' + ch(i + 2), 'l3' + ch(i - 3), 'r3' + ch(i + 3));
  else loc.push('b');
  const y: Record<string, string[]> = {};
  const add = (r: string | null | undefined, f: string) => { if (!r) return; (y[r] ??= []).push(f); };
  add(it.pp, 'pp');
  if (OPT.usePPC) add(it.ppc, 'ppc');
  if (OPT.useLex) { for (const m of lexMatches(t, i)) { const [len, r] = m.split(':'); add(r, 'lex'); add(r, 'lex' + len); } }
  return { glob: [], loc, y };
}
// structured averaged perceptron
const W = new Map<string, number>(), U = new Map<string, number>(); let step = 1;
function score(c: string, f: ReturnType<typeof feats>, y: string) {
  let s = 0; for (const l of f.loc) s += W.get(c + '\u0001' + l + '\u0001' + y) ?? 0;
  for (const g of f.y[y] ?? []) { s += W.get('G\u0001' + g) ?? 0; s += W.get(c + '\u0001G' + g) ?? 0; }
  return s;
}
function featList(c: string, f: ReturnType<typeof feats>, y: string) { const o = f.loc.map(l => c + '\u0001' + l + '\u0001' + y); for (const g of f.y[y] ?? []) { o.push('G\u0001' + g, c + '\u0001G' + g); } return o; }
function upd(k: string, d: number) { W.set(k, (W.get(k) ?? 0) + d); U.set(k, (U.get(k) ?? 0) + step * d); }
function predict(it: Item, f = feats(it)) { const cs = candsOf(it.char); let best = it.pp ?? cs[0]!, bs = -Infinity; for (const y of cs) { const s = score(it.char, f, y); if (s > bs + 1e-12 || (Math.abs(s - bs) < 1e-12 && y === it.pp)) { bs = s; best = y; } } return best; }
const tf = train.map(it => feats(it));
const EPOCHS = Number(process.argv.find(a => a.startsWith('e='))?.slice(2) ?? 10);
const r = mulberry32(7); const t1 = Date.now();
const idxs = train.map((_, i) => i);
for (let e = 0; e < EPOCHS; e++) {
  shuffle(idxs, r);
  for (const k of idxs) { const it = train[k]!, f = tf[k]!; const p = predict(it, f); if (p !== it.label) { for (const x of featList(it.char, f, it.label)) upd(x, 1); for (const x of featList(it.char, f, p)) upd(x, -1); } step++; }
}
for (const [k, v] of W) W.set(k, v - (U.get(k) ?? 0) / step);
console.log(OPT, 'train ms', Date.now() - t1, 'train acc', acc(it => predict(it), train), 'held acc', acc(it => predict(it)), 'weights', W.size);
console.log('G', [...W].filter(([k]) => k.startsWith('G')));
