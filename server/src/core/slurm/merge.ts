import { constants as fsc, createReadStream, createWriteStream } from 'node:fs';
import { copyFile, link, mkdir, open, rename, rm, stat, unlink } from 'node:fs/promises';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { FAILURES_FILE, isFailureRecord, isManifestRecord, MANIFEST_FILE } from '../batch/manifest';
import { readLineMap, shardPaths } from './shards';

/**
 * The fields of manifest and failure records that sharding touches. Everything else a record
 * holds is carried through unchanged (the format itself is defined by core/batch/manifest.ts).
 */
export interface LineRecord {
  line: number;
  name?: string;
  audio?: string;
  taskHash?: string;
  [key: string]: unknown;
}

/**
 * Reads a JSONL file of records that keeps growing while shards run, from where it stopped
 * last time: a poll costs only what was appended. A file that was replaced (another inode)
 * or shrank is read again from the start. A half-written last line waits for the next read.
 * Per line it keeps only what `pick` returns, so following a million lines stays small.
 */
export class JsonlTail<V> {
  private offset = 0;
  private ino = -1;
  private rest: Buffer = Buffer.alloc(0);
  /** What `pick` kept of the last record of each line. */
  readonly byLine = new Map<number, V>();

  constructor(
    readonly file: string,
    private readonly pick: (rec: LineRecord) => V,
    /** Keeps only well-formed records (the record types of core/batch/manifest.ts). */
    private readonly accept: (v: unknown) => boolean = (v) => Number.isInteger((v as LineRecord | null)?.line),
  ) {}

  async read(): Promise<Map<number, V>> {
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
      // Split on newline bytes, not characters: a read may end inside a multi-byte character.
      const data = this.rest.length ? Buffer.concat([this.rest, buf.subarray(0, bytesRead)]) : buf.subarray(0, bytesRead);
      const cut = data.lastIndexOf(0x0a) + 1;
      for (const l of data.subarray(0, cut).toString('utf8').split('\n')) this.tryParse(l);
      this.rest = Buffer.from(data.subarray(cut));
      // A complete last record whose newline is not written yet counts now; `rest` keeps it for the next read.
      if (this.rest.length) this.tryParse(this.rest.toString('utf8'));
    } finally {
      await fh.close();
    }
    return this.byLine;
  }

  private reset(ino: number) {
    this.offset = 0;
    this.ino = ino;
    this.rest = Buffer.alloc(0);
    this.byLine.clear();
  }

  private tryParse(l: string) {
    if (!l.trim()) return;
    try {
      const rec = JSON.parse(l) as LineRecord;
      if (this.accept(rec)) this.byLine.set(rec.line, this.pick(rec));
    } catch {
      /* half-written or damaged: skipped */
    }
  }
}

/** How far one shard is, from its own output folder. Lines are shard lines. */
export class ShardOutputs {
  readonly manifest: JsonlTail<true>;
  readonly failures: JsonlTail<true>;
  constructor(
    runDir: string,
    readonly index: number,
    readonly total: number,
  ) {
    const out = shardPaths(runDir, index).out;
    this.manifest = new JsonlTail(path.join(out, MANIFEST_FILE), () => true, isManifestRecord);
    this.failures = new JsonlTail(path.join(out, FAILURES_FILE), () => true, isFailureRecord);
  }

  /** done = lines with a manifest record; failed = the other lines with a failure record. */
  async counts(): Promise<{ total: number; done: number; failed: number }> {
    const done = await this.manifest.read();
    const failures = await this.failures.read();
    let d = 0,
      f = 0;
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
 *
 * Memory stays at one shard's records: each shard is put in order into a file of its own
 * under the run folder, and the final files are written by walking the task lines once and
 * taking each line's record from the file of the shard that owns it.
 */
export async function mergeShards(
  runDir: string,
  shardCount: number,
  outDir: string,
  taskHashes?: ReadonlyMap<number, string>,
): Promise<MergeResult> {
  const outRoot = path.resolve(outDir);
  const work = path.join(runDir, 'merge');
  await mkdir(outRoot, { recursive: true });
  await rm(work, { recursive: true, force: true });
  await mkdir(work, { recursive: true });
  const maps: number[][] = [];
  let total = 0,
    done = 0,
    failed = 0,
    audioLinked = 0,
    maxLine = -1;
  const unfinished: number[] = [];
  const rewrite = (rec: LineRecord, original: number) => {
    const known = rec.taskHash ? taskHashes?.get(original) : undefined;
    return JSON.stringify(known ? { ...rec, line: original, taskHash: known } : { ...rec, line: original });
  };
  for (let i = 0; i < shardCount; i++) {
    const map = await readLineMap(runDir, i);
    if (!map) throw new Error(`shard ${i} has no line map (${shardPaths(runDir, i).lineMap}): the run folder is damaged`);
    maps.push(map);
    total += map.length;
    for (const l of map) maxLine = Math.max(maxLine, l);
    const shardOut = shardPaths(runDir, i).out;
    const audio: Array<[number, string]> = [];
    const records = await new JsonlTail(
      path.join(shardOut, MANIFEST_FILE),
      (rec) => {
        const original = map[rec.line];
        if (original === undefined) return undefined;
        if (typeof rec.audio === 'string' && rec.audio) audio.push([rec.line, rec.audio]);
        return rewrite(rec, original);
      },
      isManifestRecord,
    ).read();
    const failures = await new JsonlTail(
      path.join(shardOut, FAILURES_FILE),
      (rec) => {
        const original = map[rec.line];
        return original === undefined ? undefined : rewrite(rec, original);
      },
      isFailureRecord,
    ).read();
    // Only the last record of a line counts, and only its WAV is placed.
    const lastAudio = new Map(audio);
    audioLinked += await forEachLimit(
      [...lastAudio.entries()].filter(([line]) => records.get(line) !== undefined),
      16,
      async ([, rel]) => (await placeAudio(path.resolve(shardOut, rel), outRoot, rel)) === 'linked',
    );
    const m: string[] = [],
      f: string[] = [];
    for (let line = 0; line < map.length; line++) {
      const rec = records.get(line);
      const fail = failures.get(line);
      if (rec !== undefined) {
        m.push(`${map[line]}\t${rec}\n`);
        done++;
      } else if (fail !== undefined) {
        f.push(`${map[line]}\t${fail}\n`);
        failed++;
      } else unfinished.push(map[line]!);
    }
    await writeChunks(path.join(work, `shard-${i}.manifest`), m);
    await writeChunks(path.join(work, `shard-${i}.failures`), f);
  }
  const owner = new Int32Array(maxLine + 1).fill(-1);
  maps.forEach((map, i) => {
    for (const l of map) owner[l] = i;
  });
  const manifestFile = path.join(outRoot, MANIFEST_FILE);
  const failuresFile = path.join(outRoot, FAILURES_FILE);
  await interleave(
    maps.map((_, i) => path.join(work, `shard-${i}.manifest`)),
    owner,
    manifestFile,
  );
  await interleave(
    maps.map((_, i) => path.join(work, `shard-${i}.failures`)),
    owner,
    failuresFile,
  );
  await rm(work, { recursive: true, force: true });
  unfinished.sort((a, b) => a - b);
  return { total, done, failed, unfinished, manifestFile, failuresFile, audioLinked };
}

async function writeChunks(file: string, lines: string[]) {
  const out = createWriteStream(file);
  for (const l of lines) if (!out.write(l)) await new Promise<void>((r) => out.once('drain', () => r()));
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
}

/**
 * Writes `target` (atomically: temp file + fsync + rename) from per-shard files of
 * `<original line>\t<record>` lines, each in task order: walking the task lines in order, the
 * next record of a line can only be the next unread one of the shard that owns the line.
 */
async function interleave(files: string[], owner: Int32Array, target: string) {
  const readers = files.map((f) => createInterface({ input: createReadStream(f), crlfDelay: Infinity })[Symbol.asyncIterator]());
  const next = async (i: number): Promise<{ line: number; text: string } | undefined> => {
    const r = await readers[i]!.next();
    if (r.done) return undefined;
    const tab = r.value.indexOf('\t');
    return { line: Number(r.value.slice(0, tab)), text: r.value.slice(tab + 1) };
  };
  const heads = await Promise.all(files.map((_, i) => next(i)));
  const tmp = path.join(path.dirname(target), `.${path.basename(target)}.tmp-${process.pid}`);
  const fh = await open(tmp, 'w');
  try {
    let buffer = '';
    for (let line = 0; line < owner.length; line++) {
      const i = owner[line]!;
      if (i < 0 || heads[i]?.line !== line) continue;
      buffer += heads[i]!.text + '\n';
      heads[i] = await next(i);
      if (buffer.length > 1 << 20) {
        await fh.write(buffer);
        buffer = '';
      }
    }
    await fh.write(buffer);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, target);
}

async function forEachLimit<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<boolean>): Promise<number> {
  let next = 0,
    count = 0;
  const worker = async () => {
    while (next < items.length) if (await fn(items[next++]!)) count++;
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return count;
}

/** Hard-links `src` to `<outRoot>/<rel>` (copies across file systems) unless the same file is there already. */
export async function placeAudio(src: string, outRoot: string, rel: string): Promise<'linked' | 'present' | 'missing'> {
  const dst = path.resolve(outRoot, rel);
  const inside = path.relative(outRoot, dst);
  if (!inside || inside.startsWith('..') || path.isAbsolute(inside))
    throw new Error(`audio file '${rel}' would land outside the output folder ${outRoot}`);
  const s = await stat(src).catch(() => undefined);
  if (!s) return 'missing';
  const d = await stat(dst).catch(() => undefined);
  if (d && d.ino === s.ino && d.dev === s.dev) return 'present';
  await mkdir(path.dirname(dst), { recursive: true });
  const tmp = path.join(path.dirname(dst), `.${path.basename(dst)}.tmp-${process.pid}`); // a name isTempFile knows
  await unlink(tmp).catch(() => undefined);
  try {
    await link(src, tmp);
  } catch {
    await copyFile(src, tmp, fsc.COPYFILE_FICLONE);
  }
  await rename(tmp, dst);
  return 'linked';
}
