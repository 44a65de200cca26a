import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { seededRandom } from '../../server/src/core/student/prng';
import {
  convertDictionaryText,
  detectDictDialect,
  loadReplaceDict,
  ReplaceDict,
  ruleToUpstream,
  upstreamToRule,
} from '../../server/src/core/pronunciation/dictionary';
import {
  applyLikeTeacher,
  keyNeverMatches,
  teacherChunks,
  teacherTextView,
  teacherTextViewByChar,
} from '../../server/src/core/pronunciation/glmFrontend';

const fragments = (d: ReplaceDict, text: string) =>
  d
    .apply(text)
    .map((f) => (f.entry ? `[${text.slice(f.start, f.end)}→${f.entry.value}]` : text.slice(f.start, f.end)))
    .join('');

describe('dictionary engine: the teacher’s _tokenize_by_replace_dict', () => {
  it('matches left to right, longest key first, without overlaps', () => {
    const d = ReplaceDict.fromText(
      '{"行": "<|X|><|ING2|>"}\n{"银行": "银<|H|><|ANG2|>"}\n{"银行行长": "银<|H|><|ANG2|><|H|><|ANG2|>长"}\n{"行长": "<|H|><|ANG2|>长"}',
    );
    assert.equal(fragments(d, '银行行长来了'), '[银行行长→银<|H|><|ANG2|><|H|><|ANG2|>长]来了');
    assert.equal(fragments(d, '银行长'), '[银行→银<|H|><|ANG2|>]长');
    assert.equal(fragments(d, '行行长'), '[行→<|X|><|ING2|>][行长→<|H|><|ANG2|>长]');
    // Left to right wins over longest: at 银 the scan takes 银行 before 行长 is ever tried.
    assert.equal(fragments(d, '去银行长沙'), '去[银行→银<|H|><|ANG2|>]长沙');
    assert.equal(d.applyToString('他在银行'), '他在银<|H|><|ANG2|>');
  });

  it('merges lines like dict.update: a later duplicate key wins, a line may hold several keys', () => {
    const d = ReplaceDict.fromText('{"重": "<|ZH|><|ONG4|>", "长": "<|CH|><|ANG2|>"}\n\n   \n{"重": "<|CH|><|ONG2|>"}\n');
    assert.deepEqual([...d.entries.keys()], ['重', '长']);
    assert.equal(d.get('重')!.value, '<|CH|><|ONG2|>');
    assert.equal(d.get('重')!.line, 3);
    assert.equal(d.get('长')!.line, 0);
  });

  it('a rule means the upstream key "context" with the word’s tokens in place', () => {
    const rule = ReplaceDict.fromText('{"word": "行", "context": "银行", "phoneme": "hang2"}');
    const up = ReplaceDict.fromText('{"银行": "银<|H|><|ANG2|>"}');
    assert.equal(rule.version, up.version);
    assert.equal(rule.applyToString('他在银行'), up.applyToString('他在银行'));
    assert.deepEqual(ruleToUpstream('长', '长长的', 'chang2'), {
      ok: true,
      value: { key: '长长的', value: '<|CH|><|ANG2|><|CH|><|ANG2|>的', pinyin: ['chang2'] },
    });
    assert.deepEqual(ruleToUpstream('银行', '银行卡', 'yin2 hang2'), {
      ok: true,
      value: { key: '银行卡', value: '<|IN2|><|H|><|ANG2|>卡', pinyin: ['yin2', 'hang2'] },
    });
    const bad = ruleToUpstream('行', '银河', 'hang2');
    assert.equal(bad.ok, false);
    assert.equal(ruleToUpstream('银行', '银行', 'hang2').ok, false);
    assert.deepEqual(ruleToUpstream('行', '银行', '<|H|><|ANG2|>'), {
      ok: true,
      value: { key: '银行', value: '银<|H|><|ANG2|>', pinyin: ['hang2'] },
    });
  });

  it('sorts keys by Python len (code points), steps whole code points, never matches an empty key', () => {
    const astral = '𠮷';
    const d = new ReplaceDict([
      { key: `${astral}a`, value: 'X', line: 0, dialect: 'upstream' },
      { key: `${astral}ab`, value: 'Y', line: 1, dialect: 'upstream' },
      { key: '', value: 'E', line: 2, dialect: 'upstream' },
      { key: '\udfb7a', value: 'LOW', line: 3, dialect: 'upstream' },
    ]);
    assert.equal(d.applyToString(`${astral}ab${astral}a${astral}c`), `YX${astral}c`);
    // The low surrogate of 𠮷 is never a position of its own in Python.
    assert.equal(d.applyToString(`${astral}ac`), 'Xc');
  });

  it('agrees with the teacher’s loop run by Python on random dictionaries', { skip: !hasPython() && 'python3 not installed' }, () => {
    const alphabet = ['行', '银', '长', 'a', 'b', '𠮷', '，'];
    let seed = 7;
    const rand = (n: number) => (seed = (seed * 1103515245 + 12345) % 2147483648) % n;
    const word = (max: number) => Array.from({ length: 1 + rand(max) }, () => alphabet[rand(alphabet.length)]).join('');
    const cases: Array<{ lines: string[]; text: string }> = [];
    for (let c = 0; c < 60; c++) {
      const lines: string[] = [];
      for (let l = 0; l < 1 + rand(6); l++) {
        const obj: Record<string, string> = {};
        for (let k = 0; k < 1 + rand(2); k++) obj[word(3)] = `<${c}.${l}.${k}>`;
        lines.push(JSON.stringify(obj));
      }
      cases.push({ lines, text: word(30) });
    }
    const py = `
import json, sys
out = []
for case in json.loads(sys.stdin.read()):
    d = {}
    for line in case['lines']:
        line = line.strip()
        if not line: continue
        d.update(json.loads(line))
    keys = sorted(d, key=len, reverse=True)
    text = case['text']; i = 0; n = len(text); res = []
    while i < n:
        for k in keys:
            if text.startswith(k, i):
                res.append(d[k]); i += len(k); break
        else:
            res.append(text[i]); i += 1
    out.append(''.join(res))
print(json.dumps(out, ensure_ascii=False))`;
    const r = spawnSync('python3', ['-c', py], { input: JSON.stringify(cases), encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const expected = JSON.parse(r.stdout) as string[];
    cases.forEach((c, k) => assert.equal(ReplaceDict.fromText(c.lines.join('\n')).applyToString(c.text), expected[k], JSON.stringify(c)));
  });

  it('knows which keys can never match after the teacher’s normalisation', () => {
    const never: Array<[string, RegExp]> = [
      ['第3行', /digit/],
      ['ABC', /upper-case.*"abc"/],
      ['（行）', /full-width/],
      ['Ａ行', /full-width/],
      ['行，。', /two punctuation marks/],
      ['银 行', /space/],
      ['“行”', /removes/],
      ['行、', /rewrites "、" as "，"/],
      ['噢行', /custom_replace/],
      ['行😀', /emoji/],
      ['x/y', /每/],
      ['长'.repeat(61), /chunks of at most 60/],
    ];
    for (const [k, why] of never) assert.match(keyNeverMatches(k)?.reason ?? '(matches)', why, k);
    for (const k of ['银行', '行，', 'ab c', 'abc', '行?', '长'.repeat(60)]) assert.equal(keyNeverMatches(k), undefined, k);
  });

  it('sees the text as the teacher’s dictionary does, and maps it back', () => {
    assert.deepEqual(teacherTextView('银行，行长'), { view: '银行，行长' });
    assert.deepEqual(teacherTextView('ABC银行2'), { view: 'abc银行\u0000' });
    const v = teacherTextView('他说：“去（银）行！！”');
    assert.equal(v.view, '他说，去银行.');
    assert.deepEqual(v.origin, [0, 1, 2, 4, 6, 8, 9]);
    // Removed brackets let a key match across them, as after the teacher's normalisation.
    const d = ReplaceDict.fromText('{"银行": "银<|H|><|ANG2|>"}');
    const r = applyLikeTeacher(d, '去（银）行');
    assert.deepEqual(
      r.fragments.filter((f) => f.entry).map((f) => r.view.slice(f.start, f.end)),
      ['银行'],
    );
  });

  it('says the view by its per-code table exactly as by the rules, character by character', () => {
    // Every kind of character the rules treat apart: kept, rewritten, removed, collapsed, spelled out.
    const pool = [
      ...'银行长重了噢欸aZ09５，,、。.!！?？…：:;；/~～†（）()【】「」《》“”‘’"\'_·|-*#－＂　\n\t—%％αβ∈²①⑩',
      ' ',
      '😀',
      '☀',
      '\u{20000}',
    ];
    const rand = seededRandom(7);
    let withOrigin = 0;
    for (let t = 0; t < 3000; t++) {
      let text = '';
      for (let i = 0, n = Math.floor(rand() * 12); i < n; i++) text += pool[Math.floor(rand() * pool.length)];
      const got = teacherTextView(text);
      const want = teacherTextViewByChar(text);
      assert.equal(got.view, want.view, JSON.stringify(text));
      if (got.origin) withOrigin++;
      assert.deepEqual(got.origin ?? [...want.view].map((_, k) => k), want.origin, JSON.stringify(text));
    }
    assert.ok(withOrigin > 1000, `${withOrigin}`);
  });

  it('applies the dictionary inside the teacher’s 30–60 character chunks', () => {
    const first = '甲'.repeat(29) + '银，'; // 31 units ending in punctuation: one sentence
    const text = `${first}行长`;
    assert.deepEqual(teacherChunks(text), [
      [0, 31],
      [31, 33],
    ]);
    const d = ReplaceDict.fromText('{"，行": "X"}\n{"银": "Y"}');
    const r = applyLikeTeacher(d, text);
    assert.deepEqual(
      r.fragments.filter((f) => f.entry).map((f) => f.entry!.key),
      ['银'],
    );
    // A sentence without punctuation is cut every 60 units.
    assert.deepEqual(teacherChunks('长'.repeat(130)), [
      [0, 60],
      [60, 120],
      [120, 130],
    ]);
  });

  it('converts between the dialects exactly, keeping what has no exact form', () => {
    const upstream =
      '{"银行": "银<|H|><|ANG2|>", "乡音无改鬓毛衰": "乡音无改鬓毛<|C|><|UEI1|>"}\n\n{"噢": "哦"}\n{"长江长": "<|ZH|><|ANG3|>江<|CH|><|ANG2|>"}';
    const toRule = convertDictionaryText(upstream, 'rule');
    assert.equal(
      toRule.text,
      [
        '{"word": "行", "context": "银行", "phoneme": "hang2"}',
        '{"word": "衰", "context": "乡音无改鬓毛衰", "phoneme": "cui1"}',
        '',
        '{"噢": "哦"}',
        '{"长江长": "<|ZH|><|ANG3|>江<|CH|><|ANG2|>"}',
      ].join('\n'),
    );
    assert.deepEqual(
      toRule.notes.map((n) => n.line),
      [2, 3],
    );
    const back = convertDictionaryText(toRule.text, 'upstream');
    assert.equal(ReplaceDict.fromText(back.text).version, ReplaceDict.fromText(upstream).version);
    assert.equal(detectDictDialect(toRule.text), 'mixed');
    assert.equal(detectDictDialect(back.text), 'upstream');
    assert.equal(upstreamToRule('行行', '<|H|><|ANG2|>行'), undefined);
    assert.deepEqual(upstreamToRule('行行', '<|H|><|ANG2|><|H|><|ANG2|>'), { word: '行行', context: '行行', phoneme: 'hang2 hang2' });
  });

  it('loads a dictionary file once per modification', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'dict-'));
    const file = path.join(dir, 'G2P_replace_dict.jsonl');
    assert.equal((await loadReplaceDict(file)).size, 0);
    writeFileSync(file, '{"银行": "银<|H|><|ANG2|>"}\n');
    const a = await loadReplaceDict(file);
    assert.equal(a.size, 1);
    assert.equal(await loadReplaceDict(file), a);
    writeFileSync(file, '{"银行": "银<|H|><|ANG2|>"}\n{"行长": "<|H|><|ANG2|>长"}\n');
    utimesSync(file, new Date(), new Date(Date.now() + 5000));
    const b = await loadReplaceDict(file);
    assert.notEqual(b, a);
    assert.equal(b.size, 2);
  });
});

function hasPython(): boolean {
  return spawnSync('python3', ['--version']).status === 0;
}
