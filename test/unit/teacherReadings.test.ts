import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ReplaceDict } from '../../server/src/core/pronunciation/dictionary';
import { AbleList } from '../../server/src/core/pronunciation/g2p/ableList';
import {
  candidateReadings,
  defaultReading,
  formatReadings,
  type LineReadings,
  predictReadings,
  teacherReadings,
} from '../../server/src/core/pronunciation/teacherReadings';
import {
  cachedReadings,
  clearReadingsCache,
  linePredict,
  SyllableTable,
  storePackedReadings,
  storeReadings,
} from '../../server/src/core/pronunciation/lineCache';
import { ReadingsPool } from '../../server/src/core/pronunciation/readingsPool';
import { polyphoneVerdicts } from '../../server/src/core/pronunciation/polyphones';

/**
 * Real contexts with the reading the teacher gives the marked character — GLM-TTS's own G2P
 * (jieba + pypinyin), checked with scripts/reference/teacher_g2p.py: 这一行 reads xing2 and 很长
 * zhang3 there (pinyin-pro said hang2 and chang2).
 */
const CONTEXTS: Array<[string, string, string]> = [
  ['他在银行工作', '行', 'hang2'],
  ['我们步行回家', '行', 'xing2'],
  ['这一行的规矩', '行', 'xing2'],
  ['行长来了', '行', 'hang2'],
  ['孩子长大了', '长', 'zhang3'],
  ['这条河很长', '长', 'zhang3'],
  ['他是我们的班长', '长', 'zhang3'],
  ['长城很雄伟', '长', 'chang2'],
  ['这件事很重要', '重', 'zhong4'],
  ['我们重新开始', '重', 'chong2'],
  ['箱子太重了', '重', 'zhong4'],
  ['重庆是山城', '重', 'chong2'],
  ['她喜欢音乐', '乐', 'yue4'],
  ['祝你快乐', '乐', 'le4'],
  ['他还是来了', '还', 'hai2'],
  ['他是个好人', '好', 'hao3'],
  ['我的爱好是游泳', '好', 'hao4'],
  ['为了明天努力', '为', 'wei4'],
  ['我想睡觉了', '觉', 'jiao4'],
  ['我觉得不错', '觉', 'jue2'],
  ['教育很重要', '教', 'jiao4'],
  ['数学很难', '数', 'shu4'],
  ['数不清的星星', '数', 'shu3'],
  ['警察在调查', '调', 'diao4'],
  ['我们调整了计划', '调', 'tiao2'],
  ['会计在算账', '会', 'kuai4'],
  ['我们开会吧', '会', 'hui4'],
  ['这里的空气很好', '空', 'kong1'],
  ['出差去北京', '差', 'chai1'],
  ['成绩很差', '差', 'cha4'],
  ['处理问题', '处', 'chu3'],
  ['到处都是人', '处', 'chu4'],
  ['种子发芽了', '种', 'zhong3'],
  ['农民在种地', '种', 'zhong4'],
  ['都市生活', '都', 'du1'],
  ['大家都来了', '都', 'dou1'],
  ['朝代更替', '朝', 'chao2'],
  ['传记文学', '传', 'zhuan4'],
  ['传说中的英雄', '传', 'chuan2'],
  ['相声很好笑', '相', 'xiang4'],
  ['互相帮助', '相', 'xiang1'],
  ['曾经的梦想', '曾', 'ceng2'],
  ['发现了问题', '发', 'fa1'],
  ['看着我', '着', 'zhe5'],
  ['着火了', '着', 'zhao2'],
  ['降落伞', '降', 'jiang4'],
  ['投降', '降', 'xiang2'],
  ['一角钱', '角', 'jiao3'],
  ['干净', '干', 'gan1'],
  ['干活', '干', 'gan4'],
  ['便宜', '便', 'pian2'],
  ['方便', '便', 'bian4'],
  ['参加会议', '参', 'can1'],
  ['人参', '参', 'shen1'],
  ['银行行长', '行', 'hang2'],
  ['中奖了', '中', 'zhong4'],
  ['中国', '中', 'zhong1'],
];

describe('teacher readings (the dictionary as GLM-TTS applies it, then its G2P)', () => {
  it(`reads ${CONTEXTS.length} real polyphone contexts as the teacher does`, () => {
    assert.ok(CONTEXTS.length >= 40);
    for (const [text, char, want] of CONTEXTS) {
      const i = text.indexOf(char);
      const r = teacherReadings(text)[i]!;
      assert.equal(r.reading, want, `${text}: ${char}`);
      assert.equal(r.polyphone, true, `${text}: ${char} is a polyphone`);
      assert.ok(r.candidates.includes(want), `${char} candidates ${r.candidates}`);
      // GLM-TTS writes tokens only for characters outside its able list; the rest its language model reads.
      assert.equal(r.source, AbleList.bundled.has(char) ? 'model' : 'g2p', `${text}: ${char}`);
    }
  });

  it('says who decides each character: the dictionary, the G2P (tokens) or the language model (able list)', () => {
    // 会 and 大 are in G2P_able_1word.json (left as text); 行 and 长 are not (tokens).
    assert.ok(AbleList.bundled.has('会') && AbleList.bundled.has('大'));
    assert.ok(!AbleList.bundled.has('行') && !AbleList.bundled.has('长'));
    assert.equal(AbleList.bundled.size, 3372);
    const r = teacherReadings('会长说，AI大会');
    assert.deepEqual(
      r.map((x) => x.source),
      ['model', 'g2p', 'model', 'none', 'none', 'none', 'model', 'model'],
    );
    assert.equal(r[0]!.reading, 'hui4', 'the G2P reading stays as a hint');
    // A checkout's own list decides when one is given.
    const own = new AbleList(['长'], 'test');
    assert.deepEqual(
      teacherReadings('会长说', ReplaceDict.empty, own).map((x) => x.source),
      ['g2p', 'model', 'g2p'],
    );
    assert.equal(teacherReadings('会长说')[1]!.source, 'g2p', 'the cache keeps the two lists apart');
  });

  it("where the teacher's G2P is wrong, a dictionary rule decides, and says which", () => {
    // Misreadings of the real teacher (scripts/reference/teacher_g2p.py): 还书 hai2, 选为 wei4, 很长 zhang3.
    const misses: Array<[string, string, string, string]> = [
      ['我去还书', '还', 'huan2', '{"word": "还", "context": "还书", "phoneme": "huan2"}'],
      ['他被选为代表', '为', 'wei2', '{"选为": "选<|UEI2|>"}'],
      ['这条河很长', '长', 'chang2', '{"word": "长", "context": "很长", "phoneme": "chang2"}'],
    ];
    for (const [text, char, want, line] of misses) {
      const i = text.indexOf(char);
      assert.notEqual(teacherReadings(text)[i]!.reading, want, `the G2P now gets ${text} right: move it to CONTEXTS`);
      const r = teacherReadings(text, ReplaceDict.fromText(`{"无关": "x"}\n${line}`))[i]!;
      assert.equal(r.reading, want);
      assert.equal(r.source, 'dictionary');
      assert.equal(r.rule?.line, 1);
    }
  });

  it('gives one entry per UTF-16 unit: readings for Han characters, null for the rest', () => {
    const text = 'AI说𠮷，ok 2个';
    const r = teacherReadings(text);
    assert.equal(r.length, text.length);
    assert.deepEqual(
      r.map((x) => x.reading),
      [null, null, 'shuo1', null, null, null, null, null, null, null, 'ge4'],
    );
    assert.equal(r[3]!.char, '𠮷');
    assert.equal(r[4]!.char, '');
    assert.equal(r[0]!.source, 'none');
    assert.deepEqual(r[0]!.candidates, []);
  });

  it('reads as pypinyin does for GLM-TTS: 一 before a fourth tone as yi2, the neutral tone as 5', () => {
    const r = teacherReadings('一个人的桌子');
    assert.equal(r[0]!.reading, 'yi2');
    assert.equal(r[3]!.reading, 'de5');
    assert.equal(r[5]!.reading, 'zi5');
    assert.equal(defaultReading('绿'), 'lv4');
    assert.ok(candidateReadings('的').includes('de5'));
  });

  it('a dictionary match ends the G2P block: the words around it are read without it', () => {
    // In 我的银行 the teacher reads 行 hang2; after a rule on 的银 its G2P sees 行 alone: xing2 (as the Python does).
    assert.equal(teacherReadings('我的银行')[3]!.reading, 'hang2');
    const d = ReplaceDict.fromText('{"的银": "的<|IN2|>"}');
    const r = teacherReadings('我的银行', d);
    assert.deepEqual(
      r.map((x) => [x.reading, x.source]),
      [
        ['wo3', 'model'],
        ['de5', 'model'],
        ['yin2', 'dictionary'],
        ['xing2', 'g2p'],
      ],
    );
    assert.deepEqual(r[2]!.rule, { key: '的银', line: 0 });
    assert.equal(formatReadings(r), 'wo3 de5 yin2 xing2');
  });

  it('applies the dictionary to the normalised text: upper case and brackets do not hide a key, a digit does', () => {
    const d = ReplaceDict.fromText('{"ab行": "ab<|H|><|ANG2|>"}\n{"第一行": "第一<|H|><|ANG2|>"}');
    assert.equal(teacherReadings('AB行', d)[2]!.reading, 'hang2');
    assert.equal(teacherReadings('（ab）行', d)[4]!.reading, 'hang2');
    assert.equal(teacherReadings('第1行', d)[2]!.source, 'g2p');
  });

  it('reads 嗯 and 呣 the way glm_g2p rewrites them', () => {
    assert.equal(predictReadings('嗯，好').readings[0], 'en1');
    assert.equal(predictReadings('呣').readings[0], 'mu3');
  });

  it('caches per text and dictionary version', () => {
    const d1 = ReplaceDict.fromText('{"银行": "银<|X|><|ING2|>"}');
    const d2 = ReplaceDict.fromText('{"银行": "银<|H|><|ANG2|>"}');
    const a = teacherReadings('他去银行', d1);
    assert.equal(teacherReadings('他去银行', d1), a);
    assert.equal(teacherReadings('他去银行', d2)[3]!.reading, 'hang2');
    assert.equal(a[3]!.reading, 'xing2');
  });
});

void it('syllable tables: readings packed by one table come back through a copy extended with what it added', () => {
  const worker = new SyllableTable();
  const copy = new SyllableTable();
  let sent = worker.size;
  const send = () => {
    const add = worker.syllables.slice(sent) as string[];
    const ok = copy.extend(sent, add);
    sent = worker.size;
    return ok;
  };
  const a: LineReadings = { readings: ['yin2', 'hang2', null, 'xing2'], pinned: new Map([[0, { key: '银行' }]]) };
  const b: LineReadings = { readings: ['xing2', null, 'zhang3', 'yin2'], kept: new Set([2]) };
  const pa = worker.pack(a)!;
  assert.equal(pa.ids.length, 4);
  assert.ok(send());
  const pb = worker.pack(b)!;
  assert.ok(send());
  assert.deepEqual(copy.unpack(pa), a);
  assert.deepEqual(copy.unpack(pb), b);
  // Stored packed with the copy, they read back as they were.
  clearReadingsCache();
  storePackedReadings(ReplaceDict.empty.version, '银行a行', pa, copy);
  assert.deepEqual(cachedReadings('银行a行', ReplaceDict.empty), a);
  clearReadingsCache();
  // Syllables that do not follow on from the copy (a reply lost) are refused, not appended out of place.
  worker.pack({ readings: ['chong2'] });
  worker.pack({ readings: ['zhong4'] });
  assert.equal(copy.extend(sent + 1, ['zhong4']), false);
  assert.equal(copy.size, sent);
});

void it('readings pool: a worker thread’s readings reach the line cache as the teacher gives them, verdicts as on this thread', async () => {
  clearReadingsCache();
  const dict = ReplaceDict.empty;
  const texts = ['他在银行工作了很多年', '我们重新安排了会议的时间', '长大以后他成为了音乐家', '嗯，这一行的规矩很重要', '𠀀长得快'];
  const pool = new ReadingsPool({ workers: 1, batch: 2 });
  try {
    assert.ok(pool.usesWorkers, 'the worker file is found under tsx');
    pool.configure({
      key: 'test',
      dict: { version: dict.version, entries: [] },
      able: { version: 'bundled' },
      student: null,
      raisedOnly: false,
      local: () => assert.fail('computed on this thread'),
    });
    pool.request(texts);
    await pool.whenReady(texts, 60_000);
    for (const t of texts) {
      const expected = predictReadings(t, dict);
      assert.deepEqual(cachedReadings(t, dict), expected, t);
      assert.deepEqual(pool.cached(t), polyphoneVerdicts(t, expected, { dict, able: AbleList.bundled, raisedOnly: false }), t);
    }
  } finally {
    pool.dispose();
    clearReadingsCache();
  }
});

void it('line cache: readings come back as they were stored (packed as syllable ids), with their pins; past the ids, kept as they are', () => {
  clearReadingsCache();
  const dict = ReplaceDict.empty;
  const text = '银行𠀀a行';
  const stored: LineReadings = {
    readings: ['yin2', 'hang2', null, null, null, 'xing2'],
    pinned: new Map([[1, { key: '银行', line: 3 }]]),
    kept: new Set([5]),
  };
  storeReadings(dict.version, text, stored);
  assert.deepEqual(cachedReadings(text, dict), stored);
  assert.deepEqual(linePredict(text, dict), stored);
  assert.equal(cachedReadings('另一行', dict), undefined);
  // A line whose readings are computed here is stored too.
  const computed = linePredict('我们走在银行', dict);
  assert.deepEqual(cachedReadings('我们走在银行', dict), computed);
  assert.equal(computed.readings[5], 'hang2');
  // More distinct syllables than ids (never in pinyin; a G2P gone wrong): stored unpacked, not lost.
  const many = Array.from({ length: 0xd800 }, (_, i) => `x${i}`);
  storeReadings(dict.version, 'many', { readings: many });
  assert.deepEqual(cachedReadings('many', dict)!.readings, many);
  clearReadingsCache();
});
