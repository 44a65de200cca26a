/**
 * The voice pool of a dataset: every prompt WAV the task files use, measured (duration, rate,
 * channels, median F0, speech level, an SNR estimate), counted (lines using it) and labelled
 * (speaker, gender, age, accent, emotion) from a `voices.jsonl` sidecar, a path pattern or the
 * task lines' own labels, with what is out of balance.
 */
import { constants } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { f0Yin, levels } from '../audio/dsp';
import { mixDown, WavReader } from '../audio/wav';
import { writeFileAtomic } from '../batch/manifest';

export const VOICE_LABEL_KEYS = ['speaker', 'gender', 'age', 'accent', 'emotion'] as const;
export type VoiceLabelKey = (typeof VOICE_LABEL_KEYS)[number];
export type VoiceLabels = Partial<Record<VoiceLabelKey, string>>;
export type LabelSource = 'sidecar' | 'pattern' | 'task';

export interface VoiceMeasures {
  durationSeconds: number;
  sampleRate: number;
  channels: number;
  /** Median F0 of voiced frames (YIN), Hz; null when no frame is voiced. */
  medianF0Hz: number | null;
  /** RMS level of the whole file, dBFS. */
  rmsDbfs: number;
  /** RMS level of the active (speech) frames, dBFS: the loudness the listener hears, roughly. */
  speechDbfs: number;
  peakDbfs: number;
  /** estimateSnrDb: speech frames against the quietest frames, dB (capped at 100; null when silent). */
  snrDb: number | null;
}

export interface Voice {
  /** Resolved path of the WAV. */
  audio: string;
  /** Path relative to the workspace folder ('/'-separated) when inside it, else absolute. */
  relative: string;
  /** Task lines using it. */
  lines: number;
  /** Task files using it. */
  files: string[];
  measures?: VoiceMeasures;
  /** Why it could not be measured. */
  problem?: string;
  labels: VoiceLabels;
  labelSources: Partial<Record<VoiceLabelKey, LabelSource>>;
}

export interface VoicePool {
  voices: Voice[];
  totalLines: number;
  /** Per label key: value → voices with it (in use). */
  labelValues: Record<VoiceLabelKey, Record<string, number>>;
  /** Human-readable imbalance findings. */
  imbalance: string[];
}

/** Expected values of a label even when no voice has them yet ("a label value with no voice"). */
const EXPECTED_VALUES: Partial<Record<VoiceLabelKey, string[]>> = { gender: ['female', 'male'] };

/** Most bytes read from one prompt WAV. */
const MAX_BYTES = 50 * 1024 * 1024;
/** Pitch is tracked over at most this much audio. */
const MAX_PITCH_SECONDS = 30;

/**
 * A simple SNR estimate (not the QA gate's): 20 ms frames, noise = mean power of the quietest 10 %,
 * speech = mean power of the frames above the median; (speech − noise) / noise in dB, capped at
 * 100 dB, null for a silent file.
 */
export function estimateSnrDb(samples: Float32Array, sampleRate: number): { snrDb: number | null; speechDbfs: number } {
  const frame = Math.max(1, Math.round(sampleRate * 0.02));
  const powers: number[] = [];
  for (let s = 0; s + frame <= samples.length; s += frame) {
    let sum = 0;
    for (let i = s; i < s + frame; i++) sum += samples[i]! * samples[i]!;
    powers.push(sum / frame);
  }
  if (!powers.length) return { snrDb: null, speechDbfs: -Infinity };
  const sorted = [...powers].sort((a, b) => a - b);
  const low = sorted.slice(0, Math.max(1, Math.floor(sorted.length * 0.1)));
  const high = sorted.slice(Math.floor(sorted.length / 2));
  const noise = low.reduce((a, b) => a + b, 0) / low.length;
  const speech = high.reduce((a, b) => a + b, 0) / high.length;
  const speechDbfs = speech > 0 ? 10 * Math.log10(speech) : -Infinity;
  if (speech <= 0) return { snrDb: null, speechDbfs };
  if (noise <= 0) return { snrDb: 100, speechDbfs };
  const snr = 10 * Math.log10(Math.max(speech - noise, 1e-20) / noise);
  return { snrDb: Math.min(100, round(snr, 1)), speechDbfs };
}

/** Reads a regular file (never a FIFO or device), at most `maxBytes`. */
async function readRegular(file: string, maxBytes: number): Promise<Buffer> {
  const fh = await open(file, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new Error('not a regular file');
    if (st.size > maxBytes) throw new Error(`larger than ${Math.round(maxBytes / 1048576)} MB`);
    return await fh.readFile();
  } finally {
    await fh.close();
  }
}

/** Measures one WAV file. */
export async function measureVoice(file: string, maxBytes = MAX_BYTES): Promise<VoiceMeasures> {
  return measureWavBytes(await readRegular(file, maxBytes));
}

export function measureWavBytes(buf: Uint8Array): VoiceMeasures {
  const reader = new WavReader(buf);
  const { sampleRate, channels } = reader.header;
  const chans: Float32Array[] = [];
  for (let c = 0; c < channels; c++) chans.push(new Float32Array(reader.frames));
  reader.read(0, reader.frames, chans);
  const mono = mixDown(chans);
  const lv = levels(chans);
  const pitchPart = mono.subarray(0, Math.min(mono.length, Math.round(MAX_PITCH_SECONDS * sampleRate)));
  const { f0 } = f0Yin(pitchPart, sampleRate);
  const voiced = [...f0].filter((x) => x > 0).sort((a, b) => a - b);
  const medianF0Hz = voiced.length
    ? round(voiced.length % 2 ? voiced[(voiced.length - 1) / 2]! : (voiced[voiced.length / 2 - 1]! + voiced[voiced.length / 2]!) / 2, 1)
    : null;
  const snr = estimateSnrDb(mono, sampleRate);
  return {
    durationSeconds: round(reader.frames / sampleRate, 3),
    sampleRate,
    channels,
    medianF0Hz,
    rmsDbfs: round(lv.rmsDbfs, 1),
    speechDbfs: round(snr.speechDbfs, 1),
    peakDbfs: round(lv.peakDbfs, 1),
    snrDb: snr.snrDb,
  };
}

function round(x: number, digits: number): number {
  if (!Number.isFinite(x)) return x;
  const k = 10 ** digits;
  return Math.round(x * k) / k;
}

/** One record of the sidecar: `{"audio": "prompts/a.wav", "speaker": "a", "gender": "female", …}` (audio relative to the sidecar's folder). */
export interface VoiceLabelRecord extends VoiceLabels {
  audio: string;
}

/** The sidecar's labels by resolved audio path; [] when the file is missing. Unparseable lines are skipped. */
export async function readVoiceLabels(file: string): Promise<Map<string, VoiceLabels>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
    throw err;
  }
  return parseVoiceLabels(text, path.dirname(file));
}

export function parseVoiceLabels(text: string, base: string): Map<string, VoiceLabels> {
  const out = new Map<string, VoiceLabels>();
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      const v = JSON.parse(line) as Record<string, unknown>;
      if (!v || typeof v !== 'object' || typeof v.audio !== 'string') continue;
      const labels: VoiceLabels = {};
      for (const k of VOICE_LABEL_KEYS) if (typeof v[k] === 'string' && (v[k] as string).trim()) labels[k] = (v[k] as string).trim();
      out.set(path.resolve(base, v.audio), labels);
    } catch {
      /* not a record */
    }
  }
  return out;
}

/**
 * Sets (or, with an empty value, removes) labels of one voice in the sidecar, keeping every other
 * line as it is; written atomically. `audio` is a resolved path; the record stores it relative to the sidecar.
 */
export async function setVoiceLabels(sidecar: string, audio: string, labels: VoiceLabels): Promise<void> {
  let text = '';
  try {
    text = await readFile(sidecar, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const base = path.dirname(sidecar);
  const lines = text.split('\n').filter((l, i, all) => !(i === all.length - 1 && l === ''));
  let found = false;
  const out: string[] = [];
  for (const line of lines) {
    let v: Record<string, unknown> | undefined;
    try {
      v = JSON.parse(line) as Record<string, unknown>;
    } catch {
      /* kept as it is */
    }
    if (v && typeof v === 'object' && typeof v.audio === 'string' && path.resolve(base, v.audio) === path.resolve(audio)) {
      if (found) continue; // one record per voice
      found = true;
      out.push(JSON.stringify(applyLabels(v, labels)));
    } else out.push(line);
  }
  if (!found) out.push(JSON.stringify(applyLabels({ audio: path.relative(base, audio).split(path.sep).join('/') }, labels)));
  await writeFileAtomic(sidecar, out.join('\n') + '\n');
}

function applyLabels(v: Record<string, unknown>, labels: VoiceLabels): Record<string, unknown> {
  const r = { ...v };
  for (const k of VOICE_LABEL_KEYS) {
    if (!(k in labels)) continue;
    const x = labels[k]?.trim();
    if (x) r[k] = x;
    else delete r[k];
  }
  return r;
}

/**
 * Labels from a path pattern such as `voices/{speaker}/*.wav` or `{accent}/{speaker}_{emotion}.wav`,
 * matched against the workspace-relative path ('/'-separated): `{name}` is one path segment part,
 * `*` any characters of a segment, `**` any number of segments. Undefined when it does not match.
 */
export function labelsFromPattern(pattern: string, relative: string): VoiceLabels | undefined {
  if (!pattern.trim()) return undefined;
  const names: string[] = [];
  let re = '';
  const p = pattern.replace(/\\/g, '/').replace(/^\.\//, '');
  for (let i = 0; i < p.length; i++) {
    const c = p[i]!;
    if (c === '{') {
      const end = p.indexOf('}', i);
      const name = end > i ? p.slice(i + 1, end) : '';
      if ((VOICE_LABEL_KEYS as readonly string[]).includes(name)) {
        names.push(name);
        re += '([^/]+?)';
        i = end;
        continue;
      }
    }
    if (c === '*' && p[i + 1] === '*') {
      re += '.*';
      i++;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^$()|[\]\\{}]/g, '\\$&');
  }
  const m = new RegExp(`^${re}$`).exec(relative);
  if (!m) return undefined;
  const out: VoiceLabels = {};
  names.forEach((n, k) => {
    out[n as VoiceLabelKey] = m[k + 1]!;
  });
  return out;
}

/** One use of a prompt WAV by a task line. */
export interface VoiceUse {
  audio: string;
  file: string;
  /** The task line's labels (speaker, emotion…), used when the sidecar and pattern have none. */
  labels?: Record<string, string | number | boolean>;
}

export interface VoicePoolOptions {
  workspaceFolder?: string;
  sidecar?: Map<string, VoiceLabels>;
  speakerPattern?: string;
  /** Measure each WAV (default true). */
  measure?: boolean;
  maxBytes?: number;
}

/** The path of a voice relative to the workspace folder when inside it. */
export function voiceRelative(audio: string, workspaceFolder: string | undefined): string {
  if (workspaceFolder) {
    const rel = path.relative(workspaceFolder, audio);
    if (rel && !rel.startsWith('..') && !path.isAbsolute(rel)) return rel.split(path.sep).join('/');
  }
  return audio;
}

/** Labels of one voice: sidecar first, then the path pattern, then the task lines' labels. */
export function resolveVoiceLabels(
  audio: string,
  opts: Pick<VoicePoolOptions, 'workspaceFolder' | 'sidecar' | 'speakerPattern'>,
  taskLabels?: Record<string, string | number | boolean>,
): { labels: VoiceLabels; sources: Partial<Record<VoiceLabelKey, LabelSource>> } {
  const labels: VoiceLabels = {};
  const sources: Partial<Record<VoiceLabelKey, LabelSource>> = {};
  const layers: Array<[LabelSource, VoiceLabels | undefined]> = [
    ['sidecar', opts.sidecar?.get(path.resolve(audio))],
    ['pattern', opts.speakerPattern ? labelsFromPattern(opts.speakerPattern, voiceRelative(audio, opts.workspaceFolder)) : undefined],
    [
      'task',
      taskLabels
        ? Object.fromEntries(
            VOICE_LABEL_KEYS.filter((k) => taskLabels[k] !== undefined && String(taskLabels[k]).trim()).map((k) => [
              k,
              String(taskLabels[k]).trim(),
            ]),
          )
        : undefined,
    ],
  ];
  for (const [source, layer] of layers) {
    if (!layer) continue;
    for (const k of VOICE_LABEL_KEYS) {
      if (labels[k] === undefined && layer[k] !== undefined) {
        labels[k] = layer[k];
        sources[k] = source;
      }
    }
  }
  return { labels, sources };
}

/** The voice pool of these uses. */
export async function voicePool(uses: Iterable<VoiceUse>, opts: VoicePoolOptions = {}): Promise<VoicePool> {
  const by = new Map<string, { lines: number; files: Set<string>; taskLabels?: Record<string, string | number | boolean> }>();
  let totalLines = 0;
  for (const u of uses) {
    if (!u.audio) continue;
    totalLines++;
    const key = path.resolve(u.audio);
    let v = by.get(key);
    if (!v) by.set(key, (v = { lines: 0, files: new Set() }));
    v.lines++;
    v.files.add(u.file);
    if (u.labels && !v.taskLabels) v.taskLabels = u.labels;
  }
  const voices: Voice[] = [];
  for (const [audio, v] of by) {
    const { labels, sources } = resolveVoiceLabels(audio, opts, v.taskLabels);
    const voice: Voice = {
      audio,
      relative: voiceRelative(audio, opts.workspaceFolder),
      lines: v.lines,
      files: [...v.files].sort(),
      labels,
      labelSources: sources,
    };
    if (opts.measure ?? true) {
      try {
        voice.measures = await measureVoice(audio, opts.maxBytes);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        voice.problem = code === 'ENOENT' ? 'not found' : (err as Error).message;
      }
    }
    voices.push(voice);
  }
  voices.sort((a, b) => b.lines - a.lines || (a.relative < b.relative ? -1 : 1));
  return { voices, totalLines, ...balance(voices, totalLines, opts.sidecar) };
}

function balance(voices: Voice[], totalLines: number, sidecar?: Map<string, VoiceLabels>): Pick<VoicePool, 'labelValues' | 'imbalance'> {
  const labelValues = Object.fromEntries(VOICE_LABEL_KEYS.map((k) => [k, {} as Record<string, number>])) as VoicePool['labelValues'];
  for (const v of voices)
    for (const k of VOICE_LABEL_KEYS) if (v.labels[k]) labelValues[k][v.labels[k]!] = (labelValues[k][v.labels[k]!] ?? 0) + 1;
  const imbalance: string[] = [];
  const top = voices[0];
  if (top && totalLines >= 4 && top.lines / totalLines > 0.5) {
    imbalance.push(
      voices.length === 1
        ? `every line uses one voice (${top.relative}): the student learns one speaker`
        : `${top.relative} is used by ${top.lines} of ${totalLines} lines (${Math.round((100 * top.lines) / totalLines)} %)`,
    );
  }
  // Speakers by lines.
  const speakerLines = new Map<string, number>();
  for (const v of voices) if (v.labels.speaker) speakerLines.set(v.labels.speaker, (speakerLines.get(v.labels.speaker) ?? 0) + v.lines);
  const topSpeaker = [...speakerLines].sort((a, b) => b[1] - a[1])[0];
  if (topSpeaker && speakerLines.size > 1 && totalLines >= 4 && topSpeaker[1] / totalLines > 0.5) {
    imbalance.push(
      `speaker ${topSpeaker[0]} speaks ${topSpeaker[1]} of ${totalLines} lines (${Math.round((100 * topSpeaker[1]) / totalLines)} %)`,
    );
  }
  for (const k of VOICE_LABEL_KEYS) {
    if (k === 'speaker') continue;
    const have = labelValues[k];
    const labelled = voices.filter((v) => v.labels[k]).length;
    // Values the sidecar knows (for voices no line uses too), and the usual ones once the label is in use.
    const expected = new Set(labelled ? (EXPECTED_VALUES[k] ?? []) : []);
    if (sidecar) for (const l of sidecar.values()) if (l[k]) expected.add(l[k]!);
    for (const value of [...expected].sort()) if (!have[value]) imbalance.push(`${k}: no voice in use is labelled ${value}`);
    if (labelled && labelled < voices.length) imbalance.push(`${k}: ${voices.length - labelled} of ${voices.length} voices have no label`);
  }
  return { labelValues, imbalance };
}
