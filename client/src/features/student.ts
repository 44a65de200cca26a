import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ClientContext } from '../context';
import { webviewPage } from '../webviewPage';
import {
  EvaluateStudentRequest,
  type EvaluateStudentResult,
  type StudentKind,
  StudentTrainProgressNotification,
  TrainStudentRequest,
  type TrainStudentResult,
} from '../../../protocol/lsp/student';
import type { FromReportWebview, StudentView, ToReportWebview } from '../../../protocol/webview/report';

/** Scheme of the two virtual documents of the evaluation diff. */
export const EVAL_SCHEME = 'tts-distill-eval';
const PANEL_TYPE = 'ttsDistill.student';

/**
 * Train Student (G2P in the server's worker, or the external trainer) with a live loss curve, and
 * Open Evaluation Diff: the built-in diff of teacher vs student readings plus a report panel.
 * The work happens in the language server; this is glue.
 */
export function activate(ctx: ClientContext): void {
  const docs = new EvalDocuments();
  ctx.extension.subscriptions.push(
    docs,
    vscode.workspace.registerTextDocumentContentProvider(EVAL_SCHEME, docs),
    vscode.commands.registerCommand('ttsDistill.trainStudent', (folder?: vscode.Uri) => trainStudent(ctx, folder)),
    vscode.commands.registerCommand('ttsDistill.openEvaluationDiff', (folder?: vscode.Uri) => openEvaluationDiff(ctx, docs, folder)),
  );
}

/** The teacher output folder: the one given (explorer), or picked among the configured ones that hold a manifest. */
async function pickTeacherFolder(
  title: string,
  given?: vscode.Uri,
): Promise<{ dir: string; resource: vscode.Uri | undefined } | undefined> {
  if (given) return { dir: given.fsPath, resource: vscode.workspace.getWorkspaceFolder(given)?.uri };
  const items: Array<vscode.QuickPickItem & { dir?: string; resource?: vscode.Uri }> = [];
  for (const f of vscode.workspace.workspaceFolders ?? []) {
    const batch = vscode.workspace.getConfiguration('ttsDistill.batch', f.uri);
    for (const key of ['outputDir', 'testOutputDir']) {
      const dir = path.resolve(f.uri.fsPath, batch.get<string>(key, ''));
      if (existsSync(path.join(dir, 'manifest.jsonl')) && !items.some((i) => i.dir === dir)) {
        items.push({ label: path.relative(f.uri.fsPath, dir) || dir, description: f.name, detail: dir, dir, resource: f.uri });
      }
    }
  }
  items.push({ label: vscode.l10n.t('$(folder-opened) Choose a folder…') });
  const pick =
    items.length === 1
      ? items[0]
      : await vscode.window.showQuickPick(items, { title, placeHolder: vscode.l10n.t('Teacher output folder (with manifest.jsonl)') });
  if (!pick) return undefined;
  if (pick.dir) return { dir: pick.dir, resource: pick.resource };
  const chosen = (
    await vscode.window.showOpenDialog({
      title,
      canSelectFolders: true,
      canSelectFiles: false,
      canSelectMany: false,
      openLabel: vscode.l10n.t('Use this teacher run'),
    })
  )?.[0];
  return chosen ? { dir: chosen.fsPath, resource: vscode.workspace.getWorkspaceFolder(chosen)?.uri } : undefined;
}

async function trainStudent(ctx: ClientContext, given?: vscode.Uri): Promise<void> {
  const teacher = await pickTeacherFolder('Train the student from which teacher run?', given);
  if (!teacher) return;
  const command = vscode.workspace.getConfiguration('ttsDistill.student', teacher.resource).get<string[]>('trainCommand', []);
  let kind: StudentKind = 'g2p';
  if (command.length) {
    const choices: Array<vscode.QuickPickItem & { student: StudentKind }> = [
      {
        label: vscode.l10n.t('G2P student'),
        description: vscode.l10n.t('polyphone readings, trained here in a worker thread'),
        student: 'g2p',
      },
      { label: vscode.l10n.t('Acoustic student (external trainer)'), description: command.join(' '), student: 'external' },
    ];
    const pick = await vscode.window.showQuickPick(choices, { title: vscode.l10n.t('Which student?') });
    if (!pick) return;
    kind = pick.student;
  }
  const runId = randomBytes(6).toString('hex');
  const cts = new vscode.CancellationTokenSource();
  const panel = StudentPanel.open(ctx, `Training: ${kind === 'g2p' ? 'G2P student' : 'acoustic student'}`, [vscode.Uri.file(teacher.dir)]);
  panel.onCancel = () => cts.cancel();
  panel.show({
    kind: 'training',
    title: vscode.l10n.t('Training the {0} student from {1}', kind === 'g2p' ? 'G2P' : 'acoustic', path.basename(teacher.dir)),
    student: kind,
    lossLabel: kind === 'g2p' ? vscode.l10n.t('share of training examples wrong') : 'loss',
  });
  const sub = ctx.client.onNotification(StudentTrainProgressNotification.type, (p) => {
    if (p.runId !== runId) return;
    if (p.message) {
      ctx.output.info(`[student] ${p.message}`);
      panel.post({ type: 'log', message: p.message });
    }
    if (p.step >= 0 && (p.total !== undefined || p.loss !== undefined))
      panel.post({
        type: 'point',
        step: p.step,
        ...(p.total !== undefined ? { total: p.total } : {}),
        ...(p.loss !== undefined ? { loss: p.loss } : {}),
      });
  });
  try {
    const result = await vscode.window.withProgress(
      {
        location: vscode.ProgressLocation.Notification,
        title: vscode.l10n.t('Training the {0} student', kind === 'g2p' ? 'G2P' : 'acoustic'),
        cancellable: true,
      },
      async (_progress, token) => {
        token.onCancellationRequested(() => cts.cancel());
        return ctx.client.sendRequest(
          TrainStudentRequest.type,
          { teacherDir: teacher.dir, runId, kind, uri: teacher.resource?.toString(), workspaceTrusted: vscode.workspace.isTrusted },
          cts.token,
        );
      },
    );
    const message = describe(result);
    panel.post({ type: 'finished', status: result.status, message });
    ctx.output.info(`[student] ${message}`);
    if (result.status === 'done') {
      const choice = await vscode.window.showInformationMessage(message, vscode.l10n.t('Open Evaluation Diff'));
      if (choice) await vscode.commands.executeCommand('ttsDistill.openEvaluationDiff', vscode.Uri.file(teacher.dir));
    } else if (result.status === 'failed') void vscode.window.showErrorMessage(message);
  } catch (err) {
    const message = cts.token.isCancellationRequested ? 'Training cancelled.' : `Training failed: ${(err as Error).message}`;
    panel.post({ type: 'finished', status: cts.token.isCancellationRequested ? 'cancelled' : 'failed', message });
    if (!cts.token.isCancellationRequested) void vscode.window.showErrorMessage(message);
  } finally {
    sub.dispose();
    cts.dispose();
  }
}

function describe(r: TrainStudentResult): string {
  if (r.status === 'cancelled') return 'Training cancelled.';
  if (r.kind === 'g2p' && r.status === 'done') {
    const m = r.result.metrics;
    const p = (x: number | null) => (x === null ? '—' : `${(x * 100).toFixed(2)} %`);
    return `G2P student trained on ${r.result.examples} polyphones: held-out accuracy ${p(m.heldOutAccuracy)} (pinyin-pro ${p(m.heldOutPinyinProAccuracy)}), ${path.basename(r.model)}.`;
  }
  if (r.kind === 'external' && 'result' in r)
    return r.status === 'done'
      ? `Acoustic student trained: ${r.result.model ?? r.out}`
      : `The external trainer failed: ${r.result.error ?? 'unknown error'}`;
  return 'Training ended.';
}

async function openEvaluationDiff(ctx: ClientContext, docs: EvalDocuments, given?: vscode.Uri): Promise<void> {
  const teacher = await pickTeacherFolder('Evaluate the student on which teacher run?', given);
  if (!teacher) return;
  const audioPick = await vscode.window.showQuickPick(
    [
      { label: vscode.l10n.t('Readings only'), audio: false },
      {
        label: vscode.l10n.t("Also compare the student's audio…"),
        description: vscode.l10n.t('a folder with <name>.wav per task'),
        audio: true,
      },
    ],
    { title: vscode.l10n.t('Student audio') },
  );
  if (!audioPick) return;
  let studentAudioDir: string | undefined;
  if (audioPick.audio) {
    studentAudioDir = (
      await vscode.window.showOpenDialog({
        canSelectFolders: true,
        canSelectFiles: false,
        openLabel: vscode.l10n.t('Student audio folder'),
      })
    )?.[0]?.fsPath;
    if (!studentAudioDir) return;
  }
  let res: EvaluateStudentResult;
  try {
    res = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Evaluating the student'), cancellable: true },
      (_p, token) =>
        ctx.client.sendRequest(
          EvaluateStudentRequest.type,
          { teacherDir: teacher.dir, ...(studentAudioDir ? { studentAudioDir } : {}), uri: teacher.resource?.toString() },
          token,
        ),
    );
  } catch (err) {
    void vscode.window.showErrorMessage(vscode.l10n.t('Evaluation failed: {0}', (err as Error).message));
    return;
  }
  const { teacherUri, studentUri } = docs.set(teacher.dir, res.teacherDocument, res.studentDocument);
  const s = res.report.summary;
  const title = `Readings: teacher ↔ student (${path.basename(teacher.dir)}, ${s.characters.rate === null ? '—' : (s.characters.rate * 100).toFixed(1)} % agree)`;
  await vscode.commands.executeCommand('vscode.diff', teacherUri, studentUri, title, { viewColumn: vscode.ViewColumn.One, preview: false });
  const roots = [vscode.Uri.file(teacher.dir), ...(studentAudioDir ? [vscode.Uri.file(studentAudioDir)] : [])];
  const panel = StudentPanel.open(ctx, 'Student vs Teacher', roots);
  const uri = (f: string | undefined) => (f ? panel.webview.asWebviewUri(vscode.Uri.file(f)).toString() : '');
  panel.show({
    kind: 'report',
    title: vscode.l10n.t('Student vs teacher — {0}', path.basename(teacher.dir)),
    report: res.report,
    htmlFile: res.files.html,
    audio: res.report.items.map((i) => ({ teacher: uri(i.teacherAudio), student: uri(i.studentAudio) })),
    ...(res.taskFile ? { taskFile: res.taskFile } : {}),
  });
  panel.onReveal = (index) => void revealDiffLine(teacherUri, studentUri, title, index);
  panel.onOpenTask = (index) => {
    const item = res.report.items[index];
    if (!item || !res.taskFile) return;
    const pos = new vscode.Position(item.line, 0);
    void vscode.window.showTextDocument(vscode.Uri.file(res.taskFile), {
      viewColumn: vscode.ViewColumn.One,
      selection: new vscode.Range(pos, pos),
    });
  };
  panel.onOpenHtml = () => void vscode.env.openExternal(vscode.Uri.file(res.files.html));
}

/** Puts both sides of the diff on the task's line (line k of the documents is report item k). */
async function revealDiffLine(teacherUri: vscode.Uri, studentUri: vscode.Uri, title: string, index: number): Promise<void> {
  const range = new vscode.Range(index, 0, index, 0);
  const editors = vscode.window.visibleTextEditors.filter((e) =>
    [teacherUri.toString(), studentUri.toString()].includes(e.document.uri.toString()),
  );
  if (!editors.length) {
    await vscode.commands.executeCommand('vscode.diff', teacherUri, studentUri, title, {
      viewColumn: vscode.ViewColumn.One,
      preview: false,
      selection: range,
    });
    return;
  }
  for (const e of editors) {
    e.selection = new vscode.Selection(range.start, range.start);
    e.revealRange(range, vscode.TextEditorRevealType.InCenter);
  }
}

/** The virtual teacher / student reading documents, per teacher run (re-evaluating updates them in place). */
export class EvalDocuments implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly contents = new Map<string, string>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;

  set(teacherDir: string, teacher: string, student: string): { teacherUri: vscode.Uri; studentUri: vscode.Uri } {
    const id = randomBytesFor(teacherDir);
    const name = path.basename(teacherDir) || 'run';
    const teacherUri = vscode.Uri.from({ scheme: EVAL_SCHEME, path: `/${id}/${name} (teacher).readings` });
    const studentUri = vscode.Uri.from({ scheme: EVAL_SCHEME, path: `/${id}/${name} (student).readings` });
    for (const [u, text] of [
      [teacherUri, teacher],
      [studentUri, student],
    ] as const) {
      this.contents.set(u.toString(), text);
      this.changed.fire(u);
    }
    return { teacherUri, studentUri };
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.contents.get(uri.toString()) ?? '';
  }

  dispose(): void {
    this.changed.dispose();
  }
}

/** A short stable id per folder, so that re-running the evaluation refreshes the same documents. */
function randomBytesFor(dir: string): string {
  let h = 2166136261;
  for (let i = 0; i < dir.length; i++) h = Math.imul(h ^ dir.charCodeAt(i), 16777619);
  return (h >>> 0).toString(16);
}

/** One webview panel (training chart or report), talking typed messages with media/src/report.ts. */
class StudentPanel {
  onCancel: (() => void) | undefined;
  onReveal: ((index: number) => void) | undefined;
  onOpenHtml: (() => void) | undefined;
  onOpenTask: ((index: number) => void) | undefined;
  private ready = false;
  private readonly queue: ToReportWebview[] = [];

  private constructor(private readonly panel: vscode.WebviewPanel) {
    panel.webview.onDidReceiveMessage((m: FromReportWebview) => {
      if (m.type === 'ready') {
        this.ready = true;
        for (const q of this.queue.splice(0)) void this.panel.webview.postMessage(q);
      } else if (m.type === 'cancel') this.onCancel?.();
      else if (m.type === 'reveal') this.onReveal?.(m.index);
      else if (m.type === 'openHtml') this.onOpenHtml?.();
      else if (m.type === 'openTask') this.onOpenTask?.(m.index);
    });
  }

  static open(ctx: ClientContext, title: string, roots: vscode.Uri[]): StudentPanel {
    const ext = ctx.extension.extensionUri;
    const panel = vscode.window.createWebviewPanel(
      PANEL_TYPE,
      title,
      { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
      {
        enableScripts: true,
        enableForms: false,
        enableCommandUris: false,
        retainContextWhenHidden: true,
        localResourceRoots: [vscode.Uri.joinPath(ext, 'dist', 'media'), vscode.Uri.joinPath(ext, 'media'), ...roots],
      },
    );
    panel.webview.html = html(ctx, panel.webview, title);
    return new StudentPanel(panel);
  }

  get webview(): vscode.Webview {
    return this.panel.webview;
  }

  show(view: StudentView): void {
    this.post({ type: 'show', view });
  }

  post(m: ToReportWebview): void {
    if (this.ready) void this.panel.webview.postMessage(m);
    else this.queue.push(m);
  }
}

function html(ctx: ClientContext, webview: vscode.Webview, title: string): string {
  return webviewPage(ctx.extension.extensionUri, webview, { script: 'report.js', style: 'report.css', title });
}
