/**
 * The teacher as the rest of the product sees it: G2P (readings in both notations) and
 * synthesis of one task, whatever runs behind it (embedded, an HTTP server, a GLM-TTS checkout).
 */
import type { TeacherBackendKind } from '../settings';
import type { ReadingSource } from '../pronunciation/teacherReadings';

export type { TeacherBackendKind };

/** One task as a teacher receives it: the prompt audio already resolved to a path the teacher can read. */
export interface TeacherTask {
  /** 0-based line in the task file. */
  line: number;
  /** output_name / uttid: the WAV is `<name>.wav`. */
  name: string;
  text: string;
  promptText?: string;
  /** Absolute path of the prompt WAV (as resolved for the teacher), when the task has one. */
  promptAudio?: string;
}

export interface SynthesizeOptions {
  seed: number;
  /** 24000 or 32000: the WAV comes back at this rate. */
  sampleRate: number;
  signal?: AbortSignal;
}

/** What the teacher read for one text. */
export interface TeacherG2P {
  text: string;
  /** One entry per UTF-16 code unit of `text`: tone-numbered pinyin (ü as v, neutral 5) for Han characters, null otherwise. */
  readings: (string | null)[];
  /** The readings of the Han characters, space-separated: `yin2 hang2`. */
  pinyin: string;
  /** Token notation of the text after the dictionary, as the teacher sees it: `银<|H|><|ANG2|>`. */
  phonemes: string;
  /**
   * Per UTF-16 unit: who decided the reading — 'dictionary' or 'g2p' (the teacher wrote phoneme
   * tokens), 'model' (left as text for the language model: the reading is only a hint), 'none'
   * (not Han) — or null where the reading is a local estimate. Absent: unknown.
   */
  sources?: (ReadingSource | null)[];
  /**
   * Where `readings`/`phonemes` come from: 'teacher' (the teacher reported them, or is our own G2P
   * port), 'local-g2p' (a server that reports none: our port of GLM-TTS's G2P filled them in). Absent: the teacher.
   */
  readingsFrom?: 'teacher' | 'local-g2p';
}

export interface SynthesisResult extends TeacherG2P {
  /** A complete 16-bit mono WAV file. */
  wav: Uint8Array;
  sampleRate: number;
  durationSeconds: number;
  /** Whether the voice of the prompt audio was cloned. The embedded teacher never does. */
  clonedVoice: boolean;
  /** Why not, or anything else the user should know about this output (e.g. fallback synthesiser). */
  note?: string;
  /** The engine that made the audio (`espeak-ng cmn`, `tone sketch`, the server's model…). */
  engine: string;
  /** sha256 of the dictionary the teacher used (its upstream-dialect text); null when unknown (an HTTP server that does not say). */
  dictionarySha256?: string | null;
}

export interface TeacherHealth {
  ok: boolean;
  backend: TeacherBackendKind;
  /** One line for the status bar tooltip and the log. */
  detail: string;
  engine?: string;
}

/** Results of a many-task run (the glmtts-cli backend runs a whole chunk in one process). */
export type ManyResult = { task: TeacherTask; result: SynthesisResult } | { task: TeacherTask; error: TeacherError };

export interface Teacher {
  readonly kind: TeacherBackendKind;
  g2p(text: string): Promise<TeacherG2P>;
  synthesize(task: TeacherTask, opts: SynthesizeOptions): Promise<SynthesisResult>;
  /**
   * Optional: synthesize many tasks in one go (a process per chunk is far cheaper than one per
   * line when loading the model takes minutes). Results arrive through `onResult` as they are known;
   * every task gets exactly one call.
   */
  synthesizeMany?(tasks: TeacherTask[], opts: SynthesizeOptions & { onResult(r: ManyResult): void | Promise<void> }): Promise<void>;
  /** Tasks handed to `synthesizeMany` at once. */
  readonly chunkSize?: number;
  /** The seed the backend really uses when it cannot take one (recorded instead of the requested one). */
  readonly fixedSeed?: number;
  /** Requests the backend takes at once (a server that runs one generation at a time): the batch never sends more. */
  readonly maxConcurrency?: number;
  /**
   * Optional: called by the batch runner with the output folder (locked) before the first line, so
   * that a backend can keep per-run state there (the voice ids a server gave our prompts) and a
   * resumed run reuses it.
   */
  useRunFolder?(outDir: string): Promise<void>;
  health(): Promise<TeacherHealth>;
  /** Frees what the teacher holds (processes, WebAssembly instances). */
  close?(): Promise<void>;
}

/**
 * A synthesis failure. `transient` failures (time-outs, connection errors, HTTP 429/5xx, a
 * crashed process) are retried with backoff; the others (a bad task, a missing prompt audio)
 * are recorded at once.
 */
export class TeacherError extends Error {
  /** The server asked to wait this long before the next request (HTTP `Retry-After`). */
  retryAfterMs?: number;
  constructor(
    message: string,
    readonly transient: boolean,
  ) {
    super(message);
    this.name = 'TeacherError';
  }
}

export function isAbortError(err: unknown): boolean {
  return err instanceof Error && (err.name === 'AbortError' || (err as { code?: string }).code === 'ABORT_ERR');
}
