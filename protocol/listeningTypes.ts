// Listening tests' plain data (no Node imports): shared by the core, the CLI, the report and the
// webview protocol (protocol/webview/listening.ts).

export type ListeningSystem = 'teacher' | 'student';
export type ListeningKind = 'ab' | 'mos';
/** What a test asks: blind A/B preference, MOS (1–5) of each system's take, or both (A/B items first). */
export type ListeningKinds = 'ab' | 'mos' | 'both';

export const LISTENING_PLAN_FORMAT = 'tts-distill-listening-plan';
export const LISTENING_FORMAT_VERSION = 1;

interface ItemBase {
  /** Stable id within the test, e.g. `ab/utt_3` or `mos/utt_3/2` (answers refer to it). */
  id: string;
  /** The task's output name and its 0-based line in the task file. */
  name: string;
  line: number;
  text: string;
}

/** Teacher vs student, in an order drawn from the seed: the listener hears "A" and "B" only. */
export interface AbItem extends ItemBase {
  kind: 'ab';
  a: { system: ListeningSystem; audio: string };
  b: { system: ListeningSystem; audio: string };
}

/** One take of one system, rated 1–5; teacher and student takes are shuffled together. */
export interface MosItem extends ItemBase {
  kind: 'mos';
  system: ListeningSystem;
  audio: string;
}

export type ListeningItem = AbItem | MosItem;

/** `<run>/listening/<test>.plan.json`: written once when the test is created; a resumed test keeps it. */
export interface ListeningPlan {
  format: typeof LISTENING_PLAN_FORMAT;
  formatVersion: number;
  test: string;
  seed: number;
  /** Lines sampled (A/B: one item per line; MOS: two). */
  count: number;
  kinds: ListeningKinds;
  /** Lines of the run that had both a teacher and a student WAV. */
  candidates: number;
  created: string;
  items: ListeningItem[];
}

/** One line of `<run>/listening/<test>.jsonl`. The latest answer to an item wins. */
export type ListeningAnswer =
  | { item: string; kind: 'ab'; name: string; choice: 'A' | 'B'; preferred: ListeningSystem; at: string }
  | { item: string; kind: 'mos'; name: string; system: ListeningSystem; score: 1 | 2 | 3 | 4 | 5; at: string };

/** A share with its 95 % Wilson score interval. */
export interface ShareCi {
  k: number;
  n: number;
  share: number | null;
  low: number | null;
  high: number | null;
}

/** A mean with its 95 % Student-t interval (null bounds with fewer than 2 ratings). */
export interface MeanCi {
  n: number;
  mean: number | null;
  sd: number | null;
  low: number | null;
  high: number | null;
}

export interface ListeningSummary {
  test: string;
  /** Answer lines read, and lines that were not a valid answer (a torn or edited line): skipped. */
  answers: number;
  invalidLines: number;
  /** Items of the plan (when it is there) and items answered. */
  items: number | null;
  answered: number;
  /** A/B: how often the student's take was preferred over the teacher's. */
  preference: (ShareCi & { teacher: number; student: number }) | null;
  /** MOS per system. */
  mos: { teacher: MeanCi; student: MeanCi } | null;
}
