// The pypinyin 0.55 port (server/src/core/pronunciation/g2p/pypinyin.ts): every literal below is what the Python returns for
// pinyin(text, style=Style.INITIALS | Style.FINALS_TONE3, strict=True, neutral_tone_with_five=True), checked with
// third_party/pypinyin-0.55 under /usr/bin/python3. (All 1,559 readings of the data were compared the same way.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Style,
  charReadings,
  getFinalsTone3,
  getInitials,
  isPypinyinHan,
  loadPypinyin,
  phraseReadings,
  pinyin,
} from '../../server/src/core/pronunciation/g2p/pypinyin';

const both = (s: string) => [pinyin(s, Style.INITIALS), pinyin(s, Style.FINALS_TONE3)];

test('loads the dictionaries from the data file', () => {
  assert.ok(loadPypinyin() >= 0);
  assert.deepEqual(charReadings('行'.codePointAt(0)!), ['xíng', 'háng', 'héng', 'xìng', 'hàng']);
  assert.deepEqual(phraseReadings('银行'), ['yín', 'háng']);
  assert.equal(phraseReadings('银'), undefined);
  assert.deepEqual(charReadings(0x41), []);
});

test('y and w are not initials; the finals are restored (yi → i, you → iou, wen → uen, yu → v)', () => {
  assert.deepEqual(both('一'), [[['']], [['i1']]]);
  assert.deepEqual(both('五'), [[['']], [['u3']]]);
  assert.deepEqual(both('有'), [[['']], [['iou3']]]);
  assert.deepEqual(both('用'), [[['']], [['iong4']]]);
  assert.deepEqual(both('温'), [[['']], [['uen1']]]);
  assert.deepEqual(both('翁'), [[['']], [['ueng1']]]);
  assert.deepEqual(both('王'), [[['']], [['uang2']]]);
  assert.deepEqual(both('鱼'), [[['']], [['v2']]]);
  assert.deepEqual(both('月'), [[['']], [['ve4']]]);
  assert.deepEqual(both('元'), [[['']], [['van2']]]);
  assert.deepEqual(both('云'), [[['']], [['vn2']]]);
  assert.deepEqual(both('哟'), [[['']], [['o1']]]);
});

test('ü is written v, also after j/q/x; iu/ui/un expand to iou/uei/uen', () => {
  assert.deepEqual(both('女'), [[['n']], [['v3']]]);
  assert.deepEqual(both('绿'), [[['l']], [['v4']]]);
  assert.deepEqual(both('略'), [[['l']], [['ve4']]]);
  assert.deepEqual(both('居'), [[['j']], [['v1']]]);
  assert.deepEqual(both('去'), [[['q']], [['v4']]]);
  assert.deepEqual(both('学'), [[['x']], [['ve2']]]);
  assert.deepEqual(both('军'), [[['j']], [['vn1']]]);
  assert.deepEqual(both('牛'), [[['n']], [['iou2']]]);
  assert.deepEqual(both('归'), [[['g']], [['uei1']]]);
  assert.deepEqual(both('论'), [[['l']], [['uen4']]]);
});

test('er, zh/ch/sh/r/z/c/s + i (pypinyin writes i; glm_g2p makes it iii/ii)', () => {
  assert.deepEqual(both('儿'), [[['']], [['er2']]]);
  assert.deepEqual(both('二'), [[['']], [['er4']]]);
  assert.deepEqual(both('知'), [[['zh']], [['i1']]]);
  assert.deepEqual(both('日'), [[['r']], [['i4']]]);
  assert.deepEqual(both('字'), [[['z']], [['i4']]]);
  assert.deepEqual(both('思'), [[['s']], [['i1']]]);
});

test('the neutral tone is 5', () => {
  assert.deepEqual(both('衣裳'), [
    [[''], ['sh']],
    [['i1'], ['ang5']],
  ]);
  assert.deepEqual(both('的'), [[['d']], [['e5']]]);
  assert.deepEqual(both('了'), [[['l']], [['e5']]]);
  assert.deepEqual(both('吗'), [[['m']], [['a5']]]);
  assert.deepEqual(both('好的'), [
    [['h'], ['d']],
    [['ao3'], ['e5']],
  ]);
});

test('phrases decide over single characters; mmseg max-match and its quirk', () => {
  assert.deepEqual(both('银行'), [
    [[''], ['h']],
    [['in2'], ['ang2']],
  ]);
  assert.deepEqual(both('重庆银行'), [
    [['ch'], ['q'], [''], ['h']],
    [['ong2'], ['ing4'], ['in2'], ['ang2']],
  ]);
  assert.deepEqual(both('行走'), [
    [['x'], ['z']],
    [['ing2'], ['ou3']],
  ]);
  assert.deepEqual(both('长大'), [
    [['zh'], ['d']],
    [['ang3'], ['a4']],
  ]);
  assert.deepEqual(both('长江'), [
    [['ch'], ['j']],
    [['ang2'], ['iang1']],
  ]);
  assert.deepEqual(both('人参'), [
    [['r'], ['sh']],
    [['en2'], ['en1']],
  ]);
  assert.deepEqual(both('参数'), [
    [['c'], ['sh']],
    [['an1'], ['u4']],
  ]);
  assert.deepEqual(both('中国人'), [
    [['zh'], ['g'], ['r']],
    [['ong1'], ['uo2'], ['en2']],
  ]);
  // 七返还 is a prefix of a phrase but no phrase itself, so mmseg yields every character alone, and 还 is hái,
  // although 返还 (fǎn huán) is a phrase.
  assert.deepEqual(pinyin('七返还', Style.FINALS_TONE3), [['i1'], ['an3'], ['ai2']]);
  assert.deepEqual(pinyin('返还', Style.FINALS_TONE3), [['an3'], ['uan2']]);
  assert.deepEqual(pinyin('下不了', Style.FINALS_TONE3), [['ia4'], ['u4'], ['e5']]);
});

test('non-Han runs come back unchanged, not style-converted (errors="default")', () => {
  assert.deepEqual(both('abc'), [[['abc']], [['abc']]]);
  assert.deepEqual(both('zi'), [[['zi']], [['zi']]]);
  assert.deepEqual(both('3.5'), [[['3.5']], [['3.5']]]);
  assert.deepEqual(both('，'), [[['，']], [['，']]]);
  assert.deepEqual(both('你好abc'), [
    [['n'], ['h'], ['abc']],
    [['i3'], ['ao3'], ['abc']],
  ]);
  assert.deepEqual(both(''), [[], []]);
});

test("〇 and astral Han characters; characters pypinyin cannot read give ''", () => {
  assert.ok(isPypinyinHan(0x3007) && isPypinyinHan(0x20000) && !isPypinyinHan(0x2e80) && !isPypinyinHan(0x41));
  assert.deepEqual(both('〇'), [[['l']], [['ing2']]]);
  assert.deepEqual(both('𠀀'), [[['h']], [['e1']]]);
  assert.deepEqual(both('𠮷'), [[['']], [['']]]);
  assert.deepEqual(both('㕶'), [[['']], [['']]]);
  assert.deepEqual(both('嗯'), [[['']], [['']]]);
  assert.deepEqual(both('呣'), [[['']], [['']]]);
  assert.deepEqual(both('嗯呣'), [
    [[''], ['']],
    [[''], ['']],
  ]);
  assert.deepEqual(both('噷'), [[['h']], [['']]]);
  assert.deepEqual(both('欸'), [[['']], [['ai1']]]);
});

test('the style converters on odd readings (nasal interjections, ê, yo)', () => {
  const cases: Array<[string, string, string]> = [
    ['hm', 'h', ''],
    ['hng', 'h', ''],
    ['m\u0300', 'm', ''],
    ['m\u0304', 'm', ''],
    ['n', 'n', ''],
    ['ng', 'n', ''],
    ['yo', '', 'o5'],
    ['yō', '', 'o1'],
    ['ê\u0304', '', 'ê1'],
    ['ê\u030c', '', 'ê3'],
    ['ế', '', 'ê2'],
    ['ề', '', 'ê4'],
    ['ń', '', ''],
    ['ńg', '', ''],
    ['ḿ', '', ''],
    ['lüè', 'l', 've4'],
    ['jūn', 'j', 'vn1'],
    ['zhuàng', 'zh', 'uang4'],
    ['shéi', 'sh', 'ei2'],
    ['ér', '', 'er2'],
    ['wēng', '', 'ueng1'],
    ['yōng', '', 'iong1'],
    ['yuān', '', 'van1'],
  ];
  for (const [py, ini, fin] of cases) {
    assert.equal(getInitials(py), ini, `INITIALS of ${py}`);
    assert.equal(getFinalsTone3(py), fin, `FINALS_TONE3 of ${py}`);
  }
});
