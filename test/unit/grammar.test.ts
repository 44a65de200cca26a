import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';

// The grammars' regexes use only syntax that Oniguruma and JavaScript share, so they can be checked here.
const load = (name: string) => JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'syntaxes', name), 'utf8'));

describe('TextMate grammars', () => {
  for (const file of ['tts-tasks.tmLanguage.json', 'g2p-dict.tmLanguage.json']) {
    const g = load(file);
    const re = (k: string) => new RegExp(g.repository[k].match, 'g');
    it(`${file}: pinyin and phoneme tokens inside strings`, () => {
      for (const p of ['hang2', 'chong2', 'lv4', 'lu:4', 'lü4', 'er2', 'zhi1', 'a5'])
        assert.deepEqual(`x ${p} y`.match(re('pinyin')), [p], p);
      assert.equal('银行 hello world'.match(re('pinyin')), null);
      assert.deepEqual('银<|H|><|ANG2|>'.match(re('token')), ['<|H|>', '<|ANG2|>']);
    });
  }
  it('known keys are highlighted per language', () => {
    assert.match('"syn_text": "x"', new RegExp(load('tts-tasks.tmLanguage.json').repository.key.match));
    assert.match('"phoneme": "x"', new RegExp(load('g2p-dict.tmLanguage.json').repository.key.match));
    assert.doesNotMatch('"phoneme": "x"', new RegExp(load('tts-tasks.tmLanguage.json').repository.key.match));
  });
});
