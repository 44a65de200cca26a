import { createHash } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { BOM, splitLines } from '../formats/jsonl';
import { writeFileAtomic } from '../batch/manifest';

/**
 * One shard of a task file: the task lines one array task runs, and for each of them the line
 * of the original task file it came from (manifests of a shard count lines in the shard file).
 */
export interface Shard {
  index: number;
  /** Original 0-based line of each shard line, in shard order. */
  lines: number[];
  /** The shard's task file content, one task per line, newline-terminated. */
  text: string;
}

/**
 * Splits the task lines of a file into `count` shards, dealing non-blank lines round-robin:
 * the k-th task line goes to shard k mod count. The split depends only on the text and the
 * count, so a resume re-creates the same shards, and lines appended to the task file later
 * leave every earlier line in its shard at its shard line. Blank lines carry no task and are
 * left out; a BOM is dropped (it would be garbage in the middle of a shard). Never more
 * shards than task lines. `rewrite` may change a line's text (not which shard it goes to).
 */
export function planShards(text: string, count: number, rewrite?: (line: string, index: number) => string): Shard[] {
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`shard count must be a whole number ≥ 1, got ${count}`);
  const lines = splitLines(text.startsWith(BOM) ? text.slice(1) : text);
  const taskLines: number[] = [];
  for (let i = 0; i < lines.length; i++) if (lines[i]!.trim() !== '') taskLines.push(i);
  const n = Math.max(1, Math.min(count, taskLines.length));
  const shards: Shard[] = Array.from({ length: n }, (_, index) => ({ index, lines: [], text: '' }));
  const parts: string[][] = shards.map(() => []);
  taskLines.forEach((line, k) => {
    shards[k % n]!.lines.push(line);
    parts[k % n]!.push(rewrite ? rewrite(lines[line]!, line) : lines[line]!);
  });
  shards.forEach((s, i) => {
    s.text = parts[i]!.length ? parts[i]!.join('\n') + '\n' : '';
  });
  return shards;
}

export const shardDirName = (index: number) => `shard-${index}`;

/** Where the files of one shard live under the run folder. */
export function shardPaths(runDir: string, index: number) {
  const dir = path.join(runDir, shardDirName(index));
  return {
    dir,
    tasks: path.join(dir, 'tasks.jsonl'),
    /** JSON array: original line of each shard line. */
    lineMap: path.join(dir, 'lines.json'),
    /** The shard's own batch output folder (the runner's manifest, failures and WAVs). */
    out: path.join(dir, 'out'),
    log: path.join(dir, 'slurm.log'),
  };
}

export function sha256(text: string | Uint8Array): string {
  return createHash('sha256').update(text).digest('hex');
}

/**
 * Writes the shard files under `runDir`. A file whose content is already the same is left
 * alone, so a shard that a running job reads is never rewritten under it.
 */
export async function writeShards(runDir: string, shards: readonly Shard[]): Promise<void> {
  for (const s of shards) {
    const p = shardPaths(runDir, s.index);
    await mkdir(p.dir, { recursive: true });
    await writeIfChanged(p.tasks, s.text);
    await writeIfChanged(p.lineMap, JSON.stringify(s.lines) + '\n');
  }
}

/** Reads the line map a shard was written with (undefined when missing or damaged). */
export async function readLineMap(runDir: string, index: number): Promise<number[] | undefined> {
  try {
    const v: unknown = JSON.parse(await readFile(shardPaths(runDir, index).lineMap, 'utf8'));
    return Array.isArray(v) && v.every((x) => Number.isInteger(x) && x >= 0) ? (v as number[]) : undefined;
  } catch {
    return undefined;
  }
}

export async function writeIfChanged(file: string, content: string): Promise<boolean> {
  const old = await readFile(file, 'utf8').catch(() => undefined);
  if (old === content) return false;
  await writeFileAtomic(file, content);
  return true;
}

/**
 * Web UI task files give prompt audio relative to the task file's folder; a shard file lives
 * elsewhere, so such paths are made absolute in the shard (the merge puts back the task hash
 * of the original line). Every other line is copied byte for byte.
 */
export function anchorPromptAudio(tasksFile: string): (line: string) => string {
  const base = path.dirname(path.resolve(tasksFile));
  return (line) => {
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      return line;
    }
    const o = v as Record<string, unknown>;
    if (
      !o ||
      typeof o !== 'object' ||
      Array.isArray(o) ||
      typeof o.prompt_audio !== 'string' ||
      !o.prompt_audio.trim() ||
      path.isAbsolute(o.prompt_audio) ||
      'uttid' in o
    )
      return line;
    return JSON.stringify({ ...o, prompt_audio: path.resolve(base, o.prompt_audio) });
  };
}
