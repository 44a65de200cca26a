import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { runCli } from './runCli';

const cliEmptyEnv = (args: string[], cwd: string) => runCli(args, cwd, {});

describe('CLI: tts-distill g2p and dict convert', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'cli-g2p-'));
  writeFileSync(path.join(dir, 'd.jsonl'), '{"银行": "银<|H|><|ANG2|>"}\n{"长大": "<|CH|><|ANG2|>大"}\n{"噢": "哦"}\n');

  it('prints one reading per character, non-Chinese characters as they are', async () => {
    assert.deepEqual(await cliEmptyEnv(['g2p', '他在银行工作，AI 2个。'], dir), {
      code: 0,
      out: 'ta1 zai4 yin2 hang2 gong1 zuo4 ， A I 2 ge4 。\n',
      err: '',
    });
  });

  it('applies the dictionary as the teacher does, and prints tokens on request', async () => {
    assert.equal((await cliEmptyEnv(['g2p', '--dict', 'd.jsonl', '银行长大'], dir)).out, 'yin2 hang2 chang2 da4\n');
    assert.equal((await cliEmptyEnv(['g2p', '银行长大'], dir)).out, 'yin2 hang2 zhang3 da4\n');
    assert.equal((await cliEmptyEnv(['g2p', '--dict', 'd.jsonl', '--notation', 'tokens', '银行'], dir)).out, '<|IN2|> <|H|><|ANG2|>\n');
    assert.equal((await cliEmptyEnv(['g2p', '--notation', 'ipa', '行'], dir)).code, 64);
    assert.equal((await cliEmptyEnv(['g2p', '--dict', 'missing.jsonl', '行'], dir)).code, 2);
  });

  it('reads texts from standard input (-) and from --file: one output line per input line, same format', async () => {
    const input = '\uFEFF他在银行工作\n\n银行长大\r\nAI 2个';
    const r = await runCli(['g2p', '--dict', 'd.jsonl', '-'], dir, {}, input);
    assert.deepEqual(r, { code: 0, out: 'ta1 zai4 yin2 hang2 gong1 zuo4\n\nyin2 hang2 chang2 da4\nA I 2 ge4\n', err: '' });
    // The same lines as arguments give the same output, line for line.
    for (const [k, text] of ['他在银行工作', '', '银行长大', 'AI 2个'].entries()) {
      if (text) assert.equal((await cliEmptyEnv(['g2p', '--dict', 'd.jsonl', text], dir)).out, r.out.split('\n')[k] + '\n');
    }
    writeFileSync(path.join(dir, 'texts.txt'), input);
    assert.deepEqual(await cliEmptyEnv(['g2p', '--dict', 'd.jsonl', '--file', 'texts.txt'], dir), r);
    assert.equal(
      (await runCli(['g2p', '--notation', 'tokens', '-'], dir, {}, '重庆\n行')).out,
      '<|CH|><|ONG2|> <|Q|><|ING4|>\n<|X|><|ING2|>\n',
    );
    assert.equal((await cliEmptyEnv(['g2p', '--file', 'missing.txt'], dir)).code, 2);
    assert.equal((await cliEmptyEnv(['g2p', '--file', 'texts.txt', '行'], dir)).code, 64);
    assert.equal((await runCli(['g2p', '-'], dir, {}, '')).out, '');
  });

  it('--format json gives, per character, char, reading, token, source, rule and candidates', async () => {
    const r = await runCli(['g2p', '--dict', 'd.jsonl', '--format', 'json', '-'], dir, {}, '开会在银行，很长A𠮷\n');
    assert.equal(r.code, 0);
    const lines = r.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { text: string; chars: Array<Record<string, unknown>> });
    assert.equal(lines.length, 1);
    assert.equal(lines[0]!.text, '开会在银行，很长A𠮷');
    const by = (c: string) => lines[0]!.chars.find((x) => x.char === c)!;
    assert.deepEqual(Object.keys(by('会')), ['char', 'reading', 'token', 'source', 'rule', 'candidates']);
    // 会 is in GLM-TTS's able list: the language model reads it; the G2P's reading is only a hint and no token is written.
    assert.deepEqual(by('会'), { char: '会', reading: 'hui4', token: null, source: 'model', rule: null, candidates: ['hui4', 'kuai4'] });
    // So is 在 (the list holds most characters, not only polyphones). 长 is not: the G2P writes its tokens.
    assert.equal(by('在').source, 'model');
    // (GLM-TTS's G2P really reads 很长 as zhang3: scripts/reference/teacher_g2p.py says so too.)
    assert.deepEqual(by('长'), {
      char: '长',
      reading: 'zhang3',
      token: '<|ZH|><|ANG3|>',
      source: 'g2p',
      rule: null,
      candidates: ['chang2', 'zhang3'],
    });
    // 银行: the rule on line 1 writes 行's tokens and keeps 银 as text (the model reads it).
    assert.deepEqual(by('行'), {
      char: '行',
      reading: 'hang2',
      token: '<|H|><|ANG2|>',
      source: 'dictionary',
      rule: { key: '银行', line: 1 },
      candidates: ['xing2', 'hang2', 'hang4', 'heng2'],
    });
    assert.equal(by('银').source, 'model');
    assert.deepEqual(by('A'), { char: 'A', reading: null, token: null, source: 'none', rule: null, candidates: [] });
    assert.equal(lines[0]!.chars.length, 10, 'one entry per character, not per UTF-16 unit');
    assert.equal((await cliEmptyEnv(['g2p', '--format', 'xml', '行'], dir)).code, 64);
  });

  it('converts a dictionary, listing what stays as it was', async () => {
    const r = await cliEmptyEnv(['dict', 'convert', '--to', 'rule', 'd.jsonl'], dir);
    assert.equal(
      r.out,
      '{"word": "行", "context": "银行", "phoneme": "hang2"}\n{"word": "长", "context": "长大", "phoneme": "chang2"}\n{"噢": "哦"}\n',
    );
    assert.match(r.err, /d\.jsonl:3: "噢" → "哦" has no exact rule form/);
    assert.equal(r.code, 3);
    writeFileSync(path.join(dir, 'r.jsonl'), r.out);
    const back = await cliEmptyEnv(['dict', 'convert', '--to', 'upstream', 'r.jsonl'], dir);
    assert.equal(back.out, '{"银行": "银<|H|><|ANG2|>"}\n{"长大": "<|CH|><|ANG2|>大"}\n{"噢": "哦"}\n');
    assert.equal(back.code, 0);
    assert.equal((await cliEmptyEnv(['dict', 'convert', 'd.jsonl'], dir)).code, 64);
  });
});
