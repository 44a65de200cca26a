import * as vscode from 'vscode';
import { kindOfLine } from '../../server/src/core/formats/documentKind';

/**
 * Gives `.jsonl` files their language: by the configured globs first, then by sniffing the
 * first non-blank line, so an `examples/foo.jsonl` of GLM-TTS is recognised as a task file.
 */
export class LanguageAssociation implements vscode.Disposable {
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor() {
    this.subscriptions.push(vscode.workspace.onDidOpenTextDocument((d) => void this.associate(d)));
    this.subscriptions.push(
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('ttsDistill.taskFiles.globs') || e.affectsConfiguration('ttsDistill.dictionary.globs')) {
          for (const d of vscode.workspace.textDocuments) void this.associate(d);
        }
      }),
    );
    for (const d of vscode.workspace.textDocuments) void this.associate(d);
  }

  private async associate(doc: vscode.TextDocument): Promise<void> {
    if (doc.languageId === 'tts-tasks' || doc.languageId === 'g2p-dict') return;
    if (doc.uri.scheme !== 'file' && doc.uri.scheme !== 'untitled') return;
    const target = languageFor(doc);
    if (target) await vscode.languages.setTextDocumentLanguage(doc, target);
  }

  dispose(): void {
    for (const s of this.subscriptions) s.dispose();
  }
}

export function languageFor(doc: vscode.TextDocument): 'tts-tasks' | 'g2p-dict' | undefined {
  const config = vscode.workspace.getConfiguration('ttsDistill', doc.uri);
  const matches = (globs: string[]) => globs.some((pattern) => vscode.languages.match({ pattern }, doc) > 0);
  if (matches(config.get<string[]>('taskFiles.globs', []))) return 'tts-tasks';
  if (matches(config.get<string[]>('dictionary.globs', []))) return 'g2p-dict';
  if (!/\.jsonl$/i.test(doc.fileName)) return undefined;
  for (let i = 0; i < Math.min(doc.lineCount, 50); i++) {
    const text = doc.lineAt(i).text.replace(/^\uFEFF/, '');
    if (text.trim() === '') continue;
    const kind = kindOfLine(text);
    return kind === 'tasks' ? 'tts-tasks' : kind === 'dictionary' ? 'g2p-dict' : undefined;
  }
  return undefined;
}
