// server/src/core/pronunciation/g2p/jieba.ts: hand-checked examples. Every expected value below is what Debian's python3-jieba 0.42.1
// printed for `[[p.word, p.flag] for p in jieba.posseg.lcut(s)]` (pasted as literals; the differential test
// test/integration/jieba.diff.test.ts compares against Python on ~14,000 sentences).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { posseg } from '../../server/src/core/pronunciation/g2p/jieba';

const pairs = (s: string): Array<[string, string]> => posseg(s).map((p) => [p.word, p.flag]);

test('dictionary words get their dict.txt tag; the route takes the most probable words', () => {
  assert.deepEqual(pairs('我爱北京天安门'), [
    ['我', 'r'],
    ['爱', 'v'],
    ['北京', 'ns'],
    ['天安门', 'ns'],
  ]);
  assert.deepEqual(pairs('重庆银行的行长'), [
    ['重庆', 'ns'],
    ['银行', 'n'],
    ['的', 'uj'],
    ['行长', 'n'],
  ]);
  // dict words with Latin letters and & (re_han_internal keeps them in the block)
  assert.deepEqual(pairs('AT&T和B超'), [
    ['AT&T', 'nz'],
    ['和', 'c'],
    ['B超', 'n'],
  ]);
});

test('characters outside the dictionary go through the posseg HMM (__cut_detail)', () => {
  assert.deepEqual(pairs('他叫亍丌兀，住在鬲孬噩'), [
    ['他', 'r'],
    ['叫', 'v'],
    ['亍', 'x'],
    ['丌', 'zg'],
    ['兀', 'ag'],
    ['，', 'x'],
    ['住', 'v'],
    ['在', 'p'],
    ['鬲', 'ng'],
    ['孬噩', 'n'],
  ]);
  // a run mixing Latin, Han and a number: re_skip_detail splits the non-Han part, then m / eng / x
  assert.deepEqual(pairs('abc亍丌3.5x#&'), [
    ['abc', 'eng'],
    ['亍', 'x'],
    ['丌', 'zg'],
    ['3.5', 'm'],
    ['x', 'eng'],
    ['#&', 'x'],
  ]);
});

test('digits, Latin, dots, whitespace and CRLF', () => {
  assert.deepEqual(pairs('iPhone12售价3.5万元 ok\t好\r\n的'), [
    ['iPhone12', 'eng'],
    ['售价', 'n'],
    ['3.5', 'm'],
    ['万元', 'm'],
    [' ', 'x'],
    ['ok', 'eng'],
    ['\t', 'x'],
    ['好', 'a'],
    ['\r\n', 'x'],
    ['的', 'uj'],
  ]);
  assert.deepEqual(pairs('1.2.3版本_v2+c#'), [
    ['1.2.3', 'm'],
    ['版本', 'n'],
    ['_', 'x'],
    ['v2', 'eng'],
    ['+', 'x'],
    ['c#', 'nz'],
  ]);
  assert.deepEqual(pairs('..5%'), [
    ['..5', 'm'],
    ['%', 'x'],
  ]);
  assert.deepEqual(pairs('\r\r\n'), [
    ['\r', 'x'],
    ['\r\n', 'x'],
  ]);
  // full-width digits and letters are not [0-9a-zA-Z]: one x each
  assert.deepEqual(pairs('１２３ＡＢ'), [
    ['１', 'x'],
    ['２', 'x'],
    ['３', 'x'],
    ['Ａ', 'x'],
    ['Ｂ', 'x'],
  ]);
  // Python's \s (U+001C, U+0085, U+3000 yes; U+FEFF no): each its own x
  assert.deepEqual(pairs('好\u001c的\ufeff了\u0085吗\u3000呢'), [
    ['好', 'a'],
    ['\u001c', 'x'],
    ['的', 'uj'],
    ['\ufeff', 'x'],
    ['了', 'ul'],
    ['\u0085', 'x'],
    ['吗', 'y'],
    ['\u3000', 'x'],
    ['呢', 'y'],
  ]);
});

test('astral characters stay whole (Python iterates code points)', () => {
  assert.deepEqual(pairs('𠀀𪚥好😀a'), [
    ['𠀀', 'x'],
    ['𪚥', 'x'],
    ['好', 'a'],
    ['😀', 'x'],
    ['a', 'x'],
  ]);
});

test('empty string: no words', () => {
  assert.deepEqual(posseg(''), []);
});

test('the words put back together give the sentence', () => {
  const s = '小明硕士毕业于中国科学院计算所，后在日本京都大学深造 2024年 GLM-TTS！';
  assert.equal(
    posseg(s)
      .map((p) => p.word)
      .join(''),
    s,
  );
});
