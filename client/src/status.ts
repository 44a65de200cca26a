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
    // A big task file: the workers read its polyphones in the background, and the warnings grow until they are done.
    const pending = info.pendingLines ?? 0;
    const counts =
      info.errors || info.warnings || pending
        ? ` $(error) ${info.errors} $(warning) ${info.warnings.toLocaleString('en-US')}`
        : ' $(check)';
    const reading = pending ? ` $(sync~spin) ${pending.toLocaleString('en-US')}` : '';
    this.item.text = `$(unmute) ${what}: ${info.dialect}${counts}${reading}`;
    const from = info.dialectSource === 'file' ? "detected from the file's keys" : 'from the setting ttsDistill.taskFiles.dialect';
    this.item.tooltip = new vscode.MarkdownString(
      `**${what}** — ${info.dialect} dialect (${from})\n\n${info.lines.toLocaleString('en-US')} lines · ${info.errors} errors · ${info.warnings.toLocaleString('en-US')} warnings · checked in ${info.elapsedMs.toFixed(0)} ms` +
        (pending
          ? `\n\n$(sync~spin) The polyphones of ${pending.toLocaleString('en-US')} lines are still being read in the background: their warnings follow.`
          : '') +
        limitNote(info),
      true,
    );
    this.item.accessibilityInformation = {
      label: pending
        ? vscode.l10n.t(
            '{0}, {1} dialect, {2} errors, {3} warnings, the polyphones of {4} lines still being read',
            what,
            info.dialect,
            info.errors,
            info.warnings,
            pending,
          )
        : vscode.l10n.t('{0}, {1} dialect, {2} errors, {3} warnings', what, info.dialect, info.errors, info.warnings),
    };
    this.item.show();
  }

  dispose(): void {
    this.subscription.dispose();
    this.item.dispose();
  }
}

/** A file longer than the outline, links and code lenses cover (ttsDistill.editor.maxItemsComputed): say so. */
function limitNote(info: DocumentInfo): string {
  const max = vscode.workspace.getConfiguration('ttsDistill', vscode.Uri.parse(info.uri)).get<number>('editor.maxItemsComputed', 5000);
  if (info.lines <= max) return '';
  return `\n\nOutline, prompt-audio links and ▷ code lenses: the first ${max.toLocaleString('en-US')} entries (\`ttsDistill.editor.maxItemsComputed\`); Go to Symbol in Workspace finds every output name.`;
}
