// The loaded student's fast path (numeric context keys, lexicon scans into reused buffers, vote
// weights summed at load) against a plain scorer built from the model file with the trainer's own
// string features: the same readings and margins on every position of real sentences.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  agreementFeatures,
  contextFeatures,
  contextKeyOf,
  contextKeys,
  HitBuffer,
  LexiconIndex,
  type RawLexicon,
  readRawLexicons,
  wordFeatures,
} from '../../server/src/core/student/features';
import { fromCpp } from '../../server/src/core/student/labels';
import { seededRandom } from '../../server/src/core/student/prng';
import { serializeModel, studentFromJson, type StudentModelFile } from '../../server/src/core/student/model';
import { candidateReadings, charAt, isHan, pinyinProGuess } from '../../server/src/core/student/readings';
import { trainStudent } from '../../server/src/core/student/trainer';

const CPP = join(__dirname, '..', '..', 'data', 'cpp');

function cppLines(from: number, to: number): { sent: string; lb: string } {
  const cut = (f: string) => readFileSync(join(CPP, f), 'utf8').split('\n').slice(from, to).join('\n') + '\n';
  return { sent: cut('dev.sent'), lb: cut('dev.lb') };
}

void test('context keys: one number per context feature, exactly the features contextFeatures builds', () => {
  const texts = ['行', 'ab行cd', '我去银行取钱了吗', '\u{20000}行\u{20001}x', '行\u{20000}', '银行'];
  for (const text of texts) {
    for (let i = 0; i < text.length; i++) {
      for (const width of [1, 2, 3]) {
        const out = new Float64Array(12);
        const n = contextKeys(text, i, width, out);
        assert.deepEqual(
          [...out.subarray(0, n)],
          contextFeatures(text, i, width).map((f) => contextKeyOf(f)),
          `${text} ${i} width ${width}`,
        );
      }
    }
  }
  // Distinct features get distinct keys; strings that are no context feature get none.
  const all = new Set<string>();
  for (const text of texts) for (let i = 0; i < text.length; i++) for (const f of contextFeatures(text, i, 3)) all.add(f);
  assert.equal(new Set([...all].map(contextKeyOf)).size, all.size);
  for (const bad of ['', 'x', 'L1', 'L1ab', 'LR行', 'W银行', 'bb']) assert.equal(contextKeyOf(bad), undefined, bad);
});

void test('lexicon scan: covering words by offset then length, one-character words ignored', () => {
  const lex = new LexiconIndex({ 银行家: 'yin2 hang2 jia1', 行为: 'xing2 wei2', 行行: 'hang2 hang2', 行: 'xing2', 银行: 'yin2 hang2' });
  const buf = new HitBuffer();
  const n = lex.scan('大银行家行为', 2, buf);
  assert.deepEqual(buf.word.slice(0, n), ['银行', '银行家']);
  assert.deepEqual(buf.offset.slice(0, n), [1, 1]);
  assert.equal(lex.scan('行', 0, buf), 0);
  assert.deepEqual(
    lex.wordHits('行行为', 1).map((h) => h.word),
    ['行为', '行行'],
  );
  assert.equal(lex.size, 4);
});

void test('lexicon scan: exactly the covering words a brute-force search finds, in place or from an object, with `keep`', () => {
  const rand = seededRandom(21);
  // A small alphabet (words overlap a lot), one character outside the BMP (two units, a reading each).
  const units = ['行', '银', '长', '重', '了', 'a', '\u{20000}'];
  const pick = () => units[Math.floor(rand() * units.length)]!;
  const syllables = ['xing2', 'hang2', 'yin2', 'zhang3', 'chong2', 'le5', '-'];
  const words: Record<string, string> = {};
  for (let k = 0; k < 400; k++) {
    let w = '';
    const n = 1 + Math.floor(rand() * (k % 10 === 0 ? 12 : 4));
    for (let i = 0; i < n; i++) w += pick();
    words[w] = Array.from({ length: w.length }, () => syllables[Math.floor(rand() * syllables.length)]!).join(' ');
  }
  const keep = (ch: string) => ch !== '了';
  const kept = (w: string) => {
    const r = words[w];
    return r === undefined ? undefined : r.split(' ').map((x, o) => (keep(w[o]!) ? x : '-'));
  };
  const brute = (text: string, index: number, withKeep: boolean) => {
    const readingsOf = (w: string) => (withKeep ? kept(w) : words[w]?.split(' '));
    const out: Array<[number, number, string]> = [];
    const neighbour = (t: string, at: number, o: number) => t.charCodeAt(o > 0 ? at - 1 : at + 1);
    for (let o = 0; o <= index; o++)
      for (let length = o + 1; length <= 63 && index - o + length <= text.length; length++) {
        if (length < 2) continue;
        const w = text.slice(index - o, index - o + length);
        const r = readingsOf(w);
        if (!r || r.every((x) => x === '-')) continue;
        // Some word of that length has the character there, with a reading, and the same neighbour.
        const shaped = Object.keys(words).some((w2) => {
          const r2 = readingsOf(w2)!;
          return (
            w2.length === length &&
            w2.charCodeAt(o) === text.charCodeAt(index) &&
            r2[o] !== '-' &&
            neighbour(w2, o, o) === neighbour(text, index, o)
          );
        });
        if (shaped) out.push([o, length, w]);
      }
    return out;
  };
  const sorted = Object.fromEntries(
    Object.keys(words)
      .sort()
      .map((w) => [w, words[w]!]),
  );
  const raw = readRawLexicons(JSON.stringify({ lexicons: { lex: sorted } }))!.lexicons[0]![1];
  const cases: Array<[string, LexiconIndex, boolean]> = [
    ['in place', new LexiconIndex(raw), false],
    ['object', new LexiconIndex(words), false],
    ['object, keep', new LexiconIndex(words, keep), true],
  ];
  const buf = new HitBuffer();
  let hits = 0;
  for (let t = 0; t < 300; t++) {
    let text = '';
    for (let i = 0, n = 1 + Math.floor(rand() * 14); i < n; i++) text += pick();
    for (let i = 0; i < text.length; i++) {
      for (const [name, index, withKeep] of cases) {
        const n = index.scan(text, i, buf);
        const got = Array.from({ length: n }, (_, k) => [buf.offset[k], buf.length[k], buf.word[k]]);
        assert.deepEqual(got, brute(text, i, withKeep), `${name}: ${text} @${i}`);
        for (let k = 0; k < n; k++)
          assert.deepEqual(buf.entry[k]!.readings, withKeep ? kept(buf.word[k]!) : words[buf.word[k]!]!.split(' '));
        hits += n;
      }
    }
  }
  assert.ok(hits > 1000, `${hits} hits`);
  assert.equal(new LexiconIndex(raw).size, new LexiconIndex(words).size);
});

const indexes = new WeakMap<StudentModelFile, Array<readonly [string, LexiconIndex]>>();

/** The prediction as the trainer scores it: string features, weights read straight from the file. */
function reference(file: StudentModelFile, text: string, index: number): { reading: string; margin: number } | undefined {
  const ch = charAt(text, index);
  if (!ch || !isHan(ch)) return undefined;
  const m = file.chars[ch];
  if (!m) {
    const g = pinyinProGuess(text, index);
    return g === undefined ? undefined : { reading: g, margin: 0 };
  }
  if (m.readings.length === 1) return { reading: m.readings[0]!, margin: 0 };
  let lexicons = indexes.get(file);
  if (!lexicons)
    indexes.set(
      file,
      (lexicons = Object.keys(file.lexicons!)
        .sort()
        .map((name) => [name, new LexiconIndex(file.lexicons![name]!)] as const)),
    );
  const scores = new Array<number>(m.readings.length).fill(0);
  const words = new Set<string>();
  const votes = agreementFeatures(text, index, lexicons, false, file.longestWordVote === true, words).votes;
  const context = contextFeatures(text, index, file.contextWidth);
  if (file.wordFeatures) context.push(...wordFeatures(words, file.wordFeatures));
  for (const f of context)
    m.context[f]?.forEach((w, k) => {
      scores[k]! += w;
    });
  const weight = (name: string) => (file.shared[name] ?? 0) + (m.agreement[name] ?? 0);
  for (const [name, r] of votes) {
    const k = m.readings.indexOf(r);
    if (k >= 0) scores[k]! += weight(name);
  }
  const guess = pinyinProGuess(text, index);
  let candidates = m.readings;
  if (guess !== undefined) {
    const g = m.readings.indexOf(guess);
    if (g >= 0) scores[g]! += weight('pp');
    else {
      candidates = [...m.readings, guess];
      scores.push(weight('ppNew'));
    }
  }
  // Ties go to pinyin-pro's guess.
  let best = guess !== undefined ? candidates.indexOf(guess) : 0;
  for (let k = 0; k < scores.length; k++) if (scores[k]! > scores[best]! + 1e-9) best = k;
  let runnerUp = -Infinity;
  for (let k = 0; k < scores.length; k++) if (k !== best && scores[k]! > runnerUp) runnerUp = scores[k]!;
  return { reading: candidates[best]!, margin: scores[best]! - runnerUp };
}

void test('the loaded student reads every position of held-back sentences as the plain scorer does', () => {
  const train = cppLines(0, 1200);
  const { examples } = fromCpp('dev.sent', train.sent, train.lb);
  const other = fromCpp('dev.sent', cppLines(1200, 1300).sent, cppLines(1200, 1300).lb).examples;
  for (const wordMode of [false, 'all', 'longest'] as const) {
    const text = serializeModel(
      trainStudent(examples, { seed: 3, epochs: 3, heldOutFraction: 0, calibrationFolds: 0, wordFeatures: wordMode }),
    );
    const file = JSON.parse(text) as StudentModelFile;
    // As loadStudent reads a model file: the lexicons in place, the rest parsed.
    const split = readRawLexicons(text);
    assert.ok(split, 'the canonical text is read in place');
    assert.deepEqual(
      split.lexicons.map(([name, l]) => [name, l.count]),
      Object.entries(file.lexicons!).map(([name, words]) => [name, Object.keys(words).length]),
    );
    const fromText = studentFromJson(JSON.parse(split.rest), 'text', split.lexicons);
    assert.equal(file.formatVersion, wordMode ? 3 : 2);
    if (wordMode)
      assert.ok(
        Object.values(file.chars).some((c) => Object.keys(c.context).some((f) => f.startsWith('W'))),
        'word features were learnt',
      );
    // A calibration (none was fitted, for speed), so that judge's confidences show their margins.
    const student = studentFromJson({ ...file, calibration: { a: 0.3, b: 1.5, unseen: 0.59, single: 0.99, examples: 1, folds: 1 } });
    let positions = 0;
    let judged = 0;
    for (const e of [...other, ...examples.slice(0, 100)]) {
      for (let i = 0; i < e.text.length; i++) {
        const want = reference(file, e.text, i);
        const got = student.raw(e.text, i);
        assert.equal(got?.reading, want?.reading, `${wordMode} ${e.text} @${i}`);
        if (got && got.kind === 'model')
          assert.ok(Math.abs(got.margin - want!.margin) < 1e-9, `${wordMode} ${e.text} @${i}: margin ${got.margin} vs ${want!.margin}`);
        assert.equal(student.predict(e.text, i), want?.reading);
        // judge: the two steps of a verdict in one (agreement, else the reading with its confidence).
        if (want)
          for (const r of new Set([want.reading, ...candidateReadings(e.text[i]!)])) {
            const both = student.predict(e.text, i) === r ? undefined : student.predictWithConfidence(e.text, i);
            assert.deepEqual(student.judge(e.text, i, r), both, `judge ${wordMode} ${e.text} @${i} ${r}`);
            judged += both ? 1 : 0;
          }
        assert.deepEqual(fromText.raw(e.text, i), got, `read in place: ${wordMode} ${e.text} @${i}`);
        positions++;
      }
    }
    assert.ok(positions > 5000, `${positions} positions`);
    assert.ok(judged > 500, `${judged} disagreements judged`);
  }
});

void test('lexicons read in place: only the canonical text (compact, words sorted, no escapes); else the whole file is parsed', () => {
  const text = '{"chars":{"a":[1,"}"]},"lexicons":{"lex":{"to":"- -","行为":"xing2 wei2","银行":"yin2 hang2"},"pyp":{}},"z":"\\""}';
  const split = readRawLexicons(text)!;
  assert.ok(split);
  assert.deepEqual(JSON.parse(split.rest), { chars: { a: [1, '}'] }, lexicons: {}, z: '"' });
  const [[name, lex], [name2, empty]] = split.lexicons as [[string, RawLexicon], [string, RawLexicon]];
  assert.deepEqual([name, lex.count, name2, empty.count], ['lex', 3, 'pyp', 0]);
  assert.equal(lex.get('银行'), 'yin2 hang2');
  assert.equal(lex.get('银'), undefined);
  assert.equal(lex.get('银行家'), undefined);
  // The index built in place answers as the one built from the parsed object.
  const parsed = (JSON.parse(text) as { lexicons: { lex: Record<string, string> } }).lexicons.lex;
  const inPlace = new LexiconIndex(lex);
  const fromObject = new LexiconIndex(parsed);
  assert.equal(inPlace.size, 2);
  assert.equal(inPlace.size, fromObject.size);
  assert.deepEqual(inPlace.toJSON(), fromObject.toJSON());
  for (const [t, i] of [
    ['去银行', 2],
    ['行为', 0],
    ['toString', 0],
  ] as const)
    assert.deepEqual(inPlace.hits(t, i), fromObject.hits(t, i));
  // Anything else: not read in place.
  for (const other of [
    '{"lexicons":{"lex":{"银行":"yin2 hang2","行为":"xing2 wei2"}}}', // not sorted
    '{"lexicons":{"lex":{"a\\u884c":"- hang2"}}}', // an escape
    '{"lexicons": {"lex":{}}}', // not compact
    '{"lexicons":{"lex":{"ab":"a b","ab":"a b"}}}', // a word twice
    '{"chars":{}}', // no lexicons
    '[]',
    '{"lexicons":{"lex":{"ab":"a b"}',
  ])
    assert.equal(readRawLexicons(other), undefined, other);
});
