import type {
  CancellationToken,
  CodeAction,
  CodeActionParams,
  CodeLens,
  CodeLensParams,
  CompletionItem,
  CompletionParams,
  Connection,
  Hover,
  HoverParams,
  InlayHint,
  InlayHintParams,
} from 'vscode-languageserver/node';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import type { Settings } from './core/settings';
import type { TaskFileModel, TaskLineAnalyzer } from './core/formats/taskFile';
import type { Finding } from './core/findings';

import type { DocumentKind } from './core/formats/documentKind';
import type { OutputFolderIndex } from './core/batch/outputIndex';

export interface OpenDocument {
  uri: string;
  /** Absolute path for file: URIs, undefined for others (untitled). */
  path?: string;
  kind: DocumentKind;
  /** Always up to date with the client's edits. */
  document: TextDocument;
  /** For task files: the incremental line model (parsed lines, cached per line text). */
  tasks?: TaskFileModel;
  /** What the last validation pass published (the Problems panel's view of this document). */
  findings?: Finding[];
}

export type HoverProvider = (doc: OpenDocument, params: HoverParams, token: CancellationToken) => Promise<Hover | null> | Hover | null;
export type CodeActionProvider = (
  doc: OpenDocument,
  params: CodeActionParams,
  token: CancellationToken,
) => Promise<CodeAction[]> | CodeAction[];
export type CodeLensProvider = (doc: OpenDocument, params: CodeLensParams, token: CancellationToken) => Promise<CodeLens[]> | CodeLens[];
export type InlayHintProvider = (
  doc: OpenDocument,
  params: InlayHintParams,
  token: CancellationToken,
) => Promise<InlayHint[]> | InlayHint[];
/** Fills in what an inlay hint was sent without (its tooltips); undefined: not one of the provider's hints, or it cannot. */
export type InlayHintResolver = (hint: InlayHint, token: CancellationToken) => Promise<InlayHint | undefined> | InlayHint | undefined;
export type CompletionProvider = (
  doc: OpenDocument,
  params: CompletionParams,
  token: CancellationToken,
) => Promise<CompletionItem[]> | CompletionItem[];

/** Extra validation of a dictionary document beyond the structural checks (pronunciation, shadowing…). */
export type DictionaryValidator = (doc: OpenDocument, settings: Settings, token: CancellationToken) => Promise<Finding[]> | Finding[];

/**
 * What a feature module gets to plug itself into the server. Features never set connection
 * handlers for the methods below themselves: several features answer the same request (hover,
 * code lens…) and the server merges their answers.
 */
export interface ServerContext {
  connection: Connection;
  /** Settings of the resource, read through the one typed accessor (cached until the client says they changed). */
  getSettings(uri?: string): Promise<Settings>;
  /** Absolute paths of the workspace folders (first one first). */
  workspaceFolders(): string[];
  /** The workspace folder of a file: the innermost folder holding it, else the first folder (core/util/paths.ts#folderOf). */
  folderOf(file: string | undefined): string | undefined;
  /** Where a job on a file runs and writes: its folder, else (no workspace folders) the file's own folder (core/util/paths.ts#workDirOf). */
  workDirOf(file: string | undefined): string;
  /** The innermost workspace folder holding the file, or undefined (core/util/paths.ts#containingFolder). */
  containingFolder(file: string): string | undefined;
  getDocument(uri: string): OpenDocument | undefined;
  allDocuments(): OpenDocument[];
  /** Ask for a new validation of the given documents (all when omitted), debounced. */
  revalidate(uris?: string[]): void;
  /** Adds a per-line analyzer of task lines (its findings are cached per line text and analyzer version). */
  addTaskLineAnalyzer(factory: (settings: Settings, doc: OpenDocument) => TaskLineAnalyzer | undefined): void;
  addDictionaryValidator(v: DictionaryValidator): void;
  onHover(p: HoverProvider): void;
  onCodeAction(p: CodeActionProvider): void;
  onCodeLens(p: CodeLensProvider): void;
  onCompletion(p: CompletionProvider): void;
  /** Inlay hints of the requested range (the server also takes that range as the lines in view). */
  onInlayHint(p: InlayHintProvider): void;
  onInlayHintResolve(r: InlayHintResolver): void;
  /**
   * The client resolves inlay hints' label tooltips (textDocument.inlayHint.resolveSupport, as VS
   * Code does when one is hovered): hints may be sent without them.
   */
  readonly resolvesInlayHints: boolean;
  /** The folder the client gave for the server's caches (InitializationOptions.cacheDir), if any. */
  readonly cacheDir: string | undefined;
  /** The client said it supports `workspace/inlayHint/refresh`. */
  readonly canRefreshInlayHints: boolean;
  /** Asks the client to ask for inlay hints again (when it can). */
  refreshInlayHints(): void;
  /** Called when settings change (after the cache is dropped). */
  onSettingsChanged(listener: () => void): void;
  /** Called after the client closed a document (saved or not); the document is no longer in allDocuments(). */
  onDidClose(listener: (doc: OpenDocument) => void): void;
  /** Teacher output folders' manifests and failure lists, read once per change (core/batch/outputIndex.ts). */
  outputs: OutputFolderIndex;
  /** A line in the client's Output channel. */
  log(message: string): void;
}
