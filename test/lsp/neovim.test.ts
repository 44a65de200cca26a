import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { REPO } from './lspClient';

const hasNvim = spawnSync('nvim', ['--version']).status === 0;

describe(
  'an independent LSP client: neovim through `tts-distill lsp --stdio`',
  { skip: hasNvim ? false : 'neovim is not installed (apt-get install neovim)' },
  () => {
    it('shows the same diagnostics and inlay hints the editor shows', () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'tts-nvim-'));
      const file = path.join(dir, 'x.tasks.jsonl');
      writeFileSync(
        file,
        [
          JSON.stringify({ uttid: 'a', prompt_text: '你好', prompt_speech: 'p.wav', syn_text: '好' }),
          '{"uttid": "b", "prompt_text": "你好", "prompt_speech": "p.wav" "syn_text": "好"}',
          JSON.stringify({ uttid: 'a', prompt_text: '你好', prompt_speech: 'p.wav', syn_text: '好', extra: 1 }),
          JSON.stringify({ uttid: 'd', prompt_text: '你好', prompt_speech: 'p.wav', syn_text: '他在银行工作' }),
        ].join('\n') + '\n',
      );
      const out = execFileSync(
        'nvim',
        ['--headless', '--clean', '-u', 'NONE', '-c', `luafile ${path.join(REPO, 'test', 'nvim', 'check.lua')}`, file],
        {
          cwd: dir,
          env: { ...process.env, TTS_DISTILL_CLI: path.join(REPO, 'bin', 'tts-distill.js') },
          encoding: 'utf8',
          timeout: 30000,
        },
      );
      const lines = out.trim().split('\n');
      assert.ok(
        lines.some((l) => /^2:\d+:1 task\/json-syntax/.test(l)),
        out,
      );
      assert.ok(
        lines.some((l) => l.startsWith('1:10:1 task/duplicate-name')),
        out,
      );
      assert.ok(
        lines.some((l) => /^3:\d+:2 task\/unknown-key/.test(l)),
        out,
      );
      // The readings as inlay hints, through neovim's own request machinery: 行 on line 4, right after the character.
      const line4 = JSON.stringify({ uttid: 'd', prompt_text: '你好', prompt_speech: 'p.wav', syn_text: '他在银行工作' });
      assert.ok(lines.includes(`hint 4:${line4.indexOf('行') + 2} hang2`), out);
      assert.ok(!lines.some((l) => l.startsWith('HINT ERROR')), out);
    });
  },
);
