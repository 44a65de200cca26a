import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { codeOf, diagnosticsWhere, extensionApi, openFile, test, waitFor, workspaceUri } from './index';

const DEMO = 'demo.tasks.jsonl';
const has = (code: string) => (ds: readonly vscode.Diagnostic[]) => ds.some((d) => codeOf(d) === code);

test('the extension activates and returns its API', async () => {
  const api = await extensionApi();
  assert.equal(typeof api.documentInfo, 'function');
  await waitFor('the language client running', () => api.client.isRunning());
});

test('a *.tasks.jsonl file opens as a task file', async () => {
  const doc = await openFile(DEMO, 'tts-tasks');
  assert.equal(doc.languageId, 'tts-tasks');
});

test('task file: duplicate output_name, unknown key and JSON syntax error, each at its place', async () => {
  const doc = await openFile(DEMO, 'tts-tasks');
  const ds = await diagnosticsWhere(
    doc.uri,
    'duplicate, unknown-key and json-syntax diagnostics',
    (d) => has('task/duplicate-name')(d) && has('task/unknown-key')(d) && has('task/json-syntax')(d),
  );

  const duplicates = ds.filter((d) => codeOf(d) === 'task/duplicate-name').sort((a, b) => a.range.start.line - b.range.start.line);
  assert.deepEqual(
    duplicates.map((d) => d.range.start.line),
    [0, 2],
  );
  for (const [d, other] of [
    [duplicates[0]!, 2],
    [duplicates[1]!, 0],
  ] as const) {
    assert.equal(d.severity, vscode.DiagnosticSeverity.Error);
    assert.equal(doc.getText(d.range), '"bank_walk"');
    assert.ok(
      d.relatedInformation?.some((r) => r.location.range.start.line === other),
      `related information points at line ${other + 1}`,
    );
  }

  const unknown = ds.find((d) => codeOf(d) === 'task/unknown-key')!;
  assert.equal(unknown.range.start.line, 3);
  assert.equal(doc.getText(unknown.range), '"speaker"');
  assert.match(unknown.message, /speaker/);

  const syntax = ds.find((d) => codeOf(d) === 'task/json-syntax')!;
  const line4 = doc.lineAt(4).text;
  const column = line4.indexOf('"output_name"') + 1;
  assert.equal(syntax.range.start.line, 4);
  assert.equal(syntax.severity, vscode.DiagnosticSeverity.Error);
  assert.match(syntax.message, new RegExp(`column ${column}\\b`));
});

test('documentInfo: webui dialect and the problem counts', async () => {
  const api = await extensionApi();
  const doc = await openFile(DEMO, 'tts-tasks');
  const info = await waitFor('document info', () => api.documentInfo(doc.uri.toString()));
  assert.equal(info.kind, 'tasks');
  assert.equal(info.dialect, 'webui');
  assert.equal(info.lines, doc.lineCount);
  assert.ok(info.errors >= 3, `errors: ${info.errors}`);
  assert.ok(info.warnings >= 1, `warnings: ${info.warnings}`);
});

test('inserting the missing comma removes the JSON syntax error', async () => {
  const doc = await openFile(DEMO, 'tts-tasks');
  await diagnosticsWhere(doc.uri, 'the json-syntax diagnostic', has('task/json-syntax'));
  const at = new vscode.Position(4, doc.lineAt(4).text.indexOf(' "output_name"'));
  const edit = new vscode.WorkspaceEdit();
  edit.insert(doc.uri, at, ',');
  assert.ok(await vscode.workspace.applyEdit(edit));
  try {
    const ds = await diagnosticsWhere(doc.uri, 'no json-syntax diagnostic', (d) => !has('task/json-syntax')(d));
    // The line is now a task: its keys are checked like the others'.
    assert.ok(!ds.some((d) => d.range.start.line === 4 && d.severity === vscode.DiagnosticSeverity.Error), 'line 5 has no error left');
  } finally {
    await vscode.window.showTextDocument(doc);
    await vscode.commands.executeCommand('workbench.action.files.revert');
  }
  await diagnosticsWhere(doc.uri, 'the json-syntax diagnostic back after revert', has('task/json-syntax'));
});

test('an upstream-dialect .jsonl is recognised by its keys', async () => {
  const api = await extensionApi();
  const doc = await openFile('examples/demo_upstream.jsonl', 'tts-tasks');
  const info = await waitFor('document info', () => api.documentInfo(doc.uri.toString()));
  assert.equal(info.dialect, 'upstream');
  assert.equal(info.dialectSource, 'file');
  assert.equal(info.errors, 0, JSON.stringify(vscode.languages.getDiagnostics(doc.uri).map((d) => d.message)));
  assert.ok(workspaceUri('prompts/speaker_a.wav'));
});
