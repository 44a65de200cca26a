/**
 * The one definition of a teacher output folder: `<name>.wav`, `manifest.jsonl` (one record per
 * finished line), `failures.jsonl` (one per failed line). Also reads GLM-TTS's own
 * `text_compare.jsonl`. Writers are crash-safe: whole files go through temp + rename, the
 * manifest grows by whole lines with fsync, and readers ignore a torn last line.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { type FileHandle, mkdir, open, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import * as path from 'node:path';
import type { Task } from '../formats/taskFile';
import type { TeacherBackendKind } from '../settings';
import type { ReadingSource } from '../pronunciation/teacherReadings';
import { openAppendNoFollow } from '../util/safeFs';
import { acquireFolderLock } from '../util/folderLock';

export const MANIFEST_FILE = 'manifest.jsonl';
export const FAILURES_FILE = 'failures.jsonl';
/** Held while a batch writes to the folder: two runners on one folder would interleave their records. */
export const LOCK_FILE = '.tts-distill.lock';

/** One finished line (stable: the Slurm merge and the student read it). */
export interface ManifestRecord {
  /** 0-based line in the task file. */
  line: number;
  /** output_name / uttid. */
  name: string;
  /** sha256 of the task's canonical JSON (see taskHash). */
  taskHash: string;
  /** The text spoken. */
  text: string;
  /** Per UTF-16 unit of `text`: tone-numbered pinyin (ü as v, neutral 5), or null. */
  readings: (string | null)[];
  /** Teacher token notation of the text after the dictionary: `银<|H|><|ANG2|>`. */
  phonemes: string;
  /**
   * Per UTF-16 unit of `text`: who decided the reading — 'dictionary' | 'g2p' (teacher phoneme
   * tokens: labels to learn from), 'model' (left to GLM-TTS's language model: the reading is a
   * hint), 'none' (not Han) — or null (a local estimate). Absent in older records.
   */
  sources?: (ReadingSource | null)[];
  /** 'local-g2p': the server reported no readings; `readings`/`phonemes` are our port of GLM-TTS's G2P, not the server's. Absent: the teacher's. */
  readingsFrom?: 'teacher' | 'local-g2p';
  /** sha256 of the dictionary the teacher used (upstream-dialect text); null: unknown (an HTTP server that does not say). */
  dictionarySha256?: string | null;
  /** WAV file name relative to the output folder. */
  audio: string;
  durationSeconds: number;
  sampleRate: number;
  backend: TeacherBackendKind;
  seed: number;
  wavSha256: string;
  /** Whether the prompt voice was cloned (never for the embedded teacher). */
  clonedVoice: boolean;
  /** The engine that made the audio. */
  engine?: string;
  /** Anything the user should know about this output (why no cloning, fallback synthesiser…). */
  note?: string;
  /** The prompt WAV as the teacher read it (resolved path); absent for a task without one. */
  promptAudio?: string;
  /** Speaker id: the line's `speaker` label when it has one. */
  speaker?: string;
  /** The line's labels (`ttsDistill.taskFiles.labelKeys`: emotion, style…), carried through for the student's trainers. */
  labels?: Record<string, string | number | boolean>;
}

/** The fields a record carries from its task beyond the text: prompt audio, speaker id, labels. */
export function taskLabelFields(
  task: Pick<Task, 'labels'>,
  promptAudio: string | undefined,
): Pick<ManifestRecord, 'promptAudio' | 'speaker' | 'labels'> {
  const out: Pick<ManifestRecord, 'promptAudio' | 'speaker' | 'labels'> = {};
  if (promptAudio) out.promptAudio = promptAudio;
  const speaker = task.labels?.speaker;
  if (speaker !== undefined && String(speaker).trim()) out.speaker = String(speaker).trim();
  if (task.labels && Object.keys(task.labels).length) out.labels = { ...task.labels };
  return out;
}

export interface FailureRecord {
  line: number;
  name: string;
  taskHash: string;
  reason: string;
  attempts: number;
  /** The last failure was transient (time-out, connection, 5xx): running the batch again may fix it. */
  transient: boolean;
}

/** A record of GLM-TTS's `outputs/pretrain<exp>/<name>/text_compare.jsonl` (one per finished item, pretty-printed). */
export interface TextCompareRecord {
  uttid: string;
  syn_text: string;
  /** Normalised text, one entry per 30–60 character chunk. */
  syn_text_tn: string[];
  /** The same after G2P (with --use_phoneme), one entry per chunk; empty without it. */
  syn_text_phoneme: string[];
}

/** sha256 of the task's content in canonical JSON (sorted keys, dialect-free roles; the line number is not content). */
export function taskHash(task: Pick<Task, 'name' | 'text' | 'promptText' | 'promptAudio'>): string {
  const canonical = JSON.stringify({
    name: task.name,
    promptAudio: task.promptAudio,
    promptText: task.promptText ?? null,
    text: task.text,
  });
  return createHash('sha256').update(canonical).digest('hex');
}

export function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Parses JSON lines, skipping blank and unparseable lines (a torn last line after a crash). */
export function parseJsonLines<T>(text: string, isRecord: (v: unknown) => v is T): T[] {
  const out: T[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      const v: unknown = JSON.parse(line);
      if (isRecord(v)) out.push(v);
    } catch {
      /* torn or foreign line */
    }
  }
  return out;
}

export function isManifestRecord(v: unknown): v is ManifestRecord {
  const r = v as ManifestRecord;
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof r.line === 'number' &&
    typeof r.name === 'string' &&
    typeof r.taskHash === 'string' &&
    typeof r.audio === 'string' &&
    typeof r.wavSha256 === 'string' &&
    typeof r.text === 'string' &&
    Array.isArray(r.readings)
  );
}

export function isFailureRecord(v: unknown): v is FailureRecord {
  const r = v as FailureRecord;
  return typeof v === 'object' && v !== null && typeof r.line === 'number' && typeof r.name === 'string' && typeof r.reason === 'string';
}

/** All records of a manifest in file order (a later record for the same name supersedes an earlier one); [] when missing. */
export async function readManifest(file: string): Promise<ManifestRecord[]> {
  return readJsonLines(file, isManifestRecord);
}

export async function readFailures(file: string): Promise<FailureRecord[]> {
  return readJsonLines(file, isFailureRecord);
}

/** Streams a JSON-lines file (a manifest of a million lines is larger than the longest string V8 allows); [] when missing. */
export async function readJsonLines<T>(file: string, isRecord: (v: unknown) => v is T): Promise<T[]> {
  const out: T[] = [];
  const stream = createReadStream(file, { encoding: 'utf8' });
  try {
    for await (const line of createInterface({ input: stream, crlfDelay: Infinity })) {
      if (!line.trim()) continue;
      try {
        const v: unknown = JSON.parse(line);
        if (isRecord(v)) out.push(v);
      } catch {
        /* torn or foreign line */
      }
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return out;
}

/** The newest record per name. */
export function latestByName<T extends { name: string }>(records: readonly T[]): Map<string, T> {
  const m = new Map<string, T>();
  for (const r of records) m.set(r.name, r);
  return m;
}

/** Reads upstream `text_compare.jsonl`: JSON objects pretty-printed over several lines, one after another. */
export async function readTextCompare(file: string): Promise<TextCompareRecord[]> {
  return parseTextCompare(await readFile(file, 'utf8'));
}

/** Splits a stream of concatenated JSON objects (any layout) and keeps the text_compare records; a torn last one is ignored. */
export function parseTextCompare(text: string): TextCompareRecord[] {
  const out: TextCompareRecord[] = [];
  let depth = 0,
    start = -1,
    inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92 /* \ */) i++;
      else if (c === 34 /* " */) inString = false;
      continue;
    }
    if (c === 34) inString = true;
    else if (c === 123 /* { */) {
      if (depth++ === 0) start = i;
    } else if (c === 125 /* } */ && depth > 0 && --depth === 0) {
      try {
        const v = JSON.parse(text.slice(start, i + 1)) as Partial<TextCompareRecord> & Record<string, unknown>;
        if (v.uttid !== undefined && typeof v.syn_text === 'string') {
          out.push({
            uttid: String(v.uttid),
            syn_text: v.syn_text,
            syn_text_tn: asList(v.syn_text_tn),
            syn_text_phoneme: asList(v.syn_text_phoneme),
          });
        }
      } catch {
        /* not a record */
      }
    }
  }
  return out;
}

function asList(v: unknown): string[] {
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === 'string');
  return typeof v === 'string' ? [v] : [];
}

const TEMP_MARK = '.tmp-';

/** Writes a whole file so that readers see the old or the new content, never a mix: temp file in the same folder, fsync, rename. */
export async function writeFileAtomic(file: string, data: Uint8Array | string, opts: { fsync?: boolean } = {}): Promise<void> {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}${TEMP_MARK}${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    if (opts.fsync ?? true) {
      const fh = await open(tmp, 'wx');
      try {
        await fh.writeFile(data);
        await fh.sync();
      } finally {
        await fh.close();
      }
    } else {
      await writeFile(tmp, data, { flag: 'wx' });
    }
  } catch (err) {
    // A full disk (ENOSPC) leaves no half-written temp file behind.
    await rm(tmp, { force: true });
    throw err;
  }
  try {
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/** writeFileAtomic for content given line by line, written in blocks so it never has to be one string. */
export async function writeLinesAtomic(file: string, lines: Iterable<string>): Promise<void> {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}${TEMP_MARK}${process.pid}-${randomBytes(4).toString('hex')}`);
  const fh = await open(tmp, 'wx');
  try {
    let block: string[] = [];
    let size = 0;
    for (const l of lines) {
      block.push(l);
      size += l.length;
      if (size > 1 << 20) {
        await fh.write(block.join(''));
        block = [];
        size = 0;
      }
    }
    if (block.length) await fh.write(block.join(''));
    await fh.sync();
  } catch (err) {
    await fh.close().catch(() => undefined);
    await rm(tmp, { force: true });
    throw err;
  } finally {
    await fh.close().catch(() => undefined);
  }
  try {
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/** Is this a leftover temp file of writeFileAtomic (from a killed process)? */
export function isTempFile(name: string): boolean {
  return name.startsWith('.') && name.includes(TEMP_MARK);
}

/**
 * Appends whole JSON lines with fsync. Lines queued while a write is in flight go out together in
 * the next write (one fsync for many records). Opening cuts a torn last line left by a crash, so
 * the next record starts on a line of its own.
 */
export class JsonlAppender {
  private queue: Array<{ line: string; done: (err?: Error) => void }> = [];
  private writing: Promise<void> | undefined;

  private constructor(private readonly fh: FileHandle) {}

  static async open(file: string): Promise<JsonlAppender> {
    await mkdir(path.dirname(file), { recursive: true });
    // Never through a symbolic link or into a FIFO/device: a cloned repository may ship `manifest.jsonl -> ~/.bashrc`.
    const fh = await openAppendNoFollow(file);
    const { size } = await fh.stat();
    if (size > 0) {
      const probe = Math.min(size, 1 << 20);
      const buf = Buffer.alloc(probe);
      await fh.read(buf, 0, probe, size - probe);
      if (buf[probe - 1] !== 0x0a) {
        const nl = buf.lastIndexOf(0x0a);
        const keep = nl < 0 ? (probe === size ? 0 : size - probe) : size - probe + nl + 1;
        await fh.truncate(keep);
      }
    }
    return new JsonlAppender(fh);
  }

  append(record: unknown): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ line: JSON.stringify(record) + '\n', done: (err) => (err ? reject(err) : resolve()) });
      this.writing ??= this.flush();
    });
  }

  private async flush(): Promise<void> {
    while (this.queue.length) {
      const batch = this.queue;
      this.queue = [];
      try {
        await this.fh.appendFile(batch.map((b) => b.line).join(''));
        await this.fh.sync();
        for (const b of batch) b.done();
      } catch (err) {
        for (const b of batch) b.done(err as Error);
      }
    }
    this.writing = undefined;
  }

  async close(): Promise<void> {
    await this.writing;
    await this.fh.close();
  }
}

/** Longest output name (per path segment) in UTF-8 bytes: `.<name>.wav.tmp-<pid>-<hex>` must stay within the 255 bytes of a file name. */
export const MAX_NAME_BYTES = 200;
/** A high surrogate not followed by a low one, or a low one not preceded by a high one. */
export const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Where `<name>.wav` goes, or why it cannot: nothing may be written outside the output folder,
 * and names that only a sub-folder could hold stay inside it.
 */
export function outputWavPath(outDir: string, name: string): { file: string; audio: string } | { error: string } {
  if (!name.trim()) return { error: 'the output name is empty' };
  if (/[\u0000-\u001f\u007f]/.test(name)) return { error: 'the output name contains a control character' };
  // Two names with different lone surrogates would both become `s\uFFFD.wav` on disk.
  if (LONE_SURROGATE.test(name))
    return { error: 'the output name contains a lone UTF-16 surrogate (not a character): it has no file name of its own' };
  const longest = Math.max(...name.split(/[\\/]/).map((p) => Buffer.byteLength(p, 'utf8')));
  if (longest > MAX_NAME_BYTES)
    return {
      error: `the output name is ${longest} bytes long in UTF-8; at most ${MAX_NAME_BYTES} (file names are limited to 255 bytes, and the WAV's temporary file needs room)`,
    };
  if (path.isAbsolute(name) || /^[A-Za-z]:/.test(name) || name.startsWith('\\')) return { error: 'the output name is an absolute path' };
  const parts = name.split(/[\\/]/);
  if (parts.some((p) => p === '..' || p === '.' || p === ''))
    return { error: 'the output name contains "..", "." or an empty path segment: it would leave the output folder' };
  if (parts.some((p) => p.startsWith('.')))
    return { error: 'the output name (or a folder in it) starts with a dot: reserved for temporary files' };
  const audio = parts.join('/') + '.wav';
  const root = path.resolve(outDir);
  const file = path.resolve(root, ...parts.slice(0, -1), parts[parts.length - 1]! + '.wav');
  if (!file.startsWith(root + path.sep)) return { error: 'the output name would leave the output folder' };
  return { file, audio };
}

/**
 * Takes the output folder for one batch (core/util/folderLock.ts): a lock left by a process that is
 * gone is taken over; a live holder is reported with what is known of it. Returns the release function.
 */
export function acquireBatchFolderLock(dir: string): Promise<() => Promise<void>> {
  return acquireFolderLock(
    dir,
    LOCK_FILE,
    (holder, file) =>
      `${dir} is in use by another batch (process ${holder.pid} on ${holder.host}, since ${holder.started}). If that run is gone, delete ${file}.`,
  );
}
