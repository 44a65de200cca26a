// The teacher's G2P (server/src/core/pronunciation/g2p/glmG2P.ts). Each g2pPhonemes literal is what GLM-TTS's
// `G2P_zh()(text)[0]` (data/glmtts/utils/glm_g2p.py with Debian's python3-jieba 0.42.1 and the vendored
// pypinyin 0.55) returns, checked under /usr/bin/python3; the readings were checked by hand against them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { G2PError, g2pDetail, g2pPhonemes, g2pReadings } from '../../server/src/core/pronunciation/g2p/glmG2P';

const PY: Array<[string, string[]]> = [
  ['重庆银行', ['ch', 'ong2', '-', 'q', 'ing4', '-', 'in2', '-', 'h', 'ang2']],
  [
    '我非常地爱吃人参片。我不爱参数。',
    [
      'uo3',
      '-',
      'f',
      'ei1',
      '-',
      'ch',
      'ang2',
      '-',
      'd',
      'i4',
      '-',
      'ai4',
      '-',
      'ch',
      'iii1',
      '-',
      'r',
      'en2',
      '-',
      'sh',
      'en1',
      '-',
      'p',
      'ian4',
      '，',
      'uo3',
      '-',
      'b',
      'u4',
      '-',
      'ai4',
      '-',
      'c',
      'an1',
      '-',
      'sh',
      'u4',
      '，',
    ],
  ],
  ['嗯，我知道了', ['en1', '，', 'uo3', '-', 'zh', 'iii1', '-', 'd', 'ao4', '-', 'l', 'e5']],
  ['呣', ['m', 'u3']],
  [
    '他说：“你好！！！”……然后走了。',
    [
      't',
      'a1',
      '-',
      'sh',
      'uo1',
      '，',
      'n',
      'i3',
      '-',
      'h',
      'ao3',
      '，',
      'r',
      'an2',
      '-',
      'h',
      'ou4',
      '-',
      'z',
      'ou3',
      '-',
      'l',
      'e5',
      '，',
    ],
  ],
  ['  前后有空格  ', ['，', 'q', 'ian2', '-', 'h', 'ou4', '-', 'iou3', '-', 'k', 'ong4', '-', 'g', 'e2', '，']],
  [
    'GLM-TTS在2024年发布了3.5版',
    [
      'GLM',
      'GLM',
      '，',
      'TTS',
      'TTS',
      'z',
      'ai4',
      '2024',
      '2024',
      'n',
      'ian2',
      '-',
      'f',
      'a1',
      '-',
      'b',
      'u4',
      '-',
      'l',
      'e5',
      '3',
      '3',
      '，',
      '5',
      '5',
      'b',
      'an3',
    ],
  ],
  ['iPhone很贵', ['iPhone', 'iPhone', 'h', 'en3', '-', 'g', 'uei4']],
  ['𠀀好，𪚥字', ['h', 'e1', '-', 'h', 'ao3', '，', 'zh', 'e2', '-', 'z', 'ii4']],
  ['〇一二三', ['l', 'ing2', 'i1', '-', 'er4', '-', 's', 'an1']],
  ['衣裳', ['i1', '-', 'sh', 'ang5']],
  ['战略', ['zh', 'an4', '-', 'l', 've4']],
  ['女儿绿', ['n', 'v3', '-', 'er2', '-', 'l', 'v4']],
  [
    '知吃诗日字次思',
    ['zh', 'iii1', '-', 'ch', 'iii1', '-', 'sh', 'iii1', '-', 'r', 'iii4', '-', 'z', 'ii4', '-', 'c', 'ii4', '-', 's', 'ii1'],
  ],
  ['七返还', ['q', 'i1', '-', 'f', 'an3', '-', 'h', 'uan2']],
  ['⺀中', ['⺀', '⺀', '-', 'zh', 'ong1']],
  ['', []],
  ['，，。', ['，']],
  ['abc', ['abc', 'abc']],
  ['十点30分', ['sh', 'iii2', '-', 'd', 'ian3', '30', '30', 'f', 'en1']],
];

test('g2pPhonemes equals glm_g2p.G2P_zh()(text)[0]', () => {
  for (const [text, expected] of PY) assert.deepEqual(g2pPhonemes(text), expected, JSON.stringify(text));
});

test('g2pReadings: one entry per UTF-16 unit, canonical pinyin on Han characters', () => {
  assert.deepEqual(g2pReadings('重庆银行'), ['chong2', 'qing4', 'yin2', 'hang2']);
  assert.deepEqual(g2pReadings('衣裳'), ['yi1', 'shang5']);
  assert.deepEqual(g2pReadings('女儿绿'), ['nv3', 'er2', 'lv4']);
  assert.deepEqual(g2pReadings('战略'), ['zhan4', 'lve4']);
  assert.deepEqual(g2pReadings('知字'), ['zhi1', 'zi4']);
  assert.deepEqual(g2pReadings('有温鱼月元云'), ['you3', 'wen1', 'yu2', 'yue4', 'yuan2', 'yun2']);
  // 嗯 is read as 恩, 呣 as 母 (glm_g2p replaces them before pypinyin).
  assert.deepEqual(g2pReadings('嗯，呣'), ['en1', null, 'mu3']);
});

test('g2pReadings maps back through punctuation runs, spaces, Latin and digits', () => {
  const text = '他说：“你好！！！”……然后 abc 3.5版';
  const r = g2pReadings(text);
  assert.equal(r.length, text.length);
  const got = [...text].map((c, i) => (r[i] ? `${c}=${r[i]}` : null)).filter((x) => x);
  assert.deepEqual(got, ['他=ta1', '说=shuo1', '你=ni3', '好=hao3', '然=ran2', '后=hou4', '版=ban3']);
  const text2 = '  前后有空格  ';
  assert.deepEqual(g2pReadings(text2), [null, null, 'qian2', 'hou4', 'you3', 'kong4', 'ge2', null, null]);
});

test('g2pReadings: surrogate pairs have the reading on the first unit; 〇 is read; radicals are left as text', () => {
  assert.deepEqual(g2pReadings('𠀀好'), ['he1', null, 'hao3']);
  assert.deepEqual(g2pReadings('〇一'), ['ling2', 'yi1']);
  assert.deepEqual(g2pReadings('⺀中'), [null, 'zhong1']);
  assert.deepEqual(g2pReadings('😀中'), [null, null, 'zhong1']);
});

test('where the Python raises IndexError, g2pPhonemes throws and g2pReadings goes on', () => {
  // Checked: G2P_zh()('㕶'), ('𠮷好'), ('好鿯') raise IndexError: string index out of range.
  assert.throws(() => g2pPhonemes('㕶'), G2PError);
  assert.throws(() => g2pPhonemes('𠮷好'), /U\+20BB7/);
  assert.throws(() => g2pPhonemes('好鿯'), G2PError);
  assert.deepEqual(g2pReadings('𠮷好'), [null, null, 'hao3']);
  assert.deepEqual(g2pReadings('好鿯'), ['hao3', null]);
  assert.equal(g2pDetail('好鿯').failsAt, 1);
});

test('interjection readings the phoneme set cannot write give null (噷 hm → only h)', () => {
  assert.deepEqual(g2pPhonemes('噷'), ['h']);
  assert.deepEqual(g2pReadings('噷'), [null]);
});

test('the detail ties each Han character to its first phoneme', () => {
  const d = g2pDetail('重庆，abc银行');
  assert.deepEqual(d.phonemes, ['ch', 'ong2', '-', 'q', 'ing4', '，', 'abc', 'abc', 'in2', '-', 'h', 'ang2']);
  assert.deepEqual(Array.from(d.charPhoneme), [0, 3, -1, -1, -1, -1, 8, 10]);
  // Results are cached per text; the public functions hand out copies.
  const a = g2pReadings('重庆');
  a[0] = 'x';
  assert.deepEqual(g2pReadings('重庆'), ['chong2', 'qing4']);
});
