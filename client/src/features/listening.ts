import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ClientContext } from '../context';
import { webviewPage } from '../webviewPage';
import {
  appendAnswer,
  answersFile,
  latestAnswers,
  type ListeningAnswer,
  ListeningInputError,
  type ListeningKinds,
  type ListeningPlan,
  listeningCandidates,
  listTests,
  makeAnswer,
  nextItem,
  openTest,
  readAnswers,
  readEvalReport,
  readPlan,
  summarize,
  updateReport,
} from '../../../server/src/core/evaluation/listening';
import type { FromListeningWebview, ListeningItemView, ToListeningWebview } from '../../../protocol/webview/listening';

const PANEL_TYPE = 'ttsDistill.listening';

/**
 * TTS Distill: Start Listening Test: a blind A/B and MOS test on an evaluation run, in a webview
 * driven by the keyboard. The plan and the answers are the core's (core/evaluation/listening.ts):
 * this is glue between the webview and those files.
 */
export function activate(ctx: ClientContext): void {
  ctx.extension.subscriptions.push(
    vscode.commands.registerCommand('ttsDistill.startListeningTest', (given?: vscode.Uri) => start(ctx, given)),
  );
}

async function start(ctx: ClientContext, given?: vscode.Uri): Promise<void> {
  try {
    const run = await pickRun(given);
    if (!run) return;
    const cfg = vscode.workspace.getConfiguration('ttsDistill.listening', vscode.Uri.file(run));
    const test = await pickTest(run, cfg.get<number>('count', 20));
    if (!test) return;
    const kinds = cfg.get<string>('kind', 'both');
    const opened = await openTest(run, {
      test,
      seed: cfg.get<number>('seed', 42),
      count: cfg.get<number>('count', 20),
      kinds: (['ab', 'mos', 'both'].includes(kinds) ? kinds : 'both') as ListeningKinds,
    });
    ctx.output.info(
      `[listening] ${opened.resumed ? 'resumed' : 'new'} test ${test} on ${run}: ${opened.plan.items.length} items, next ${opened.next + 1}`,
    );
    ListeningPanel.open(ctx, run, opened.plan, opened.answers, opened.resumed);
  } catch (err) {
    if (err instanceof ListeningInputError || (err as NodeJS.ErrnoException).code === 'EUNSAFE')
      void vscode.window.showErrorMessage(vscode.l10n.t('Listening test: {0}', (err as Error).message));
    else throw err;
  }
}

/** An evaluation folder (with eval.json) whose lines have student audio: the one given, or picked among the workspace's. */
async function pickRun(given?: vscode.Uri): Promise<string | undefined> {
  if (given) return path.basename(given.fsPath) === 'eval.json' ? path.dirname(given.fsPath) : given.fsPath;
  const found = await vscode.workspace.findFiles('**/eval.json', '**/node_modules/**', 200);
  const items: Array<vscode.QuickPickItem & { dir?: string }> = [];
  for (const f of found) {
    const dir = path.dirname(f.fsPath);
    const lines = await readEvalReport(dir).then(
      (r) => listeningCandidates(r).length,
      () => 0,
    );
    if (!lines) continue;
    const folder = vscode.workspace.getWorkspaceFolder(f);
    items.push({
      label: folder ? path.relative(folder.uri.fsPath, dir) || '.' : dir,
      description: vscode.l10n.t('{0} lines with teacher and student audio', lines),
      detail: dir,
      dir,
    });
  }
  if (!items.length) {
    void vscode.window.showErrorMessage(
      vscode.l10n.t(
        "No evaluation with student audio in the workspace: run Open Evaluation Diff with the student's audio (or tts-distill eval --student-audio DIR) first.",
      ),
    );
    return undefined;
  }
  items.sort((a, b) => a.label.localeCompare(b.label));
  const pick =
    items.length === 1
      ? items[0]
      : await vscode.window.showQuickPick(items, { title: vscode.l10n.t('Listening test on which evaluation?') });
  return pick?.dir;
}

/** A test of the run to resume, or a new one (named test-N). The first test of a run starts without asking. */
async function pickTest(run: string, count: number): Promise<string | undefined> {
  const tests = await listTests(run);
  let n = 1;
  while (tests.includes(`test-${n}`)) n++;
  const fresh = `test-${n}`;
  if (!tests.length) return fresh;
  const items: Array<vscode.QuickPickItem & { test: string }> = [];
  for (const test of tests) {
    const plan = await readPlan(run, test).catch(() => undefined);
    const { answers } = await readAnswers(run, test).catch(() => ({ answers: [] as ListeningAnswer[] }));
    const answered = plan ? plan.items.filter((i) => latestAnswers(answers).has(i.id)).length : answers.length;
    items.push({ label: test, description: plan ? vscode.l10n.t('{0} / {1} answered', answered, plan.items.length) : '', test });
  }
  items.unshift({
    label: vscode.l10n.t('$(add) New test {0}', fresh),
    description: vscode.l10n.t('{0} lines (ttsDistill.listening.count)', count),
    test: fresh,
  });
  return (await vscode.window.showQuickPick(items, { title: vscode.l10n.t('Resume a listening test or start a new one') }))?.test;
}

class ListeningPanel {
  private ready = false;
  private current = 0;
  /** Answers saved since the report was last updated. */
  private dirty = false;

  private constructor(
    private readonly ctx: ClientContext,
    private readonly panel: vscode.WebviewPanel,
    private readonly run: string,
    private readonly plan: ListeningPlan,
    private readonly answers: ListeningAnswer[],
    private readonly resumed: boolean,
  ) {
    this.current = nextItem(plan, answers);
    panel.webview.onDidReceiveMessage((m: FromListeningWebview) => void this.receive(m));
    panel.onDidDispose(() => {
      if (this.dirty) void updateReport(this.run).catch((err: Error) => ctx.output.warn(`[listening] report not updated: ${err.message}`));
    });
  }

  static open(ctx: ClientContext, run: string, plan: ListeningPlan, answers: ListeningAnswer[], resumed: boolean): ListeningPanel {
    const ext = ctx.extension.extensionUri;
    const clipDirs = new Set<string>();
    for (const i of plan.items) for (const f of i.kind === 'ab' ? [i.a.audio, i.b.audio] : [i.audio]) clipDirs.add(path.dirname(f));
    const title = vscode.l10n.t('Listening test {0}', plan.test);
    const panel = vscode.window.createWebviewPanel(
      PANEL_TYPE,
      title,
      { viewColumn: vscode.ViewColumn.Active, preserveFocus: false },
      {
        enableScripts: true,
        enableForms: false,
        enableCommandUris: false,
        retainContextWhenHidden: true,
        localResourceRoots: [
          vscode.Uri.joinPath(ext, 'dist', 'media'),
          vscode.Uri.joinPath(ext, 'media'),
          ...[...clipDirs].map((d) => vscode.Uri.file(d)),
        ],
      },
    );
    panel.webview.html = webviewPage(ext, panel.webview, { script: 'listening.js', style: 'listening.css', title });
    return new ListeningPanel(ctx, panel, run, plan, answers, resumed);
  }

  private post(m: ToListeningWebview): void {
    if (this.ready) void this.panel.webview.postMessage(m);
  }

  private async receive(m: FromListeningWebview): Promise<void> {
    if (m.type === 'ready') {
      this.ready = true;
      await this.show(this.current);
    } else if (m.type === 'answer') {
      if (m.index !== this.current) return; // a stale message (a double key press)
      let answer: ListeningAnswer;
      try {
        answer = makeAnswer(this.plan, m.index, m.value);
        await appendAnswer(this.run, this.plan.test, answer);
      } catch (err) {
        this.ctx.output.error(`[listening] ${(err as Error).message}`);
        this.post({ type: 'error', message: vscode.l10n.t('The answer was not saved: {0}', (err as Error).message) });
        return;
      }
      this.answers.push(answer);
      this.dirty = true;
      await this.show(nextItem(this.plan, this.answers));
    } else if (m.type === 'back') {
      if (m.index >= 0 && m.index < this.plan.items.length) await this.show(m.index);
    } else if (m.type === 'openReport') {
      const report = await this.updateReport();
      if (report) await vscode.env.openExternal(vscode.Uri.file(report.html));
    }
  }

  private async updateReport() {
    try {
      const report = await updateReport(this.run);
      this.dirty = false;
      return report;
    } catch (err) {
      this.ctx.output.warn(`[listening] report not updated: ${(err as Error).message}`);
      return undefined;
    }
  }

  private async show(index: number): Promise<void> {
    this.current = index;
    const latest = latestAnswers(this.answers);
    if (index >= this.plan.items.length) {
      await this.updateReport();
      this.post({
        type: 'done',
        test: this.plan.test,
        total: this.plan.items.length,
        summary: summarize(this.plan.test, this.answers, 0, this.plan),
        answersFile: answersFile(this.run, this.plan.test),
      });
      return;
    }
    const item = this.plan.items[index]!;
    const uri = (f: string) => this.panel.webview.asWebviewUri(vscode.Uri.file(f)).toString();
    const prev = latest.get(item.id);
    const view: ListeningItemView = {
      index,
      total: this.plan.items.length,
      kind: item.kind,
      text: item.text,
      clips: item.kind === 'ab' ? [uri(item.a.audio), uri(item.b.audio)] : [uri(item.audio)],
      ...(prev ? { answer: prev.kind === 'ab' ? (prev.choice === 'A' ? 1 : 2) : prev.score } : {}),
    };
    this.post({
      type: 'item',
      test: this.plan.test,
      item: view,
      answered: this.plan.items.filter((i) => latest.has(i.id)).length,
      resumed: this.resumed,
    });
  }
}
