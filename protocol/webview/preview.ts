// Messages between the extension and the audio preview webview: discriminated unions shared by
// client/src/features/audio.ts and media/src/preview.ts, so both sides are type-checked.
import type { AudioAnalysisResult, PreviewLine } from '../previewTypes';

export type { AudioAnalysis, AudioAnalysisResult, AudioProblem, PreviewLine, ReadingCell } from '../previewTypes';

/** A tab of the preview: one of the task line's sources, or a single WAV file opened on its own. */
export type SourceKey = 'prompt' | 'teacher' | 'student' | 'file';

export interface PreviewSource {
  key: SourceKey;
  label: string;
  /** Absolute path, shown to the user. */
  path: string;
  /** The same path as relative to the workspace when inside it. */
  displayPath: string;
  exists: boolean;
  /** `asWebviewUri` of the file, for the audio element. */
  src: string;
}

/** What the preview is showing; kept as the webview state so the panel comes back after a reload. */
export type PreviewTarget = { kind: 'line'; uri: string; line: number } | { kind: 'file'; path: string };

export interface PreviewState {
  target: PreviewTarget;
  selected: SourceKey;
  /** Playback position, seconds. */
  position: number;
}

export interface PreviewView {
  /** Increases with every `show`; analyses of an older view are dropped. */
  viewId: number;
  target: PreviewTarget;
  title: string;
  /** Present when the target is a task line. */
  line?: Omit<PreviewLine, 'sources'>;
  /** Why the line has nothing to show (not a task line…). */
  notice?: string;
  sources: PreviewSource[];
  selected: SourceKey;
  /** Where to resume playback (after a reload). */
  position?: number;
}

/** Extension → webview. */
export type ToWebview =
  | { type: 'show'; view: PreviewView }
  | { type: 'analysis'; viewId: number; key: SourceKey; result: AudioAnalysisResult }
  | { type: 'setSelected'; key: SourceKey }
  /** A finer analysis of part of a source, for a zoomed-in view. */
  | { type: 'detail'; viewId: number; key: SourceKey; result: AudioAnalysisResult };

/** Webview → extension. */
export type FromWebview =
  | { type: 'ready' }
  | { type: 'state'; state: PreviewState }
  /** The user picked a source: lines shown next (following the cursor) start with it when they have it. */
  | { type: 'selected'; key: SourceKey }
  | { type: 'revealLine' }
  /** Zoomed in beyond the overview's resolution: analyse [start, end] seconds of a source in detail. */
  | { type: 'detail'; viewId: number; key: SourceKey; start: number; end: number }
  | { type: 'playbackError'; key: SourceKey; message: string }
  /** A source's waveform and spectrogram are on screen, `ms` after its view arrived. */
  | { type: 'rendered'; key: SourceKey; ms: number };
