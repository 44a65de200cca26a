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
    assert.deepEqual(await cliEmptyEnv(['g2p', '他在银行工作，AI 2个。'], dir), { code: 0, out: 'ta1 zai4 yin2 hang2 gong1 zuo4 ， A I 2 ge4 。\n', err: '' });
  });

  it('applies the dictionary as the teacher does, and prints tokens on request', async () => {
    assert.equal((await cliEmptyEnv(['g2p', '--dict', 'd.jsonl', '银行长大'], dir)).out, 'yin2 hang2 chang2 da4\n');
    assert.equal((await cliEmptyEnv(['g2p', '银行长大'], dir)).out, 'yin2 hang2 zhang3 da4\n');
    assert.equal((await cliEmptyEnv(['g2p', '--dict', 'd.jsonl', '--notation', 'tokens', '银行'], dir)).out, '<|IN2|> <|H|><|ANG2|>\n');
    assert.equal((await cliEmptyEnv(['g2p', '--notation', 'ipa', '行'], dir)).code, 64);
    assert.equal((await cliEmptyEnv(['g2p', '--dict', 'missing.jsonl', '行'], dir)).code, 2);
  });

  it('converts a dictionary, listing what stays as it was', async () => {
    const r = await cliEmptyEnv(['dict', 'convert', '--to', 'rule', 'd.jsonl'], dir);
    assert.equal(r.out, '{"word": "行", "context": "银行", "phoneme": "hang2"}\n{"word": "长", "context": "长大", "phoneme": "chang2"}\n{"噢": "哦"}\n');
    assert.match(r.err, /d\.jsonl:3: "噢" → "哦" has no exact rule form/);
    assert.equal(r.code, 3);
    writeFileSync(path.join(dir, 'r.jsonl'), r.out);
    const back = await cliEmptyEnv(['dict', 'convert', '--to', 'upstream', 'r.jsonl'], dir);
    assert.equal(back.out, '{"银行": "银<|H|><|ANG2|>"}\n{"长大": "<|CH|><|ANG2|>大"}\n{"噢": "哦"}\n');
    assert.equal(back.code, 0);
    assert.equal((await cliEmptyEnv(['dict', 'convert', 'd.jsonl'], dir)).code, 64);
  });
});
