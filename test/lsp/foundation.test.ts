import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { LspTestClient, SERVER } from './lspClient';
import { makeWav } from '../unit/helpers';

const webui = (o: Record<string, unknown>) => JSON.stringify(o);

describe('language server over JSON-RPC: task files and dictionaries', () => {
  let client: LspTestClient;
  let root: string;

  before(async () => {
    root = mkdtempSync(path.join(tmpdir(), 'tts-lsp-'));
    mkdirSync(path.join(root, 'prompts'));
    writeFileSync(path.join(root, 'prompts', 'ok.wav'), makeWav({ seconds: 4, sampleRate: 16000 }));
    writeFileSync(path.join(root, 'prompts', 'stereo.wav'), makeWav({ seconds: 4, sampleRate: 16000, channels: 2 }));
    client = await LspTestClient.start({ rootDir: root, settings: { polyphones: { enabled: false } } });
  });
  after(async () => {
    await client.stop();
  });

  it('advertises incremental sync and the editor features', () => {
    const caps = client.initializeResult.capabilities;
    assert.deepEqual(caps.textDocumentSync, { openClose: true, change: 2 });
    assert.equal(caps.hoverProvider, true);
    assert.ok(caps.codeActionProvider);
  });

  it('publishes diagnostics with precise ranges on open, and clears them after a fix', async () => {
    const line0 = webui({ prompt_audio: 'prompts/ok.wav', prompt_text: '你好', input_text: '今天天气很好', output_name: 'a' });
    const line1 = '{"prompt_audio": "prompts/ok.wav", "input_text": "好", "output_name": "b",}';
    const text = `${line0}\n${line1}\n`;
    const uri = await client.open(path.join(root, 'demo.tasks.jsonl'), text);
    const diags = await client.waitForDiagnostics(uri, (d) => d.some((x) => x.code === 'task/json-syntax'));
    const syntax = diags.find((d) => d.code === 'task/json-syntax')!;
    assert.equal(syntax.range.start.line, 1);
    assert.equal(syntax.range.start.character, line1.lastIndexOf('}'));
    assert.match(String(syntax.message), /column \d+/);
    // Fix the line incrementally: remove the trailing comma.
    const comma = line1.lastIndexOf(',');
    await client.change(uri, [{ range: { start: { line: 1, character: comma }, end: { line: 1, character: comma + 1 } }, text: '' }]);
    const after = await client.waitForDiagnostics(uri, (d) => !d.some((x) => x.code === 'task/json-syntax'));
    assert.ok(after.some((d) => d.code === 'task/missing-prompt-text' && d.range.start.line === 1));
  });

  it('reports duplicates with related information pointing at the other line', async () => {
    const a = webui({ prompt_audio: 'prompts/ok.wav', prompt_text: '你好', input_text: '一', output_name: 'same' });
    const uri = await client.open(path.join(root, 'dup.tasks.jsonl'), `${a}\n${a}\n`);
    const diags = await client.waitForDiagnostics(uri, (d) => d.filter((x) => x.code === 'task/duplicate-name').length === 2);
    const first = diags.find((d) => d.code === 'task/duplicate-name' && d.range.start.line === 0)!;
    assert.equal(first.severity, 1);
    assert.equal(first.relatedInformation?.[0]?.location.range.start.line, 1);
    assert.equal(first.relatedInformation?.[0]?.location.uri, uri);
    const start = a.indexOf('"same"');
    assert.deepEqual(first.range, { start: { line: 0, character: start }, end: { line: 0, character: start + 6 } });
  });

  it('checks prompt audio asynchronously: missing file, and a stereo WAV', async () => {
    const l0 = webui({ prompt_audio: 'prompts/none.wav', prompt_text: '你好', input_text: '一', output_name: 'x' });
    const l1 = webui({ prompt_audio: 'prompts/stereo.wav', prompt_text: '你好', input_text: '一', output_name: 'y' });
    const uri = await client.open(path.join(root, 'audio.tasks.jsonl'), `${l0}\n${l1}\n`);
    const diags = await client.waitForDiagnostics(
      uri,
      (d) => d.some((x) => x.code === 'task/prompt-audio-missing') && d.some((x) => x.code === 'task/prompt-audio-quality'),
    );
    const quality = diags.find((d) => d.code === 'task/prompt-audio-quality')!;
    assert.match(String(quality.message), /2 channels/);
    assert.equal(quality.range.start.line, 1);
  });

  it('sends the dialect of the file to the client', async () => {
    const line = JSON.stringify({ uttid: 'u1', prompt_text: '你好', prompt_speech: 'prompts/ok.wav', syn_text: '一' });
    const uri = await client.open(path.join(root, 'up.tasks.jsonl'), `${line}\n`);
    const info = await client.waitForNotification<{ uri: string; dialect: string; dialectSource: string }>(
      'ttsDistill/documentInfo',
      (p) => p.uri === uri,
    );
    assert.equal(info.dialect, 'upstream');
    assert.equal(info.dialectSource, 'file');
  });

  it('validates dictionaries structurally', async () => {
    const uri = await client.open(
      path.join(root, 'G2P_replace_dict.jsonl'),
      '{"银行": "银<|H|><|ANG2|>"}\n{"word": "行", "context": 5, "phoneme": "hang2"}\n{"a": \n',
    );
    const diags = await client.waitForDiagnostics(uri, (d) => d.some((x) => x.code === 'dict/json-syntax'));
    assert.ok(diags.some((d) => d.range.start.line === 1 && /context/.test(String(d.message))));
  });

  it('survives binary garbage, a 1 MB line and CRLF, and keeps answering', async () => {
    const garbage = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256)).toString('latin1');
    const big = `{"prompt_audio": "p.wav", "input_text": "${'长'.repeat(1_000_000)}", "output_name": "big"}`;
    const crlf = [webui({ prompt_audio: 'prompts/ok.wav', prompt_text: '你', input_text: '行', output_name: 'c1' }), '{"bad": }'].join(
      '\r\n',
    );
    const u1 = await client.open(path.join(root, 'garbage.tasks.jsonl'), garbage);
    const u2 = await client.open(path.join(root, 'big.tasks.jsonl'), big);
    const u3 = await client.open(path.join(root, 'crlf.tasks.jsonl'), crlf);
    assert.ok((await client.waitForDiagnostics(u1)).length > 0);
    await client.waitForDiagnostics(u2);
    const d3 = await client.waitForDiagnostics(u3, (d) => d.some((x) => x.code === 'task/json-syntax'));
    assert.equal(d3.find((x) => x.code === 'task/json-syntax')!.range.start.line, 1);
    assert.equal(client.child.exitCode, null);
  });
});

describe('language server over stdio: its end', () => {
  /** The built server on stdio, sent these bytes, then its standard input closed: its exit status. */
  const exitStatus = (input: string) =>
    new Promise<number | null>((resolve) => {
      const child = spawn(process.execPath, [SERVER, '--stdio'], { stdio: ['pipe', 'pipe', 'ignore'] });
      child.on('exit', (code) => resolve(code));
      child.stdout.once('data', () => child.stdin.end());
      child.stdin.write(input);
      if (!input) child.stdin.end();
    });
  const message = (m: object) => {
    const body = JSON.stringify({ jsonrpc: '2.0', ...m });
    return `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
  };

  it('exits when its standard input ends: status 0 after a shutdown request, 1 without one (as vscode-languageserver does)', async () => {
    assert.equal(await exitStatus(''), 1);
    // The shutdown's reply comes before the input is closed.
    assert.equal(await exitStatus(message({ id: 1, method: 'shutdown' })), 0);
    assert.equal(await exitStatus(message({ id: 1, method: 'textDocument/hover', params: {} })), 1);
  });
});
