// Custom requests and notifications of the student feature: typed constants, one-line JSDoc saying who sends what to whom.
import { NotificationType, RequestType } from 'vscode-languageserver-protocol';
import type { ExternalTrainResult } from '../../server/src/core/student/externalTrainer';
import type { TrainJobResult } from '../../server/src/core/student/trainInWorker';
import type { EvalReport } from '../../server/src/core/evaluation/types';

export type { EvalReport, ExternalTrainResult, TrainJobResult };

export type StudentKind = 'g2p' | 'external';

export interface TrainStudentParams {
  /** Teacher output folder (absolute) whose manifest.jsonl labels the training. */
  teacherDir: string;
  /** Chosen by the client, echoed in every progress notification. */
  runId: string;
  /** `g2p`: the G2P student in a worker thread; `external`: the `ttsDistill.student.trainCommand` trainer. */
  kind: StudentKind;
  /** A resource whose settings apply (a workspace folder or file URI); the first folder when absent. */
  uri?: string;
  /** `vscode.workspace.isTrusted`: the server refuses to run the external trainer when false. */
  workspaceTrusted: boolean;
}

export type TrainStudentResult =
  | { kind: 'g2p'; status: 'done'; model: string; result: TrainJobResult }
  | { kind: 'external'; status: 'done' | 'failed'; out: string; result: ExternalTrainResult }
  | { kind: StudentKind; status: 'cancelled' };

export namespace TrainStudentRequest {
  /** client → server: train the student from a teacher run; cancel the request to stop it. Answers at the end. */
  export const method = 'ttsDistill/student/train' as const;
  export const type = new RequestType<TrainStudentParams, TrainStudentResult, void>(method);
}

export interface StudentTrainProgress {
  runId: string;
  kind: StudentKind;
  /** Epoch (G2P) or the trainer's step. */
  step: number;
  total?: number;
  /** G2P: the share of training examples wrong in the epoch; external: the trainer's loss. */
  loss?: number;
  /** A line for the Output channel (trainer logs, phases). */
  message?: string;
}

export namespace StudentTrainProgressNotification {
  /** server → client: progress of a training run (every epoch or trainer step, and its log lines). */
  export const method = 'ttsDistill/student/trainProgress' as const;
  export const type = new NotificationType<StudentTrainProgress>(method);
}

export interface EvaluateStudentParams {
  /** Teacher output folder (absolute) with manifest.jsonl. */
  teacherDir: string;
  /** Folder with the student's `<name>.wav` for the same tasks, when there is one. */
  studentAudioDir?: string;
  uri?: string;
}

export interface EvaluateStudentResult {
  report: EvalReport;
  /** The two sides of the diff: one line per task, in report.items order. */
  teacherDocument: string;
  studentDocument: string;
  /** The G2P student model that was evaluated (absolute). */
  model: string;
  /** eval.json and eval.html, written beside the model. */
  files: { json: string; html: string };
  /** The workspace task file the run came from, when one matches (report item `line`s are its lines). */
  taskFile?: string;
}

export namespace EvaluateStudentRequest {
  /** client → server: compare the G2P student with a teacher run; answers with the report and the diff documents. */
  export const method = 'ttsDistill/student/evaluate' as const;
  export const type = new RequestType<EvaluateStudentParams, EvaluateStudentResult, void>(method);
}
