// Custom requests and notifications of the audio feature: typed constants, one-line JSDoc saying who sends what to whom.
import { NotificationType, RequestType } from 'vscode-languageserver-protocol';
import type { AudioAnalysisResult, AudioSourceKind, PreviewLine } from '../previewTypes';

export type {
  AudioAnalysis,
  AudioAnalysisResult,
  AudioProblem,
  AudioSource,
  AudioSourceKind,
  PreviewLine,
  ReadingCell,
} from '../previewTypes';

export interface AnalyseAudioParams {
  /** Absolute path of a WAV file. */
  path: string;
  /** Only this part, in seconds, at the resolution a zoomed-in view needs (not cached). */
  range?: { start: number; end: number };
}
export namespace AnalyseAudioRequest {
  /** client → server: waveform peaks, log-mel spectrogram and levels of a WAV (computed once per path + mtime). */
  export const method = 'ttsDistill/analyseAudio' as const;
  export const type = new RequestType<AnalyseAudioParams, AudioAnalysisResult, void>(method);
}

export interface PreviewLineParams {
  uri: string;
  /** 0-based line of the task file. */
  line: number;
  /** Compute the teacher's readings of the text (default true; a hover does not need them). */
  withReadings?: boolean;
}
export namespace PreviewLineRequest {
  /** client → server: a task line's text, readings and audio files (prompt, teacher, student); null when the line is not a task. */
  export const method = 'ttsDistill/previewLine' as const;
  export const type = new RequestType<PreviewLineParams, PreviewLine | null, void>(method);
}

export interface AudioFilesChangedParams {
  /** Absolute paths of WAV files created, changed or deleted. */
  paths: string[];
}
export namespace AudioFilesChangedNotification {
  /** client → server: WAVs appeared, changed or went away (a teacher run writes outputs): code lenses are refreshed. */
  export const method = 'ttsDistill/audioFilesChanged' as const;
  export const type = new NotificationType<AudioFilesChangedParams>(method);
}

/** Arguments of the `ttsDistill.previewAudio` command that code lenses and hover links carry. */
export interface PreviewAudioArgs {
  uri: string;
  line: number;
  source?: AudioSourceKind;
}
