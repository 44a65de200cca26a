/**
 * The polyphone verdicts and readings of task lines, kept on disk from one session to the next,
 * so that a big file opened again (a window reloaded, the editor started the next morning) gets
 * its warnings from what the readings workers computed last time instead of computing them all
 * again (npm run bench -- lsp: ~11 s of both cores for 100,000 lines).
 *
 * One file per configuration: everything the verdicts depend on (the dictionary's, the able
 * list's and the student's versions, a recorded run's, the code that computes them) names it, so
 * a file is never read under another configuration. It is a log: a header line, then one JSON
 * line per batch of lines, appended once the workers are idle (readingsPool.ts). Each record
 * carries its own syllable table, so a record cut short (the server killed while it wrote) or
 * damaged is skipped alone, and no record depends on another. Files are written only in the folder given (the editor's
 * storage for the workspace); the newest few are kept, older ones deleted.
 */
import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { mkdir, readdir, stat, unlink } from 'node:fs/promises';
import * as path from 'node:path';
import type { PolyphoneVerdict } from './polyphones';
import { type LineReadings, READING_SOURCES } from './teacherReadings';
import { type PackedReadings, SyllableTable } from './lineCache';
import { openAppendNoFollow, readRegularFile } from '../util/safeFs';

/** Bumped whenever what a record holds changes: files of another format are not read. */
export const LOG_FORMAT = 1;
/**
 * A log that would grow past this many bytes (~400,000 lines, as many as the caches keep in memory)
 * is started again with what comes next: old lines (edited since, files gone) do not pile up.
 */
export const MAX_LOG_BYTES = 128 * 1024 * 1024;
/** A bigger file is not read (and is started again). */
const MAX_READ_BYTES = 2 * MAX_LOG_BYTES;
/** Logs kept in the folder (one per configuration seen lately): the newest ones. */
const KEEP_LOGS = 4;
const NAME = /^readings-[0-9a-f]{16}\.jsonl$/;

/** One line as a record keeps it: text, readings (ids into the record's syllables), verdicts, pins, kept characters. */
type Row = [string, string, PolyphoneVerdict[], Array<[number, { key: string; line?: number }]>?, number[]?];
interface LogRecord {
  /** The record's syllables. A row's readings hold one unit per unit of its text: 32 + k, where k − 1 indexes `s` (k = 0: no reading). */
  s: string[];
  l: Row[];
}

/** Lines read back from an earlier session: readings packed with `VerdictLog.table`. */
export interface LoggedLines {
  texts: string[];
  readings: PackedReadings[];
  results: PolyphoneVerdict[][];
}

export function logFileName(id: string): string {
  return `readings-${createHash('sha256').update(`${LOG_FORMAT}\u0000${id}`).digest('hex').slice(0, 16)}.jsonl`;
}

const utf16 = new TextDecoder('utf-16le');
/** Readings in a record start at the space: no unit that JSON writes as an escape (\u0001), but for `"` and `\`. */
const OFFSET = 32;

export class VerdictLog {
  /** The ids of the readings read back (`next`). */
  readonly table = new SyllableTable();
  /** The records of an earlier session, read one by one (`next`) from `pos` on. */
  private buf: Buffer;
  private pos: number;
  /** The file's size as this log knows it: what the earlier session left, then what was written. */
  private size: number;
  private handle: Promise<FileHandle> | undefined;
  private chain: Promise<void> = Promise.resolve();
  private failed = false;
  private closed = false;

  private constructor(
    readonly file: string,
    private readonly id: string,
    /** The file as an earlier session left it, its records from `start` on (the header matched), or undefined: the file is started again. */
    records: { buf: Buffer; start: number } | undefined,
    private readonly log?: (message: string) => void,
    private readonly maxBytes = MAX_LOG_BYTES,
  ) {
    this.buf = records?.buf ?? Buffer.alloc(0);
    this.pos = records?.start ?? 0;
    this.size = records?.buf.length ?? 0;
    this.fresh = !records;
    this.holdsRecords = !!records && records.start < records.buf.length;
  }
  /** The file holds records (not only its header): it may be started again when full. */
  private holdsRecords: boolean;

  /** The earlier session's last record was cut short: the first append starts a new line. */
  private cut = false;

  /** The file is started again (truncated) at the next write: it was absent, of another configuration, damaged or full. */
  private fresh: boolean;

  /**
   * Opens the log of configuration `id` in `dir` (created when missing) and reads what an earlier
   * session wrote. Never throws: a log that cannot be read is started again, one that cannot be
   * written is not written (`log` says why). `maxBytes`: see MAX_LOG_BYTES.
   */
  static async open(dir: string, id: string, log?: (message: string) => void, maxBytes = MAX_LOG_BYTES): Promise<VerdictLog> {
    const file = path.join(dir, logFileName(id));
    let records: { buf: Buffer; start: number } | undefined;
    let cut = false;
    try {
      await mkdir(dir, { recursive: true });
      // Records are decoded one by one (`next`), not the whole file at once: a big one is tens of MB.
      const buf = await readRegularFile(file, MAX_READ_BYTES, { noFollow: true });
      const end = buf.indexOf(10);
      const header = safeParse(buf.toString('utf8', 0, end < 0 ? buf.length : end)) as
        { ttsDistillReadings?: number; id?: string } | undefined;
      if (header?.ttsDistillReadings === LOG_FORMAT && header.id === id) {
        records = { buf, start: end < 0 ? buf.length : end + 1 };
        cut = buf.length > 0 && buf[buf.length - 1] !== 10;
      } else log?.(`readings cache ${file}: not this configuration's; started again`);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
        log?.(`readings cache ${file} not read (${err instanceof Error ? err.message : String(err)}); started again`);
    }
    const me = new VerdictLog(file, id, records, log, maxBytes);
    me.cut = cut;
    await me.prune(dir);
    return me;
  }

  /** Whether records are left to read back. */
  get pending(): boolean {
    return this.pos < this.buf.length;
  }

  /** The next record's lines read back (undefined when none is left). A damaged record is skipped. */
  next(): LoggedLines | undefined {
    while (this.pos < this.buf.length) {
      let end = this.buf.indexOf(10, this.pos);
      if (end < 0) end = this.buf.length;
      const raw = this.buf.toString('utf8', this.pos, end);
      this.pos = end + 1;
      if (!raw) continue;
      const rec = safeParse(raw) as LogRecord | undefined;
      const lines = rec && this.decode(rec);
      if (lines) return lines;
      this.log?.(`readings cache ${this.file}: a damaged record skipped`);
    }
    // All read: the file's bytes are let go.
    this.buf = Buffer.alloc(0);
    this.pos = 0;
    return undefined;
  }

  /** Appends a record of `lines` lines (`encodeRecord`). Writes are queued; `close` waits for them. */
  append(record: string): void {
    if (this.failed || this.closed) return;
    const line = record + '\n';
    const bytes = Buffer.byteLength(line);
    this.queued++;
    this.chain = this.chain
      .then(async () => {
        if (this.size + bytes > this.maxBytes && this.holdsRecords) await this.startAgain();
        const fh = await this.open();
        await fh.write(line);
        this.size += bytes;
        this.holdsRecords = true;
      })
      .catch((err: Error) => this.fail(err))
      .finally(() => this.queued--);
  }

  /** Records appended but not written yet. */
  get backlog(): number {
    return this.queued;
  }
  private queued = 0;

  /** Resolves once every record appended so far is written (or has failed). */
  flushed(): Promise<void> {
    return this.chain;
  }

  /** Waits for the queued writes and closes the file. */
  async close(): Promise<void> {
    this.closed = true;
    await this.chain;
    const fh = await this.handle;
    await fh?.close().catch(() => undefined);
  }

  private open(): Promise<FileHandle> {
    this.handle ??= (async () => {
      if (this.fresh) await unlink(this.file).catch(() => undefined);
      const fh = await openAppendNoFollow(this.file);
      const first = this.fresh ? JSON.stringify({ ttsDistillReadings: LOG_FORMAT, id: this.id }) + '\n' : this.cut ? '\n' : '';
      if (first) await fh.write(first);
      if (this.fresh) {
        this.size = Buffer.byteLength(first);
        this.holdsRecords = false;
        this.fresh = false;
      } else this.size += first.length;
      return fh;
    })();
    return this.handle;
  }

  /** Full: the file is started again with what comes next. */
  private async startAgain(): Promise<void> {
    const fh = await this.handle?.catch(() => undefined);
    await fh?.close().catch(() => undefined);
    this.handle = undefined;
    this.fresh = true;
    this.cut = false;
    this.log?.(`readings cache ${this.file}: ${(this.maxBytes / 1048576).toFixed(0)} MB reached; started again`);
  }

  private fail(err: Error): void {
    if (this.failed) return;
    this.failed = true;
    this.log?.(`readings cache ${this.file} not written: ${err.message}`);
  }

  /** Deletes the logs of the folder but the newest KEEP_LOGS (this one counts as the newest). */
  private async prune(dir: string): Promise<void> {
    try {
      const mine = path.basename(this.file);
      const others = (await readdir(dir)).filter((n) => NAME.test(n) && n !== mine);
      if (others.length < KEEP_LOGS) return;
      const dated = await Promise.all(
        others.map(async (n) => ({
          n,
          t: await stat(path.join(dir, n)).then(
            (s) => s.mtimeMs,
            () => 0,
          ),
        })),
      );
      dated.sort((a, b) => b.t - a.t);
      for (const { n } of dated.slice(KEEP_LOGS - 1)) await unlink(path.join(dir, n)).catch(() => undefined);
    } catch {
      // Nothing to prune, or not allowed: the logs stay.
    }
  }

  private decode(rec: LogRecord): LoggedLines | undefined {
    if (!Array.isArray(rec.s) || !Array.isArray(rec.l)) return undefined;
    // The record's ids → this table's.
    const map = new Uint16Array(rec.s.length + 1);
    for (let k = 0; k < rec.s.length; k++) {
      const s = rec.s[k];
      const id = typeof s === 'string' ? this.table.idOf(s) : undefined;
      if (id === undefined) return undefined;
      map[k + 1] = id;
    }
    const out: LoggedLines = { texts: [], readings: [], results: [] };
    for (const row of rec.l) {
      if (!Array.isArray(row) || typeof row[0] !== 'string' || typeof row[1] !== 'string' || !Array.isArray(row[2])) return undefined;
      const [text, ids, verdicts, pinned, kept] = row;
      if (ids.length !== text.length || !verdicts.every((v) => isVerdict(v, text.length))) return undefined;
      if (
        pinned !== undefined &&
        !(Array.isArray(pinned) && pinned.every((p) => Array.isArray(p) && isIndex(p[0], text.length) && isPin(p[1])))
      )
        return undefined;
      if (kept !== undefined && !(Array.isArray(kept) && kept.every((k) => isIndex(k, text.length)))) return undefined;
      const mine = new Uint16Array(ids.length);
      for (let i = 0; i < ids.length; i++) {
        const k = ids.charCodeAt(i) - OFFSET;
        if (k < 0 || k > rec.s.length) return undefined;
        mine[i] = map[k]!;
      }
      const p: PackedReadings = { ids: utf16.decode(mine) };
      if (pinned?.length) p.pinned = new Map(pinned);
      if (kept?.length) p.kept = new Set(kept);
      out.texts.push(text);
      out.readings.push(p);
      out.results.push(verdicts);
    }
    return out;
  }
}

/** A line as `encodeRecord` takes it: its readings packed with `table`, or as they are. */
export interface LineToLog {
  text: string;
  readings: PackedReadings | LineReadings;
  table?: SyllableTable;
  verdicts: PolyphoneVerdict[];
}

/** Lines as a record (one line of JSON, for `VerdictLog.append`). The record's syllables are numbered in the order they come. */
export function encodeRecord(lines: readonly LineToLog[]): string {
  // The record's own ids, 1 on (`s` is its syllables from id 1).
  const mine = new SyllableTable();
  // A table's ids → the record's (0: not seen yet in this record).
  const remaps = new Map<SyllableTable, Int32Array>();
  const l: Row[] = [];
  for (const { text, readings: r, table, verdicts } of lines) {
    const out = new Uint16Array(text.length).fill(OFFSET);
    if ('ids' in r) {
      if (!table) continue;
      let remap = remaps.get(table);
      if (!remap) remaps.set(table, (remap = new Int32Array(table.size)));
      for (let j = 0; j < r.ids.length && j < out.length; j++) {
        const id = r.ids.charCodeAt(j);
        if (!id) continue;
        let k = remap[id];
        if (!k) {
          const syllable = table.syllables[id];
          if (!syllable) continue;
          k = remap[id] = mine.idOf(syllable)!;
        }
        out[j] = OFFSET + k;
      }
    } else {
      for (let j = 0; j < r.readings.length && j < out.length; j++) {
        const syllable = r.readings[j];
        if (syllable) out[j] = OFFSET + mine.idOf(syllable)!;
      }
    }
    const row: Row = [text, utf16.decode(out), verdicts];
    if (r.pinned?.size || r.kept?.size) {
      row.push(r.pinned ? [...r.pinned] : []);
      if (r.kept?.size) row.push([...r.kept]);
    }
    l.push(row);
  }
  return JSON.stringify({ s: mine.syllables.slice(1) as string[], l } satisfies LogRecord);
}

// What a record's verdicts and pins must look like: a file damaged otherwise is skipped, never trusted.
const SOURCES = new Set<unknown>(READING_SOURCES);
const isIndex = (i: unknown, length: number): boolean => Number.isInteger(i) && (i as number) >= 0 && (i as number) < length;
const isPin = (p: unknown): boolean => {
  if (typeof p !== 'object' || p === null) return false;
  const { key, line } = p as Record<string, unknown>;
  return typeof key === 'string' && (line === undefined || Number.isInteger(line));
};
function isVerdict(v: unknown, length: number): boolean {
  if (typeof v !== 'object' || v === null) return false;
  const { index, predicted, source, pinned, second } = v as Partial<Record<keyof PolyphoneVerdict, unknown>>;
  if (!isIndex(index, length) || !(predicted === null || typeof predicted === 'string') || !SOURCES.has(source)) return false;
  if (pinned !== undefined && !isPin(pinned)) return false;
  if (second === undefined) return true;
  if (typeof second !== 'object' || second === null) return false;
  const { reading, by, confidence } = second as Record<string, unknown>;
  return (
    typeof reading === 'string' && (by === 'student' || by === 'pinyin-pro') && (confidence === undefined || typeof confidence === 'number')
  );
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
