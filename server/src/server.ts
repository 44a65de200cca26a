import { pathToFileURL } from 'node:url';
import * as path from 'node:path';
import {
  type CancellationToken,
  CodeActionKind,
  type Connection,
  DidChangeConfigurationNotification,
  type Diagnostic,
  DiagnosticSeverity,
  DiagnosticTag,
  type InitializeParams,
  type InitializeResult,
  type InlayHint,
  TextDocumentSyncKind,
} from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import type {
  CodeActionProvider,
  CodeLensProvider,
  CompletionProvider,
  DictionaryValidator,
  HoverProvider,
  InlayHintProvider,
  InlayHintResolver,
  OpenDocument,
  ServerContext,
} from './context';
import { countBySeverity, type Finding, LIMIT_CODE } from './core/findings';
import { defaultSettings, type Settings, withDefaults } from './core/settings';
import { LineDocument } from './core/formats/lineDocument';
import { CancelledError, resolvePromptAudio, type TaskLineAnalyzer, TaskFileModel } from './core/formats/taskFile';
import { validateDocument } from './core/validate';
import { type DocumentKind, sniffKind } from './core/formats/documentKind';
import { OutputFolderIndex } from './core/batch/outputIndex';
import { containingFolder, folderOf, uriToPath, workDirOf } from './core/util/paths';
import { PromptAudioCache } from './features/promptAudio';
import { PromptQaMeasurer } from './features/promptQa';
import { DocumentInfoNotification, type InitializationOptions, LogNotification, RevalidateRequest } from '../../protocol/lsp/base';
import * as pronunciation from './features/pronunciation';
import * as readings from './features/readings';
import type { StdioConnection } from './stdioConnection';
import * as teacher from './features/teacher';
import * as student from './features/student';
import * as audio from './features/audio';
import * as slurm from './features/slurm';
import * as symbols from './features/symbols';
import * as links from './features/links';
import * as references from './features/references';
import * as dataset from './features/dataset';
import { AMBIGUOUS_CODE, POLYPHONE_CODE } from './core/pronunciation/polyphones';

const LANGUAGE_KIND: Record<string, DocumentKind> = { 'tts-tasks': 'tasks', 'g2p-dict': 'dictionary' };
/** What a document being opened is: by its language id, else (a `.jsonl` under another language) by its first lines. */
function kindOfOpened(uri: string, languageId: string, text: () => string): DocumentKind | undefined {
  return LANGUAGE_KIND[languageId] ?? (uri.endsWith('.jsonl') ? sniffKind(text()) : undefined);
}
/** A document's first pass that takes longer publishes what it found so far after this long. */
const PARTIAL_AFTER_MS = Number(process.env.TTS_DISTILL_PARTIAL_AFTER_MS ?? 100);
/**
 * From this many lines a first pass takes longer than PARTIAL_AFTER_MS anyway (~40 lines a
 * millisecond here): it publishes the first screen's lines as soon as they are checked instead
 * (a 100,000-line file's first publication ~5 ms into its first pass, not 100: the server's trace).
 */
const PARTIAL_FIRST_SCREEN_FROM = 10_000;
/** Worker results are published at most this often per document. */
const PROGRESS_MS = 150;
/** While the workers read a big file, a publication that only changes the count of problems not shown waits this long. */
const COUNT_EVERY_MS = 1000;
/** TTS_DISTILL_TRACE=1: one line per validation pass on stderr. */
const TRACE = !!process.env.TTS_DISTILL_TRACE;
/** One trace line, stamped with the wall clock (ms) so that a client's own times can be set beside it. */
const trace = (line: string) => void process.stderr.write(`[${Date.now()}] ${line}\n`);

/** Sets up every handler on `connection` and starts listening. */
export function startServer(connection: Connection): void {
  const docs = new Map<string, OpenDocument>();
  const settingsCache = new Map<string, Promise<Settings>>();
  const settingsListeners: Array<() => void> = [];
  const closeListeners: Array<(doc: OpenDocument) => void> = [];
  const analyzerFactories: Array<(s: Settings, d: OpenDocument) => TaskLineAnalyzer | undefined> = [];
  const dictionaryValidators: DictionaryValidator[] = [];
  const hovers: HoverProvider[] = [];
  const codeActions: CodeActionProvider[] = [];
  const codeLenses: CodeLensProvider[] = [];
  const completions: CompletionProvider[] = [];
  const inlayHints: InlayHintProvider[] = [];
  const inlayHintResolvers: InlayHintResolver[] = [];
  /** Per document, the cancel of its scheduled pass. */
  const timers = new Map<string, () => void>();
  /** Documents validated completely at least once: a small edit of those is re-diagnosed at once, without the debounce. */
  const validatedOnce = new Set<string>();
  /** Documents with a validation pass under way, and those that got worker results meanwhile. */
  const running = new Set<string>();
  /** Documents that got worker results while a pass was under way, and whether some were for lines in view. */
  const progressAfter = new Map<string, boolean>();
  const rerunAfter = new Set<string>();
  /** How long the last completed validation pass of each document took. */
  const lastPassMs = new Map<string, number>();
  /** Incremented per request; a validation publishes only if it is still the newest for its document. */
  const generation = new Map<string, number>();
  /**
   * Requests for a complete pass (anything but an edit changed: settings, files on disk, prompt
   * audio, the dictionary…) and the last one a completed pass honoured: when they match, a pass
   * after edits looks at the edited lines only (TaskFileModel.validate's `incremental`).
   */
  const fullAsked = new Map<string, number>();
  const fullDone = new Map<string, number>();
  /** Per document, the diagnostic of each published finding. */
  const diagnosticsOf = new Map<string, WeakMap<Finding, Diagnostic>>();
  /** Per document, the last findings a pass published (publishPass), when, and a count update owed. */
  const lastPublished = new Map<
    string,
    { version: number; findings: readonly Finding[]; at: number; next?: Finding[]; timer?: () => void }
  >();
  let workspaceFolders: string[] = [];
  let hasConfiguration = false;
  let canRefreshInlayHints = false;
  let resolvesInlayHints = false;
  let cacheDir: string | undefined;

  const log = (message: string) => {
    void connection.sendNotification(LogNotification.type, { message });
  };

  // The prompt size cap of the settings last used for a validation (one cap for the cache).
  let promptMaxBytes = defaultSettings.promptAudio.maxMegabytes * 1048576;
  // Prompt signal QA (ttsDistill.qa.promptChecks of the settings last used), measured in a worker once per file version.
  let promptQaOn = defaultSettings.qa.promptChecks;
  const promptQa = new PromptQaMeasurer(path.join(__dirname, 'qaWorker.js'), log);
  const audioCache = new PromptAudioCache(
    // Prompt audio read or measured: a pass, incremental when it can be (it looks again at the lines
    // of each path whose findings changed).
    () => {
      for (const uri of allTaskUris()) passSoon(uri, true);
    },
    2000,
    () => promptMaxBytes,
    (abs, key) => (promptQaOn ? promptQa.measure(abs, key, promptMaxBytes) : undefined),
  );
  const allTaskUris = () => [...docs.values()].filter((d) => d.kind === 'tasks').map((d) => d.uri);

  const ctx: ServerContext = {
    connection,
    outputs: new OutputFolderIndex((m) => log(m)),
    getSettings(uri) {
      if (!hasConfiguration) return Promise.resolve(defaultSettings);
      const key = uri ?? '';
      let p = settingsCache.get(key);
      if (!p) {
        p = connection.workspace.getConfiguration({ scopeUri: uri, section: 'ttsDistill' }).then(withDefaults, () => defaultSettings);
        settingsCache.set(key, p);
      }
      return p;
    },
    workspaceFolders: () => workspaceFolders,
    folderOf: (file) => folderOf(workspaceFolders, file),
    workDirOf: (file) => workDirOf(workspaceFolders, file),
    containingFolder: (file) => containingFolder(workspaceFolders, file),
    getDocument: (uri) => docs.get(uri),
    allDocuments: () => [...docs.values()],
    revalidate(uris) {
      if (TRACE) trace(`complete passes asked from ${new Error().stack!.split('\n')[2]?.trim()}`);
      // A pass under way finishes (and publishes) first: restarting a long first pass over and over
      // (prompt audio read, dictionary loaded…) would delay every diagnostic.
      for (const uri of uris ?? [...docs.keys()]) {
        fullAsked.set(uri, (fullAsked.get(uri) ?? 0) + 1);
        passSoon(uri, false);
      }
    },
    addTaskLineAnalyzer: (f) => void analyzerFactories.push(f),
    addDictionaryValidator: (v) => void dictionaryValidators.push(v),
    onHover: (p) => void hovers.push(p),
    onCodeAction: (p) => void codeActions.push(p),
    onCodeLens: (p) => void codeLenses.push(p),
    onCompletion: (p) => void completions.push(p),
    onInlayHint: (p) => void inlayHints.push(p),
    onInlayHintResolve: (r) => void inlayHintResolvers.push(r),
    get resolvesInlayHints() {
      return resolvesInlayHints;
    },
    get canRefreshInlayHints() {
      return canRefreshInlayHints;
    },
    get cacheDir() {
      return cacheDir;
    },
    refreshInlayHints() {
      if (canRefreshInlayHints) connection.languages.inlayHint.refresh().catch(() => undefined);
    },
    onSettingsChanged: (l) => void settingsListeners.push(l),
    onDidClose: (l) => void closeListeners.push(l),
    log,
  };

  connection.onInitialize((params: InitializeParams): InitializeResult => {
    hasConfiguration = !!params.capabilities.workspace?.configuration;
    canRefreshInlayHints = !!params.capabilities.workspace?.inlayHint?.refreshSupport;
    resolvesInlayHints = !!params.capabilities.textDocument?.inlayHint?.resolveSupport?.properties.includes('label.tooltip');
    workspaceFolders = (params.workspaceFolders ?? []).map((f) => uriToPath(f.uri)).filter((p): p is string => !!p);
    if (!workspaceFolders.length && params.rootUri) {
      const p = uriToPath(params.rootUri);
      if (p) workspaceFolders = [p];
    }
    // Only an absolute folder is taken: the server never writes where the client did not say.
    const options = params.initializationOptions as InitializationOptions | null | undefined;
    if (typeof options?.cacheDir === 'string' && path.isAbsolute(options.cacheDir)) cacheDir = options.cacheDir;
    return {
      capabilities: {
        textDocumentSync: { openClose: true, change: TextDocumentSyncKind.Incremental },
        hoverProvider: true,
        codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix, CodeActionKind.RefactorRewrite] },
        codeLensProvider: { resolveProvider: false },
        completionProvider: { triggerCharacters: ['"', ':'] },
        documentSymbolProvider: true,
        workspaceSymbolProvider: true,
        documentLinkProvider: { resolveProvider: false },
        referencesProvider: true,
        inlayHintProvider: { resolveProvider: true },
        workspace: { workspaceFolders: { supported: true, changeNotifications: true } },
      },
      serverInfo: { name: 'tts-distill', version: '0.1.0' },
    };
  });

  // The verdicts kept for the next session are written before the server goes.
  connection.onShutdown(() => readingsFeature.close());

  connection.onInitialized(() => {
    readingsFeature.clientReady();
    if (hasConfiguration) void connection.client.register(DidChangeConfigurationNotification.type, { section: 'ttsDistill' });
    connection.workspace.onDidChangeWorkspaceFolders((e) => {
      const removed = new Set(e.removed.map((f) => uriToPath(f.uri)));
      workspaceFolders = [
        ...workspaceFolders.filter((f) => !removed.has(f)),
        ...e.added.map((f) => uriToPath(f.uri)).filter((p): p is string => !!p),
      ];
    });
  });

  connection.onDidChangeConfiguration(() => {
    settingsCache.clear();
    for (const l of settingsListeners) l();
    ctx.revalidate();
  });

  connection.onDidOpenTextDocument(({ textDocument: td }) => {
    if (TRACE) trace(`didOpen ${td.uri} (${td.text.length} characters)`);
    const kind = kindOfOpened(td.uri, td.languageId, () => td.text);
    if (!kind) return;
    // The settings are asked for now: the client answers while the lines are split below.
    void ctx.getSettings(td.uri);
    const t0 = TRACE ? performance.now() : 0;
    // Task files can be 100,000 lines long: kept as lines, so that an edit does not copy the whole text.
    const document =
      kind === 'tasks'
        ? new LineDocument(td.uri, td.languageId, td.version, td.text)
        : TextDocument.create(td.uri, td.languageId, td.version, td.text);
    const d: OpenDocument = { uri: td.uri, path: uriToPath(td.uri), kind, document };
    if (kind === 'tasks') d.tasks = new TaskFileModel(td.text);
    if (TRACE) trace(`didOpen: ${document.lineCount} lines kept in ${(performance.now() - t0).toFixed(0)} ms`);
    docs.set(td.uri, d);
    schedule(td.uri, 0);
  });

  connection.onDidChangeTextDocument(({ textDocument: td, contentChanges }) => {
    const d = docs.get(td.uri);
    if (!d) return;
    if (TRACE) trace(`didChange ${td.uri} v${td.version}`);
    if (d.document instanceof LineDocument) d.document.update(contentChanges, td.version);
    else d.document = TextDocument.update(d.document, contentChanges, td.version);
    d.tasks?.applyChanges(contentChanges);
    if (d.tasks) readingsFeature.edited(d, contentChanges);
    // Re-diagnosing a few changed lines of a validated file costs a few milliseconds (per-line
    // caches): no reason to wait. Big changes (a paste, a replace-all) wait for the debounce.
    let changedLines = 0;
    for (const c of contentChanges)
      changedLines += 'range' in c ? c.range.end.line - c.range.start.line + 1 + (c.text.match(/\n/g)?.length ?? 0) : Infinity;
    const cheap = validatedOnce.has(td.uri) && changedLines <= 50;
    void ctx.getSettings(td.uri).then((s) => schedule(td.uri, cheap ? 0 : s.diagnostics.debounceMs));
  });

  connection.onDidCloseTextDocument(({ textDocument: td }) => {
    const closed = docs.get(td.uri);
    docs.delete(td.uri);
    readingsFeature.closed(td.uri);
    running.delete(td.uri);
    progressAfter.delete(td.uri);
    rerunAfter.delete(td.uri);
    lastPassMs.delete(td.uri);
    validatedOnce.delete(td.uri);
    fullAsked.delete(td.uri);
    fullDone.delete(td.uri);
    diagnosticsOf.delete(td.uri);
    lastPublished.get(td.uri)?.timer?.();
    lastPublished.delete(td.uri);
    timers.get(td.uri)?.();
    timers.delete(td.uri);
    generation.set(td.uri, (generation.get(td.uri) ?? 0) + 1);
    void connection.sendDiagnostics({ uri: td.uri, diagnostics: [] });
    if (closed) for (const l of closeListeners) l(closed);
  });

  connection.onRequest(RevalidateRequest.type, (params) => {
    audioCache.invalidate();
    ctx.revalidate(params.uris);
  });

  /** Worker results arrived for the document: publish what became ready, at most every PROGRESS_MS. */
  function scheduleProgress(uri: string, urgent = false) {
    if (!docs.has(uri) || (timers.has(uri) && !urgent)) return;
    // Never cancel a pass under way for this (it would start over and over while results keep coming): run after it.
    if (running.has(uri)) progressAfter.set(uri, urgent || !!progressAfter.get(uri));
    // A pass over a big file walks every line: keep the passes to at most a third of the time.
    else schedule(uri, urgent ? 0 : Math.max(PROGRESS_MS, 2 * (lastPassMs.get(uri) ?? 0)));
  }

  /**
   * A pass of the document as soon as it can run: after the one under way (never cancelling it),
   * else now; `keepScheduled`: a pass already scheduled (a debounce) is left as it is.
   */
  function passSoon(uri: string, keepScheduled: boolean) {
    if (running.has(uri) && !timers.has(uri)) rerunAfter.add(uri);
    else if (!keepScheduled || !timers.has(uri)) schedule(uri, 0);
  }

  function schedule(uri: string, delayMs: number) {
    if (TRACE)
      trace(
        `schedule in ${delayMs} ms${timers.has(uri) ? ' (replaces one)' : ''}${running.has(uri) ? ' (cancels one)' : ''} ${new Error().stack!.split('\n')[2]!.trim()}`,
      );
    timers.get(uri)?.();
    const gen = (generation.get(uri) ?? 0) + 1;
    generation.set(uri, gen);
    timers.set(
      uri,
      later(delayMs, () => {
        timers.delete(uri);
        running.add(uri);
        validate(uri, gen)
          .catch((err) => {
            if (TRACE) trace(`pass ${gen} ${err instanceof CancelledError ? 'cancelled' : 'failed'} ${uri}`);
            if (!(err instanceof CancelledError)) log(`validation of ${uri} failed: ${err instanceof Error ? err.stack : String(err)}`);
          })
          .finally(() => {
            if (generation.get(uri) !== gen) return;
            running.delete(uri);
            const again = rerunAfter.delete(uri);
            const urgent = progressAfter.get(uri);
            if (progressAfter.delete(uri) && !again) scheduleProgress(uri, urgent);
            if (again) schedule(uri, 0);
          });
      }),
    );
  }

  /**
   * A pass's findings published, except while the workers are still reading the file and only the
   * count of problems not shown changed (the cap is full, the same findings are shown): that count
   * is brought up to date at most every COUNT_EVERY_MS. A big file's publication is 0.3 MB of JSON,
   * 10–20 ms to encode on the server's thread, and such passes come every 150 ms.
   */
  function publishPass(uri: string, d: OpenDocument, version: number, findings: Finding[], progress: boolean) {
    const last = lastPublished.get(uri);
    const now = performance.now();
    if (progress && last && last.version === version && sameButCount(last.findings, findings) && now - last.at < COUNT_EVERY_MS) {
      last.next = findings;
      last.timer ??= later(COUNT_EVERY_MS - (now - last.at), () => {
        last.timer = undefined;
        const next = last.next;
        if (next && docs.get(uri) === d && d.document.version === version) publishPass(uri, d, version, next, false);
      });
      return;
    }
    last?.timer?.();
    const mine = { version, findings, at: now };
    lastPublished.set(uri, mine);
    if (!progress) void publish(uri, version, findings);
    // A progress pass's publication waits for the next turn of timers: a request read meanwhile (the
    // inlay hints of a screen scrolled to) is answered before it is encoded. Unless a newer one came.
    else later(1, () => lastPublished.get(uri) === mine && docs.get(uri) === d && void publish(uri, version, findings));
  }

  /** Sends the findings as the document's diagnostics; resolves once they are written. */
  function publish(uri: string, version: number, findings: Finding[]): Promise<void> {
    // A big file's passes publish mostly the same findings (shared objects, see atLineShared): their
    // diagnostics are built once.
    let cache = diagnosticsOf.get(uri);
    if (!cache) diagnosticsOf.set(uri, (cache = new WeakMap()));
    const diagnostics = new Array<Diagnostic>(findings.length);
    for (let k = 0; k < findings.length; k++) {
      const f = findings[k]!;
      let diagnostic = cache.get(f);
      if (!diagnostic) cache.set(f, (diagnostic = toDiagnostic(f, uri)));
      diagnostics[k] = diagnostic;
    }
    return connection.sendDiagnostics({ uri, version, diagnostics }).then(() => {
      if (TRACE) trace(`published v${version}: ${diagnostics.length} diagnostics written`);
    });
  }

  async function validate(uri: string, gen: number) {
    const isCurrent = () => generation.get(uri) === gen && docs.has(uri);
    const d = docs.get(uri);
    if (!d) return;
    const asking = performance.now();
    const settings = await ctx.getSettings(uri);
    if (TRACE) trace(`settings of pass ${gen} in ${(performance.now() - asking).toFixed(1)} ms`);
    promptMaxBytes = settings.promptAudio.maxMegabytes * 1048576;
    promptQaOn = settings.qa.promptChecks;
    if (!isCurrent()) return;
    const version = d.document.version;
    let asked = fullAsked.get(uri) ?? 0;
    const t0 = performance.now();
    const isCancelled = () => !isCurrent();
    let result;
    if (d.kind === 'tasks' && d.tasks) {
      // The lines in view and those just edited go to the readings workers first (the pass waits a little for them).
      await readingsFeature.prepare(d, settings);
      if (TRACE) trace(`prepared in ${(performance.now() - t0).toFixed(1)} ms`);
      if (!isCurrent()) return;
      // A complete pass asked for meanwhile (the workspace's dictionary or student just loaded) is this one.
      asked = fullAsked.get(uri) ?? 0;
      const analyzers = analyzerFactories.map((f) => f(settings, d)).filter((a): a is TaskLineAnalyzer => !!a);
      // Polyphone flags: lines whose readings are not computed yet are left for the workers (see features/readings.ts).
      const poly = readingsFeature.analyzer(d, settings);
      if (poly) analyzers.push(poly);
      const folder = ctx.folderOf(d.path);
      result = await validateDocument({ kind: 'tasks', model: d.tasks }, settings, {
        analyzers,
        promptAudioStatus: (written, dia) =>
          audioCache.status(resolvePromptAudio(written, dia, d.path, settings.teacher.glmttsPath, folder)),
        dictionaryChecks: async () => [],
        isCancelled,
        chunkLines: 2000,
        incremental: asked === (fullDone.get(uri) ?? 0),
        // A big file's first pass shows what it found so far after a moment (later passes keep the
        // last publication until they are done: no flicker).
        ...(validatedOnce.has(uri)
          ? {}
          : {
              partial: {
                afterMs: PARTIAL_AFTER_MS,
                // A big file's first pass runs a second or more: the lines in view as soon as they are checked.
                ...(d.tasks.lineCount >= PARTIAL_FIRST_SCREEN_FROM ? { firstLines: readings.DEFAULT_VIEW_LINES } : {}),
                publish: (found: Finding[], linesDone: number) => {
                  if (!isCurrent() || d.document.version !== version) return;
                  if (TRACE) trace(`partial publication: ${found.length} findings of the first ${linesDone} lines`);
                  void publish(uri, version, found);
                },
                // Results for lines in view arrived while this first pass goes on: shown now, not after it.
                again: () => {
                  if (!progressAfter.get(uri)) return false;
                  progressAfter.set(uri, false);
                  return true;
                },
              },
            }),
      });
      if (isCurrent()) readingsFeature.afterPass(d);
    } else {
      const token = { isCancellationRequested: false } as CancellationToken;
      result = await validateDocument({ kind: 'dictionary', text: d.document.getText() }, settings, {
        analyzers: [],
        promptAudioStatus: () => ({ state: 'pending' }),
        dictionaryChecks: async () => {
          const more: Finding[] = [];
          for (const v of dictionaryValidators) {
            more.push(...(await v(d, settings, token)));
            if (!isCurrent()) break;
          }
          return more;
        },
        isCancelled,
      });
    }
    if (!result) return;
    const { findings, dialect, dialectSource } = result;
    if (!isCurrent() || d.document.version !== version) return;
    const elapsedMs = performance.now() - t0;
    validatedOnce.add(uri);
    fullDone.set(uri, asked);
    lastPassMs.set(uri, elapsedMs);
    if (TRACE)
      trace(
        `pass ${gen} ${elapsedMs.toFixed(0)} ms, ${findings.length} findings, ${readingsFeature.pendingLines(uri)} lines pending, rss ${(process.memoryUsage().rss / 1e6).toFixed(0)} MB, heap ${(process.memoryUsage().heapUsed / 1e6).toFixed(0)} MB ${uri}`,
      );
    d.findings = findings;
    publishPass(uri, d, version, findings, d.kind === 'tasks' && readingsFeature.pendingLines(uri) > 0);
    // Those over the cap too: the status bar counts the file's problems, not only the ones Problems shows.
    const { error: errors, warning: warnings } = countBySeverity(findings);
    void connection.sendNotification(DocumentInfoNotification.type, {
      uri,
      kind: d.kind,
      dialect,
      dialectSource,
      lines: d.document.lineCount,
      errors,
      warnings,
      elapsedMs,
      ...(d.kind === 'tasks' ? { pendingLines: readingsFeature.pendingLines(uri) } : {}),
    });
  }

  connection.onHover(async (params, token) => {
    const d = docs.get(params.textDocument.uri);
    if (!d) return null;
    for (const p of hovers) {
      const h = await p(d, params, token);
      if (h) return h;
    }
    return null;
  });
  connection.onCodeAction(async (params, token) => {
    const d = docs.get(params.textDocument.uri);
    if (!d) return [];
    const all = await Promise.all(codeActions.map((p) => p(d, params, token)));
    return all.flat();
  });
  connection.onCodeLens(async (params, token) => {
    const d = docs.get(params.textDocument.uri);
    if (!d) return [];
    const all = await Promise.all(codeLenses.map((p) => p(d, params, token)));
    // Two features may offer the same action on a line (the teacher's ▶ play and the preview's
    // Teacher lens open the same thing): show it once, as the first feature titled it.
    const seen = new Set<string>();
    return all.flat().filter((lens) => {
      if (!lens.command) return true;
      const key = `${lens.range.start.line}\u0000${lens.command.command}\u0000${JSON.stringify(lens.command.arguments ?? [])}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
  });
  connection.languages.inlayHint.on(async (params, token) => {
    const d = docs.get(params.textDocument.uri);
    if (!d) return [];
    const t0 = performance.now();
    if (TRACE) trace(`inlay hints of lines ${params.range.start.line}–${params.range.end.line} asked`);
    const all: InlayHint[][] = await Promise.all(inlayHints.map((p) => p(d, params, token)));
    if (TRACE)
      trace(`inlay hints of lines ${params.range.start.line}–${params.range.end.line} in ${(performance.now() - t0).toFixed(1)} ms`);
    return all.flat();
  });
  connection.languages.inlayHint.resolve(async (hint, token) => {
    for (const r of inlayHintResolvers) {
      const resolved = await r(hint, token);
      if (resolved) return resolved;
    }
    return hint;
  });
  connection.onCompletion(async (params, token) => {
    const d = docs.get(params.textDocument.uri);
    if (!d) return [];
    const all = await Promise.all(completions.map((p) => p(d, params, token)));
    return all.flat();
  });

  const readingsFeature = readings.register(ctx, pronunciation.register(ctx), { progress: scheduleProgress });
  // A big file's didOpen takes a while to arrive and be read (24 MB: ~0.6 s): the readings of its
  // first screen are asked for from its first lines meanwhile (a hint only: the didOpen decides).
  if ('onDocumentOpening' in connection)
    (connection as StdioConnection).onDocumentOpening(({ uri, languageId, lines }) => {
      const kind = kindOfOpened(uri, languageId, () => lines.join('\n'));
      if (TRACE) trace(`opening ${uri}: ${lines.length} first lines (${kind ?? 'not ours'})`);
      if (kind === 'tasks')
        readingsFeature.opening(uri, lines).then(
          (n) => TRACE && trace(`opening ${uri}: the first screen's ${n} texts asked for`),
          (err) => log(`the first lines of ${uri} could not be read ahead: ${err instanceof Error ? err.message : String(err)}`),
        );
    });
  for (const feature of [teacher, student, audio, slurm, symbols, links, references, dataset]) feature.register(ctx);

  connection.listen();
}

const SEVERITY: Record<Finding['severity'], DiagnosticSeverity> = {
  error: DiagnosticSeverity.Error,
  warning: DiagnosticSeverity.Warning,
  information: DiagnosticSeverity.Information,
  hint: DiagnosticSeverity.Hint,
};

/** A finding as an LSP diagnostic of the document `docUri` (related places in other files get their own URI). */
/**
 * Codes whose finding data only the server reads back (the polyphone quick fixes find the published
 * finding by its range): a big file publishes up to 1,000 of them per edit, and their data was a
 * quarter of the bytes. The cap's notice keeps its counts for the status bar (countBySeverity).
 */
const DATA_ON_SERVER = new Set<string>([POLYPHONE_CODE, AMBIGUOUS_CODE, LIMIT_CODE]);

/** Runs `f` after `ms` (0: once the current events are handled, without a timer's millisecond); returns its cancel. */
function later(ms: number, f: () => void): () => void {
  if (ms <= 0) {
    const i = setImmediate(f);
    return () => clearImmediate(i);
  }
  const t = setTimeout(f, ms);
  return () => clearTimeout(t);
}

/** The same findings (the same objects, in order) but for the count in the notice of those not shown. */
function sameButCount(a: readonly Finding[], b: readonly Finding[]): boolean {
  if (a.length !== b.length) return false;
  for (let k = 0; k < a.length; k++) {
    const x = a[k]!;
    const y = b[k]!;
    if (x !== y && !(x.code === LIMIT_CODE && y.code === LIMIT_CODE && x.severity === y.severity)) return false;
  }
  return true;
}

export function toDiagnostic(f: Finding, docUri: string): Diagnostic {
  const d: Diagnostic = { range: f.range, severity: SEVERITY[f.severity], code: f.code, source: 'tts-distill', message: f.message };
  if (f.related?.length) {
    d.relatedInformation = f.related.map((r) => ({
      location: { uri: r.file ? pathToFileURL(r.file).href : docUri, range: r.range },
      message: r.message,
    }));
  }
  if (f.tags?.length) d.tags = f.tags.map((t) => (t === 'unnecessary' ? DiagnosticTag.Unnecessary : DiagnosticTag.Deprecated));
  if (f.data !== undefined && !DATA_ON_SERVER.has(f.code ?? '')) d.data = f.data;
  return d;
}
