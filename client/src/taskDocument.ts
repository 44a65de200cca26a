import * as vscode from 'vscode';

/**
 * The task file a command acts on: the one it was invoked on (explorer, editor title), else the
 * active tts-tasks editor. Says what to do when there is none.
 */
export async function taskDocument(uri: vscode.Uri | undefined, purpose: string): Promise<vscode.TextDocument | undefined> {
  const doc = uri
    ? await vscode.workspace.openTextDocument(uri)
    : vscode.window.activeTextEditor?.document.languageId === 'tts-tasks'
      ? vscode.window.activeTextEditor.document
      : undefined;
  if (!doc) void vscode.window.showErrorMessage(vscode.l10n.t('Open a task file (*.tasks.jsonl) to {0}.', purpose));
  return doc;
}
