import * as vscode from 'vscode';
import type { ClientContext } from '../context';

/** Files that make a workspace ours (besides the configured globs). */
const OUR_FILES = '{**/*.tasks.jsonl,**/G2P_replace_dict.jsonl,**/*.g2p.jsonl}';
export const ACTIVE_KEY = 'ttsDistill.active';

/**
 * The `ttsDistill.active` context key: true while a task file or G2P dictionary is open or in
 * the workspace (by name or by the `taskFiles.globs` / `dictionary.globs` settings). It gates
 * the Slurm Jobs view, the palette entries and the folder context menus, so a workspace that
 * merely has a `.jsonl` file sees none of them.
 */
export class ActiveContext implements vscode.Disposable {
  private readonly subscriptions: vscode.Disposable[] = [];
  private value: boolean | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor() {
    const poke = () => this.schedule();
    const watcher = vscode.workspace.createFileSystemWatcher(OUR_FILES, false, true, false);
    this.subscriptions.push(
      watcher,
      watcher.onDidCreate(poke),
      watcher.onDidDelete(poke),
      vscode.workspace.onDidOpenTextDocument(poke),
      vscode.workspace.onDidChangeWorkspaceFolders(poke),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('ttsDistill')) poke();
      }),
    );
    void this.update();
  }

  get active(): boolean {
    return this.value === true;
  }

  private schedule(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.update(), 200);
  }

  async update(): Promise<boolean> {
    const active =
      vscode.workspace.textDocuments.some((d) => d.languageId === 'tts-tasks' || d.languageId === 'g2p-dict') || (await inWorkspace());
    if (active !== this.value) {
      this.value = active;
      await vscode.commands.executeCommand('setContext', ACTIVE_KEY, active);
    }
    return active;
  }

  dispose(): void {
    clearTimeout(this.timer);
    for (const s of this.subscriptions) s.dispose();
  }
}

async function inWorkspace(): Promise<boolean> {
  if (!vscode.workspace.workspaceFolders?.length) return false;
  if ((await vscode.workspace.findFiles(OUR_FILES, '**/node_modules/**', 1)).length) return true;
  // The globs are window-scoped settings: read without a resource (VS Code warns otherwise).
  const config = vscode.workspace.getConfiguration('ttsDistill');
  const globs = [...config.get<string[]>('taskFiles.globs', []), ...config.get<string[]>('dictionary.globs', [])];
  for (const folder of vscode.workspace.workspaceFolders) {
    for (const glob of globs) {
      if ((await vscode.workspace.findFiles(new vscode.RelativePattern(folder, glob), '**/node_modules/**', 1)).length) return true;
    }
  }
  return false;
}

/**
 * "Open Sample Workspace": copies the sample shipped in the extension (`sample-workspace/`) into
 * a new folder under the one the user picks, then opens it. Tests pass the parent folder and
 * `open: false`; the command returns the new folder.
 */
export function activate(ctx: ClientContext, active: ActiveContext): void {
  ctx.extension.subscriptions.push(
    active,
    vscode.commands.registerCommand('ttsDistill.openSampleWorkspace', async (parent?: vscode.Uri, options?: { open?: boolean }) => {
      const where =
        parent ??
        (
          await vscode.window.showOpenDialog({
            canSelectFiles: false,
            canSelectFolders: true,
            canSelectMany: false,
            title: vscode.l10n.t('Where should the sample workspace be copied?'),
            openLabel: vscode.l10n.t('Copy the Sample Here'),
          })
        )?.[0];
      if (!where) return undefined;
      const source = vscode.Uri.joinPath(ctx.extension.extensionUri, 'sample-workspace');
      let target = vscode.Uri.joinPath(where, 'tts-distill-sample');
      for (let n = 2; await exists(target); n++) target = vscode.Uri.joinPath(where, `tts-distill-sample-${n}`);
      try {
        await vscode.workspace.fs.copy(source, target, { overwrite: false });
      } catch (err) {
        void vscode.window.showErrorMessage(
          vscode.l10n.t('Could not copy the sample workspace to {0}: {1}', target.fsPath, err instanceof Error ? err.message : String(err)),
        );
        return undefined;
      }
      ctx.output.info(`Sample workspace copied to ${target.fsPath}`);
      if (options?.open !== false) {
        await vscode.commands.executeCommand('vscode.openFolder', target, { forceNewWindow: !!vscode.workspace.workspaceFolders?.length });
      }
      return target;
    }),
  );
}

async function exists(uri: vscode.Uri): Promise<boolean> {
  try {
    await vscode.workspace.fs.stat(uri);
    return true;
  } catch {
    return false;
  }
}
