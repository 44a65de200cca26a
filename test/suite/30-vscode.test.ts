import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { extensionApi, openFile, test, waitFor, workspaceUri } from './index';

/** The output name of each line that holds a JSON object (broken lines have no symbol). */
function outputNames(text: string): string[] {
  return text.split('\n').flatMap((line, i) => {
    try {
      const v = JSON.parse(line) as unknown;
      return v && typeof v === 'object' && !Array.isArray(v)
        ? [String((v as { output_name?: string }).output_name ?? `line ${i + 1}`)]
        : [];
    } catch {
      return [];
    }
  });
}

test('the workspace holds task files: ttsDistill.active is set', async () => {
  const api = await extensionApi();
  assert.equal(await api.updateActiveContext(), true);
});

test('Open Sample Workspace copies the shipped sample into a new folder', async () => {
  const parent = mkdtempSync(path.join(tmpdir(), 'sample-parent-'));
  const target = await vscode.commands.executeCommand<vscode.Uri>('ttsDistill.openSampleWorkspace', vscode.Uri.file(parent), {
    open: false,
  });
  assert.equal(target.fsPath, path.join(parent, 'tts-distill-sample'));
  for (const f of ['demo.tasks.jsonl', 'G2P_replace_dict.jsonl', 'README.md', 'prompts/speaker_a.wav', 'prompts/speaker_b.wav']) {
    assert.ok(existsSync(path.join(target.fsPath, f)), f);
  }
  const again = await vscode.commands.executeCommand<vscode.Uri>('ttsDistill.openSampleWorkspace', vscode.Uri.file(parent), {
    open: false,
  });
  assert.equal(again.fsPath, path.join(parent, 'tts-distill-sample-2'), 'an existing copy is never overwritten');
});

test('outline: one symbol per task line, named by its output name; workspace symbols find output names', async () => {
  const doc = await openFile('demo.tasks.jsonl', 'tts-tasks');
  const symbols = await waitFor('document symbols', async () => {
    const s = await vscode.commands.executeCommand<vscode.DocumentSymbol[]>('vscode.executeDocumentSymbolProvider', doc.uri);
    return s?.length ? s : undefined;
  });
  const expected = outputNames(doc.getText());
  assert.deepEqual(
    symbols.map((s) => s.name),
    expected,
  );
  const found = await vscode.commands.executeCommand<vscode.SymbolInformation[]>('vscode.executeWorkspaceSymbolProvider', 'weigh_again');
  assert.ok(
    found.some((s) => s.name === 'weigh_again' && s.location.uri.toString() === doc.uri.toString()),
    JSON.stringify(found.map((s) => s.name)),
  );
});

test('prompt audio paths are links to the WAV', async () => {
  const doc = await openFile('demo.tasks.jsonl', 'tts-tasks');
  const links = await vscode.commands.executeCommand<vscode.DocumentLink[]>('vscode.executeLinkProvider', doc.uri);
  const first = links.find((l) => l.range.start.line === 0);
  assert.ok(first?.target, JSON.stringify(links));
  assert.equal(first.target.fsPath, workspaceUri('prompts/speaker_a.wav').fsPath);
  assert.equal(doc.getText(first.range), 'prompts/speaker_a.wav');
});

test('Find All References: a dictionary rule lists the task lines it decides, and back', async () => {
  const tasks = await openFile('demo.tasks.jsonl', 'tts-tasks');
  const dict = await openFile('G2P_replace_dict.jsonl', 'g2p-dict');
  const ruleLine = dict
    .getText()
    .split('\n')
    .findIndex((l) => l.includes('"context": "银行"'));
  assert.ok(ruleLine >= 0);
  const refs = await vscode.commands.executeCommand<vscode.Location[]>(
    'vscode.executeReferenceProvider',
    dict.uri,
    new vscode.Position(ruleLine, 12),
  );
  const inTasks = refs.filter((r) => r.uri.toString() === tasks.uri.toString());
  const withBank = tasks
    .getText()
    .split('\n')
    .map((l, i) => (l.includes('银行') ? i : -1))
    .filter((i) => i >= 0);
  assert.deepEqual([...new Set(inTasks.map((r) => r.range.start.line))].sort(), withBank);
  assert.ok(inTasks.every((r) => tasks.getText(r.range) === '银行'));
  const hang = tasks.lineAt(withBank[0]!).text.indexOf('银行') + 1;
  const back = await vscode.commands.executeCommand<vscode.Location[]>(
    'vscode.executeReferenceProvider',
    tasks.uri,
    new vscode.Position(withBank[0]!, hang),
  );
  assert.ok(
    back.some((r) => r.uri.toString() === dict.uri.toString() && r.range.start.line === ruleLine),
    JSON.stringify(back),
  );
});

// The task provider runs `tts-distill validate` with the $tts-distill problem matcher: e2e step 72 runs it as a user
// does (Run Task…) and finds its problems in the Problems panel; test/unit/cli.vscode.test.ts checks the pattern
// against real CLI output.

test('the integrated terminal has tts-distill on its PATH', async () => {
  const out = path.join(mkdtempSync(path.join(tmpdir(), 'term-')), 'version.txt');
  const terminal = vscode.window.createTerminal({ name: 'tts-distill check', cwd: workspaceUri('.').fsPath });
  try {
    terminal.sendText(`tts-distill --version > '${out}' 2>&1`);
    const text = await waitFor(
      'tts-distill --version in the terminal',
      () => (existsSync(out) ? readFileSync(out, 'utf8').trim() : ''),
      30_000,
    );
    assert.match(text, /^\d+\.\d+\.\d+/);
  } finally {
    terminal.dispose();
  }
});
