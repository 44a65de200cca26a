/**
 * The batch runner shared by `tts-distill submit`, the editor command and the Slurm shards:
 * sends every task of a file to a teacher with bounded concurrency, a per-request time limit
 * and retries (with exponential backoff) of transient failures only; records each finished line
 * in the manifest as soon as its WAV is in place, each failed line in failures.jsonl, and goes
 * on. Running it again on the same folder redoes exactly the lines whose record or WAV is
 * missing or damaged, or whose task changed.
 */
import { setMaxListeners } from 'node:events';
import { mkdir, readdir, readFile, realpath, rm } from 'node:fs/promises';
import * as path from 'node:path';
import { parseWavHeader, promptWavProblem } from '../audio/wavHeader';
import { assertRegularOrAbsent, readRegularFile } from '../util/safeFs';
import type { TaskDialectSetting } from '../settings';
import { resolvePromptAudio, type Task, type TaskDialect, TaskFileModel } from '../formats/taskFile';
import { type ManyResult, type SynthesisResult, type Teacher, TeacherError, type TeacherTask, isAbortError } from '../teacher/types';
import {
  acquireBatchFolderLock,
  taskLabelFields,
  FAILURES_FILE,
  type FailureRecord,
  isTempFile,
  JsonlAppender,
  latestByName,
  LOCK_FILE,
  MANIFEST_FILE,
  type ManifestRecord,
  outputWavPath,
  readFailures,
  readManifest,
  sha256,
  taskHash,
  writeFileAtomic,
  writeLinesAtomic,
} from './manifest';

export interface RunBatchOptions {
  /** A task file (either dialect), read with the same parser the editor uses. */
  tasksFile?: string;
  /** Or the tasks themselves (then `tasksFile`, when given too, only anchors relative prompt paths). */
  tasks?: Task[];
  /** Dialect to assume when the file does not show it. */
  dialect?: TaskDialectSetting;
  /** Lines with errors are left out (counted as `invalid`) instead of being recorded as failures. */
  validOnly?: boolean;
  /** 0-based lines to leave out as well (counted as `invalid`): lines the editor shows errors on (e.g. a missing prompt audio). */
  skipLines?: ReadonlySet<number>;
  outDir: string;
  teacher: Teacher;
  /** Requests in flight at once (default 4). Many-task backends run one chunk at a time. */
  concurrency?: number;
  /** Time limit of one request (default 120 s); for many-task backends the longest time without progress. */
  timeoutMs?: number;
  /** Retries of a transient failure (default 3). */
  retries?: number;
  /** Seed passed to the teacher (default 42). */
  seed?: number;
  /** 24000 (default) or 32000. */
  sampleRate?: number;
  /** Largest prompt file a teacher that reads prompts is given (default 50 MB, `ttsDistill.promptAudio.maxMegabytes`). */
  maxPromptBytes?: number;
  /** First backoff delay; doubles per retry (default 1000 ms, at most 30 s). */
  backoffMs?: number;
  /** Resolves a prompt audio path as written in the task; default: relative to the task file (upstream: to `glmttsPath`). */
  resolvePromptAudio?(written: string, dialect: TaskDialect): string;
  glmttsPath?: string;
  workspaceFolder?: string;
  signal?: AbortSignal;
  onProgress?(p: BatchProgress): void;
  onLog?(message: string): void;
}

/** What happened to one line. */
export interface LineOutcome {
  line: number;
  name: string;
  ok: boolean;
  reason?: string;
  durationSeconds?: number;
  audio?: string;
}

export interface BatchProgress {
  total: number;
  done: number;
  skipped: number;
  failed: number;
  elapsedMs: number;
  /** Estimated time to finish, from this run's pace; undefined until something finished. */
  etaMs?: number;
  last?: LineOutcome;
}

export interface BatchSummary {
  /** Lines to run: every task line (lines with errors too, unless `validOnly`). */
  total: number;
  /** Synthesized by this run. */
  done: number;
  /** Already done by an earlier run (record and WAV intact, task unchanged). */
  skipped: number;
  /** Failed in this run (recorded in failures.jsonl). */
  failed: number;
  /** Lines with errors left out because of `validOnly`. */
  invalid: number;
  /** Stopped by the signal: the lines not reached are neither done nor failed; the next run does them. */
  cancelled: boolean;
  outDir: string;
  elapsedMs: number;
}

interface Job {
  task: Task;
  teacherTask: TeacherTask;
  hash: string;
  file: string;
  audio: string;
  attempts: number;
}

/** Runs (or resumes) a batch. Never throws for a bad line; throws only when the folder cannot be used. */
export async function runBatch(opts: RunBatchOptions): Promise<BatchSummary> {
  const started = Date.now();
  const outDir = path.resolve(opts.outDir);
  const seed = opts.teacher.fixedSeed ?? opts.seed ?? 42;
  const sampleRate = opts.sampleRate ?? 24000;
  // A server that runs one generation at a time gets one request at a time (more would only wait in its queue and time out).
  const concurrency = Math.max(1, Math.min(opts.concurrency ?? 4, opts.teacher.maxConcurrency ?? Infinity));
  const timeoutMs = opts.timeoutMs ?? 120_000;
  const retries = Math.max(0, opts.retries ?? 3);
  const backoffMs = opts.backoffMs ?? 1000;
  const teacher = opts.teacher;
  const log = opts.onLog ?? (() => undefined);
  // Stops the workers on the caller's cancel, and on an error that no line can survive (disk full).
  const stop = new AbortController();
  const signal = stop.signal;
  // Every request in flight listens to it: that many listeners are expected, not a leak.
  setMaxListeners(concurrency * 2 + 16, signal);
  const onCallerAbort = () => stop.abort(opts.signal!.reason);
  if (opts.signal?.aborted) stop.abort(opts.signal.reason);
  opts.signal?.addEventListener('abort', onCallerAbort, { once: true });
  let fatal: { error: unknown } | undefined;
  const guard =
    <T>(fn: (x: T) => Promise<void>) =>
    async (x: T) => {
      try {
        await fn(x);
      } catch (error) {
        if (!signal.aborted) {
          fatal ??= { error };
          stop.abort(error);
        }
      }
    };

  let loaded: Awaited<ReturnType<typeof loadTasks>>;
  try {
    loaded = await loadTasks(opts);
  } catch (err) {
    // Cancelled while a huge task file was read: nothing was started, nothing is lost.
    if (opts.signal?.aborted)
      return { total: 0, done: 0, skipped: 0, failed: 0, invalid: 0, cancelled: true, outDir, elapsedMs: Date.now() - started };
    throw err;
  }
  const { tasks, invalid, dialect } = loaded;
  await mkdir(outDir, { recursive: true });
  // A cloned repository may ship `teacher-out/manifest.jsonl -> ~/.bashrc` or a FIFO: the batch stops before it reads or writes any of them.
  for (const f of [LOCK_FILE, MANIFEST_FILE, FAILURES_FILE]) await assertRegularOrAbsent(path.join(outDir, f));
  const release = await acquireBatchFolderLock(outDir);
  try {
    return await runLocked();
  } finally {
    opts.signal?.removeEventListener('abort', onCallerAbort);
    await release();
  }

  async function runLocked(): Promise<BatchSummary> {
    await removeTempFiles(outDir);
    if (teacher.maxConcurrency !== undefined && (opts.concurrency ?? 4) > teacher.maxConcurrency)
      log(
        `The teacher takes ${teacher.maxConcurrency} request(s) at a time: concurrency ${opts.concurrency ?? 4} lowered to ${concurrency}.`,
      );
    await teacher.useRunFolder?.(outDir);

    const manifestFile = path.join(outDir, MANIFEST_FILE);
    const failuresFile = path.join(outDir, FAILURES_FILE);
    const previous = latestByName(await readManifest(manifestFile));
    const previousFailures = await readFailures(failuresFile);

    const resolve =
      opts.resolvePromptAudio ??
      ((written: string, d: TaskDialect) =>
        resolvePromptAudio(
          written,
          d,
          opts.tasksFile ? path.resolve(opts.tasksFile) : undefined,
          opts.glmttsPath ?? '',
          opts.workspaceFolder,
        ));

    const records = new Map<string, ManifestRecord>();
    const failures: FailureRecord[] = [];
    const invalidFailures: FailureRecord[] = [];
    const summary: BatchSummary = { total: 0, done: 0, skipped: 0, failed: 0, invalid: 0, cancelled: false, outDir, elapsedMs: 0 };
    const jobs: Job[] = [];

    const checked = checkNames(tasks, outDir);
    for (const bad of [...invalid, ...checked.invalid].sort((a, b) => a.line - b.line)) {
      if (opts.validOnly) {
        summary.invalid++;
        continue;
      }
      invalidFailures.push({
        line: bad.line,
        name: bad.name,
        taskHash: bad.task ? taskHash(bad.task) : '',
        reason: bad.reason,
        attempts: 0,
        transient: false,
      });
    }
    // A teacher that reads the prompt audio gets only prompts the editor accepts: regular files under
    // the size cap with a RIFF/WAVE header (never a FIFO, a device or /etc/passwd). The embedded teacher never reads them.
    const promptProblems = new Map<string, Promise<string | undefined>>();
    const promptProblem = (abs: string) => {
      let p = promptProblems.get(abs);
      if (!p) promptProblems.set(abs, (p = promptWavProblem(abs, opts.maxPromptBytes)));
      return p;
    };
    for (const { task, file, audio } of checked.ok) {
      if (opts.skipLines?.has(task.line)) {
        summary.invalid++;
        continue;
      }
      const teacherTask: TeacherTask = { line: task.line, name: task.name, text: task.text };
      if (task.promptText !== undefined) teacherTask.promptText = task.promptText;
      if (task.promptAudio.trim()) teacherTask.promptAudio = resolve(task.promptAudio, dialect);
      const problem = teacherTask.promptAudio && teacher.kind !== 'embedded' ? await promptProblem(teacherTask.promptAudio) : undefined;
      if (problem) {
        if (opts.validOnly) summary.invalid++;
        else
          invalidFailures.push({
            line: task.line,
            name: task.name,
            taskHash: taskHash(task),
            reason: problem,
            attempts: 0,
            transient: false,
          });
        continue;
      }
      jobs.push({ task, teacherTask, hash: taskHash(task), file, audio, attempts: 0 });
    }
    summary.total = jobs.length + invalidFailures.length;

    // Resume: a line is done when its record matches the task and the run's settings, and its WAV is intact.
    const pending: Job[] = [];
    await forEachLimit(jobs, 16, async (job) => {
      const rec = previous.get(job.task.name);
      if (
        rec &&
        rec.taskHash === job.hash &&
        rec.seed === seed &&
        rec.sampleRate === sampleRate &&
        rec.backend === teacher.kind &&
        rec.audio === job.audio
      ) {
        // Only a regular file, not followed through a symbolic link, and never a FIFO that would block the batch.
        const wav = await readRegularFile(job.file, MAX_OWN_WAV_BYTES, { noFollow: true }).catch(() => undefined);
        if (wav && sha256(wav) === rec.wavSha256) {
          records.set(job.task.name, rec.line === job.task.line ? rec : { ...rec, line: job.task.line });
          summary.skipped++;
          return;
        }
      }
      pending.push(job);
    });
    pending.sort((a, b) => a.task.line - b.task.line);
    if (summary.skipped) log(`Resuming in ${outDir}: ${summary.skipped} line(s) already done.`);

    const manifest = await JsonlAppender.open(manifestFile);
    const failLog = await JsonlAppender.open(failuresFile);
    // The ETA follows the pace of the teacher's answers only (lines with errors fail at once).
    let processed = 0;
    let paceStart = Date.now();
    const progress = (last?: LineOutcome) => {
      const now = Date.now();
      const remaining = summary.total - summary.done - summary.skipped - summary.failed;
      const p: BatchProgress = {
        total: summary.total,
        done: summary.done,
        skipped: summary.skipped,
        failed: summary.failed,
        elapsedMs: now - started,
      };
      if (processed > 0) p.etaMs = Math.round(((now - paceStart) / processed) * remaining);
      if (last) p.last = last;
      opts.onProgress?.(p);
    };
    const fail = async (job: Pick<Job, 'task' | 'hash' | 'attempts'>, reason: string, transient: boolean) => {
      const rec: FailureRecord = {
        line: job.task.line,
        name: job.task.name,
        taskHash: job.hash,
        reason,
        attempts: job.attempts,
        transient,
      };
      failures.push(rec);
      await failLog.append(rec);
      summary.failed++;
      processed++;
      log(`✗ line ${job.task.line + 1} (${job.task.name}): ${reason}`);
      progress({ line: job.task.line, name: job.task.name, ok: false, reason });
    };
    const folders = new Set([outDir]);
    const realOut = await realpath(outDir);
    const succeed = async (job: Job, r: SynthesisResult) => {
      const header = parseWavHeader(r.wav, r.wav.length);
      try {
        const folder = path.dirname(job.file);
        if (!folders.has(folder)) {
          await mkdir(folder, { recursive: true });
          // A sub-folder that is a symbolic link could lead anywhere: it must stay inside the output folder.
          const real = await realpath(folder);
          if (real !== realOut && !real.startsWith(realOut + path.sep)) {
            await fail(job, `unsafe output name: ${path.relative(outDir, folder)} leads outside the output folder (symbolic link)`, false);
            return;
          }
          folders.add(folder);
        }
        // No fsync for the WAV: its sha256 is in the record, so a WAV lost to a power cut is redone on resume.
        await writeFileAtomic(job.file, r.wav, { fsync: false });
      } catch (err) {
        if (FATAL_WRITE_CODES.has((err as NodeJS.ErrnoException).code ?? '')) throw err;
        await fail(job, `cannot write ${job.audio}: ${(err as Error).message}`, false);
        return;
      }
      const rec: ManifestRecord = {
        line: job.task.line,
        name: job.task.name,
        taskHash: job.hash,
        text: job.task.text,
        readings: r.readings,
        phonemes: r.phonemes,
        audio: job.audio,
        durationSeconds: round(header.durationSeconds),
        sampleRate: header.sampleRate,
        backend: teacher.kind,
        seed,
        wavSha256: sha256(r.wav),
        clonedVoice: r.clonedVoice,
        engine: r.engine,
      };
      if (r.sources) rec.sources = r.sources;
      if (r.readingsFrom === 'local-g2p') rec.readingsFrom = r.readingsFrom;
      if (r.dictionarySha256 !== undefined) rec.dictionarySha256 = r.dictionarySha256;
      if (r.note) rec.note = r.note;
      Object.assign(rec, taskLabelFields(job.task, job.teacherTask.promptAudio));
      // The worker goes on to its next line while the record is made durable (records of many lines
      // share one fsync); the line counts as done only once it is. A kill before that redoes the line.
      const durable = manifest.append(rec).then(
        () => {
          records.set(job.task.name, rec);
          summary.done++;
          processed++;
          progress({ line: job.task.line, name: job.task.name, ok: true, durationSeconds: rec.durationSeconds, audio: rec.audio });
        },
        (error: unknown) => {
          fatal ??= { error };
          stop.abort(error);
        },
      );
      appending.add(durable);
      void durable.finally(() => appending.delete(durable));
    };
    const appending = new Set<Promise<void>>();

    // In blocks whose records share a few fsyncs (200,000 failing lines took one fsync each, 200 s), and a
    // cancel (SIGTERM) is seen between blocks: lines not recorded then are simply recorded by the next run.
    for (let i = 0; i < invalidFailures.length && !signal.aborted; i += 2000) {
      await Promise.all(
        invalidFailures
          .slice(i, i + 2000)
          .map((f) => fail({ task: { line: f.line, name: f.name } as Task, hash: f.taskHash, attempts: 0 }, f.reason, false)),
      );
    }
    processed = 0;
    paceStart = Date.now();
    progress();

    try {
      if (teacher.synthesizeMany) await guard(runChunks)(pending);
      else await forEachLimit(pending, concurrency, guard(runOne));
    } finally {
      await Promise.all(appending);
      summary.cancelled = !!opts.signal?.aborted;
      await manifest.close().catch(() => undefined);
      await failLog.close().catch(() => undefined);
      try {
        await compact(manifestFile, failuresFile, tasks, records, previous, failures, previousFailures);
      } catch (err) {
        // The appended records are complete on their own: the next run reads them as they are.
        log(`could not rewrite ${MANIFEST_FILE} in task order: ${(err as Error).message}`);
      }
      summary.elapsedMs = Date.now() - started;
    }
    if (fatal) throw fatal.error;
    return summary;

    async function runOne(job: Job): Promise<void> {
      for (;;) {
        if (signal?.aborted) return;
        job.attempts++;
        const controller = new AbortController();
        const onAbort = () => controller.abort(signal!.reason);
        signal?.addEventListener('abort', onAbort, { once: true });
        let timedOut = false;
        const timer = setTimeout(() => {
          timedOut = true;
          controller.abort(new Error('timeout'));
        }, timeoutMs);
        let outcome: { result: SynthesisResult } | { error: string; transient: boolean; retryAfterMs?: number };
        try {
          const result = await raceAbort(
            teacher.synthesize(job.teacherTask, { seed, sampleRate, signal: controller.signal }),
            controller.signal,
          );
          outcome = checkResult(result);
        } catch (err) {
          if (signal?.aborted) return;
          outcome = timedOut ? { error: `timed out after ${fmtSeconds(timeoutMs)}`, transient: true } : classify(err);
        } finally {
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
        }
        if ('result' in outcome) {
          await succeed(job, outcome.result);
          return;
        }
        if (!outcome.transient || job.attempts > retries) {
          await fail(job, outcome.error, outcome.transient);
          return;
        }
        // A server's Retry-After (429/503) is honoured when it asks for longer than the backoff.
        const delay = Math.max(Math.min(30_000, backoffMs * 2 ** (job.attempts - 1)), outcome.retryAfterMs ?? 0);
        log(`line ${job.task.line + 1} (${job.task.name}): ${outcome.error}; retry ${job.attempts}/${retries} in ${fmtSeconds(delay)}`);
        if (!(await sleep(delay, signal))) return;
      }
    }

    async function runChunks(all: Job[]): Promise<void> {
      let queue = all;
      const size = Math.max(1, teacher.chunkSize ?? 100);
      while (queue.length && !signal?.aborted) {
        const retry: Job[] = [];
        for (let i = 0; i < queue.length && !signal?.aborted; i += size) {
          const chunk = queue.slice(i, i + size);
          const byLine = new Map(chunk.map((j) => [j.task.line, j]));
          for (const j of chunk) j.attempts++;
          const onResult = async (r: ManyResult) => {
            const job = byLine.get(r.task.line);
            if (!job || !byLine.delete(r.task.line)) return;
            const outcome = 'result' in r ? checkResult(r.result) : { error: r.error.message, transient: r.error.transient };
            if ('result' in outcome) await succeed(job, outcome.result);
            else if (outcome.transient && job.attempts <= retries) retry.push(job);
            else await fail(job, outcome.error, outcome.transient);
          };
          try {
            await teacher.synthesizeMany!(
              chunk.map((j) => j.teacherTask),
              { seed, sampleRate, signal, onResult },
            );
          } catch (err) {
            if (signal?.aborted) return;
            const c = classify(err);
            for (const job of byLine.values()) {
              if (c.transient && job.attempts <= retries) retry.push(job);
              else await fail(job, c.error, c.transient);
            }
            byLine.clear();
          }
          // Every task gets an answer; one that did not is a fault of the backend, not of the line.
          for (const job of byLine.values()) {
            if (job.attempts <= retries) retry.push(job);
            else await fail(job, 'the teacher gave no answer for this line', true);
          }
        }
        if (retry.length && !signal?.aborted) {
          const delay = Math.min(30_000, backoffMs * 2 ** (retry[0]!.attempts - 1));
          log(`${retry.length} line(s) failed transiently; retrying in ${fmtSeconds(delay)}`);
          if (!(await sleep(delay, signal))) return;
        }
        queue = retry.sort((a, b) => a.task.line - b.task.line);
      }
    }
  }
}

/** A line the runner will not send: errors in the line, or an output name that is taken or unsafe. */
export interface InvalidLine {
  line: number;
  name: string;
  reason: string;
  task?: Task;
}

async function loadTasks(opts: RunBatchOptions): Promise<{ tasks: Task[]; invalid: InvalidLine[]; dialect: TaskDialect }> {
  if (opts.tasks) return { tasks: opts.tasks, invalid: [], dialect: 'webui' };
  if (!opts.tasksFile) throw new Error('runBatch needs tasksFile or tasks');
  return parseTaskTextAsync(await readFile(opts.tasksFile, 'utf8'), opts.dialect ?? 'auto', opts.signal);
}

/** parseTaskText in blocks of lines with a turn of the event loop between them, so that a cancel (SIGTERM) is seen while a huge file is read. */
async function parseTaskTextAsync(
  text: string,
  dialectSetting: TaskDialectSetting,
  signal?: AbortSignal,
): Promise<{ tasks: Task[]; invalid: InvalidLine[]; dialect: TaskDialect }> {
  const model = new TaskFileModel(text, dialectSetting);
  const out = { tasks: [] as Task[], invalid: [] as InvalidLine[], dialect: model.dialect.dialect };
  for (let start = 0; start < model.lineCount; start += 5000) {
    if (start) await new Promise((r) => setImmediate(r));
    signal?.throwIfAborted();
    for (let i = start; i < Math.min(model.lineCount, start + 5000); i++) collectLine(model, i, out.tasks, out.invalid);
  }
  return out;
}

function collectLine(model: TaskFileModel, i: number, tasks: Task[], invalid: InvalidLine[]): void {
  const p = model.line(i)!;
  if (p.kind === 'blank') return;
  const task = p.toTask(i);
  const error = p.findings.find((f) => f.severity === 'error');
  if (task && !error) tasks.push(task);
  else
    invalid.push({
      line: i,
      name: p.get('name') ?? `line ${i + 1}`,
      reason: `the line has errors: ${error?.message ?? 'it is not a complete task'}`,
    });
}

/** The tasks of a task file's text (either dialect), and the lines that have errors (blank lines are neither). */
export function parseTaskText(
  text: string,
  dialectSetting: TaskDialectSetting = 'auto',
): { tasks: Task[]; invalid: InvalidLine[]; dialect: TaskDialect } {
  const model = new TaskFileModel(text, dialectSetting);
  const dialect = model.dialect.dialect;
  const tasks: Task[] = [];
  const invalid: InvalidLine[] = [];
  for (let i = 0; i < model.lineCount; i++) collectLine(model, i, tasks, invalid);
  return { tasks, invalid, dialect };
}

/** Output names: the first use of a name (compared without letter case, for macOS and Windows) wins; unsafe names never write. */
export function checkNames(
  tasks: readonly Task[],
  outDir: string,
): { ok: Array<{ task: Task; file: string; audio: string }>; invalid: InvalidLine[] } {
  const seen = new Map<string, number>();
  const ok: Array<{ task: Task; file: string; audio: string }> = [];
  const invalid: InvalidLine[] = [];
  for (const task of tasks) {
    const folded = task.name.toLowerCase();
    const first = seen.get(folded);
    const target = outputWavPath(outDir, task.name);
    if (first !== undefined)
      invalid.push({
        line: task.line,
        name: task.name,
        task,
        reason: `the output name "${task.name}" is also used on line ${first + 1}: its WAV would overwrite that line's`,
      });
    else if ('error' in target) invalid.push({ line: task.line, name: task.name, task, reason: `unsafe output name: ${target.error}` });
    else {
      seen.set(folded, task.line);
      ok.push({ task, ...target });
    }
  }
  return { ok, invalid };
}

function checkResult(r: SynthesisResult): { result: SynthesisResult } | { error: string; transient: boolean } {
  if (!(r?.wav instanceof Uint8Array)) return { error: 'the teacher returned no audio', transient: true };
  try {
    const h = parseWavHeader(r.wav, r.wav.length);
    if (h.truncated) return { error: 'the teacher returned a truncated WAV', transient: true };
    if (h.dataBytes === 0) return { error: 'the teacher returned an empty WAV', transient: true };
  } catch (err) {
    return { error: `the teacher returned something that is not a WAV (${(err as Error).message})`, transient: true };
  }
  if (!Array.isArray(r.readings) || typeof r.phonemes !== 'string')
    return { error: 'the teacher returned no readings/phonemes', transient: true };
  return { result: r };
}

/** A WAV of the output folder larger than this is not one of ours (4 GiB is the RIFF limit). */
const MAX_OWN_WAV_BYTES = 0xffffffff;

/** Write errors that no line can get past: the batch stops, keeping what it finished. */
const FATAL_WRITE_CODES = new Set(['ENOSPC', 'EDQUOT', 'EROFS', 'EIO', 'EMFILE', 'ENFILE']);

const TRANSIENT_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_SOCKET',
]);

function classify(err: unknown): { error: string; transient: boolean; retryAfterMs?: number } {
  if (err instanceof TeacherError)
    return { error: err.message, transient: err.transient, ...(err.retryAfterMs !== undefined ? { retryAfterMs: err.retryAfterMs } : {}) };
  if (isAbortError(err)) return { error: 'the request was aborted', transient: true };
  const code = (err as { code?: string })?.code;
  const message = err instanceof Error ? err.message : String(err);
  return { error: message, transient: !!code && TRANSIENT_CODES.has(code) };
}

/** Rewrites the manifest and failures as one record per line, in task order, atomically (they only grew by appends until now). */
async function compact(
  manifestFile: string,
  failuresFile: string,
  tasks: Task[],
  records: Map<string, ManifestRecord>,
  previous: Map<string, ManifestRecord>,
  /** Everything this run failed, lines with errors included. */
  failures: FailureRecord[],
  previousFailures: FailureRecord[],
) {
  const current = new Set(tasks.map((t) => t.name));
  function* ordered() {
    for (const t of tasks) {
      const r = records.get(t.name);
      if (r) yield JSON.stringify(r) + '\n';
    }
    // Records of names no longer in the task file stay (the folder may be shared by several files), after the current ones.
    for (const [name, r] of previous) if (!current.has(name)) yield JSON.stringify(r) + '\n';
  }
  await writeLinesAtomic(manifestFile, ordered());
  // This run's word on a line replaces an earlier one; lines it did not reach (cancel) or that belong to another file keep theirs.
  const settled = new Set([...records.keys(), ...failures.map((f) => f.name)]);
  const kept = [...latestByName(previousFailures.filter((f) => !settled.has(f.name))).values(), ...failures].sort(
    (a, b) => a.line - b.line,
  );
  await writeLinesAtomic(
    failuresFile,
    kept.map((f) => JSON.stringify(f) + '\n'),
  );
}

async function removeTempFiles(dir: string) {
  const entries = await readdir(dir, { recursive: true }).catch(() => [] as string[]);
  await Promise.all(entries.filter((e) => isTempFile(path.basename(e))).map((e) => rm(path.join(dir, e), { force: true })));
}

async function forEachLimit<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

function raceAbort<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  // A backend that ignores its signal must not hold the batch: the time limit wins the race.
  return new Promise<T>((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve(false);
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      resolve(false);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function round(x: number): number {
  return Math.round(x * 1e4) / 1e4;
}

function fmtSeconds(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(ms % 1000 ? 1 : 0)} s`;
}
