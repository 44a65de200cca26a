// Custom requests and notifications of the teacher feature: typed constants, one-line JSDoc saying who sends what to whom.
import { NotificationType, RequestType } from 'vscode-languageserver-protocol';
import type { BatchProgress, BatchSummary } from '../../server/src/core/batch/runner';
import type { TeacherBackendKind } from '../../server/src/core/settings';
import type { TeacherHealth } from '../../server/src/core/teacher/types';

export type { BatchProgress, BatchSummary, TeacherHealth };

export interface QaOverrideParams {
  /** The teacher output folder (absolute), as the code lens gave it. */
  runDir: string;
  /** The output name of the line. */
  name: string;
  /** Include the line whatever the gates say, exclude it, or go back to the gates' verdict. */
  override: 'include' | 'exclude' | 'clear';
}
export namespace QaOverrideRequest {
  /** client → server: record the user's QA decision for a line in `<run>/qa-overrides.json`. */
  export const method = 'ttsDistill/qaOverride' as const;
  export const type = new RequestType<QaOverrideParams, void, void>(method);
}

export interface BatchPreflightParams {
  /** The task file (file: URI). */
  uri: string;
}
export interface BatchPreflight {
  /** Task lines in the file (blank lines not counted). */
  lines: number;
  /** Lines the runner would reject: errors in the line, duplicate or unsafe output names. */
  invalid: Array<{ line: number; reason: string }>;
  backend: TeacherBackendKind;
  /** Whether the configured teacher runs an external program (glmtts-cli, a command prefix): not allowed in untrusted workspaces. */
  runsExternalProgram: boolean;
  /** Absolute output folders of production and test runs. */
  outputDir: string;
  testOutputDir: string;
}
export namespace BatchPreflightRequest {
  /** client → server: what a batch of this task file would run, and which lines have errors. */
  export const method = 'ttsDistill/batchPreflight' as const;
  export const type = new RequestType<BatchPreflightParams, BatchPreflight, void>(method);
}

export interface SubmitBatchParams {
  uri: string;
  /** Chosen by the client, echoed in every progress notification. */
  batchId: string;
  /** Absolute output folder (production or test, as the user chose). */
  outDir: string;
  /** Leave out lines with errors instead of recording them as failures. */
  validOnly: boolean;
  /** HTTP teacher bearer token from SecretStorage; never written anywhere by the server. */
  token?: string;
  /** `vscode.workspace.isTrusted`: the server refuses teachers that run external programs when false. */
  workspaceTrusted: boolean;
}
export namespace SubmitBatchRequest {
  /** client → server: run (or resume) the batch; cancel the request to stop it. Answers with the summary. */
  export const method = 'ttsDistill/submitBatch' as const;
  export const type = new RequestType<SubmitBatchParams, BatchSummary, void>(method);
}

export interface BatchProgressParams extends BatchProgress {
  batchId: string;
}
export namespace BatchProgressNotification {
  /** server → client: progress of a running batch (at most a few per second, and the last one). */
  export const method = 'ttsDistill/batchProgress' as const;
  export const type = new NotificationType<BatchProgressParams>(method);
}

export interface TeacherHealthParams {
  /** Resource whose settings apply. */
  uri?: string;
  token?: string;
}
export namespace TeacherHealthRequest {
  /** client → server: is the configured teacher ready? (status bar) */
  export const method = 'ttsDistill/teacherHealth' as const;
  export const type = new RequestType<TeacherHealthParams, TeacherHealth, void>(method);
}

/** An ETA as people read it: `45s`, `3m05s`, `2h10m` (the CLI's stderr and the progress notification). */
export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
