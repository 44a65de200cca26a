import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ClientContext } from '../context';
import { webviewPage } from '../webviewPage';
import {
  AnalyseAudioRequest,
  AudioFilesChangedNotification,
  type PreviewAudioArgs,
  type PreviewLine,
  PreviewLineRequest,
} from '../../../protocol/lsp/audio';
import type {
  FromWebview,
  PreviewSource,
  PreviewState,
  PreviewTarget,
  PreviewView,
  SourceKey,
  ToWebview,
} from '../../../protocol/webview/preview';

const PANEL_TYPE = 'ttsDistill.audioPreview';
const EDITOR_TYPE = 'ttsDistill.wavPreview';
const LABELS: Record<SourceKey, string> = { prompt: 'Prompt', teacher: 'Teacher', student: 'Student', file: 'File' };

/**
 * The audio preview: one panel that follows task lines (code lens, command, hover link, cursor),
 * the same view for a WAV from the explorer, and a read-only custom editor for `.wav` files.
 * The analysis runs in the language server; the webview only draws and plays.
 */
export function activate(ctx: ClientContext): void {
  const { extension } = ctx;
  const previews = new PreviewPanels(ctx);
  extension.subscriptions.push(
    previews,
    vscode.commands.registerCommand('ttsDistill.previewAudio', (args?: PreviewAudioArgs) => {
      const target = args ?? activeLine();
      if (!target) {
        void vscode.window.showInformationMessage(vscode.l10n.t('Put the cursor on a line of a task file to preview its audio.'));
        return;
      }
      previews.show({ kind: 'line', uri: target.uri, line: target.line }, args?.source);
    }),
    vscode.commands.registerCommand('ttsDistill.previewWav', async (uri?: vscode.Uri) => {
      const file = uri ?? (await vscode.window.showOpenDialog({ filters: { 'WAV audio': ['wav', 'WAV'] }, canSelectMany: false }))?.[0];
      if (file) previews.show({ kind: 'file', path: file.fsPath });
    }),
    vscode.window.registerWebviewPanelSerializer(PANEL_TYPE, {
      async deserializeWebviewPanel(panel, state: unknown) {
        previews.restore(panel, isPreviewState(state) ? state : undefined);
      },
    }),
    vscode.window.registerCustomEditorProvider(EDITOR_TYPE, new WavEditorProvider(ctx), {
      supportsMultipleEditorsPerDocument: true,
      webviewOptions: { enableFindWidget: false },
    }),
    vscode.window.onDidChangeTextEditorSelection((e) => previews.follow(e.textEditor)),
    watchWavs((paths) => {
      void ctx.client.sendNotification(AudioFilesChangedNotification.type, { paths });
      previews.filesChanged(paths);
    }),
  );
}

/** Calls back with the WAVs created, changed or deleted in the workspace, a few at a time (a batch writes many). */
function watchWavs(onChange: (paths: string[]) => void): vscode.Disposable {
  const watcher = vscode.workspace.createFileSystemWatcher('**/*.{wav,WAV}');
  const changed = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  const add = (uri: vscode.Uri) => {
    changed.add(uri.fsPath);
    clearTimeout(timer);
    timer = setTimeout(() => {
      const paths = [...changed];
      changed.clear();
      onChange(paths);
    }, 300);
  };
  watcher.onDidCreate(add);
  watcher.onDidChange(add);
  watcher.onDidDelete(add);
  return new vscode.Disposable(() => {
    clearTimeout(timer);
    watcher.dispose();
  });
}

function activeLine(): { uri: string; line: number } | undefined {
  const editor = vscode.window.activeTextEditor;
  if (!editor || editor.document.languageId !== 'tts-tasks') return undefined;
  return { uri: editor.document.uri.toString(), line: editor.selection.active.line };
}

/** The one preview panel for task lines and loose WAV files. */
class PreviewPanels implements vscode.Disposable {
  private current: PreviewController | undefined;
  private followTimer: NodeJS.Timeout | undefined;

  constructor(private readonly ctx: ClientContext) {}

  show(target: PreviewTarget, selected?: SourceKey): void {
    if (!this.current) {
      const panel = vscode.window.createWebviewPanel(
        PANEL_TYPE,
        'Audio Preview',
        { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
        webviewOptions(this.ctx, target),
      );
      this.adopt(new PreviewController(this.ctx, panel, target, selected));
      return;
    }
    this.current.panel.reveal(undefined, true);
    void this.current.setTarget(target, selected);
  }

  restore(panel: vscode.WebviewPanel, state: PreviewState | undefined): void {
    if (!state) {
      panel.dispose();
      return;
    }
    panel.webview.options = webviewOptions(this.ctx, state.target);
    this.current?.panel.dispose();
    this.adopt(new PreviewController(this.ctx, panel, state.target, state.selected, state.position));
  }

  /** Moves the panel to the cursor's task line when the setting says so. */
  follow(editor: vscode.TextEditor): void {
    const c = this.current;
    if (!c || c.target.kind !== 'line' || editor.document.languageId !== 'tts-tasks') return;
    if (!vscode.workspace.getConfiguration('ttsDistill.preview', editor.document.uri).get<boolean>('followCursor', true)) return;
    const line = editor.selection.active.line;
    const uri = editor.document.uri.toString();
    if (c.target.uri === uri && c.target.line === line) return;
    clearTimeout(this.followTimer);
    // Arrow keys held down fire many selection changes: only the line the cursor rests on is analysed.
    this.followTimer = setTimeout(() => void this.current?.setTarget({ kind: 'line', uri, line }), 120);
  }

  /** A source of the panel's view was written or removed: show it again (same line, same position). */
  filesChanged(paths: string[]): void {
    const c = this.current;
    if (c && paths.some((p) => c.shows(p))) void c.setTarget(c.target);
  }

  private adopt(c: PreviewController): void {
    this.current = c;
    c.panel.onDidDispose(() => {
      if (this.current === c) this.current = undefined;
    });
  }

  dispose(): void {
    clearTimeout(this.followTimer);
    this.current?.panel.dispose();
  }
}

/** Webview options: scripts on, forms and command links off, only `resourceRoots` readable. */
function webviewOptions(ctx: ClientContext, target: PreviewTarget): vscode.WebviewOptions & vscode.WebviewPanelOptions {
  return {
    enableScripts: true,
    enableForms: false,
    enableCommandUris: false,
    localResourceRoots: resourceRoots(ctx, target.kind === 'file' ? [target.path] : []),
  };
}

/**
 * What the webview may load: the extension's webview assets, the workspace folders, and the
 * folder of each shown WAV that lies outside them (an upstream prompt under the GLM-TTS checkout,
 * a file opened from elsewhere) — that folder only, nothing above it.
 */
function resourceRoots(ctx: ClientContext, files: readonly string[]): vscode.Uri[] {
  const ext = ctx.extension.extensionUri;
  const roots = [vscode.Uri.joinPath(ext, 'dist', 'media'), vscode.Uri.joinPath(ext, 'media')];
  roots.push(...(vscode.workspace.workspaceFolders ?? []).map((f) => f.uri));
  const outside = new Set(files.filter((f) => !vscode.workspace.getWorkspaceFolder(vscode.Uri.file(f))).map((f) => path.dirname(f)));
  roots.push(...[...outside].sort().map((d) => vscode.Uri.file(d)));
  return roots;
}

/** Binds one webview (panel or custom editor) to a target: asks the server, posts what to draw. */
class PreviewController {
  private viewId = 0;
  private ready = false;
  private everReady = false;
  private pending: ToWebview[] = [];
  /** What the server said about each source of the current view (for the timing line in the log). */
  private analysed = new Map<SourceKey, string>();
  /** The source the user asked for last; a line without it shows another one, the next line with it shows it again. */
  private preferred: SourceKey | undefined;
  private sources = new Map<SourceKey, string>();

  constructor(
    private readonly ctx: ClientContext,
    readonly panel: vscode.WebviewPanel,
    public target: PreviewTarget,
    private selected: SourceKey | undefined,
    private position = 0,
  ) {
    this.preferred = selected;
    panel.webview.html = html(ctx, panel.webview);
    panel.webview.onDidReceiveMessage((m: FromWebview) => this.onMessage(m));
    void this.setTarget(target, selected, position);
  }

  async setTarget(target: PreviewTarget, selected?: SourceKey, position?: number): Promise<void> {
    const viewId = ++this.viewId;
    if (selected) this.preferred = selected;
    this.target = target;
    let view: PreviewView;
    if (target.kind === 'file') {
      const source = this.source('file', target.path, true);
      view = { viewId, target, title: path.basename(target.path), sources: [source], selected: 'file' };
    } else {
      let line: PreviewLine | null = null;
      let failure: string | undefined;
      try {
        line = await this.ctx.client.sendRequest(PreviewLineRequest.type, { uri: target.uri, line: target.line });
      } catch (err) {
        failure = `The language server could not read the line: ${err instanceof Error ? err.message : String(err)}`;
      }
      if (viewId !== this.viewId) return;
      const fileName = path.basename(vscode.Uri.parse(target.uri).fsPath);
      if (!line) {
        view = {
          viewId,
          target,
          title: `${fileName}:${target.line + 1}`,
          sources: [],
          selected: selected ?? this.selected ?? 'prompt',
          notice: failure ?? vscode.l10n.t('Line {0} of {1} is not a complete task.', target.line + 1, fileName),
        };
      } else {
        const sources = line.sources.map((s) => this.source(s.kind, s.path, s.exists));
        const { sources: _omit, ...rest } = line;
        const want = selected ?? this.preferred;
        const pick =
          sources.find((s) => s.key === want && s.exists) ??
          sources.find((s) => s.key === 'teacher' && s.exists) ??
          sources.find((s) => s.exists) ??
          sources[0];
        view = {
          viewId,
          target,
          title: vscode.l10n.t('{0} · line {1}', line.name || fileName, target.line + 1),
          line: rest,
          sources,
          selected: pick?.key ?? 'prompt',
        };
      }
    }
    if (position !== undefined) view.position = position;
    const webview = this.panel.webview;
    const roots = resourceRoots(
      this.ctx,
      view.sources.filter((s) => s.exists).map((s) => s.path),
    );
    const key = (uris: readonly vscode.Uri[] | undefined) => (uris ?? []).map((u) => u.toString()).join('\n');
    if (key(roots) !== key(webview.options.localResourceRoots)) webview.options = { ...webview.options, localResourceRoots: roots };
    this.selected = view.selected;
    this.panel.title = `Audio: ${view.title}`;
    this.analysed.clear();
    this.sources = new Map(view.sources.map((s) => [s.key, s.path]));
    this.post({ type: 'show', view });
    await Promise.all(
      view.sources
        .filter((s) => s.exists)
        .map(async (s) => {
          try {
            const result = await this.ctx.client.sendRequest(AnalyseAudioRequest.type, { path: s.path });
            if (viewId !== this.viewId) return;
            this.analysed.set(
              s.key,
              result.ok
                ? `${s.displayPath}: analysis ${result.cached ? 'cached' : `${Math.round(result.analysis.elapsedMs)} ms`}`
                : `${s.displayPath}: ${result.problem.message}`,
            );
            this.post({ type: 'analysis', viewId, key: s.key, result });
          } catch (err) {
            if (viewId === this.viewId) {
              this.post({
                type: 'analysis',
                viewId,
                key: s.key,
                result: {
                  ok: false,
                  problem: {
                    path: s.path,
                    kind: 'unreadable',
                    message: `Analysis failed: ${err instanceof Error ? err.message : String(err)}`,
                  },
                },
              });
            }
          }
        }),
    );
  }

  /** Whether `file` is one of the sources of the current view. */
  shows(file: string): boolean {
    return [...this.sources.values()].includes(file);
  }

  private source(key: SourceKey, file: string, exists: boolean): PreviewSource {
    const rel = vscode.workspace.asRelativePath(file, (vscode.workspace.workspaceFolders?.length ?? 0) > 1);
    return {
      key,
      label: LABELS[key],
      path: file,
      displayPath: rel,
      exists,
      src: exists ? this.panel.webview.asWebviewUri(vscode.Uri.file(file)).toString() : '',
    };
  }

  private post(m: ToWebview): void {
    if (!this.ready) {
      // Before the script runs, messages would be lost; `show` replaces an older `show`.
      if (m.type === 'show') this.pending = [];
      this.pending.push(m);
      return;
    }
    void this.panel.webview.postMessage(m);
  }

  private onMessage(m: FromWebview): void {
    switch (m.type) {
      case 'ready':
        this.ready = true;
        if (this.everReady) {
          // The webview was hidden and shown again, which reloads it: draw the current view again.
          void this.setTarget(this.target, undefined, this.position);
          return;
        }
        this.everReady = true;
        for (const p of this.pending.splice(0)) void this.panel.webview.postMessage(p);
        return;
      case 'state':
        this.selected = m.state.selected;
        this.position = m.state.position;
        return;
      case 'detail': {
        const file = this.sources.get(m.key);
        if (m.viewId !== this.viewId || !file) return;
        void this.ctx.client.sendRequest(AnalyseAudioRequest.type, { path: file, range: { start: m.start, end: m.end } }).then(
          (result) => {
            if (m.viewId === this.viewId) this.post({ type: 'detail', viewId: m.viewId, key: m.key, result });
          },
          (err: unknown) =>
            this.ctx.output.warn(`audio preview: detail of ${file} failed: ${err instanceof Error ? err.message : String(err)}`),
        );
        return;
      }
      case 'selected':
        this.preferred = m.key;
        return;
      case 'revealLine':
        if (this.target.kind === 'line') void revealLine(this.target.uri, this.target.line);
        return;
      case 'rendered':
        this.ctx.output.info(`audio preview: ${this.analysed.get(m.key) ?? m.key}; drawn ${m.ms} ms after the view was shown`);
        return;
      case 'playbackError':
        this.ctx.output.warn(`audio preview: cannot play ${m.key}: ${m.message}`);
        return;
    }
  }
}

async function revealLine(uri: string, line: number): Promise<void> {
  const doc = await vscode.workspace.openTextDocument(vscode.Uri.parse(uri));
  const pos = new vscode.Position(line, 0);
  await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.One, selection: new vscode.Range(pos, pos) });
}

function html(ctx: ClientContext, webview: vscode.Webview): string {
  return webviewPage(ctx.extension.extensionUri, webview, {
    script: 'preview.js',
    style: 'preview.css',
    title: vscode.l10n.t('Audio Preview'),
  });
}

/** `.wav` files open in the preview: a read-only custom editor with nothing to save. */
class WavEditorProvider implements vscode.CustomReadonlyEditorProvider {
  constructor(private readonly ctx: ClientContext) {}

  openCustomDocument(uri: vscode.Uri): vscode.CustomDocument {
    return { uri, dispose: () => undefined };
  }

  resolveCustomEditor(document: vscode.CustomDocument, panel: vscode.WebviewPanel): void {
    const target: PreviewTarget = { kind: 'file', path: document.uri.fsPath };
    panel.webview.options = webviewOptions(this.ctx, target);
    const c = new PreviewController(this.ctx, panel, target, 'file');
    // A rewritten WAV (a new teacher run) is analysed again: the server's cache is keyed by mtime.
    const watcher = vscode.workspace.createFileSystemWatcher(
      new vscode.RelativePattern(vscode.Uri.file(path.dirname(document.uri.fsPath)), path.basename(document.uri.fsPath)),
    );
    watcher.onDidChange(() => void c.setTarget(target));
    watcher.onDidCreate(() => void c.setTarget(target));
    panel.onDidDispose(() => watcher.dispose());
  }
}

function isPreviewState(x: unknown): x is PreviewState {
  if (!x || typeof x !== 'object') return false;
  const s = x as PreviewState;
  return (
    !!s.target &&
    (s.target.kind === 'line'
      ? typeof s.target.uri === 'string' && typeof s.target.line === 'number'
      : s.target.kind === 'file' && typeof s.target.path === 'string')
  );
}
