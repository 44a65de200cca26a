// The evaluation's plain data (no Node imports): shared by the core, the protocol, the CLI and
// the report webview (media/src/report.ts).
import type { ListeningSummary } from '../../../../protocol/listeningTypes';
import type { JudgeRole, JudgeScores, JudgesSummary, RtfSummary, SynthTiming } from './judges/types';

export type { JudgeRole, JudgeScores, JudgesSummary, RtfSummary, SynthTiming };

export const EVAL_FORMAT_VERSION = 1;

export interface Rate {
  agree: number;
  total: number;
  rate: number | null;
}

export interface PolyphoneRow {
  char: string;
  /** Occurrences the teacher read. */
  support: number;
  agree: number;
  accuracy: number;
  /** How often the teacher used each reading. */
  teacherReadings: Record<string, number>;
  /** Most frequent teacher → student disagreements first. */
  confusions: Array<{ teacher: string; student: string; count: number }>;
}

export interface Disagreement {
  index: number;
  char: string;
  teacher: string;
  student: string | null;
}

export interface AgreementSummary {
  /** Every Han character the teacher read. */
  characters: Rate;
  /** Only characters with more than one reading. */
  polyphones: Rate;
  /** Sentences where every character agrees. */
  sentences: Rate;
  /**
   * Characters by who decided the teacher's reading: `dictionary` and `g2p` are real teacher
   * labels; `model` readings are only the G2P's hint (GLM-TTS's language model read them);
   * `unknown`: not recorded (older manifests, local estimates).
   */
  bySource: Record<SourceKey, Rate>;
  table: PolyphoneRow[];
}

export type SourceKey = 'dictionary' | 'g2p' | 'model' | 'unknown';

export interface AcousticMetrics {
  teacherSeconds: number;
  studentSeconds: number;
  /** student / teacher. */
  durationRatio: number;
  /** Mean MCD (dB) over the DTW path of the mel cepstra (c0 excluded). */
  mcd: number;
  /** Hz, over aligned frames voiced in both; null when they share no voiced frame. */
  f0Rmse: number | null;
  voicedFrames: number;
}

export interface EvalItem {
  /** 0-based line of the task in its task file. */
  line: number;
  name: string;
  text: string;
  teacher: (string | null)[];
  student: (string | null)[];
  /** Per UTF-16 unit: the source of the teacher's reading, when the manifest records it. */
  sources?: (string | null)[];
  disagreements: Disagreement[];
  /** Absolute paths, when the files exist. */
  teacherAudio?: string;
  studentAudio?: string;
  acoustic?: AcousticMetrics;
  /** Why the audio could not be compared. */
  acousticError?: string;
  /** The teacher's judges (reward server or evaluator command) on the teacher's and the student's WAV. */
  judges?: ItemJudges;
  /** The student's synthesis of this line (ttsDistill.student.synthCommand): timing and real-time factor. */
  synth?: SynthTiming;
}

export interface AcousticSummary {
  items: number;
  meanDurationRatio: number;
  meanMcd: number;
  /** Over items with voiced frames in both. */
  meanF0Rmse: number | null;
}

export interface EvalReport {
  format: 'tts-distill-eval';
  formatVersion: number;
  /** `excluded`: lines the QA gates left out (absent when none). */
  teacher: { dir: string; manifest: string; records: number; skipped: number; excluded?: number };
  student: { version: string; model?: string; audioDir?: string };
  summary: Omit<AgreementSummary, 'table'> & { acoustic: AcousticSummary | null; judges?: JudgesSummary; rtf?: RtfSummary };
  polyphones: AgreementSummary['table'];
  items: EvalItem[];
  /** Listening tests answered on this run (`listening/<test>.jsonl` beside eval.json), when there are any. */
  listening?: ListeningSummary[];
}

/** Per line: what the judges said of the teacher's and the student's WAV. */
export type ItemJudges = Partial<Record<JudgeRole, JudgeScores>>;
