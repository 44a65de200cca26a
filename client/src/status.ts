import * as vscode from 'vscode';
import type { DocumentInfo } from '../../protocol/lsp/base';

/** The status bar item of the active task file or dictionary: its dialect and problem counts. */
export class DocumentStatus implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('ttsDistill.document', vscode.StatusBarAlignment.Right, 100);
  private readonly infos = new Map<string, DocumentInfo>();
  private readonly subscription: vscode.Disposable;

  constructor() {
    this.item.name = 'TTS Distill: file dialect';
    this.item.command = 'workbench.actions.view.problems';
    this.subscription = vscode.window.onDidChangeActiveTextEditor(() => this.render());
  }

  get(uri: string): DocumentInfo | undefined {
    return this.infos.get(uri);
  }

  update(info: DocumentInfo): void {
    this.infos.set(info.uri, info);
    this.render();
  }

  private render(): void {
    const doc = vscode.window.activeTextEditor?.document;
    const info = doc && this.infos.get(doc.uri.toString());
    if (!info) {
      this.item.hide();
      return;
    }
    const what = info.kind === 'tasks' ? 'Tasks' : 'G2P dict';
    const counts = info.errors || info.warnings ? ` $(error) ${info.errors} $(warning) ${info.warnings}` : ' $(check)';
    this.item.text = `$(unmute) ${what}: ${info.dialect}${counts}`;
    const from = info.dialectSource === 'file' ? "detected from the file's keys" : 'from the setting ttsDistill.taskFiles.dialect';
    this.item.tooltip = new vscode.MarkdownString(
      `**${what}** — ${info.dialect} dialect (${from})\n\n${info.lines} lines · ${info.errors} errors · ${info.warnings} warnings · checked in ${info.elapsedMs.toFixed(0)} ms`,
    );
    this.item.accessibilityInformation = {
      label: vscode.l10n.t('{0}, {1} dialect, {2} errors, {3} warnings', what, info.dialect, info.errors, info.warnings),
    };
    this.item.show();
  }

  dispose(): void {
    this.subscription.dispose();
    this.item.dispose();
  }
}
