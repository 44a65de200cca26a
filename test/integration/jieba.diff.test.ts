// Differential test: server/src/core/pronunciation/g2p/jieba.ts posseg() against the real jieba.posseg.lcut (Debian python3-jieba
// 0.42.1, run by /usr/bin/python3 in two batched processes) on every CPP dev sentence plus generated sentences with
// digits, Latin, punctuation, all of Python's and JavaScript's whitespace, CRLF, rare and astral characters and long
// runs of out-of-dictionary Han characters (the HMM path). Fails, not skips, when python3-jieba is missing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { pythonLines } from './python';
import { posseg } from '../../server/src/core/pronunciation/g2p/jieba';

const ROOT = path.join(__dirname, '..', '..');

const PROGRAM = `
import sys, json, logging
import jieba, jieba.posseg as psg
jieba.setLogLevel(logging.WARNING)
assert jieba.__version__ == '0.42.1', jieba.__version__
out = []
for line in sys.stdin.buffer.read().decode('utf-8').split('\\n'):
    if line:
        out.append(json.dumps([[p.word, p.flag] for p in psg.lcut(json.loads(line))]))
sys.stdout.write('\\n'.join(out) + '\\n')
`;

/** Runs jieba.posseg.lcut on each sentence in one Python process. */
async function pythonPosseg(sentences: string[]): Promise<Array<Array<[string, string]>>> {
  const lines = await pythonLines(
    ['-c', PROGRAM],
    sentences.map((s) => JSON.stringify(s)),
    'jieba.posseg',
    280_000,
  );
  return lines.map((l) => JSON.parse(l) as Array<[string, string]>);
}

/** A small deterministic PRNG (mulberry32). */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function generated(cpp: string[]): string[] {
  const rand = rng(20240601);
  const pick = <T>(a: readonly T[]): T => a[Math.floor(rand() * a.length)]!;
  const spaces = [
    ' ',
    '\t',
    '\n',
    '\r\n',
    '\r',
    '\u3000',
    '\u00a0',
    '\ufeff',
    '\u001c',
    '\u001f',
    '\u0085',
    '\u2003',
    '\u200b',
    '\u2028',
    '\u000b',
  ];
  const latin = ['iPhone', 'AT&T', 'c#', 'C++', 'B超', 'T恤', 'GLM-TTS', 'x', 'Ab', 'hello', 'ok', 'USB3.0', 'a_b', 'e.g.', 'Ⅻ', 'ＡＢＣ'];
  const digits = ['1', '2024', '3.5', '.5', '0.', '100%', '1,000', '12:30', '１２３', '٣', '²', '3.14.15', '007', '5-6', '1e9'];
  const punct = [
    '，',
    '。',
    '！',
    '？',
    '、',
    '；',
    '：',
    '“',
    '”',
    '《',
    '》',
    '（',
    '）',
    '.',
    ',',
    '!',
    '?',
    '-',
    '_',
    '+',
    '#',
    '&',
    '%',
    '/',
    '…',
    '—',
    '~',
    '·',
  ];
  const rare = [
    '𠀀',
    '𪚥',
    '😀',
    '👍🏽',
    '㐀',
    '䶵',
    '\u9fd6',
    '\u9fef',
    '\u4dff',
    '鿕',
    '丂',
    '龘',
    'é',
    'ü',
    'ā',
    'ㄅ',
    'あ',
    '한',
    'Ω',
    '\u0301',
  ];
  // Han characters jieba's dictionary rarely holds, so that runs of them go through the posseg HMM.
  const oddHan =
    '亍丌兀丐廿卅丕亘丞鬲孬噩丨禺丿匕乇夭爻卮氐囟胤馗毓睾鼗丶亟鼐乜乩亓芈孛啬嘏仄厍厝厣厥厮靥赝匚叵匦匮匾赜卦卣刂刈刎刭刳刿剀剌剞剡剜蒯剽劂劁劐劓冂罔亻仃仉仂仨仡仫仞伛仳伢佤仵伥伧伉伫佞佧攸佚佝';
  const pieces: Array<() => string> = [
    () => pick(spaces),
    () => pick(latin),
    () => pick(digits),
    () => pick(punct),
    () => pick(rare),
    () => {
      let s = '';
      const n = 2 + Math.floor(rand() * 8);
      for (let i = 0; i < n; i++) s += oddHan[Math.floor(rand() * oddHan.length)];
      return s;
    },
    () => {
      const s = pick(cpp);
      const a = Math.floor(rand() * s.length);
      return s.slice(a, a + 1 + Math.floor(rand() * 12));
    },
    () => {
      const s = pick(cpp);
      const a = Math.floor(rand() * s.length);
      return s.slice(a, a + 1 + Math.floor(rand() * 12));
    },
  ];
  const out: string[] = [];
  for (let k = 0; k < 4000; k++) {
    let s = '';
    const n = 1 + Math.floor(rand() * 10);
    for (let i = 0; i < n; i++) s += pick(pieces)();
    // no lone surrogates: Python reads UTF-8
    out.push(s.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, ''));
  }
  // long runs: the Viterbi over hundreds of characters, and a long block of dictionary words
  for (const len of [300, 1200]) {
    let s = '';
    for (let i = 0; i < len; i++) s += oddHan[Math.floor(rand() * oddHan.length)];
    out.push(s);
  }
  out.push(
    cpp
      .slice(0, 40)
      .join('')
      .replace(/[^\u4e00-\u9fd5]/g, ''),
  );
  return out.filter((s) => s.length > 0);
}

test('posseg equals jieba.posseg.lcut on the CPP dev sentences and generated edge cases', { timeout: 300_000 }, async () => {
  const cpp = readFileSync(path.join(ROOT, 'data', 'cpp', 'dev.sent'), 'utf8')
    .split('\n')
    .filter((l) => l)
    .map((l) => l.replaceAll('\u2581', ''));
  assert.ok(cpp.length > 9000, 'the CPP dev split is in data/cpp');
  const sentences = [...cpp, ...generated(cpp)];
  // Python's posseg runs about 250 sentences/s: two processes, one per half, while ours runs here.
  const half = Math.ceil(sentences.length / 2);
  const python = Promise.all([pythonPosseg(sentences.slice(0, half)), pythonPosseg(sentences.slice(half))]);
  const ours = sentences.map((s) => posseg(s).map((p) => [p.word, p.flag] as [string, string]));
  const expected = (await python).flat();
  const diffs: string[] = [];
  let same = 0;
  for (let i = 0; i < sentences.length; i++) {
    const got = ours[i]!;
    if (JSON.stringify(got) === JSON.stringify(expected[i])) same++;
    else if (diffs.length < 30) {
      diffs.push(
        `${JSON.stringify(sentences[i])}\n  python: ${expected[i]!.map(([w, f]) => `${w}/${f}`).join(' ')}\n  ours:   ${got.map(([w, f]) => `${w}/${f}`).join(' ')}`,
      );
    }
  }
  const rate = same / sentences.length;
  console.log(`jieba posseg: ${same}/${sentences.length} sentences identical (${(rate * 100).toFixed(3)} %)`);
  if (diffs.length) console.log(diffs.join('\n'));
  assert.ok(rate >= 0.999, `only ${(rate * 100).toFixed(3)} % of sentences identical to jieba.posseg.lcut`);
});
