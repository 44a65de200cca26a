/**
 * The one typed view of `ttsDistill.*` settings. The server reads them per resource through
 * `getSettings(uri)`, the CLI starts from `defaultSettings` and applies its flags. A test keeps
 * this in step with `contributes.configuration` in package.json: every key here has a
 * `ttsDistill.<path>` entry there with the same default.
 */
export type TaskDialectSetting = 'auto' | 'webui' | 'upstream';
export type SeveritySetting = 'error' | 'warning' | 'information' | 'hint';
export type TeacherBackendKind = 'embedded' | 'http' | 'glmtts-cli';
/** What the HTTP teacher speaks: our protocol, JerryAZR/GLM-TTS-Server, DuoHBshuijiao/GLM-TTS-FastAPI_Gateway. */
export const HTTP_PROTOCOLS = ['tts-distill', 'glm-tts-server', 'fastapi-gateway'] as const;
export type HttpProtocol = (typeof HTTP_PROTOCOLS)[number];

export interface Settings {
  taskFiles: {
    /** Extra glob patterns (besides *.tasks.jsonl) whose files are task files. */
    globs: string[];
    /** Dialect to assume when a file does not show it. */
    dialect: TaskDialectSetting;
    /** Extra keys allowed in task lines as labels (speaker, emotion, style…): no unknown-key warning; carried into the manifest. */
    labelKeys: string[];
  };
  dictionary: {
    /** Extra glob patterns (besides G2P_replace_dict.jsonl) whose files are G2P dictionaries. */
    globs: string[];
    /** The workspace G2P dictionary the teacher applies (relative to the workspace folder). */
    path: string;
  };
  diagnostics: {
    /** At most this many diagnostics per file. */
    maxPerFile: number;
    /** Milliseconds to wait after an edit before validating. */
    debounceMs: number;
  };
  editor: {
    /**
     * At most this many outline symbols, prompt-audio links and lines with code lenses per file (as VS Code's
     * `json.maxItemsComputed`): VS Code asks for all of them at once, and again after each edit.
     */
    maxItemsComputed: number;
  };
  promptAudio: {
    minSeconds: number;
    maxSeconds: number;
    /** Larger prompt files are refused unread (a hostile `prompt_audio: "/dev/zero"` or a huge file). */
    maxMegabytes: number;
  };
  polyphones: {
    enabled: boolean;
    severity: SeveritySetting;
    /** Characters never flagged. */
    ignore: string[];
    /** One information diagnostic per polyphone (the readings are inlay hints otherwise). */
    informationDiagnostics: boolean;
    /** Keep the verdicts of big files in the editor's storage, so that a file opened again gets its warnings at once. */
    keepAcrossSessions: boolean;
  };
  inlayHints: {
    /** Which characters show their reading as an inlay hint. */
    readings: 'polyphones' | 'all' | 'none';
  };
  teacher: {
    backend: TeacherBackendKind;
    /** Base URL of an OpenAI-style speech server (POST <url>/v1/audio/speech). */
    httpUrl: string;
    /** Model name sent to the HTTP server. */
    httpModel: string;
    /** The HTTP server's protocol (see docs/http-teachers.md). */
    httpProtocol: HttpProtocol;
    /** GLM-TTS checkout root; upstream `prompt_speech` paths are resolved against it. */
    glmttsPath: string;
    glmttsPython: string;
    /** Command prefix for a remote host, e.g. ["ssh", "gpu01", "--"]. */
    glmttsCommandPrefix: string[];
    glmttsUsePhoneme: boolean;
    glmttsExpName: string;
    sampleRate: 24000 | 32000;
    /** Largest answer body read from the HTTP teacher (streamed; a larger one fails the line). */
    httpMaxResponseMegabytes: number;
  };
  batch: {
    /** Output folder for production runs (relative to the workspace folder). */
    outputDir: string;
    /** Output folder for test runs. */
    testOutputDir: string;
    concurrency: number;
    timeoutSeconds: number;
    retries: number;
    seed: number;
  };
  student: {
    /** The G2P student model file (relative to the workspace folder). */
    modelPath: string;
    /** External acoustic trainer: command and arguments; `${manifest}` and `${out}` are substituted. */
    trainCommand: string[];
    /** The student's synthesizer for the evaluation set (RTF, A/B); `${tasks}` and `${out}` are substituted. */
    synthCommand: string[];
  };
  judges: {
    /** Who judges the WAVs in the evaluation: GLM-TTS's reward server, an evaluator command, or nobody. */
    backend: 'none' | 'reward' | 'command';
    /** Reward server base URLs, round-robin; `http://h:8080-8087` stands for the eight ports. */
    rewardUrls: string[];
    /** Local → remote path prefixes for the reward server. */
    pathMap: Array<{ local: string; remote: string }>;
    /** Evaluator command; `${tasks}`, `${out}` and `${role}` are substituted. */
    command: string[];
    timeoutSeconds: number;
    /** Requests in flight; 0 = one per URL. */
    concurrency: number;
    retries: number;
  };
  preview: {
    /** The audio preview follows the cursor in the task file. */
    followCursor: boolean;
    /** Folder of the student's synthesized audio, `<name>.wav` (relative to the workspace folder). */
    studentOutputDir: string;
  };
  coverage: {
    /** A polyphone reading with fewer lines than this is thin (highlighted in the Coverage view). */
    minExamples: number;
  };
  voices: {
    /** Path pattern that labels prompt WAVs, e.g. `voices/{speaker}/*.wav` ({speaker}, {gender}, {age}, {accent}, {emotion}). */
    speakerPattern: string;
    /** The voice labels sidecar (JSON lines, relative to the workspace folder). */
    labelsFile: string;
  };
  qa: {
    /** Thresholds of the signal QA gates (core/qa): teacher outputs beyond them are excluded; prompts get a warning. */
    minSnrDb: number;
    maxClipRatio: number;
    maxDcOffset: number;
    maxLeadingSilenceS: number;
    maxTrailingSilenceS: number;
    maxPauseS: number;
    maxSilenceRatio: number;
    minBandwidthHz: number;
    minLoudnessLufs: number;
    maxLoudnessLufs: number;
    /** Largest distance from the run's median loudness. */
    maxLoudnessDeviationLu: number;
    /** Seconds per Han syllable beyond median × factor or below median / factor: an outlier. */
    speakingRateFactor: number;
    /** Judge gates (the run's judges.jsonl): a CER above / a speaker similarity below excludes the line. */
    maxCer: number;
    minSimilarity: number;
    /** Measure prompt recordings in task-file diagnostics. */
    promptChecks: boolean;
  };
  listening: {
    /** Lines sampled for a new listening test (A/B: one item per line; MOS: two). */
    count: number;
    /** Seed of the sample and of the A/B order. */
    seed: number;
    /** What a new test asks: A/B preference, MOS, or both. */
    kind: 'ab' | 'mos' | 'both';
  };
  slurm: {
    shards: number;
    maxParallel: number;
    partition: string;
    gres: string;
    time: string;
    account: string;
    sbatchArgs: string[];
    /** Command prefix to reach a login node, e.g. ["ssh", "login01", "--"]. */
    commandPrefix: string[];
    /** Folder on the shared file system for shards (relative to the workspace folder). */
    sharedDir: string;
    maxRetries: number;
    pollSeconds: number;
  };
}

export const defaultSettings: Settings = {
  taskFiles: { globs: [], dialect: 'auto', labelKeys: [] },
  dictionary: { globs: [], path: 'G2P_replace_dict.jsonl' },
  diagnostics: { maxPerFile: 1000, debounceMs: 200 },
  editor: { maxItemsComputed: 5000 },
  promptAudio: { minSeconds: 3, maxSeconds: 10, maxMegabytes: 50 },
  polyphones: {
    enabled: true,
    severity: 'information',
    ignore: ['的', '了', '着', '地', '得', '一', '不'],
    informationDiagnostics: false,
    keepAcrossSessions: true,
  },
  inlayHints: { readings: 'polyphones' },
  teacher: {
    backend: 'embedded',
    httpUrl: 'http://127.0.0.1:8049',
    httpModel: 'glm-tts',
    httpProtocol: 'tts-distill',
    glmttsPath: '',
    glmttsPython: 'python',
    glmttsCommandPrefix: [],
    glmttsUsePhoneme: true,
    glmttsExpName: '_distill',
    sampleRate: 24000,
    httpMaxResponseMegabytes: 256,
  },
  batch: { outputDir: 'teacher-out', testOutputDir: 'teacher-out-test', concurrency: 4, timeoutSeconds: 120, retries: 3, seed: 42 },
  student: { modelPath: 'student/g2p-student.json', trainCommand: [], synthCommand: [] },
  judges: {
    backend: 'none',
    rewardUrls: ['http://127.0.0.1:8080'],
    pathMap: [],
    command: [],
    timeoutSeconds: 120,
    concurrency: 0,
    retries: 2,
  },
  preview: { followCursor: true, studentOutputDir: 'student-out' },
  coverage: { minExamples: 3 },
  voices: { speakerPattern: '', labelsFile: 'voices.jsonl' },
  qa: {
    minSnrDb: 15,
    maxClipRatio: 0.001,
    maxDcOffset: 0.02,
    maxLeadingSilenceS: 1,
    maxTrailingSilenceS: 1,
    maxPauseS: 2,
    maxSilenceRatio: 0.6,
    minBandwidthHz: 5000,
    minLoudnessLufs: -40,
    maxLoudnessLufs: -5,
    maxLoudnessDeviationLu: 10,
    speakingRateFactor: 2,
    maxCer: 0.1,
    minSimilarity: 0.6,
    promptChecks: true,
  },
  listening: { count: 20, seed: 42, kind: 'both' },
  slurm: {
    shards: 8,
    maxParallel: 4,
    partition: '',
    gres: '',
    time: '',
    account: '',
    sbatchArgs: [],
    commandPrefix: [],
    sharedDir: 'slurm-runs',
    maxRetries: 2,
    pollSeconds: 5,
  },
};

/** Deep-merges a partial settings object (as VS Code returns it) over the defaults. */
export function withDefaults(partial: unknown): Settings {
  return merge(defaultSettings, partial) as Settings;
}

function merge(base: unknown, over: unknown): unknown {
  if (over === undefined || over === null) return base;
  if (typeof base !== 'object' || base === null || Array.isArray(base)) {
    return typeof over === typeof base && Array.isArray(over) === Array.isArray(base) ? over : base;
  }
  if (typeof over !== 'object' || Array.isArray(over)) return base;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(base as Record<string, unknown>)) out[k] = merge(v, (over as Record<string, unknown>)[k]);
  return out;
}

/**
 * The `ttsDistill.*` keys of a VS Code settings object (`.vscode/settings.json`, flat dotted keys
 * as VS Code writes them, or nested), merged over the defaults: the CLI then checks what the
 * editor checks in that workspace.
 */
export function settingsFromVsCode(json: Record<string, unknown>): Settings {
  const nested: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(json)) {
    if (key === 'ttsDistill' && value && typeof value === 'object') Object.assign(nested, value);
    if (!key.startsWith('ttsDistill.')) continue;
    const parts = key.slice('ttsDistill.'.length).split('.');
    let at = nested;
    for (const p of parts.slice(0, -1)) at = (at[p] ??= {}) as Record<string, unknown>;
    at[parts[parts.length - 1]!] = value;
  }
  return withDefaults(nested);
}
