import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { pinyin } from 'pinyin-pro';
import {
  normalizePinyin,
  parsePinyin,
  parsePinyinDetailed,
  parseReplacement,
  PHONEME_SYMBOLS,
  pinyinToTokens,
  readingToPinyin,
  tokensToPinyin,
} from '../../server/src/core/formats/notation';

const PHONEMES = path.resolve(__dirname, '..', '..', 'data', 'glmtts', 'G2P_all_phonemes.json');

describe('notation: tone-numbered pinyin ↔ the teacher’s tokens', () => {
  it('ships exactly the 204 symbols of G2P_all_phonemes.json', () => {
    const ref = Object.values(JSON.parse(readFileSync(PHONEMES, 'utf8')) as Record<string, string>);
    assert.equal(ref.length, 204);
    assert.deepEqual([...PHONEME_SYMBOLS].sort(), [...ref].sort());
  });

  const table: Array<[string, string]> = [
    // docs/FORMATS.md §2 examples
    ['hang2', '<|H|><|ANG2|>'],
    ['chong2', '<|CH|><|ONG2|>'],
    ['yi4', '<|I4|>'],
    ['ju2', '<|J|><|V2|>'],
    ['liu2', '<|L|><|IOU2|>'],
    ['gui4', '<|G|><|UEI4|>'],
    ['lun2', '<|L|><|UEN2|>'],
    ['yue4', '<|VE4|>'],
    ['shi4', '<|SH|><|III4|>'],
    ['zi3', '<|Z|><|II3|>'],
    // zhi/chi/shi/ri → III, zi/ci/si → II
    ['zhi1', '<|ZH|><|III1|>'],
    ['chi2', '<|CH|><|III2|>'],
    ['ri4', '<|R|><|III4|>'],
    ['ci2', '<|C|><|II2|>'],
    ['si5', '<|S|><|II5|>'],
    // j/q/x + u is ü
    ['qu4', '<|Q|><|V4|>'],
    ['jiu3', '<|J|><|IOU3|>'],
    ['qiu2', '<|Q|><|IOU2|>'],
    ['xiu1', '<|X|><|IOU1|>'],
    ['jun1', '<|J|><|VN1|>'],
    ['xue2', '<|X|><|VE2|>'],
    ['juan3', '<|J|><|VAN3|>'],
    ['xun4', '<|X|><|VN4|>'],
    // lü, nü, lüe, nüe
    ['lv4', '<|L|><|V4|>'],
    ['nv3', '<|N|><|V3|>'],
    ['lve4', '<|L|><|VE4|>'],
    ['nve4', '<|N|><|VE4|>'],
    ['lu4', '<|L|><|U4|>'],
    // y and w are not initials
    ['ya1', '<|IA1|>'],
    ['ye3', '<|IE3|>'],
    ['yao4', '<|IAO4|>'],
    ['you3', '<|IOU3|>'],
    ['yan2', '<|IAN2|>'],
    ['yin1', '<|IN1|>'],
    ['yang2', '<|IANG2|>'],
    ['ying4', '<|ING4|>'],
    ['yong3', '<|IONG3|>'],
    ['yo1', '<|IO1|>'],
    ['yu2', '<|V2|>'],
    ['yuan2', '<|VAN2|>'],
    ['yun4', '<|VN4|>'],
    ['wu3', '<|U3|>'],
    ['wa1', '<|UA1|>'],
    ['wo3', '<|UO3|>'],
    ['wai4', '<|UAI4|>'],
    ['wei4', '<|UEI4|>'],
    ['wan3', '<|UAN3|>'],
    ['wen2', '<|UEN2|>'],
    ['wang4', '<|UANG4|>'],
    ['weng1', '<|UENG1|>'],
    // er, zero-initial finals, o after labials
    ['er2', '<|ER2|>'],
    ['er4', '<|ER4|>'],
    ['a1', '<|A1|>'],
    ['ou3', '<|OU3|>'],
    ['e4', '<|E4|>'],
    ['bo2', '<|B|><|O2|>'],
    ['fo2', '<|F|><|O2|>'],
    // neutral tone
    ['de5', '<|D|><|E5|>'],
    ['le5', '<|L|><|E5|>'],
    ['men5', '<|M|><|EN5|>'],
    ['zi5', '<|Z|><|II5|>'],
  ];
  for (const [p, tokens] of table) {
    it(`${p} ↔ ${tokens}`, () => {
      assert.equal(pinyinToTokens(p), tokens);
      assert.deepEqual(tokensToPinyin(tokens), [p]);
    });
  }

  it('reads every spelling of ü and the neutral tone, and tone marks', () => {
    assert.equal(normalizePinyin('lv4'), 'lv4');
    assert.equal(normalizePinyin('lü4'), 'lv4');
    assert.equal(normalizePinyin('lu:4'), 'lv4');
    assert.equal(normalizePinyin('LÜE4'), 'lve4');
    assert.equal(normalizePinyin('nü3'), 'nv3');
    assert.equal(normalizePinyin('de0'), 'de5');
    assert.equal(normalizePinyin('de5'), 'de5');
    assert.equal(normalizePinyin('háng'), 'hang2');
    assert.equal(normalizePinyin('lǜ'), 'lv4');
    assert.equal(normalizePinyin('zhōng'), 'zhong1');
    const p = parsePinyin('chong2')!;
    assert.deepEqual(
      { initial: p.initial, final: p.final, tone: p.tone, base: p.base },
      { initial: 'ch', final: 'ong', tone: 2, base: 'chong' },
    );
  });

  it('rejects what is not a reading the teacher can write, saying why', () => {
    const reasons: Record<string, RegExp> = {
      hang6: /tone 6/,
      hang: /no tone/,
      gv2: /not a Mandarin syllable/,
      xx1: /not a Mandarin syllable/,
      ng2: /interjection/,
      m2: /interjection/,
      er5: /no ER5/,
      er1: /no ER1/,
      '': /empty/,
      'hang 2': /not tone-numbered/,
      hǎná: /two tone marks/,
    };
    for (const [input, why] of Object.entries(reasons)) {
      const r = parsePinyinDetailed(input);
      assert.equal(r.ok, false, input);
      if (!r.ok) assert.match(r.reason, why, input);
    }
  });

  it('every reading pinyin-pro gives any character (except interjections) has a token form made of the 204 symbols, and round-trips', () => {
    let checked = 0;
    for (let c = 0x4e00; c <= 0x9fa5; c += 7) {
      for (const raw of pinyin(String.fromCharCode(c), { multiple: true, type: 'array', toneType: 'num', v: true })) {
        const p = parsePinyin(raw);
        if (!p) {
          assert.match(raw, /^(m|n|ng|hm|hng|er)[0-5]$|^\D*$/, `${String.fromCharCode(c)} ${raw}`);
          continue;
        }
        const tokens = pinyinToTokens(p);
        for (const t of tokens.slice(2, -2).split('|><|')) assert.ok(PHONEME_SYMBOLS.has(t), `${raw}: ${t}`);
        assert.deepEqual(tokensToPinyin(tokens), [p.text]);
        checked++;
      }
    }
    assert.ok(checked > 2500);
  });

  it('several syllables at once', () => {
    assert.equal(pinyinToTokens('yin2 hang2'), '<|IN2|><|H|><|ANG2|>');
    assert.deepEqual(tokensToPinyin('<|IN2|><|H|><|ANG2|>'), ['yin2', 'hang2']);
    assert.deepEqual(readingToPinyin('yin2  hang2'), { ok: true, value: ['yin2', 'hang2'] });
    assert.deepEqual(readingToPinyin('<|H|><|ANG2|>'), { ok: true, value: ['hang2'] });
  });

  it('splits a replacement into text and syllables and names each broken token', () => {
    const parts = parseReplacement('乡音<|C|><|UEI1|>x<|ZH|><|I4|><|h|><|Q|><|U4|><|G|><|V2|><|SH|>');
    const expected: Array<[string, string | RegExp]> = [
      ['text', '乡'],
      ['text', '音'],
      ['syllable', 'cui1'],
      ['text', 'x'],
      ['invalid', /^<\|ZH\|><\|I4\|>: after ZH the teacher writes III/],
      ['invalid', /^<\|h\|> is not one of the teacher's 204 .*upper-case/],
      ['invalid', /^<\|Q\|><\|U4\|>: after Q the teacher writes V/],
      ['invalid', /^<\|G\|><\|V2\|> is not a Mandarin syllable/],
      ['invalid', /^the initial <\|SH\|> is not followed by a final/],
    ];
    assert.equal(parts.length, expected.length);
    parts.forEach((p, k) => {
      const [kind, what] = expected[k]!;
      assert.equal(p.kind, kind);
      const got = p.kind === 'syllable' ? p.pinyin : p.kind === 'text' ? p.text : p.reason;
      if (typeof what === 'string') assert.equal(got, what);
      else assert.match(got, what);
    });
    assert.deepEqual(parts[2], { kind: 'syllable', pinyin: 'cui1', tokens: '<|C|><|UEI1|>', start: 2, end: 15 });
    assert.throws(() => tokensToPinyin('<|L|><|IU2|>'), /not followed by a final|204 phoneme symbols/);
    assert.throws(() => tokensToPinyin('abc'), /not a phoneme token/);
  });
});
