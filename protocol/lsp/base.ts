import { NotificationType, RequestType } from 'vscode-languageserver-protocol';

/** What a client may pass in `initialize`'s `initializationOptions`. */
export interface InitializationOptions {
  /**
   * An absolute folder the server may write its caches to (VS Code: the extension's storage for the
   * workspace). The polyphone verdicts of big files are kept there from one session to the next
   * (setting `ttsDistill.polyphones.keepAcrossSessions`); without it nothing is kept.
   */
  cacheDir?: string;
}

/** What the server knows about one open file; server → client after every validation (status bar). */
export interface DocumentInfo {
  uri: string;
  kind: 'tasks' | 'dictionary';
  /** Task files: `webui` | `upstream` | `unknown`; dictionaries: `rule` | `upstream` | `mixed` | `unknown`. */
  dialect: string;
  /** Where the dialect came from: the file's own keys, or the setting because the file did not show it. */
  dialectSource: 'file' | 'setting';
  lines: number;
  errors: number;
  warnings: number;
  /** Milliseconds the last validation took. */
  elapsedMs: number;
  /** Task files: lines whose polyphone readings are still being computed (their warnings follow). */
  pendingLines?: number;
}
export namespace DocumentInfoNotification {
  /** server → client: the status of a validated document. */
  export const method = 'ttsDistill/documentInfo' as const;
  export const type = new NotificationType<DocumentInfo>(method);
}

/** server → client: a line for the "TTS Distill" Output channel. */
export namespace LogNotification {
  export const method = 'ttsDistill/log' as const;
  export const type = new NotificationType<{ message: string }>(method);
}

export interface RevalidateParams {
  /** Only these documents; all open ones when absent. */ uris?: string[];
}
export namespace RevalidateRequest {
  /** client → server: validate again (a prompt WAV or the dictionary changed on disk). */
  export const method = 'ttsDistill/revalidate' as const;
  export const type = new RequestType<RevalidateParams, void, void>(method);
}
