import { createHash } from 'node:crypto';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import * as path from 'node:path';
import { mergeShards, type MergeResult, ShardOutputs } from './merge';
import { type ArrayTaskInfo, compressTaskIds, isEnded, isRetryable, type JobState, SlurmError, SlurmQueue } from './queue';
import { batchScript, defaultNodeCommand } from './script';
import { LOCK_FILE, taskHash, writeFileAtomic } from '../batch/manifest';
import { acquireFolderLock, FolderBusyError } from '../util/folderLock';
import { TaskFileModel } from '../formats/taskFile';
import { seedShardsFromOut } from './seed';
import { anchorPromptAudio, planShards, sha256, shardPaths, writeIfChanged, writeShards } from './shards';

export interface SlurmBatchOptions {
  /** Absolute path of the task file. */
  tasksFile: string;
  /** Where the merged manifest, failures and WAVs go. */
  outDir: string;
  /** Run folder on the shared file system (shards, their outputs, the batch script, run.json). Default `<outDir>/.slurm`. */
  runDir?: string;
  shards: number;
  maxParallel: number;
  partition?: string;
  gres?: string;
  time?: string;
  account?: string;
  sbatchArgs?: string[];
  commandPrefix?: string[];
  maxRetries: number;
  pollSeconds: number;
  /** Arguments of each shard's `tts-distill submit` after `--out`: `--teacher …` and the teacher's options. */
  submitArgs: string[];
  /** Shell words that start tts-distill on a compute node; default: this Node.js and this installation. */
  nodeCommand?: string;
  /** Working directory of the jobs (relative paths in submitArgs). */
  workDir: string;
  /** Environment of the Slurm commands (SLURM_CONF…); default process.env. */
  env?: NodeJS.ProcessEnv;
  /** false: submit and return (`--no-wait`); a later run on the same output folder follows the jobs. */
  wait: boolean;
  /** false: submit nothing at first, only follow the jobs an earlier invocation left in the queue (failed ones are still retried). */
  submit?: boolean;
  /** Aborting cancels the jobs (scancel), waits until Slurm says they ended, and merges what is done. */
  signal?: AbortSignal;
  onProgress?(p: SlurmProgress): void;
  log?(message: string): void;
}

/** What the user sees of one shard. */
export interface ShardStatus {
  shard: number;
  /** The Slurm id of its array task, `<array job>_<shard>`, once submitted. */
  jobId?: string;
  /** Slurm's state, or DONE (every line has a record, nothing queued), NOT_SUBMITTED. */
  state: JobState | 'DONE' | 'NOT_SUBMITTED';
  node: string;
  elapsed: string;
  reason: string;
  total: number;
  done: number;
  failed: number;
  /** Submissions of this shard by this run (1 = first, 2 = first retry…). */
  attempts: number;
}

export interface SlurmProgress {
  runDir: string;
  /** Array job ids of this run, oldest first. */
  jobIds: string[];
  shards: ShardStatus[];
  total: number;
  done: number;
  failed: number;
  /** Seconds left at the rate of this session; undefined until there is a rate. */
  etaSeconds?: number;
  /** Every shard has ended (or the run was only submitted). */
  finished: boolean;
}

export interface SlurmBatchResult {
  progress: SlurmProgress;
  /** Undefined with `wait: false`. */
  merge?: MergeResult;
  cancelled: boolean;
  /** Like `tts-distill submit`: 0 all done, 2 some lines failed or unfinished, 130 cancelled. */
  exitCode: number;
  /** Shards retried after a job failure, with the reasons. */
  retried: Array<{ shard: number; state: string; reason: string; attempt: number }>;
  /** Array jobs submitted by this invocation (none when it only followed or had nothing to do). */
  submitted: string[];
}

/** run.json: what a later invocation needs to follow or resume the run. */
interface RunState {
  version: 1;
  tasksFile: string;
  tasksSha256: string;
  /** Where the merge goes (absent in run folders of early versions). */
  outDir?: string;
  shards: number;
  /** Submissions, oldest first; the latest one that holds a shard is that shard's job. */
  submissions: Array<{ jobId: string; shards: number[]; at: string }>;
}

const STATE = 'run.json';

/** A run that cannot go on as asked (another follower, a changed task file under queued jobs…); the message says why. */
export class SlurmRunError extends Error {}

export function defaultRunDir(outDir: string): string {
  return path.join(outDir, '.slurm');
}

/** Run folder for a shared-folder setting: `<sharedDir>/<out name>-<hash of the out path>`, one per output folder. */
export function runDirIn(sharedDir: string, outDir: string): string {
  const abs = path.resolve(outDir);
  return path.join(sharedDir, `${path.basename(abs)}-${createHash('sha256').update(abs).digest('hex').slice(0, 8)}`);
}

export async function readRunState(runDir: string): Promise<RunState | undefined> {
  try {
    const s = JSON.parse(await readFile(path.join(runDir, STATE), 'utf8')) as RunState;
    return s.version === 1 && Array.isArray(s.submissions) ? s : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The run of a run folder when some of its shards are still queued or running (a follower
 * that went away, e.g. an editor reload, can take it up again with `submit: false`).
 */
export async function liveRun(
  runDir: string,
  queue: SlurmQueue,
): Promise<{ tasksFile: string; outDir: string; liveShards: number[] } | undefined> {
  const state = await readRunState(runDir);
  if (!state?.outDir || !state.submissions.length) return undefined;
  const latestJob = new Map<number, string>();
  for (const s of state.submissions) for (const i of s.shards) latestJob.set(i, s.jobId);
  const tasks = await queue.status([...new Set(latestJob.values())]);
  const live = tasks.filter((t) => latestJob.get(t.taskId) === t.arrayJobId && !isEnded(t.state)).map((t) => t.taskId);
  return live.length
    ? { tasksFile: state.tasksFile, outDir: state.outDir, liveShards: [...new Set(live)].sort((a, b) => a - b) }
    : undefined;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

/**
 * Runs a teacher batch as a Slurm job array: shards the task file, submits the shards that
 * still have unfinished lines (following jobs an earlier invocation left in the queue instead
 * of submitting them twice), follows them, resubmits a shard whose job failed, and merges.
 */
export async function runSlurmBatch(o: SlurmBatchOptions): Promise<SlurmBatchResult> {
  const log = o.log ?? (() => undefined);
  const runDir = path.resolve(o.runDir ?? defaultRunDir(o.outDir));
  await mkdir(runDir, { recursive: true });
  const release = await lockRun(runDir);
  try {
    return await runLocked(o, runDir, log);
  } finally {
    await release();
  }
}

async function runLocked(o: SlurmBatchOptions, runDir: string, log: (m: string) => void): Promise<SlurmBatchResult> {
  const queue = new SlurmQueue({ commandPrefix: o.commandPrefix, env: o.env });
  const text = await readFile(o.tasksFile, 'utf8');
  const tasksSha256 = sha256(text);
  const previous = await readRunState(runDir);
  let count = o.shards;
  if (previous && previous.shards !== o.shards) {
    log(`resuming with the ${previous.shards} shards of the earlier run (not ${o.shards}), so that no line changes shard`);
    count = previous.shards;
  }
  const shards = planShards(text, count, anchorPromptAudio(o.tasksFile));
  const taskHashes = originalTaskHashes(text);
  count = shards.length;
  const state: RunState = previous ?? { version: 1, tasksFile: o.tasksFile, tasksSha256, shards: count, submissions: [] };

  // Jobs of an earlier invocation that are still queued or running keep their shards: follow them.
  const latestJob = new Map<number, string>();
  for (const s of state.submissions) for (const i of s.shards) latestJob.set(i, s.jobId);
  const early = await queue.status([...new Set(latestJob.values())]);
  const liveShards = new Set(early.filter((t) => latestJob.get(t.taskId) === t.arrayJobId && !isEnded(t.state)).map((t) => t.taskId));
  if (previous && previous.tasksSha256 !== tasksSha256) {
    if (liveShards.size) {
      throw new SlurmRunError(
        `the task file changed, but shards ${compressTaskIds([...liveShards])} of the earlier run are still in the queue (job ${[...new Set([...liveShards].map((i) => latestJob.get(i)))].join(', ')}): wait for them or cancel them first`,
      );
    }
    log('the task file changed since the earlier run: shards are written again; each shard redoes only lines whose task changed');
  }
  state.tasksFile = o.tasksFile;
  state.outDir = path.resolve(o.outDir);
  state.tasksSha256 = tasksSha256;
  state.shards = count;
  await writeShards(runDir, shards);
  const scriptFile = path.join(runDir, 'batch.sh');
  const script = batchScript({
    runDir,
    workDir: o.workDir,
    nodeCommand: o.nodeCommand ?? nodeCommandOrExplain(),
    submitArgs: o.submitArgs,
    partition: o.partition,
    gres: o.gres,
    time: o.time,
    account: o.account,
    tasksFile: o.tasksFile,
    shards: count,
  });
  await writeIfChanged(scriptFile, script);
  await saveState(runDir, state);

  const seeded = await seedShardsFromOut(runDir, shards, o.outDir, taskHashes, liveShards);
  if (seeded) log(`${seeded} line${seeded > 1 ? 's' : ''} already in ${o.outDir} handed to their shards (not synthesized again)`);
  const outputs = shards.map((s) => new ShardOutputs(runDir, s.index, s.lines.length));
  const statuses: ShardStatus[] = shards.map((s) => ({
    shard: s.index,
    state: 'NOT_SUBMITTED',
    node: '',
    elapsed: '',
    reason: '',
    total: s.lines.length,
    done: 0,
    failed: 0,
    attempts: 0,
  }));
  for (const t of early) {
    const st = statuses[t.taskId];
    if (st && latestJob.get(t.taskId) === t.arrayJobId) Object.assign(st, fromQueue(t));
  }
  const refreshCounts = async () => {
    for (const st of statuses) Object.assign(st, await outputs[st.shard]!.counts());
  };
  await refreshCounts();
  const unfinished = (st: ShardStatus) => st.done + st.failed < st.total;

  const retried: SlurmBatchResult['retried'] = [];
  const submitted: string[] = [];
  const active = new Set<number>(liveShards);
  const submit = async (which: number[]) => {
    if (!which.length) return;
    // None of these shards has a live job (Slurm said so): a folder lock left in their output by a
    // job that died with its node would make the new job wait for the lock to go stale, or fail.
    for (const i of which) await rm(path.join(shardPaths(runDir, i).out, LOCK_FILE), { force: true });
    const array = `${compressTaskIds(which)}%${Math.max(1, o.maxParallel)}`;
    const jobId = await queue.sbatch(scriptFile, [`--array=${array}`, ...(o.sbatchArgs ?? [])]);
    state.submissions.push({ jobId, shards: [...which], at: new Date().toISOString() });
    submitted.push(jobId);
    await saveState(runDir, state);
    for (const i of which) {
      latestJob.set(i, jobId);
      Object.assign(statuses[i]!, { jobId: `${jobId}_${i}`, state: 'PENDING', node: '', elapsed: '', reason: '' });
      statuses[i]!.attempts++;
      active.add(i);
    }
    log(`submitted job ${jobId} (--array=${array}): shard${which.length > 1 ? 's' : ''} ${compressTaskIds(which)}`);
  };

  // Shards that failed or ended with a `--no-wait` run still count as unfinished only when lines are missing.
  const toSubmit = statuses.filter((st) => !active.has(st.shard) && st.done < st.total).map((st) => st.shard);
  for (const st of statuses) if (!active.has(st.shard) && st.done >= st.total) st.state = 'DONE';
  if (liveShards.size) log(`following shards ${compressTaskIds([...liveShards])} still in the queue from an earlier run`);
  if (!o.signal?.aborted && o.submit !== false) await submit(toSubmit);

  const started = Date.now();
  const baseline = statuses.reduce((n, s) => n + s.done + s.failed, 0);
  const snapshot = (finished: boolean): SlurmProgress => {
    const done = statuses.reduce((n, s) => n + s.done, 0);
    const failed = statuses.reduce((n, s) => n + s.failed, 0);
    const total = statuses.reduce((n, s) => n + s.total, 0);
    const rate = (done + failed - baseline) / ((Date.now() - started) / 1000);
    const left = total - done - failed;
    return {
      runDir,
      jobIds: state.submissions.map((s) => s.jobId),
      shards: statuses.map((s) => ({ ...s })),
      total,
      done,
      failed,
      etaSeconds: left === 0 ? 0 : rate > 0 ? left / rate : undefined,
      finished,
    };
  };
  o.onProgress?.(snapshot(!o.wait || active.size === 0));
  if (!o.wait) return { progress: snapshot(true), cancelled: false, exitCode: 0, retried, submitted };

  let cancelled = false;
  let unreachableSince = 0;
  const attempts = new Map<number, number>();
  while (active.size) {
    if (o.signal?.aborted) {
      cancelled = true;
      await cancelAndSettle(queue, statuses, active, latestJob, log);
      await refreshCounts();
      break;
    }
    await sleep(o.pollSeconds * 1000, o.signal);
    if (o.signal?.aborted) continue;
    const jobIds = [...new Set([...active].map((i) => latestJob.get(i)!))];
    let infos: ArrayTaskInfo[];
    try {
      infos = await queue.status(jobIds);
      if (unreachableSince) log(`Slurm answers again`);
      unreachableSince = 0;
    } catch (err) {
      if (!(err instanceof SlurmError)) throw err;
      // The jobs go on without us; keep asking (their manifests still show progress).
      if (!unreachableSince) log(`${err.message}; asking again every ${o.pollSeconds} s`);
      unreachableSince ||= Date.now();
      await refreshCounts();
      o.onProgress?.(snapshot(false));
      continue;
    }
    await refreshCounts();
    const again: number[] = [];
    for (const i of [...active]) {
      const st = statuses[i]!;
      const info = infos.find((t) => t.taskId === i && t.arrayJobId === latestJob.get(i));
      if (info) Object.assign(st, fromQueue(info));
      const ended = info ? isEnded(info.state) : true; // Slurm forgot the job: it ended long ago
      if (!ended) continue;
      active.delete(i);
      if (!info) st.state = unfinished(st) ? 'UNKNOWN' : 'COMPLETED';
      if (!unfinished(st)) continue;
      const used = attempts.get(i) ?? 0;
      const retryable = info ? isRetryable(info.state) : true;
      if (retryable && used < o.maxRetries) {
        attempts.set(i, used + 1);
        const why = [st.reason, info?.exitCode && info.exitCode !== '0:0' ? `exit ${info.exitCode}` : ''].filter(Boolean).join(', ');
        retried.push({ shard: i, state: st.state, reason: why, attempt: used + 1 });
        log(
          `shard ${i} (job ${st.jobId}) ended ${st.state}${why ? ` (${why})` : ''} with ${st.total - st.done - st.failed} lines unfinished: resubmitting (retry ${used + 1} of ${o.maxRetries})`,
        );
        again.push(i);
      } else if (retryable) {
        log(
          `shard ${i} (job ${st.jobId}) ended ${st.state}; no retries left (${used} of ${o.maxRetries} used): its unfinished lines wait for a resume`,
        );
      }
    }
    if (again.length && !o.signal?.aborted) {
      try {
        await submit(again);
      } catch (err) {
        if (!(err instanceof SlurmError)) throw err;
        log(`resubmitting shards ${compressTaskIds(again)} failed: ${err.message}`);
      }
    }
    o.onProgress?.(snapshot(active.size === 0));
  }
  for (const st of statuses) if (!unfinished(st) && st.state === 'NOT_SUBMITTED') st.state = 'DONE';
  cancelled ||= !!o.signal?.aborted;
  const merge = await mergeShards(runDir, count, o.outDir, taskHashes);
  const progress = snapshot(true);
  o.onProgress?.(progress);
  const exitCode = cancelled ? 130 : merge.failed || merge.unfinished.length ? 2 : 0;
  return { progress, merge, cancelled, exitCode, retried, submitted };
}

/** The task hash of each original line, as a single-machine run records it. */
function originalTaskHashes(text: string): Map<number, string> {
  const model = new TaskFileModel(text, 'auto');
  const hashes = new Map<number, string>();
  for (let i = 0; i < model.lineCount; i++) {
    const task = model.line(i)?.toTask(i);
    if (task) hashes.set(i, taskHash(task));
  }
  return hashes;
}

function nodeCommandOrExplain(): string {
  try {
    return defaultNodeCommand();
  } catch (err) {
    throw new SlurmRunError((err as Error).message);
  }
}

function fromQueue(t: ArrayTaskInfo): Partial<ShardStatus> {
  return { jobId: `${t.arrayJobId}_${t.taskId}`, state: t.state, node: t.node, elapsed: t.elapsed, reason: t.reason };
}

/** scancel, then wait (bounded) until Slurm reports every task ended, so the shards' files are final. */
async function cancelAndSettle(
  queue: SlurmQueue,
  statuses: ShardStatus[],
  active: Set<number>,
  latestJob: Map<number, string>,
  log: (m: string) => void,
) {
  const jobIds = [...new Set([...active].map((i) => latestJob.get(i)!))];
  log(`cancelling job${jobIds.length > 1 ? 's' : ''} ${jobIds.join(', ')}`);
  await queue.scancel(jobIds);
  const deadline = Date.now() + 60_000;
  while (active.size && Date.now() < deadline) {
    const infos = await queue.status(jobIds).catch((err: unknown) => {
      if (err instanceof SlurmError) return undefined;
      throw err;
    });
    if (!infos) {
      await sleep(1000);
      continue;
    }
    for (const i of [...active]) {
      const info = infos.find((t) => t.taskId === i && t.arrayJobId === latestJob.get(i));
      if (info) Object.assign(statuses[i]!, fromQueue(info));
      if (!info || isEnded(info.state)) active.delete(i);
    }
    if (active.size) await sleep(300);
  }
  if (active.size) log(`shards ${compressTaskIds([...active])} did not report an end within 60 s after scancel`);
}

async function saveState(runDir: string, state: RunState) {
  await writeFileAtomic(path.join(runDir, STATE), JSON.stringify(state, null, 2) + '\n');
}

/**
 * One follower per run folder: two processes resubmitting the same shard would run it twice
 * at once. A lock left by a process that no longer exists on this host is taken over; one
 * from another host (the run folder is shared) cannot be checked, so the message says how to
 * clear it.
 */
async function lockRun(runDir: string): Promise<() => Promise<void>> {
  try {
    return await acquireFolderLock(runDir, '.lock', (holder, file) =>
      holder.host && holder.host !== hostname()
        ? `another tts-distill (pid ${holder.pid} on ${holder.host}) is following this Slurm run (${runDir}); if it is gone, delete ${file}`
        : `another tts-distill (pid ${holder.pid}) is following this Slurm run (${runDir})`,
    );
  } catch (err) {
    if (err instanceof FolderBusyError) throw new SlurmRunError(err.message);
    throw err;
  }
}
