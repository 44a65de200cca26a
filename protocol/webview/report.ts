// Messages between the extension (client/src/features/student.ts) and the student webview
// (media/src/report.ts): discriminated unions both sides type-check against.
import type { EvalReport } from '../../server/src/core/evaluation/types';

export type { EvalReport };

/** What the panel shows: a training run's loss curve, or an evaluation report. */
export type StudentView =
  | { kind: 'training'; title: string; student: 'g2p' | 'external'; lossLabel: string }
  | {
      kind: 'report';
      title: string;
      report: EvalReport;
      /** Per report item: webview URIs of the teacher's and the student's audio ('' when missing). */
      audio: Array<{ teacher: string; student: string }>;
      /** eval.html written beside the model, shown to the user. */
      htmlFile: string;
      /** The task file the run came from, when known: items then link to their task line. */
      taskFile?: string;
    };

/** Extension → webview. */
export type ToReportWebview =
  | { type: 'show'; view: StudentView }
  | { type: 'point'; step: number; total?: number; loss?: number }
  | { type: 'log'; message: string }
  | { type: 'finished'; status: 'done' | 'failed' | 'cancelled'; message: string };

/** Webview → extension. */
export type FromReportWebview =
  | { type: 'ready' }
  /** Cancel the training shown. */
  | { type: 'cancel' }
  /** Jump to the item's line in the diff (index into report.items). */
  | { type: 'reveal'; index: number }
  /** Open the item's line in its task file. */
  | { type: 'openTask'; index: number }
  | { type: 'openHtml' };
