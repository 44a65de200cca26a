import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { DocumentLink, DocumentSymbol, Location, SymbolInformation } from 'vscode-languageserver-protocol';
import { fileUri, LspTestClient, REPO } from './lspClient';

const task = (text: string, name: string, audio = 'prompts/a.wav') =>
  JSON.stringify({ prompt_audio: audio, prompt_text: '你好', input_text: text, output_name: name });

describe('language server over JSON-RPC: navigation (symbols, links, references)', () => {
  let client: LspTestClient;
  let root: string;
  const lines = [task('他在银行工作', 'bank'), task('今天步行上班', 'walk'), task('银行和银行', 'twice', 'prompts/missing.wav'), '{broken'];
  const dictLines = ['{"word": "行", "context": "银行", "phoneme": "hang2"}', '{"步行": "步<|X|><|ING2|>"}', '{"没有": "mei2有"}'];

  before(async () => {
    root = mkdtempSync(path.join(tmpdir(), 'tts-nav-'));
    mkdirSync(path.join(root, 'prompts'));
    copyFileSync(path.join(REPO, 'sample-workspace', 'prompts', 'speaker_a.wav'), path.join(root, 'prompts', 'a.wav'));
    writeFileSync(path.join(root, 'G2P_replace_dict.jsonl'), dictLines.join('\n') + '\n');
    mkdirSync(path.join(root, 'more'));
    // Not open in the editor: found on disk for workspace symbols and references.
    writeFileSync(
      path.join(root, 'more', 'disk.tasks.jsonl'),
      [task('去银行', 'on_disk_1', '../prompts/a.wav'), task('没问题', 'on_disk_2', '../prompts/a.wav')].join('\n') + '\n',
    );
    client = await LspTestClient.start({ rootDir: root, settings: {} });
  });
  after(async () => {
    await client.stop();
  });

  it('announces the capabilities', () => {
    const caps = client.initializeResult.capabilities;
    assert.ok(caps.documentSymbolProvider);
    assert.ok(caps.workspaceSymbolProvider);
    assert.ok(caps.documentLinkProvider);
    assert.ok(caps.referencesProvider);
  });

  it('document symbols: one per task line, named by its output name, selection on the name', async () => {
    const uri = await client.open(path.join(root, 'a.tasks.jsonl'), lines.join('\n') + '\n');
    const symbols = await client.request<DocumentSymbol[]>('textDocument/documentSymbol', { textDocument: { uri } });
    assert.deepEqual(
      symbols.map((s) => s.name),
      ['bank', 'walk', 'twice'],
    );
    assert.deepEqual(
      symbols.map((s) => s.range.start.line),
      [0, 1, 2],
    );
    assert.equal(symbols[0]!.detail, '他在银行工作');
    const at = lines[1]!.indexOf('"walk"');
    assert.deepEqual(symbols[1]!.selectionRange, { start: { line: 1, character: at }, end: { line: 1, character: at + '"walk"'.length } });
  });

  it('document symbols of a dictionary: one per entry', async () => {
    const uri = await client.open(path.join(root, 'G2P_replace_dict.jsonl'), dictLines.join('\n') + '\n');
    const symbols = await client.request<DocumentSymbol[]>('textDocument/documentSymbol', { textDocument: { uri } });
    assert.deepEqual(
      symbols.map((s) => [s.name, s.range.start.line]),
      [
        ['行', 0],
        ['步行', 1],
        ['没有', 2],
      ],
    );
    await client.close(uri);
  });

  it('workspace symbols: output names of open files and of task files on disk', async () => {
    const all = await client.request<SymbolInformation[]>('workspace/symbol', { query: '' });
    assert.deepEqual(all.map((s) => s.name).sort(), ['bank', 'on_disk_1', 'on_disk_2', 'twice', 'walk']);
    const disk = await client.request<SymbolInformation[]>('workspace/symbol', { query: 'DISK_2' });
    assert.equal(disk.length, 1);
    assert.equal(disk[0]!.location.uri, fileUri(path.join(root, 'more', 'disk.tasks.jsonl')));
    assert.equal(disk[0]!.location.range.start.line, 1);
    assert.equal(disk[0]!.containerName, path.join('more', 'disk.tasks.jsonl'));
  });

  it('document links on prompt audio paths that exist, resolved against the task file’s folder', async () => {
    const uri = fileUri(path.join(root, 'a.tasks.jsonl'));
    const links = await client.request<DocumentLink[]>('textDocument/documentLink', { textDocument: { uri } });
    assert.deepEqual(
      links.map((l) => l.range.start.line),
      [0, 1],
      'the missing prompts/missing.wav is not a link',
    );
    assert.equal(links[0]!.target, fileUri(path.join(root, 'prompts', 'a.wav')));
    const at = lines[0]!.indexOf('prompts/a.wav');
    assert.deepEqual(links[0]!.range, { start: { line: 0, character: at }, end: { line: 0, character: at + 'prompts/a.wav'.length } });
    const disk = await client.open(
      path.join(root, 'more', 'disk.tasks.jsonl'),
      [task('去银行', 'on_disk_1', '../prompts/a.wav')].join('\n'),
    );
    const diskLinks = await client.request<DocumentLink[]>('textDocument/documentLink', { textDocument: { uri: disk } });
    assert.equal(diskLinks[0]!.target, fileUri(path.join(root, 'prompts', 'a.wav')));
    await client.close(disk);
  });

  it('references from a dictionary rule: every task line it decides, open or on disk', async () => {
    const dict = await client.open(path.join(root, 'G2P_replace_dict.jsonl'), dictLines.join('\n') + '\n');
    const tasks = fileUri(path.join(root, 'a.tasks.jsonl'));
    const refs = await client.request<Location[]>('textDocument/references', {
      textDocument: { uri: dict },
      position: { line: 0, character: 12 },
      context: { includeDeclaration: false },
    });
    const places = refs.map((r) => [
      path.basename(new URL(r.uri).pathname),
      r.range.start.line,
      r.range.start.character,
      r.range.end.character,
    ]);
    const l0 = lines[0]!.indexOf('银行'),
      l2 = lines[2]!.indexOf('银行'),
      l2b = lines[2]!.lastIndexOf('银行');
    const d0 = task('去银行', 'on_disk_1', '../prompts/a.wav').indexOf('银行');
    assert.deepEqual(
      places.sort(),
      [
        ['a.tasks.jsonl', 0, l0, l0 + 2],
        ['a.tasks.jsonl', 2, l2, l2 + 2],
        ['a.tasks.jsonl', 2, l2b, l2b + 2],
        ['disk.tasks.jsonl', 0, d0, d0 + 2],
      ].sort(),
    );
    assert.ok(refs.every((r) => r.uri === tasks || r.uri.endsWith('disk.tasks.jsonl')));
    // 步行 decides line 1 only; 没有 matches nothing (没问题 is not 没有).
    const walk = await client.request<Location[]>('textDocument/references', {
      textDocument: { uri: dict },
      position: { line: 1, character: 3 },
      context: { includeDeclaration: false },
    });
    assert.deepEqual(
      walk.map((r) => r.range.start.line),
      [1],
    );
    const none = await client.request<Location[]>('textDocument/references', {
      textDocument: { uri: dict },
      position: { line: 2, character: 3 },
      context: { includeDeclaration: true },
    });
    assert.deepEqual(
      none.map((r) => [r.uri, r.range.start.line]),
      [[dict, 2]],
      'only the declaration itself',
    );
  });

  it('a shadowed rule decides nothing', async () => {
    const dict = fileUri(path.join(root, 'G2P_replace_dict.jsonl'));
    const shadowed = [...dictLines, '{"银行": "银<|H|><|ANG2|>"}'];
    await client.replaceLine(dict, 2, shadowed.slice(2).join('\n'), dictLines[2]!.length);
    const refs = await client.request<Location[]>('textDocument/references', {
      textDocument: { uri: dict },
      position: { line: 0, character: 12 },
      context: { includeDeclaration: false },
    });
    assert.deepEqual(refs, []);
    const winner = await client.request<Location[]>('textDocument/references', {
      textDocument: { uri: dict },
      position: { line: 3, character: 2 },
      context: { includeDeclaration: false },
    });
    assert.equal(winner.length, 4);
    await client.change(dict, [
      { range: { start: { line: 2, character: 0 }, end: { line: 3, character: shadowed[3]!.length } }, text: dictLines[2]! },
    ]);
  });

  it('references from a task line’s polyphone: the rule that decides it', async () => {
    const tasks = fileUri(path.join(root, 'a.tasks.jsonl'));
    const dict = fileUri(path.join(root, 'G2P_replace_dict.jsonl'));
    const at = lines[0]!.indexOf('行');
    const refs = await client.request<Location[]>('textDocument/references', {
      textDocument: { uri: tasks },
      position: { line: 0, character: at },
      context: { includeDeclaration: true },
    });
    assert.equal(refs.length, 1);
    assert.equal(refs[0]!.uri, dict);
    assert.equal(refs[0]!.range.start.line, 0);
    assert.equal(refs[0]!.range.start.character, dictLines[0]!.indexOf('"行"'));
    const walk = await client.request<Location[]>('textDocument/references', {
      textDocument: { uri: tasks },
      position: { line: 1, character: lines[1]!.indexOf('步') },
      context: { includeDeclaration: true },
    });
    assert.deepEqual(
      walk.map((r) => r.range.start.line),
      [1],
    );
    const undecided = await client.request<Location[]>('textDocument/references', {
      textDocument: { uri: tasks },
      position: { line: 0, character: lines[0]!.indexOf('工') },
      context: { includeDeclaration: true },
    });
    assert.deepEqual(undecided, []);
  });

  it('a file longer than ttsDistill.editor.maxItemsComputed: symbols, links and code lenses of its first lines; workspace symbols find every line', async () => {
    const big = Array.from({ length: 120 }, (_, i) => task('他在银行工作', `big_${String(i).padStart(3, '0')}`));
    const uri = await client.open(path.join(root, 'big.tasks.jsonl'), big.join('\n') + '\n');
    try {
      await client.setSettings({ editor: { maxItemsComputed: 50 } });
      const symbols = await client.request<DocumentSymbol[]>('textDocument/documentSymbol', { textDocument: { uri } });
      assert.equal(symbols.length, 50);
      assert.equal(symbols[49]!.name, 'big_049');
      const links = await client.request<DocumentLink[]>('textDocument/documentLink', { textDocument: { uri } });
      assert.deepEqual(
        links.map((l) => l.range.start.line),
        Array.from({ length: 50 }, (_, i) => i),
      );
      const lenses = (await client.codeLenses(uri)) ?? [];
      assert.ok(lenses.length > 0);
      assert.equal(Math.max(...lenses.map((l) => l.range.start.line)), 49);
      // Go to Symbol in Workspace is not capped by it: a name on line 111.
      const found = await client.request<SymbolInformation[]>('workspace/symbol', { query: 'big_111' });
      assert.deepEqual(
        found.map((s) => [s.name, s.location.range.start.line]),
        [['big_111', 111]],
      );
      // The default (5,000) covers the whole file.
      await client.setSettings({});
      assert.equal((await client.request<DocumentSymbol[]>('textDocument/documentSymbol', { textDocument: { uri } })).length, 120);
    } finally {
      await client.setSettings({});
      await client.close(uri);
    }
  });
});
