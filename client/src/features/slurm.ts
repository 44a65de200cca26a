import * as vscode from 'vscode';
import {
  type ShardStatus,
  SlurmCancelRequest,
  SlurmRunsRequest,
  type SlurmRunStatus,
  SlurmStatusNotification,
  SlurmSubmitRequest,
  SlurmTrackRequest,
} from '../../../protocol/lsp/slurm';
import { State } from 'vscode-languageclient/node';
import type { ClientContext } from '../context';
import { taskDocument } from '../taskDocument';

/**
 * Slurm mode of teacher batches: the command that submits a task file as a job array, a
 * cancellable progress notification, and the "Slurm Jobs" tree. The server shards, submits,
 * polls and merges; this module only shows what it reports.
 */
export function activate(ctx: ClientContext): void {
  const tree = new SlurmJobsTree();
  const listeners = new Set<(s: SlurmRunStatus) => void>();
  ctx.extension.subscriptions.push(
    vscode.window.registerTreeDataProvider('ttsDistill.slurmJobs', tree),
    ctx.client.onNotification(SlurmStatusNotification.type, (s) => {
      tree.update(s);
      for (const l of listeners) l(s);
    }),
    // Callers (e.g. "Submit Batch to Teacher") may pass the task file and the output folder they chose.
    vscode.commands.registerCommand('ttsDistill.submitBatchSlurm', (uri?: vscode.Uri, outDir?: string) =>
      submit(ctx, uri, outDir, listeners),
    ),
    vscode.commands.registerCommand('ttsDistill.cancelSlurmBatch', async (item?: RunItem) => {
      const runId = item?.status.runId ?? (await pickRunning(tree));
      if (runId) await ctx.client.sendRequest(SlurmCancelRequest.type, { runId });
    }),
  );
  void ctx.client.sendRequest(SlurmRunsRequest.type).then(
    (runs) => runs.forEach((r) => tree.update(r)),
    () => undefined,
  );
  // Batches outlive the editor: after a reload, follow again the runs whose jobs are still queued or running.
  const track = () =>
    ctx.client.sendRequest(SlurmTrackRequest.type).then(
      (refs) => {
        if (refs.length) ctx.output.info(`Slurm: following again ${refs.length} run(s) still in the queue`);
      },
      (err: Error) => ctx.output.warn(`Slurm: ${err.message}`),
    );
  if (vscode.workspace.isTrusted) void track();
  else ctx.extension.subscriptions.push(vscode.workspace.onDidGrantWorkspaceTrust(() => void track()));
}

/** The HTTP teacher's token, kept in secret storage by the teacher feature under this key. */
const TEACHER_TOKEN_KEY = 'ttsDistill.teacherToken';

async function submit(
  ctx: ClientContext,
  uri: vscode.Uri | undefined,
  outDir: string | undefined,
  listeners: Set<(s: SlurmRunStatus) => void>,
) {
  if (!vscode.workspace.isTrusted) {
    void vscode.window.showErrorMessage(vscode.l10n.t('Slurm batches run programs on a cluster: trust this workspace first.'));
    return;
  }
  const doc = await taskDocument(uri, 'submit it to Slurm');
  if (!doc) return;
  if (doc.isUntitled) {
    void vscode.window.showErrorMessage(vscode.l10n.t('Save the task file first: the shards are made from the file on disk.'));
    return;
  }
  if (doc.isDirty && !(await doc.save())) return;
  const name = vscode.workspace.asRelativePath(doc.uri);
  const config = vscode.workspace.getConfiguration('ttsDistill', doc.uri);
  let testRun = false;
  if (!outDir) {
    const pick = await vscode.window.showQuickPick(
      [
        { label: vscode.l10n.t('Production run'), description: config.get<string>('batch.outputDir'), test: false },
        { label: vscode.l10n.t('Test run'), description: config.get<string>('batch.testOutputDir'), test: true },
      ],
      { title: vscode.l10n.t('Submit {0} to the Slurm cluster', name), placeHolder: vscode.l10n.t('Where should the outputs go?') },
    );
    if (!pick) return;
    testRun = pick.test;
  }
  const token = config.get<string>('teacher.backend') === 'http' ? await ctx.extension.secrets.get(TEACHER_TOKEN_KEY) : undefined;
  let ref;
  try {
    ref = await ctx.client.sendRequest(SlurmSubmitRequest.type, {
      uri: doc.uri.toString(),
      ...(outDir ? { outDir } : { testRun }),
      ...(token ? { token } : {}),
    });
  } catch (err) {
    ctx.output.error(`Slurm submission of ${name} failed: ${(err as Error).message}`);
    void vscode.window.showErrorMessage(vscode.l10n.t('Slurm: {0}', (err as Error).message));
    return;
  }
  const runId = ref.runId;
  void vscode.commands.executeCommand('ttsDistill.slurmJobs.focus').then(undefined, () => undefined);
  await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Slurm: {0}', name), cancellable: true },
    (progress, token) =>
      new Promise<void>((resolve) => {
        let reported = 0;
        const onStatus = (s: SlurmRunStatus) => {
          if (s.runId !== runId) return;
          const p = s.progress;
          if (p && p.total) {
            const fraction = ((p.done + p.failed) / p.total) * 100;
            progress.report({ message: summary(s), increment: Math.max(0, fraction - reported) });
            reported = Math.max(reported, fraction);
          }
          if (s.state === 'finished' || s.state === 'cancelled' || s.state === 'error') {
            listeners.delete(onStatus);
            stopped.dispose();
            resolve();
            const text = `Slurm batch ${name}: ${s.state === 'error' ? s.message : summary(s)}`;
            if (s.state === 'error' || s.exitCode === 2)
              void vscode.window.showWarningMessage(text, vscode.l10n.t('Show Output')).then((a) => a && ctx.output.show(true));
            else void vscode.window.showInformationMessage(text);
          }
        };
        listeners.add(onStatus);
        // The server follows the run; if it stops, the jobs go on and the next submit of this file follows them again.
        const stopped = ctx.client.onDidChangeState((e) => {
          if (e.newState !== State.Stopped) return;
          stopped.dispose();
          listeners.delete(onStatus);
          resolve();
          void vscode.window.showWarningMessage(
            vscode.l10n.t(
              'Slurm batch {0}: the language server stopped; the jobs go on in the queue. Submit the file again to follow them.',
              name,
            ),
          );
        });
        token.onCancellationRequested(() => {
          progress.report({ message: 'cancelling (scancel)…' });
          ctx.client
            .sendRequest(SlurmCancelRequest.type, { runId })
            .then(undefined, (err: Error) => ctx.output.error(`Slurm cancel: ${err.message}`));
        });
      }),
  );
}

function summary(s: SlurmRunStatus): string {
  const p = s.progress;
  if (!p) return s.state;
  const running = p.shards.filter((x) => x.state === 'RUNNING').length;
  const eta = p.etaSeconds !== undefined && !p.finished ? ` · ETA ${formatDuration(p.etaSeconds)}` : '';
  const tail = s.state === 'cancelled' ? ' · cancelled' : s.state === 'finished' ? '' : ` · ${running} running`;
  return `${p.done}/${p.total} done, ${p.failed} failed${tail}${eta}`;
}

function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600),
    m = Math.floor((s % 3600) / 60);
  return h ? `${h} h ${m} min` : m ? `${m} min ${s % 60} s` : `${s} s`;
}

async function pickRunning(tree: SlurmJobsTree): Promise<string | undefined> {
  const running = tree.runs().filter((r) => r.state === 'running' || r.state === 'submitting');
  if (running.length <= 1) return running[0]?.runId;
  const pick = await vscode.window.showQuickPick(
    running.map((r) => ({ label: vscode.workspace.asRelativePath(vscode.Uri.parse(r.uri)), description: r.runId, runId: r.runId })),
  );
  return pick?.runId;
}

class RunItem extends vscode.TreeItem {
  constructor(readonly status: SlurmRunStatus) {
    super(vscode.workspace.asRelativePath(vscode.Uri.parse(status.uri)), vscode.TreeItemCollapsibleState.Expanded);
    this.id = status.runId;
    this.description = summary(status);
    this.contextValue = status.state === 'running' || status.state === 'submitting' ? 'slurmRun.running' : 'slurmRun';
    this.iconPath = new vscode.ThemeIcon(
      status.state === 'running' || status.state === 'submitting'
        ? 'sync~spin'
        : status.state === 'error'
          ? 'error'
          : status.exitCode === 0
            ? 'pass'
            : 'warning',
    );
    this.tooltip = [
      vscode.l10n.t('Output: {0}', status.outDir),
      vscode.l10n.t('Run folder: {0}', status.runId),
      vscode.l10n.t('Jobs: {0}', status.progress?.jobIds.join(', ') || '-'),
      status.message ?? '',
    ]
      .filter(Boolean)
      .join('\n');
  }
}

class ShardItem extends vscode.TreeItem {
  constructor(run: SlurmRunStatus, s: ShardStatus) {
    super(`shard ${s.shard}`, vscode.TreeItemCollapsibleState.None);
    this.id = `${run.runId}#${s.shard}`;
    this.description = [s.jobId ?? '-', s.state, s.node, s.elapsed, `${s.done}/${s.total}`, s.failed ? `${s.failed} failed` : '']
      .filter(Boolean)
      .join(' · ');
    this.tooltip = [
      `Job ${s.jobId ?? '(not submitted)'}: ${s.state}${s.reason ? ` (${s.reason})` : ''}`,
      `Node: ${s.node || '-'}   Elapsed: ${s.elapsed || '-'}`,
      `Lines: ${s.done} done, ${s.failed} failed, ${s.total - s.done - s.failed} to do, of ${s.total}`,
      `Submissions: ${s.attempts}`,
    ].join('\n');
    this.iconPath = new vscode.ThemeIcon(shardIcon(s));
    this.resourceUri = vscode.Uri.file(`${run.runId}/shard-${s.shard}/slurm.log`);
    this.command = { command: 'vscode.open', title: vscode.l10n.t('Open shard log'), arguments: [this.resourceUri] };
  }
}

function shardIcon(s: ShardStatus): string {
  switch (s.state) {
    case 'RUNNING':
    case 'COMPLETING':
    case 'CONFIGURING':
      return 'sync~spin';
    case 'PENDING':
    case 'REQUEUED':
    case 'SUSPENDED':
      return 'clock';
    case 'COMPLETED':
    case 'DONE':
      return s.failed ? 'warning' : 'pass';
    case 'NOT_SUBMITTED':
      return 'circle-outline';
    default:
      return 'error';
  }
}

class SlurmJobsTree implements vscode.TreeDataProvider<vscode.TreeItem> {
  private readonly statuses = new Map<string, SlurmRunStatus>();
  private readonly changed = new vscode.EventEmitter<vscode.TreeItem | undefined>();
  readonly onDidChangeTreeData = this.changed.event;

  update(s: SlurmRunStatus) {
    this.statuses.set(s.runId, s);
    this.changed.fire(undefined);
  }

  runs(): SlurmRunStatus[] {
    return [...this.statuses.values()];
  }

  getTreeItem(item: vscode.TreeItem): vscode.TreeItem {
    return item;
  }

  getChildren(item?: vscode.TreeItem): vscode.TreeItem[] {
    if (!item) return [...this.statuses.values()].reverse().map((s) => new RunItem(s));
    if (item instanceof RunItem) return (item.status.progress?.shards ?? []).map((s) => new ShardItem(item.status, s));
    return [];
  }
}
