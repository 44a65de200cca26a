import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { codeOf, diagnosticsWhere, extensionApi, openFile, test, waitFor } from './index';

test('G2P_replace_dict.jsonl opens as a dictionary without structural errors', async () => {
  const api = await extensionApi();
  const doc = await openFile('G2P_replace_dict.jsonl', 'g2p-dict');
  const info = await waitFor('document info', () => api.documentInfo(doc.uri.toString()));
  assert.equal(info.kind, 'dictionary');
  assert.equal(info.dialect, 'rule');
  const errors = vscode.languages.getDiagnostics(doc.uri).filter((d) => d.severity === vscode.DiagnosticSeverity.Error);
  assert.deepEqual(
    errors.map((d) => d.message),
    [],
  );
});

test('a broken dictionary line is reported with its column', async () => {
  const doc = await openFile('dicts/broken.g2p.jsonl', 'g2p-dict');
  const ds = await diagnosticsWhere(doc.uri, 'a dict/json-syntax diagnostic', (d) => d.some((x) => codeOf(x) === 'dict/json-syntax'));
  const syntax = ds.find((d) => codeOf(d) === 'dict/json-syntax')!;
  assert.equal(syntax.range.start.line, 1);
  assert.equal(syntax.severity, vscode.DiagnosticSeverity.Error);
  assert.match(syntax.message, new RegExp(`column ${doc.lineAt(1).text.length + 1}\\b`));
});
