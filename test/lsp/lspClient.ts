/**
 * A small, real LSP client for protocol tests: starts the BUILT server (dist/server.js) as a
 * child process and talks JSON-RPC to it over stdio, the way an editor does. Every wait polls
 * with a deadline; nothing sleeps a fixed time.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { InitializationOptions } from '../../protocol/lsp/base';
import {
  type CodeAction,
  type CodeLens,
  type CompletionItem,
  type CompletionList,
  createProtocolConnection,
  type Diagnostic,
  type Hover,
  type InitializeResult,
  type Position,
  type ProtocolConnection,
  type PublishDiagnosticsParams,
  type Range,
  StreamMessageReader,
  StreamMessageWriter,
  type TextDocumentContentChangeEvent,
  type WorkspaceEdit,
} from 'vscode-languageserver-protocol/node';

export const REPO = path.resolve(__dirname, '..', '..');
export const SERVER = path.join(REPO, 'dist', 'server.js');

export function fileUri(p: string): string {
  return pathToFileURL(p).href;
}

export interface StartOptions {
  /** Workspace folder (absolute). */
  rootDir?: string;
  /** The `ttsDistill` section the server reads through workspace/configuration (merged over its defaults). */
  settings?: Record<string, unknown>;
  /** Command to start instead of `node dist/server.js --stdio` (e.g. the CLI's `lsp --stdio`). */
  command?: string[];
  /** Say that the client supports `workspace/inlayHint/refresh` (as VS Code and neovim do); counted in `inlayHintRefreshes`. */
  inlayHintRefresh?: boolean;
  /** Say that the client resolves inlay hints' tooltips and locations (`inlayHint/resolve`), as VS Code does. */
  inlayHintResolve?: boolean;
  /** `initialize`'s initializationOptions (protocol/lsp/base.ts#InitializationOptions), e.g. the folder for the server's caches. */
  initializationOptions?: InitializationOptions;
}

export class LspTestClient {
  readonly diagnostics = new Map<string, PublishDiagnosticsParams>();
  readonly notifications: Array<{ method: string; params: unknown }> = [];
  readonly appliedEdits: WorkspaceEdit[] = [];
  /** `workspace/inlayHint/refresh` requests received (with StartOptions.inlayHintRefresh). */
  inlayHintRefreshes = 0;
  /** Called on each `workspace/inlayHint/refresh`. */
  onInlayHintRefresh: (() => void) | undefined;
  readonly stderr: string[] = [];
  private versions = new Map<string, number>();
  private texts = new Map<string, string>();
  settings: Record<string, unknown>;
  initializeResult!: InitializeResult;

  private constructor(
    readonly connection: ProtocolConnection,
    readonly child: ChildProcess,
    settings: Record<string, unknown>,
  ) {
    this.settings = settings;
  }

  static async start(opts: StartOptions = {}): Promise<LspTestClient> {
    const [cmd, ...args] = opts.command ?? [process.execPath, SERVER, '--stdio'];
    const child = spawn(cmd!, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const connection = createProtocolConnection(new StreamMessageReader(child.stdout!), new StreamMessageWriter(child.stdin!));
    const client = new LspTestClient(connection, child, opts.settings ?? {});
    child.stderr!.on('data', (d: Buffer) => client.stderr.push(d.toString()));
    connection.onNotification('textDocument/publishDiagnostics', (p: PublishDiagnosticsParams) => {
      client.diagnostics.set(p.uri, p);
    });
    connection.onUnhandledNotification((m) => {
      client.notifications.push({ method: m.method, params: m.params });
    });
    connection.onRequest('workspace/configuration', (p: { items: Array<{ section?: string }> }) =>
      p.items.map((i) => (i.section === 'ttsDistill' ? client.settings : null)),
    );
    connection.onRequest('client/registerCapability', () => null);
    connection.onRequest('client/unregisterCapability', () => null);
    connection.onRequest('window/workDoneProgress/create', () => null);
    connection.onRequest('workspace/inlayHint/refresh', () => {
      client.inlayHintRefreshes++;
      client.onInlayHintRefresh?.();
      return null;
    });
    connection.onRequest('workspace/applyEdit', (p: { edit: WorkspaceEdit }) => {
      client.appliedEdits.push(p.edit);
      return { applied: true };
    });
    connection.listen();
    const root = opts.rootDir;
    client.initializeResult = await connection.sendRequest('initialize', {
      processId: process.pid,
      rootUri: root ? fileUri(root) : null,
      workspaceFolders: root ? [{ uri: fileUri(root), name: path.basename(root) }] : null,
      ...(opts.initializationOptions ? { initializationOptions: opts.initializationOptions } : {}),
      capabilities: {
        workspace: {
          configuration: true,
          applyEdit: true,
          workspaceEdit: { documentChanges: true, resourceOperations: ['create'] },
          ...(opts.inlayHintRefresh ? { inlayHint: { refreshSupport: true } } : {}),
        },
        textDocument: {
          publishDiagnostics: { relatedInformation: true, versionSupport: true, tagSupport: { valueSet: [1, 2] } },
          hover: { contentFormat: ['markdown', 'plaintext'] },
          codeAction: { codeActionLiteralSupport: { codeActionKind: { valueSet: ['quickfix', 'refactor', 'refactor.rewrite'] } } },
          completion: { completionItem: { snippetSupport: false } },
          // VS Code's own list.
          ...(opts.inlayHintResolve
            ? {
                inlayHint: { resolveSupport: { properties: ['tooltip', 'textEdits', 'label.tooltip', 'label.location', 'label.command'] } },
              }
            : {}),
        },
        window: { workDoneProgress: true },
      },
    });
    await connection.sendNotification('initialized', {});
    return client;
  }

  /** Opens a document with the given text (read from disk by the caller if wanted); returns its URI. */
  async open(file: string, text: string, languageId = file.endsWith('.tasks.jsonl') ? 'tts-tasks' : 'g2p-dict'): Promise<string> {
    const uri = file.includes('://') ? file : fileUri(file);
    this.versions.set(uri, 1);
    this.texts.set(uri, text);
    this.diagnostics.delete(uri);
    await this.connection.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId, version: 1, text } });
    return uri;
  }

  /** Sends changes (incremental ones have a range); returns the new version. */
  async change(uri: string, changes: TextDocumentContentChangeEvent[]): Promise<number> {
    const version = (this.versions.get(uri) ?? 1) + 1;
    this.versions.set(uri, version);
    await this.connection.sendNotification('textDocument/didChange', { textDocument: { uri, version }, contentChanges: changes });
    return version;
  }

  /** Replaces one whole line (0-based) with new text, as an incremental change. */
  async replaceLine(uri: string, line: number, newText: string, oldLength: number): Promise<number> {
    return this.change(uri, [{ range: { start: { line, character: 0 }, end: { line, character: oldLength } }, text: newText }]);
  }

  async close(uri: string): Promise<void> {
    await this.connection.sendNotification('textDocument/didClose', { textDocument: { uri } });
  }

  version(uri: string): number {
    return this.versions.get(uri) ?? 0;
  }

  /**
   * Waits until diagnostics for the document's current version arrive and satisfy `until`
   * (default: any), or the deadline passes (then throws with what was last seen).
   */
  async waitForDiagnostics(uri: string, until: (d: Diagnostic[]) => boolean = () => true, timeoutMs = 15000): Promise<Diagnostic[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const p = this.diagnostics.get(uri);
      if (p && (p.version === undefined || p.version === this.version(uri)) && until(p.diagnostics)) return p.diagnostics;
      if (Date.now() > deadline) {
        throw new Error(
          `no matching diagnostics for ${uri} within ${timeoutMs} ms; last: ${JSON.stringify(p?.diagnostics.map((d) => `${d.range.start.line}:${d.range.start.character} ${d.message}`) ?? null)}\nserver stderr: ${this.stderr.join('')}`,
        );
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** Waits for a custom notification matching `pred`. */
  async waitForNotification<T>(method: string, pred: (p: T) => boolean = () => true, timeoutMs = 15000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.notifications.find((n) => n.method === method && pred(n.params as T));
      if (hit) return hit.params as T;
      if (Date.now() > deadline) throw new Error(`no ${method} notification within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  async setSettings(settings: Record<string, unknown>): Promise<void> {
    this.settings = settings;
    await this.connection.sendNotification('workspace/didChangeConfiguration', { settings: { ttsDistill: settings } });
  }

  hover(uri: string, position: Position): Promise<Hover | null> {
    return this.connection.sendRequest('textDocument/hover', { textDocument: { uri }, position });
  }

  codeActions(uri: string, range: Range, diagnostics: Diagnostic[] = []): Promise<CodeAction[] | null> {
    return this.connection.sendRequest('textDocument/codeAction', { textDocument: { uri }, range, context: { diagnostics } });
  }

  codeLenses(uri: string): Promise<CodeLens[] | null> {
    return this.connection.sendRequest('textDocument/codeLens', { textDocument: { uri } });
  }

  async completion(uri: string, position: Position): Promise<CompletionItem[]> {
    const r = await this.connection.sendRequest<CompletionItem[] | CompletionList | null>('textDocument/completion', {
      textDocument: { uri },
      position,
    });
    return Array.isArray(r) ? r : (r?.items ?? []);
  }

  request<R>(method: string, params: unknown): Promise<R> {
    return this.connection.sendRequest<R>(method, params);
  }

  /** Orderly shutdown; kills the process if it does not exit in time. */
  async stop(): Promise<void> {
    const exited = new Promise<void>((r) => (this.child.exitCode !== null ? r() : this.child.once('exit', () => r())));
    try {
      await Promise.race([this.connection.sendRequest('shutdown'), new Promise((r) => setTimeout(r, 2000))]);
      await this.connection.sendNotification('exit');
    } catch {
      // The server may already be gone.
    }
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
    this.connection.dispose();
  }
}
