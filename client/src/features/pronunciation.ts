import * as vscode from 'vscode';
import { ConvertDictionaryRequest } from '../../../protocol/lsp/pronunciation';
import type { ClientContext } from '../context';

/**
 * "Convert G2P Dictionary to the Other Dialect": the server converts the open dictionary (saved
 * or not) and the result opens as a new untitled document beside it, so nothing is overwritten
 * and the user decides where to save it.
 */
export function activate(ctx: ClientContext): void {
  ctx.extension.subscriptions.push(
    vscode.commands.registerCommand('ttsDistill.convertDictionary', async (uri?: vscode.Uri) => {
      const doc = uri ? await vscode.workspace.openTextDocument(uri) : vscode.window.activeTextEditor?.document;
      if (!doc || doc.languageId !== 'g2p-dict') {
        void vscode.window.showWarningMessage(vscode.l10n.t('Open a G2P dictionary first.'));
        return;
      }
      const res = await ctx.client.sendRequest(ConvertDictionaryRequest.type, { uri: doc.uri.toString() });
      const converted = await vscode.workspace.openTextDocument({ language: 'g2p-dict', content: res.text });
      await vscode.window.showTextDocument(converted, { viewColumn: vscode.ViewColumn.Beside });
      for (const n of res.notes) ctx.output.warn(`${doc.uri.fsPath}:${n.line + 1}: ${n.message}`);
      if (res.notes.length) {
        const show = await vscode.window.showWarningMessage(
          vscode.l10n.t('{0} line(s) have no {1} form and were kept as they are.', res.notes.length, res.to),
          vscode.l10n.t('Show Details'),
        );
        if (show) ctx.output.show(true);
      }
    }),
  );
}
