import { constants as fsc } from 'node:fs';
import { copyFile, link, mkdir, open, rename, stat, unlink } from 'node:fs/promises';
import * as path from 'node:path';
import { FAILURES_FILE, isFailureRecord, isManifestRecord, MANIFEST_FILE, writeFileAtomic } from '../batch/manifest';
import { readLineMap, shardPaths } from './shards';

/**
 * The fields of manifest and failure records that sharding touches. Everything else a record
 * holds is carried through unchanged (the format itself is defined by core/batch/manifest.ts).
 */
export interface LineRecord { line: number; name?: string; audio?: string; [key: string]: unknown }

/**
 * Reads a JSONL file of records that keeps growing while shards run, from where it stopped
 * last time: a poll costs only what was appended. A file that was replaced (another inode)
 * or shrank is read again from the start. A half-written last line waits for the next read.
 */
export class JsonlTail<T extends { line: number }> {
  private offset = 0;
  private ino = -1;
  private rest = '';
  /** The last record of each line. */
  readonly byLine = new Map<number, T>();

  /** `accept` keeps only well-formed records (the record types of core/batch/manifest.ts). */
  constructor(readonly file: string, private readonly accept: (v: unknown) => boolean = (v) => Number.isInteger((v as T | null)?.line)) {}

  async read(): Promise<Map<number, T>> {
    let st;
    try {
      st = await stat(this.file);
    } catch {
      this.reset(-1);
      return this.byLine;
    }
    if (st.ino !== this.ino || st.size < this.offset) this.reset(st.ino);
    if (st.size === this.offset) return this.byLine;
    const fh = await open(this.file, 'r');
    try {
      const buf = Buffer.alloc(st.size - this.offset);
      const { bytesRead } = await fh.read(buf, 0, buf.length, this.offset);
      this.offset += bytesRead;
      const text = this.rest + buf.subarray(0, bytesRead).toString('utf8');
      const lines = text.split('\n');
      this.rest = lines.pop() ?? '';
      for (const l of lines) this.tryParse(l);
      // A complete last record whose newline is not written yet counts now; `rest` keeps it for the next read.
      if (this.rest) this.tryParse(this.rest);
    } finally {
      await fh.close();
    }
    return this.byLine;
  }

  private reset(ino: number) {
    this.offset = 0;
    this.ino = ino;
    this.rest = '';
    this.byLine.clear();
  }

  private tryParse(l: string): boolean {
    if (!l.trim()) return false;
    try {
      const rec = JSON.parse(l) as T;
      if (this.accept(rec)) {
        this.byLine.set(rec.line, rec);
        return true;
      }
    } catch { /* half-written or damaged: skipped */ }
    return false;
  }
}

/** How far one shard is, from its own output folder. Lines are shard lines. */
export class ShardOutputs {
  readonly manifest: JsonlTail<LineRecord>;
  readonly failures: JsonlTail<LineRecord>;
  constructor(runDir: string, readonly index: number, readonly total: number) {
    const out = shardPaths(runDir, index).out;
    this.manifest = new JsonlTail(path.join(out, MANIFEST_FILE), isManifestRecord);
    this.failures = new JsonlTail(path.join(out, FAILURES_FILE), isFailureRecord);
  }

  /** done = lines with a manifest record; failed = the other lines with a failure record. */
  async counts(): Promise<{ total: number; done: number; failed: number }> {
    const done = await this.manifest.read();
    const failures = await this.failures.read();
    let d = 0, f = 0;
    for (const line of done.keys()) if (line < this.total) d++;
    for (const line of failures.keys()) if (line < this.total && !done.has(line)) f++;
    return { total: this.total, done: d, failed: f };
  }
}

export interface MergeResult {
  /** Task lines of the whole batch. */
  total: number;
  done: number;
  failed: number;
  /** Lines with neither a manifest nor a failure record (a shard that did not finish). */
  unfinished: number[];
  manifestFile: string;
  failuresFile: string;
  /** WAVs linked (or copied, across file systems) into the output folder by this merge. */
  audioLinked: number;
}

/**
 * Merges the shards' outputs into one `manifest.jsonl` + `failures.jsonl` in `outDir`, in task
 * order, with the original task lines, one record per line (a shard's later record of a line
 * wins; a line done anywhere is not a failure). WAVs are hard-linked into `outDir` (copied
 * when linking is impossible); nothing is written outside `outDir`. `taskHashes` (original
 * line → hash of the original task) replaces the hash of a shard line that was rewritten.
 */
export async function mergeShards(runDir: string, shardCount: number, outDir: string, taskHashes?: ReadonlyMap<number, string>): Promise<MergeResult> {
  const done = new Map<number, LineRecord>();
  const failed = new Map<number, LineRecord>();
  const allLines: number[] = [];
  let audioLinked = 0;
  const hashOf = (line: number) => (taskHashes?.has(line) ? { taskHash: taskHashes.get(line)! } : {});
  await mkdir(outDir, { recursive: true });
  const outRoot = path.resolve(outDir);
  for (let i = 0; i < shardCount; i++) {
    const map = await readLineMap(runDir, i);
    if (!map) throw new Error(`shard ${i} has no line map (${shardPaths(runDir, i).lineMap}): the run folder is damaged`);
    allLines.push(...map);
    const shard = new ShardOutputs(runDir, i, map.length);
    const records = await shard.manifest.read();
    const failures = await shard.failures.read();
    const shardOut = shardPaths(runDir, i).out;
    for (const [line, rec] of records) {
      const original = map[line];
      if (original === undefined) continue;
      if (typeof rec.audio === 'string' && rec.audio) {
        if (await placeAudio(path.resolve(shardOut, rec.audio), outRoot, rec.audio)) audioLinked++;
      }
      done.set(original, { ...rec, line: original, ...(rec.taskHash ? hashOf(original) : {}) });
    }
    for (const [line, rec] of failures) {
      const original = map[line];
      if (original === undefined || records.has(line)) continue;
      failed.set(original, { ...rec, line: original, ...(rec.taskHash ? hashOf(original) : {}) });
    }
  }
  const byLine = (a: LineRecord, b: LineRecord) => a.line - b.line;
  const manifestFile = path.join(outDir, MANIFEST_FILE);
  const failuresFile = path.join(outDir, FAILURES_FILE);
  await writeFileAtomic(manifestFile, [...done.values()].sort(byLine).map((r) => JSON.stringify(r) + '\n').join(''));
  await writeFileAtomic(failuresFile, [...failed.values()].sort(byLine).map((r) => JSON.stringify(r) + '\n').join(''));
  const unfinished = allLines.filter((l) => !done.has(l) && !failed.has(l)).sort((a, b) => a - b);
  return { total: allLines.length, done: done.size, failed: failed.size, unfinished, manifestFile, failuresFile, audioLinked };
}

/** Hard-links `src` to `<outRoot>/<rel>` unless it is there already; false when nothing had to be done. */
async function placeAudio(src: string, outRoot: string, rel: string): Promise<boolean> {
  const dst = path.resolve(outRoot, rel);
  const inside = path.relative(outRoot, dst);
  if (!inside || inside.startsWith('..') || path.isAbsolute(inside)) throw new Error(`audio file '${rel}' would land outside the output folder ${outRoot}`);
  const s = await stat(src).catch(() => undefined);
  if (!s) return false;
  const d = await stat(dst).catch(() => undefined);
  if (d && d.ino === s.ino && d.dev === s.dev) return false;
  await mkdir(path.dirname(dst), { recursive: true });
  const tmp = path.join(path.dirname(dst), `.${path.basename(dst)}.tmp-${process.pid}`); // a name isTempFile knows
  await unlink(tmp).catch(() => undefined);
  try {
    await link(src, tmp);
  } catch {
    await copyFile(src, tmp, fsc.COPYFILE_FICLONE);
  }
  await rename(tmp, dst);
  return true;
}
