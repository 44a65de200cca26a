import type * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';

/** What a client feature module gets: VS Code glue only, the work happens in the server. */
export interface ClientContext {
  extension: vscode.ExtensionContext;
  client: LanguageClient;
  /** The "TTS Distill" Output channel. */
  output: vscode.LogOutputChannel;
}
