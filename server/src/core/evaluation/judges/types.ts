// The judges' plain data (no Node imports): what a judge says about one WAV, shared by the core,
// eval.json, eval.html and `<teacher run>/judges.jsonl`.

export type JudgeBackend = 'none' | 'reward' | 'command';
export type JudgeRole = 'teacher' | 'student';

/** One WAV to judge. */
export interface JudgeInput {
  /** output_name / uttid of the task. */
  name: string;
  role: JudgeRole;
  /** Absolute local path of the WAV. */
  audio: string;
  /** The text it should say (the reference for CER). */
  text: string;
  /** The voice it should have (the reference for similarity): the task's prompt WAV, absolute. */
  promptAudio?: string;
  /** The line's emotion label when it has one (name or emotion2vec index). */
  emotion?: string | number;
}

/** A judge's scores for one WAV; a measure the judge did not give is absent, one it could not compute is null. */
export interface JudgeScores {
  /** Character error rate of an ASR transcript against the text (0 = perfect). */
  cer?: number | null;
  /** Speaker-similarity cosine against the prompt (-1..1). */
  similarity?: number | null;
  /** Emotion score 0..1: the probability of the line's emotion (of `emotionLabel`). */
  emotion?: number | null;
  /** The emotion `emotion` is the probability of (`not neutral` for -1). */
  emotionLabel?: string;
  /** Why this WAV has no scores. */
  error?: string;
  /** The teacher WAV's sha256 (from the manifest), so that a later run can tell the judgement is of this output. */
  wavSha256?: string;
}

export interface JudgeMeans {
  /** WAVs judged without error. */
  items: number;
  meanCer: number | null;
  meanSimilarity: number | null;
  meanEmotion: number | null;
}

export interface JudgesSummary {
  backend: Exclude<JudgeBackend, 'none'>;
  /** Where it ran: the reward server URLs or the command. */
  where: string;
  teacher: JudgeMeans | null;
  student: JudgeMeans | null;
  /** WAVs that got no scores. */
  failed: number;
  /** Why the judge gave nothing at all (server down, command failed): the evaluation still completed. */
  error?: string;
  /** The file the QA gates read, when it was written. */
  judgesFile?: string;
  judgesFileError?: string;
}

/** Per line: real-time factor of the student's synthesis. */
export interface SynthTiming {
  /** Seconds of compute the synth command reported for this line (when it prints per-line timings). */
  seconds?: number;
  /** Seconds of audio it wrote. */
  audioSeconds?: number;
  /** seconds / audioSeconds. */
  rtf?: number;
}

export interface RtfSummary {
  command: string;
  /** Folder the student's WAVs were written to. */
  outDir: string;
  /** Wall time of the whole synth command. */
  wallSeconds: number;
  /** Seconds of student audio written. */
  audioSeconds: number;
  /** Lines with a student WAV. */
  items: number;
  /** wallSeconds / audioSeconds (null without audio). */
  rtf: number | null;
  /** Mean of the per-line RTF over lines with a reported timing (null when the command printed none). */
  meanLineRtf: number | null;
  exitCode: number | null;
  error?: string;
}
