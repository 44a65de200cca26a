import { appendFile, mkdir, open } from 'node:fs/promises';
import * as path from 'node:path';
import { isManifestRecord, MANIFEST_FILE, taskHash } from '../batch/manifest';
import { TaskFileModel } from '../formats/taskFile';
import { JsonlTail, type LineRecord, placeAudio } from './merge';
import { type Shard, shardPaths } from './shards';

/**
 * Hands lines the output folder already holds (a single-machine run, or a merge whose shard
 * folders were deleted) to the shards that own them: the WAV is hard-linked into the shard's
 * output and the record appended to its manifest, with the shard's line and task hash. The
 * runner on the node then checks them like any earlier record of its own (task, seed, backend,
 * WAV checksum) and skips them. Only records whose task equals the current task of that line
 * are handed over; shards in `busy` (a job is running them) are left alone.
 */
export async function seedShardsFromOut(
  runDir: string,
  shards: readonly Shard[],
  outDir: string,
  originalHashes: ReadonlyMap<number, string>,
  busy: ReadonlySet<number>,
): Promise<number> {
  const owner = new Map<number, { shard: number; line: number }>();
  for (const s of shards) if (!busy.has(s.index)) s.lines.forEach((original, line) => owner.set(original, { shard: s.index, line }));
  if (!owner.size) return 0;
  const doneInShard = new Map<number, Map<number, true>>();
  for (const s of shards) {
    if (busy.has(s.index)) continue;
    doneInShard.set(
      s.index,
      await new JsonlTail(path.join(shardPaths(runDir, s.index).out, MANIFEST_FILE), () => true as const, isManifestRecord).read(),
    );
  }
  const wanted = await new JsonlTail(
    path.resolve(outDir, MANIFEST_FILE),
    (rec: LineRecord) => {
      const o = owner.get(rec.line);
      if (!o || doneInShard.get(o.shard)?.has(o.line) || !rec.taskHash || rec.taskHash !== originalHashes.get(rec.line)) return undefined;
      return rec;
    },
    isManifestRecord,
  ).read();
  const byShard = new Map<number, Array<{ line: number; rec: LineRecord }>>();
  for (const [original, rec] of wanted) {
    if (!rec) continue;
    const o = owner.get(original)!;
    byShard.set(o.shard, [...(byShard.get(o.shard) ?? []), { line: o.line, rec }]);
  }
  let seeded = 0;
  for (const [index, items] of byShard) {
    const shard = shards.find((s) => s.index === index)!;
    const model = new TaskFileModel(shard.text, 'auto');
    const out = shardPaths(runDir, index).out;
    await mkdir(out, { recursive: true });
    const lines: string[] = [];
    for (const { line, rec } of items) {
      const task = model.line(line)?.toTask(line);
      if (!task || typeof rec.audio !== 'string') continue;
      if ((await placeAudio(path.resolve(outDir, rec.audio), path.resolve(out), rec.audio).catch(() => 'missing')) === 'missing') continue;
      lines.push(JSON.stringify({ ...rec, line, taskHash: taskHash(task) }) + '\n');
    }
    if (lines.length) {
      const file = path.join(out, MANIFEST_FILE);
      // A torn last line (a killed runner) must not swallow the first appended record.
      const torn = await endsWithoutNewline(file);
      await appendFile(file, (torn ? '\n' : '') + lines.join(''));
    }
    seeded += lines.length;
  }
  return seeded;
}

async function endsWithoutNewline(file: string): Promise<boolean> {
  const fh = await open(file, 'r').catch(() => undefined);
  if (!fh) return false;
  try {
    const { size } = await fh.stat();
    if (!size) return false;
    const b = Buffer.alloc(1);
    await fh.read(b, 0, 1, size - 1);
    return b[0] !== 0x0a;
  } finally {
    await fh.close();
  }
}
