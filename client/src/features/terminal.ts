import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ClientContext } from '../context';
import { writeLaunchers } from '../launcher';

export const TASK_TYPE = 'tts-distill';
/** Subcommands a `tts-distill` task may run (the task definition's enum in package.json). */
const TASK_COMMANDS = ['validate', 'submit', 'train', 'eval', 'g2p', 'dict', 'predict', 'teacher', 'pipeline'];

interface TtsDistillTaskDefinition extends vscode.TaskDefinition {
  command: string;
  args?: string[];
}

/**
 * The CLI inside VS Code:
 * - every new integrated terminal has `tts-distill` on its PATH: a launcher written to the
 *   extension's global storage runs the bundled `dist/cli.js` with the runtime of this very
 *   extension host (`process.execPath`, as Node through ELECTRON_RUN_AS_NODE in desktop VS Code),
 *   so nothing needs to be installed and the CLI is the editor's own version;
 * - a `tts-distill` task type: the provider offers "validate" per workspace folder (its problems
 *   go to the Problems view through the `$tts-distill` matcher); tasks.json may name any subcommand.
 */
export function activate(ctx: ClientContext): void {
  const cli = ctx.extension.asAbsolutePath(path.join('dist', 'cli.js'));
  const runtime = { execPath: process.execPath, electron: !!process.versions.electron };
  const binDir = path.join(ctx.extension.globalStorageUri.fsPath, 'bin');
  const env = ctx.extension.environmentVariableCollection;
  env.description = vscode.l10n.t('Puts the `tts-distill` command of TTS Distill Studio on the PATH.');
  void writeLaunchers(binDir, runtime, cli).then(
    () => env.prepend('PATH', binDir + path.delimiter),
    (err: unknown) =>
      ctx.output.warn(`Could not write the tts-distill launcher to ${binDir}: ${err instanceof Error ? err.message : String(err)}`),
  );

  ctx.extension.subscriptions.push(
    vscode.tasks.registerTaskProvider(TASK_TYPE, {
      provideTasks: () =>
        (vscode.workspace.workspaceFolders ?? []).map((folder) => taskFor({ type: TASK_TYPE, command: 'validate' }, folder, runtime, cli)),
      resolveTask: (task) => {
        const def = task.definition as TtsDistillTaskDefinition;
        if (!TASK_COMMANDS.includes(def.command)) return undefined;
        const scope = task.scope && typeof task.scope === 'object' ? task.scope : vscode.workspace.workspaceFolders?.[0];
        return scope ? taskFor(def, scope, runtime, cli) : undefined;
      },
    }),
  );
}

function taskFor(
  def: TtsDistillTaskDefinition,
  folder: vscode.WorkspaceFolder,
  runtime: { execPath: string; electron: boolean },
  cli: string,
): vscode.Task {
  const args = def.args ?? [];
  const execution = new vscode.ProcessExecution(runtime.execPath, [cli, def.command, ...args], {
    cwd: folder.uri.fsPath,
    ...(runtime.electron ? { env: { ELECTRON_RUN_AS_NODE: '1' } } : {}),
  });
  const name = [def.command, ...args].join(' ');
  const task = new vscode.Task(def, folder, name, TASK_TYPE, execution, def.command === 'validate' ? ['$tts-distill'] : []);
  task.detail =
    def.command === 'validate' && !args.length
      ? vscode.l10n.t('Check every task file and G2P dictionary of {0}', folder.name)
      : `tts-distill ${name}`;
  if (def.command === 'validate') task.group = vscode.TaskGroup.Test;
  return task;
}
