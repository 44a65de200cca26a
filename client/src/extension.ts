import * as vscode from 'vscode';
import { LanguageClient, type LanguageClientOptions, type ServerOptions, TransportKind } from 'vscode-languageclient/node';
import {
  DocumentInfoNotification,
  LogNotification,
  RevalidateRequest,
  type DocumentInfo,
  type InitializationOptions,
} from '../../protocol/lsp/base';
import type { ClientContext } from './context';
import { LanguageAssociation } from './languages';
import { DocumentStatus } from './status';
import * as teacher from './features/teacher';
import * as student from './features/student';
import * as audio from './features/audio';
import * as slurm from './features/slurm';
import * as dataset from './features/dataset';
import * as pronunciation from './features/pronunciation';
import * as terminal from './features/terminal';
import * as workspace from './features/workspace';
import * as listening from './features/listening';

let client: LanguageClient | undefined;

/** What the extension hands to its tests (extensionTestsPath) and to other extensions. */
export interface ExtensionApi {
  client: LanguageClient;
  /** The latest document info the server sent for a URI. */
  documentInfo(uri: string): DocumentInfo | undefined;
  /** Recomputes and returns the `ttsDistill.active` context key. */
  updateActiveContext(): Promise<boolean>;
}

export async function activate(context: vscode.ExtensionContext): Promise<ExtensionApi> {
  const output = vscode.window.createOutputChannel('TTS Distill', { log: true });
  context.subscriptions.push(output);
  const serverModule = context.asAbsolutePath('dist/server.js');
  const serverOptions: ServerOptions = {
    // Over stdio, as neovim and Helix talk to it: the server encodes the diagnostics it publishes
    // again and again once each (stdioConnection.ts), which node IPC's own encoding cannot do.
    run: { module: serverModule, transport: TransportKind.stdio },
    debug: { module: serverModule, transport: TransportKind.stdio, options: { execArgv: ['--nolazy', '--inspect=6019'] } },
  };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [
      { scheme: 'file', language: 'tts-tasks' },
      { scheme: 'file', language: 'g2p-dict' },
      { scheme: 'untitled', language: 'tts-tasks' },
      { scheme: 'untitled', language: 'g2p-dict' },
    ],
    synchronize: { configurationSection: 'ttsDistill' },
    // The server keeps the polyphone verdicts of big files here from one session to the next (ttsDistill.polyphones.keepAcrossSessions).
    initializationOptions: { cacheDir: (context.storageUri ?? context.globalStorageUri).fsPath } satisfies InitializationOptions,
    outputChannel: output,
    // The server's hovers carry command links (the prompt audio's "open the preview"): only these commands run from them.
    markdown: { isTrusted: { enabledCommands: ['ttsDistill.previewAudio'] }, supportThemeIcons: true },
  };
  client = new LanguageClient('ttsDistill', 'TTS Distill Language Server', serverOptions, clientOptions);

  const status = new DocumentStatus();
  context.subscriptions.push(status);
  context.subscriptions.push(client.onNotification(LogNotification.type, ({ message }) => output.info(message)));
  context.subscriptions.push(client.onNotification(DocumentInfoNotification.type, (info) => status.update(info)));

  context.subscriptions.push(new LanguageAssociation());
  context.subscriptions.push(
    vscode.commands.registerCommand('ttsDistill.showOutput', () => output.show(true)),
    vscode.commands.registerCommand('ttsDistill.revalidate', () => client?.sendRequest(RevalidateRequest.type, {})),
    // Prompt WAVs and the dictionary live on disk: when they change, open files are checked again.
    watchAndRevalidate('**/*.{wav,WAV}'),
    watchAndRevalidate('**/*.jsonl'),
  );

  const ctx: ClientContext = { extension: context, client, output };
  // Before the server starts: the context key gates the menus, the walkthrough's sample and the terminal need no server.
  const active = new workspace.ActiveContext();
  workspace.activate(ctx, active);
  terminal.activate(ctx);
  await client.start();
  for (const feature of [pronunciation, teacher, student, audio, slurm, dataset, listening]) feature.activate(ctx);
  output.info('TTS Distill Studio is ready.');
  return { client, documentInfo: (uri) => status.get(uri), updateActiveContext: () => active.update() };
}

function watchAndRevalidate(glob: string): vscode.Disposable {
  const watcher = vscode.workspace.createFileSystemWatcher(glob);
  let timer: NodeJS.Timeout | undefined;
  const poke = () => {
    clearTimeout(timer);
    timer = setTimeout(() => void client?.sendRequest(RevalidateRequest.type, {}), 300);
  };
  watcher.onDidCreate(poke);
  watcher.onDidChange(poke);
  watcher.onDidDelete(poke);
  return watcher;
}

export async function deactivate(): Promise<void> {
  await client?.stop();
  client = undefined;
}
