import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import type { ClientContext } from '../context';
import { taskDocument } from '../taskDocument';
import {
  type BatchProgressParams,
  BatchPreflightRequest,
  BatchProgressNotification,
  type BatchSummary,
  formatDuration,
  SubmitBatchRequest,
  TeacherHealthRequest,
  QaOverrideRequest,
  type QaOverrideParams,
} from '../../../protocol/lsp/teacher';

const TOKEN_KEY = 'ttsDistill.teacherToken';

/**
 * "Submit Batch to Teacher": glue only. The batch runs in the language server; this module asks
 * where the outputs go, refuses files with errors unless the user wants the valid lines only,
 * shows progress (done / failed / total, ETA) in a cancellable notification and the teacher's
 * health in the status bar. The HTTP token lives in SecretStorage and is passed per request.
 */
export function activate(ctx: ClientContext): void {
  const { client, extension, output } = ctx;
  const running = new Map<string, vscode.CancellationTokenSource>();
  const listeners = new Map<string, (p: BatchProgressParams) => void>();
  const status = vscode.window.createStatusBarItem('ttsDistill.teacherHealth', vscode.StatusBarAlignment.Left, 10);
  status.name = 'TTS Distill Teacher';
  status.command = 'ttsDistill.showOutput';

  const refreshHealth = async () => {
    try {
      const uri = vscode.window.activeTextEditor?.document.uri.toString();
      const h = await client.sendRequest(TeacherHealthRequest.type, { ...(uri ? { uri } : {}), ...(await tokenFor(extension)) });
      status.text = vscode.l10n.t('{0} Teacher: {1}', h.ok ? '$(pass)' : '$(warning)', h.backend);
      status.tooltip = h.detail;
      status.backgroundColor = h.ok ? undefined : new vscode.ThemeColor('statusBarItem.warningBackground');
    } catch (err) {
      status.text = vscode.l10n.t('$(warning) Teacher');
      status.tooltip = vscode.l10n.t('Teacher health unknown: {0}', err instanceof Error ? err.message : String(err));
    }
    status.show();
  };

  extension.subscriptions.push(
    status,
    client.onNotification(BatchProgressNotification.type, (p) => listeners.get(p.batchId)?.(p)),
    vscode.commands.registerCommand('ttsDistill.submitBatch', (uri?: vscode.Uri) => submit(uri)),
    // From the "⊘ excluded" code lens of a teacher output: the user's decision goes to <run>/qa-overrides.json.
    vscode.commands.registerCommand('ttsDistill.qaOverride', async (args: QaOverrideParams) => {
      try {
        await client.sendRequest(QaOverrideRequest.type, args);
        void vscode.window.showInformationMessage(
          vscode.l10n.t('{0} is included again in training, evaluation and export (qa-overrides.json).', args.name),
        );
      } catch (err) {
        void vscode.window.showErrorMessage(err instanceof Error ? err.message : String(err));
      }
    }),
    vscode.commands.registerCommand('ttsDistill.cancelBatch', () => {
      if (!running.size) {
        void vscode.window.showInformationMessage(vscode.l10n.t('No teacher batch is running.'));
        return;
      }
      for (const cts of running.values()) cts.cancel();
    }),
    vscode.commands.registerCommand('ttsDistill.setTeacherToken', async () => {
      const value = await vscode.window.showInputBox({
        title: vscode.l10n.t('HTTP teacher token'),
        prompt: vscode.l10n.t(
          'Bearer token sent to the HTTP teacher. Kept in VS Code secret storage, never in settings. Empty: remove it.',
        ),
        password: true,
        ignoreFocusOut: true,
      });
      if (value === undefined) return;
      if (value) await extension.secrets.store(TOKEN_KEY, value);
      else await extension.secrets.delete(TOKEN_KEY);
      void vscode.window.showInformationMessage(
        value ? vscode.l10n.t('HTTP teacher token saved in secret storage.') : vscode.l10n.t('HTTP teacher token removed.'),
      );
      void refreshHealth();
    }),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('ttsDistill.teacher')) void refreshHealth();
    }),
    vscode.workspace.onDidGrantWorkspaceTrust(() => void refreshHealth()),
  );
  void refreshHealth();

  async function submit(uri: vscode.Uri | undefined) {
    const doc = await taskDocument(uri, 'submit it to the teacher');
    if (!doc) return;
    if (doc.uri.scheme !== 'file') {
      void vscode.window.showErrorMessage(vscode.l10n.t('Save the task file first: the teacher reads it from disk.'));
      return;
    }
    if (doc.isDirty && !(await doc.save())) return;
    const target = doc.uri.toString();
    const pre = await client.sendRequest(BatchPreflightRequest.type, { uri: target });
    if (pre.runsExternalProgram && !vscode.workspace.isTrusted) {
      void vscode.window.showErrorMessage(
        vscode.l10n.t(
          'The {0} teacher runs an external program; it is disabled in untrusted workspaces. Trust the workspace, or use the embedded or HTTP teacher.',
          pre.backend,
        ),
      );
      return;
    }
    const items: Array<vscode.QuickPickItem & { dir: string; slurm?: boolean }> = [
      { label: vscode.l10n.t('Production run'), description: vscode.workspace.asRelativePath(pre.outputDir), dir: pre.outputDir },
      { label: vscode.l10n.t('Test run'), description: vscode.workspace.asRelativePath(pre.testOutputDir), dir: pre.testOutputDir },
    ];
    // The same batch as a Slurm job array: sbatch is an external program, so trusted workspaces only.
    if (vscode.workspace.isTrusted) {
      items.push(
        {
          label: vscode.l10n.t('On the Slurm cluster: production run'),
          description: vscode.workspace.asRelativePath(pre.outputDir),
          detail: vscode.l10n.t('as a job array (ttsDistill.slurm.* settings)'),
          dir: pre.outputDir,
          slurm: true,
        },
        {
          label: vscode.l10n.t('On the Slurm cluster: test run'),
          description: vscode.workspace.asRelativePath(pre.testOutputDir),
          detail: vscode.l10n.t('as a job array (ttsDistill.slurm.* settings)'),
          dir: pre.testOutputDir,
          slurm: true,
        },
      );
    }
    const pick = await vscode.window.showQuickPick(items, {
      title: vscode.l10n.t('Submit {0} to the {1} teacher', vscode.workspace.asRelativePath(doc.uri), pre.backend),
      placeHolder: vscode.l10n.t('Where should the outputs go?'),
    });
    if (!pick) return;
    if (pick.slurm) {
      await vscode.commands.executeCommand('ttsDistill.submitBatchSlurm', doc.uri, pick.dir);
      return;
    }
    // The server's preflight lists the runner's checks and what the Problems panel shows.
    const errors = new Map<number, string>(pre.invalid.map((x) => [x.line, x.reason]));
    let validOnly = false;
    if (errors.size) {
      const list = [...errors].sort((a, b) => a[0] - b[0]);
      const first = list
        .slice(0, 3)
        .map(([line, reason]) => `line ${line + 1}: ${reason}`)
        .join('\n');
      const choice = await vscode.window.showWarningMessage(
        vscode.l10n.t('{0} of {1} line(s) have errors; the batch does not start while the file has errors.', errors.size, pre.lines),
        { modal: true, detail: first + (errors.size > 3 ? '\n…' : '') },
        vscode.l10n.t('Submit the Valid Lines Only'),
      );
      if (choice !== vscode.l10n.t('Submit the Valid Lines Only')) return;
      validOnly = true;
    }
    const batchId = randomBytes(6).toString('hex');
    const cts = new vscode.CancellationTokenSource();
    running.set(batchId, cts);
    void vscode.commands.executeCommand('setContext', 'ttsDistill.batchRunning', true);
    let last: BatchProgressParams | undefined;
    output.info(`Submitting ${doc.uri.fsPath} → ${pick.dir}${validOnly ? ' (valid lines only)' : ''}`);
    try {
      const summary = await vscode.window.withProgress(
        {
          location: vscode.ProgressLocation.Notification,
          title: vscode.l10n.t('Teacher batch ({0})', pick.label.toLowerCase()),
          cancellable: true,
        },
        async (progress, token) => {
          token.onCancellationRequested(() => cts.cancel());
          let reported = 0;
          listeners.set(batchId, (p) => {
            last = p;
            const finished = p.done + p.skipped + p.failed;
            const pct = p.total ? (finished / p.total) * 100 : 100;
            const eta = p.etaMs !== undefined && finished < p.total ? ` · ETA ${formatDuration(p.etaMs)}` : '';
            progress.report({
              increment: pct - reported,
              message: `${finished}/${p.total} · done ${p.done + p.skipped}, failed ${p.failed}${eta}`,
            });
            reported = pct;
          });
          return client.sendRequest(
            SubmitBatchRequest.type,
            {
              uri: target,
              batchId,
              outDir: pick.dir,
              validOnly,
              workspaceTrusted: vscode.workspace.isTrusted,
              ...(await tokenFor(extension)),
            },
            cts.token,
          ) as Promise<BatchSummary | null>;
        },
      );
      if (!summary && cts.token.isCancellationRequested) throw new Error('cancelled');
      report(summary ?? undefined, pick.dir);
    } catch (err) {
      if (cts.token.isCancellationRequested) {
        void vscode.window.showInformationMessage(
          last
            ? vscode.l10n.t('Teacher batch cancelled after {0} new line(s). Submit again to resume: finished lines are kept.', last.done)
            : vscode.l10n.t('Teacher batch cancelled. Submit again to resume: finished lines are kept.'),
        );
      } else {
        output.error(`Teacher batch failed: ${err instanceof Error ? err.message : String(err)}`);
        void vscode.window.showErrorMessage(vscode.l10n.t('Teacher batch failed: {0}', err instanceof Error ? err.message : String(err)));
      }
    } finally {
      listeners.delete(batchId);
      running.delete(batchId);
      cts.dispose();
      void vscode.commands.executeCommand('setContext', 'ttsDistill.batchRunning', running.size > 0);
    }
  }

  function report(s: BatchSummary | undefined, dir: string) {
    if (!s) return;
    const text = `${s.cancelled ? 'Teacher batch cancelled' : 'Teacher batch finished'}: done ${s.done}, skipped ${s.skipped}, failed ${s.failed} of ${s.total}.`;
    const actions = ['Open Output Folder', ...(s.failed ? ['Show Failures'] : [])];
    const show = s.failed ? vscode.window.showWarningMessage : vscode.window.showInformationMessage;
    void show(text, ...actions).then((a) => {
      if (a === 'Open Output Folder') void vscode.commands.executeCommand('revealFileInOS', vscode.Uri.file(dir));
      if (a === 'Show Failures') void vscode.window.showTextDocument(vscode.Uri.joinPath(vscode.Uri.file(dir), 'failures.jsonl'));
    });
  }
}

async function tokenFor(extension: vscode.ExtensionContext): Promise<{ token?: string }> {
  const token = await extension.secrets.get(TOKEN_KEY);
  return token ? { token } : {};
}
