import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { runCli } from './runCli';
import { makeWav } from './helpers';

describe('tts-distill validate', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tts-cli-'));
  writeFileSync(path.join(dir, 'p.wav'), makeWav({ seconds: 4 }));
  const good = JSON.stringify({ prompt_audio: 'p.wav', prompt_text: '你好', input_text: '今天晴朗', output_name: 'a' });
  writeFileSync(path.join(dir, 'good.tasks.jsonl'), `${good}\n`);
  writeFileSync(path.join(dir, 'bad.tasks.jsonl'), `${good}\n${good}\n{"x": \n`);
  writeFileSync(
    path.join(dir, 'warn.tasks.jsonl'),
    `${JSON.stringify({ prompt_audio: 'p.wav', input_text: '今天晴朗', output_name: 'a' })}\n`,
  );
  writeFileSync(path.join(dir, 'notes.jsonl'), '{"hello": 1}\n');

  it('exit 0 and no output for a clean file; prompt audio is really read', async () => {
    const r = await runCli(['validate', 'good.tasks.jsonl', '--dict', 'none.jsonl'], dir);
    assert.equal(r.out, '');
    assert.equal(r.code, 0);
  });

  it('prints file:line:col: severity: message (1-based) and exits 1 on errors', async () => {
    const r = await runCli(['validate', 'bad.tasks.jsonl'], dir);
    assert.equal(r.code, 1);
    const lines = r.out.trim().split('\n');
    assert.ok(lines.includes('bad.tasks.jsonl:3:7: error: invalid JSON: a value is expected (column 7).'), r.out);
    assert.ok(
      lines.some((l) => l.startsWith('bad.tasks.jsonl:1:') && l.includes('error: Duplicate output_name "a"')),
      r.out,
    );
  });

  it('warnings alone exit 0', async () => {
    const r = await runCli(['validate', 'warn.tasks.jsonl'], dir);
    assert.equal(r.code, 0);
    assert.match(r.out, /^warn\.tasks\.jsonl:1:1: warning: No "prompt_text"/m);
  });

  it('the summary counts every problem, those over --max included', async () => {
    const many = Array.from({ length: 12 }, (_, i) =>
      JSON.stringify({ prompt_audio: 'p.wav', input_text: '今天晴朗', output_name: `m${i}` }),
    );
    writeFileSync(path.join(dir, 'many.tasks.jsonl'), many.join('\n') + '\n');
    const r = await runCli(['validate', '--max', '5', '--dict', 'none.jsonl', 'many.tasks.jsonl'], dir);
    assert.equal(r.code, 0);
    assert.match(r.out, /8 more problems not shown \(8 warning\)/);
    assert.match(r.err, /1 file\(s\): 0 errors, 12 warnings, 0 information, 0 hints/);
  });

  it('--format json for machines', async () => {
    const r = await runCli(['validate', '--format', 'json', 'bad.tasks.jsonl'], dir);
    const list = JSON.parse(r.out) as Array<{ file: string; code: string; severity: string; range: { start: { line: number } } }>;
    assert.ok(list.some((f) => f.code === 'task/json-syntax' && f.range.start.line === 2 && f.file === 'bad.tasks.jsonl'));
  });

  it('unreadable files exit 2; unknown .jsonl files are skipped with a note; bad usage exits 64', async () => {
    assert.equal((await runCli(['validate', 'missing.tasks.jsonl'], dir)).code, 2);
    const skipped = await runCli(['validate', 'notes.jsonl'], dir);
    assert.equal(skipped.code, 0);
    assert.match(skipped.err, /not a task file or G2P dictionary/);
    assert.equal((await runCli(['validate', '--format', 'xml', 'good.tasks.jsonl'], dir)).code, 64);
    assert.equal((await runCli(['frobnicate'], dir)).code, 64);
  });

  it('reads the workspace settings of .vscode/settings.json, and flags win over them', async () => {
    const ws = mkdtempSync(path.join(tmpdir(), 'tts-cli-ws-'));
    mkdirSync(path.join(ws, '.vscode'));
    writeFileSync(
      path.join(ws, '.vscode', 'settings.json'),
      '{\n  // as VS Code writes it\n  "ttsDistill.promptAudio.minSeconds": 5,\n  "ttsDistill.polyphones.enabled": false,\n}\n',
    );
    writeFileSync(path.join(ws, 'p.wav'), makeWav({ seconds: 4 }));
    writeFileSync(
      path.join(ws, 't.tasks.jsonl'),
      `${JSON.stringify({ prompt_audio: 'p.wav', prompt_text: '你好', input_text: '银行', output_name: 'a' })}\n`,
    );
    const r = await runCli(['validate', 't.tasks.jsonl'], ws);
    assert.match(r.out, /t\.tasks\.jsonl:1:\d+: warning: Prompt audio: it lasts 4\.00 s; GLM-TTS asks for 5–10 s/);
    assert.doesNotMatch(r.out, /teacher reads/);
  });
});
