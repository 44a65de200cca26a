// The embedded teacher's accuracy on the CPP polyphone corpus: its reading of the marked
// character (▁X▁) against the gold label (ü written u:, neutral tone 5).
// `node --import tsx scripts/teacher-accuracy.ts [dir with dev.sent + dev.lb]`
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { teacherReadings } from '../server/src/core/pronunciation/teacherReadings';

const dir = path.resolve(process.argv[2] ?? path.join(__dirname, '..', 'data', 'cpp'));
const sentences = readFileSync(path.join(dir, 'dev.sent'), 'utf8')
  .split('\n')
  .filter((l) => l.trim() !== '');
const labels = readFileSync(path.join(dir, 'dev.lb'), 'utf8')
  .split('\n')
  .filter((l) => l.trim() !== '');
if (sentences.length !== labels.length) throw new Error(`${sentences.length} sentences but ${labels.length} labels`);

const MARK = '\u2581';
let right = 0;
const perChar = new Map<string, { n: number; ok: number; confusions: Map<string, number> }>();
const t0 = performance.now();
sentences.forEach((raw, k) => {
  const at = raw.indexOf(MARK);
  const text = raw.split(MARK).join('');
  const char = text[at]!;
  const gold = labels[k]!.trim().replace(/u:/g, 'v');
  const got = teacherReadings(text)[at]?.reading ?? '(none)';
  const s = perChar.get(char) ?? { n: 0, ok: 0, confusions: new Map() };
  s.n++;
  if (got === gold) {
    right++;
    s.ok++;
  } else s.confusions.set(`${gold}→${got}`, (s.confusions.get(`${gold}→${got}`) ?? 0) + 1);
  perChar.set(char, s);
});
const ms = performance.now() - t0;
console.log(
  `Teacher G2P (the exact port of GLM-TTS's jieba + pypinyin, after the dictionary) on ${path.relative(process.cwd(), dir) || dir}:`,
);
console.log(
  `  accuracy ${((100 * right) / sentences.length).toFixed(2)} % (${right} / ${sentences.length} sentences, ${perChar.size} target characters) in ${(ms / 1000).toFixed(1)} s`,
);
const worst = [...perChar]
  .filter(([, s]) => s.n >= 20)
  .sort((a, b) => a[1].ok / a[1].n - b[1].ok / b[1].n)
  .slice(0, 10);
console.log(
  '  weakest characters (≥ 20 examples): ' +
    worst
      .map(([c, s]) => `${c} ${((100 * s.ok) / s.n).toFixed(0)}% (${[...s.confusions].sort((a, b) => b[1] - a[1])[0]?.[0] ?? ''})`)
      .join(', '),
);
