// Wire shapes of an audio analysis. No imports: the webview (DOM tsconfig) type-checks against this file too.

/** What the preview draws and prints for one WAV file. Arrays travel as base64 to keep JSON small. */
export interface AudioAnalysis {
  path: string;
  mtimeMs: number;
  sizeBytes: number;
  sampleRate: number;
  channels: number;
  bitsPerSample: number;
  format: 'pcm' | 'float';
  durationSeconds: number;
  /** The data chunk claims more bytes than the file holds; only what is there was analysed. */
  truncated: boolean;
  /** dBFS over all channels; null for digital silence. */
  peakDbfs: number | null;
  rmsDbfs: number | null;
  clippedSamples: number;
  waveform: {
    /** Equal slices of the whole file. */
    buckets: number;
    /** Per channel (at most 8; more are mixed into the last lane): base64 of little-endian Int16 min and max per bucket, full scale 32767. */
    lanes: Array<{ min: string; max: string }>;
  };
  spectrogram: {
    frames: number;
    nMels: number;
    /** Seconds between the centres of two columns (≥ the STFT hop when the file is long and columns are decimated). */
    columnSeconds: number;
    fMaxHz: number;
    /** Column-major (frame after frame, low band first) base64 of Uint8: 0 = dbMax − dynamicRangeDb, 255 = dbMax. */
    data: string;
    dbMax: number;
    dynamicRangeDb: number;
  };
  /**
   * Pitch (YIN) of the channel mix over the same part as the spectrogram, when that part is short
   * enough to track cheaply (≤ 30 s): base64 of little-endian Uint16 = Hz × 10 per frame (0 = unvoiced),
   * frame k at `start + k·hopSeconds`.
   */
  f0?: { hopSeconds: number; values: string; medianHz: number | null };
  /** Seconds of the file the waveform and spectrogram cover when only a part was analysed (zoom); the whole file otherwise. */
  range?: { start: number; end: number };
  /** Milliseconds the analysis took when it was computed. */
  elapsedMs: number;
}

/** Why a file could not be analysed, in words the panel can show as they are. */
export interface AudioProblem {
  path: string;
  kind: 'missing' | 'empty' | 'not-wav' | 'unreadable';
  message: string;
}

export type AudioAnalysisResult = { ok: true; analysis: AudioAnalysis; cached: boolean } | { ok: false; problem: AudioProblem };

/** Where a line's audio comes from: its prompt, the teacher's output, the student's output. */
export type AudioSourceKind = 'prompt' | 'teacher' | 'student';

export interface AudioSource {
  kind: AudioSourceKind;
  /** Absolute path of the WAV (whether or not it exists). */
  path: string;
  exists: boolean;
}

/** One UTF-16 unit of a task's text and the reading the teacher gives it. */
export interface ReadingCell {
  char: string;
  /** Tone-numbered pinyin for Han characters, null otherwise. */
  reading: string | null;
  polyphone: boolean;
  /** A dictionary rule forced this reading. */
  fromDictionary: boolean;
  /** Who decides it when GLM-TTS runs: 'dictionary' | 'g2p' | 'model' (the language model; the reading is a hint) | 'none'. */
  source?: 'dictionary' | 'g2p' | 'model' | 'none';
}

/** What the preview shows above the audio of one task line. */
export interface PreviewLine {
  uri: string;
  /** 0-based line of the task file. */
  line: number;
  name: string;
  text: string;
  readings: ReadingCell[];
  /** Where the readings come from: the embedded teacher G2P, the teacher run's manifest, or none. */
  readingsSource: 'teacher-g2p' | 'manifest' | 'none';
  sources: AudioSource[];
  /** What the teacher's run recorded for this line's output (its `manifest.jsonl`), when it has a record. */
  teacherTake?: TeacherTake;
  /** Start and end column of the prompt-audio value in the line (the hover link's place). */
  promptAudioColumns?: [number, number];
}

/** The manifest record of a teacher output, as the preview shows it. */
export interface TeacherTake {
  /** The text that was spoken, and its readings at the time (per UTF-16 unit). */
  text: string;
  readings: (string | null)[];
  backend: string;
  engine?: string;
  note?: string;
  seed: number;
  clonedVoice: boolean;
  /** Why the QA gates (or the user) leave this output out of training, evaluation and export. */
  excluded?: string;
  /** The signal QA of this output (`tts-distill qa`), in one line: SNR, loudness, bandwidth, speaking rate… */
  qa?: string;
}
