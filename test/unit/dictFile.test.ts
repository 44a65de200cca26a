import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { dictionaryPronunciationFindings, parseDictionaryFile, validateDictionaryText } from '../../server/src/core/formats/dictFile';
import { defaultSettings } from '../../server/src/core/settings';

const fixture = (name: string) => readFileSync(path.join(__dirname, '..', 'fixtures', 'pronunciation', name), 'utf8');

describe('dictionary files: entries with ranges, structural and pronunciation checks', () => {
  it('parses both dialects with the offsets of keys and values', () => {
    const text = '{"word": "行", "context": "银行", "phoneme": "hang2"}\n{"a": "<|A1|>", "银\\u884c": "银<|H|><|ANG2|>"}';
    const p = parseDictionaryFile(text);
    assert.equal(p.dialect, 'mixed');
    const [rule, a, bank] = p.entries;
    assert.deepEqual([rule!.dialect, rule!.key, rule!.word, rule!.value], ['rule', '银行', '行', 'hang2']);
    const line0 = text.split('\n')[0]!;
    assert.equal(line0.slice(rule!.keyStart, rule!.keyEnd), '"银行"');
    assert.equal(line0.slice(rule!.valueStart, rule!.valueEnd), '"hang2"');
    assert.equal(line0.slice(rule!.wordStart, rule!.wordEnd), '"行"');
    const line1 = text.split('\n')[1]!;
    assert.equal(a!.member, 0);
    assert.equal(bank!.membersOnLine, 2);
    assert.equal(bank!.key, '银行');
    assert.equal(line1.slice(bank!.keyOffsetOf(1), bank!.keyOffsetOf(2)), '\\u884c');
  });

  it('keeps the structural checks', () => {
    const { findings, dialect } = validateDictionaryText(fixture('structure.g2p.jsonl'), defaultSettings);
    assert.equal(dialect, 'mixed');
    const byLine = (l: number) => findings.filter((f) => f.range.start.line === l).map((f) => `${f.code}: ${f.message}`);
    assert.match(byLine(0).join(), /dict\/schema: missing key "phoneme"/);
    assert.match(byLine(1).join(), /dict\/schema: "银行" must be string/);
    assert.match(byLine(2).join(), /unknown key "note"/);
    assert.match(byLine(3).join(), /dict\/empty-key: .*never finishes/);
    assert.match(byLine(4).join(), /dict\/json-syntax/);
    assert.match(byLine(5).join(), /dict\/not-object/);
    const bom = validateDictionaryText('\uFEFF{"a": "b"}', defaultSettings).findings[0]!;
    assert.equal(bom.code, 'dict/bom');
    assert.match(bom.message, /Unexpected UTF-8 BOM/);
  });

  it('reports what the teacher will do with each entry', () => {
    const text = fixture('problems.g2p.jsonl');
    const lines = text.split('\n');
    const findings = dictionaryPronunciationFindings(parseDictionaryFile(text), {
      file: '/ws/problems.g2p.jsonl',
      contexts: ['他是银行行长', '银行行长来了'],
    });
    const at = (line: number, code: string) => findings.filter((f) => f.range.start.line === line && f.code === code);
    const one = (line: number, code: string) => {
      const f = at(line, code);
      assert.equal(
        f.length,
        1,
        `line ${line + 1} ${code}: ${JSON.stringify(findings.filter((x) => x.range.start.line === line).map((x) => x.code))}`,
      );
      return { ...f[0]!, text: lines[line]!.slice(f[0]!.range.start.character, f[0]!.range.end.character) };
    };
    // A reading the character cannot have (pinyin-pro's candidates).
    assert.match(one(1, 'dict/impossible-reading').message, /重 is never read zhong1: its readings are zhong4, chong2/);
    // context without word.
    const ctx = one(2, 'dict/context-without-word');
    assert.equal(ctx.text, '"好的"');
    assert.equal(ctx.severity, 'error');
    // Invalid pinyin / tokens.
    assert.match(one(3, 'dict/invalid-reading').message, /tone 6/);
    const tok = one(4, 'dict/invalid-token');
    assert.equal(tok.text, '<|ZH|><|I4|>');
    assert.match(tok.message, /III/);
    const typed = one(5, 'dict/pinyin-in-value');
    assert.equal(typed.text, 'hao3');
    assert.deepEqual(typed.data, {
      fix: 'use-tokens',
      line: 5,
      start: lines[5]!.indexOf('"hao3'),
      end: lines[5]!.indexOf('"}') + 1,
      replacement: '"<|H|><|AO3|>人"',
    });
    // Keys that can never match after normalisation.
    assert.equal(one(6, 'dict/never-matches').text, 'A');
    assert.equal(one(7, 'dict/never-matches').text, '3');
    // Same key, different readings: error on both, each pointing at the other.
    const c1 = one(0, 'dict/conflicting-key');
    const c2 = one(8, 'dict/conflicting-key');
    assert.equal(c1.severity, 'error');
    assert.equal(c1.related?.[0]?.range.start.line, 8);
    assert.equal(c1.related?.[0]?.file, '/ws/problems.g2p.jsonl');
    assert.equal(c2.related?.[0]?.range.start.line, 0);
    assert.match(c1.message, /the teacher uses the last one \(line 9\), so this one is ignored/);
    // Same key twice with the same reading: warning, later wins.
    const d1 = one(9, 'dict/duplicate-key');
    assert.equal(d1.severity, 'warning');
    assert.deepEqual(d1.data, { fix: 'remove-duplicate', line: 9, key: '长城', member: 0, membersOnLine: 1 });
    assert.equal(one(10, 'dict/duplicate-key').related?.[0]?.range.start.line, 9);
    // Shadowed by a longer key in every text it appears in.
    const sh = one(11, 'dict/shadowed');
    assert.equal(sh.severity, 'hint');
    assert.match(sh.message, /"行长" appears in 2 task texts but never applies there: "银行行长" matches there first/);
    // Restating the teacher's default: a faded hint.
    const red = one(10, 'dict/redundant');
    assert.deepEqual(red.tags, ['unnecessary']);
    assert.match(red.message, /already reads 长 chang2 in "长城"/);
    // Rule readings in tokens: offered in pinyin.
    assert.deepEqual(one(12, 'dict/token-notation-in-rule').data, {
      fix: 'use-pinyin',
      line: 12,
      start: lines[12]!.indexOf('"<|J|>'),
      end: lines[12]!.indexOf('"}') + 1,
      replacement: '"jiao4"',
    });
    // Nothing is said about the good rule beyond its conflict.
    assert.deepEqual(
      findings.filter((f) => f.range.start.line === 0).map((f) => f.code),
      ['dict/conflicting-key'],
    );
  });
});
