import { shellQuote } from '../util/shell';
import { spawn } from 'node:child_process';
import * as path from 'node:path';

/** Slurm's job states, as squeue / scontrol / sacct print them (sacct adds words like "CANCELLED by 0"). */
export type JobState =
  | 'PENDING'
  | 'CONFIGURING'
  | 'RUNNING'
  | 'COMPLETING'
  | 'SUSPENDED'
  | 'REQUEUED'
  | 'RESIZING'
  | 'STAGE_OUT'
  | 'SIGNALING'
  | 'COMPLETED'
  | 'FAILED'
  | 'TIMEOUT'
  | 'NODE_FAIL'
  | 'OUT_OF_MEMORY'
  | 'BOOT_FAIL'
  | 'CANCELLED'
  | 'PREEMPTED'
  | 'DEADLINE'
  | 'REVOKED'
  | 'SPECIAL_EXIT'
  | 'STOPPED'
  | 'UNKNOWN';

/** States after which the array task will not run again by itself. */
const ENDED = new Set<string>([
  'COMPLETED',
  'FAILED',
  'TIMEOUT',
  'NODE_FAIL',
  'OUT_OF_MEMORY',
  'BOOT_FAIL',
  'CANCELLED',
  'PREEMPTED',
  'DEADLINE',
  'REVOKED',
  'SPECIAL_EXIT',
]);
/** Ended because of the job or its node, not because of its lines: worth a resubmission. */
const RETRYABLE = new Set<string>(['FAILED', 'TIMEOUT', 'NODE_FAIL', 'OUT_OF_MEMORY', 'BOOT_FAIL', 'PREEMPTED', 'DEADLINE']);

export const isEnded = (s: string) => ENDED.has(s);
export const isRetryable = (s: string) => RETRYABLE.has(s);

/** What the queue says about one array task. */
export interface ArrayTaskInfo {
  arrayJobId: string;
  taskId: number;
  state: JobState;
  /** Node list ('' while pending). */
  node: string;
  /** Run time as Slurm prints it ([D-]HH:MM:SS or M:SS). */
  elapsed: string;
  /** Why it is pending, or why it failed (NonZeroExitCode…); '' when none. */
  reason: string;
  /** "exit:signal" when known. */
  exitCode?: string;
}

/** Output format handed to squeue; parseSqueue reads exactly these fields. */
export const SQUEUE_FORMAT = '%F|%K|%T|%N|%M|%r';

function normState(s: string): JobState {
  const word = (s.trim().split(/\s+/)[0] ?? '').replace(/\+$/, '').toUpperCase();
  return (word || 'UNKNOWN') as JobState;
}
const clean = (s: string | undefined) => (!s || s === '(null)' || s === 'None' || s === 'N/A' ? '' : s);

/**
 * Parses `squeue -h -r -t all -o '%F|%K|%T|%N|%M|%r'`: one line per array task. A pending
 * array that squeue did not expand (`%K` = `3-7%2`) is expanded here so every task shows.
 */
export function parseSqueue(text: string): ArrayTaskInfo[] {
  const out: ArrayTaskInfo[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line) continue;
    const [arrayJobId, taskSpec, state, node, elapsed, reason] = line.split('|');
    if (!arrayJobId || taskSpec === undefined || state === undefined) continue;
    for (const taskId of expandTaskIds(taskSpec)) {
      out.push({ arrayJobId, taskId, state: normState(state), node: clean(node), elapsed: elapsed ?? '', reason: clean(reason) });
    }
  }
  return out;
}

/** `3`, `0-7%2`, `1,3,5-6`, `[1,3]` → task ids ('N/A' of a plain job → none). */
export function expandTaskIds(spec: string): number[] {
  const s = spec.replace(/^\[|\]$/g, '').replace(/%\d+$/, '');
  if (!/^\d/.test(s)) return [];
  const ids: number[] = [];
  for (const part of s.split(',')) {
    const m = /^(\d+)(?:-(\d+))?(?::(\d+))?$/.exec(part.trim());
    if (!m) continue;
    const a = Number(m[1]),
      b = m[2] !== undefined ? Number(m[2]) : a,
      step = m[3] !== undefined ? Number(m[3]) : 1;
    for (let i = a; i <= b; i += step) ids.push(i);
  }
  return ids;
}

/** Compresses task ids to Slurm's array syntax: [0,1,2,5] → "0-2,5". */
export function compressTaskIds(ids: readonly number[]): string {
  const sorted = [...new Set(ids)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length;) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    parts.push(i === j ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

/** Parses `scontrol show job <id> -o` (one line per array task, Key=Value pairs). */
export function parseScontrolJobs(text: string): ArrayTaskInfo[] {
  const out: ArrayTaskInfo[] = [];
  for (const raw of text.split(/\r?\n/)) {
    if (!raw.includes('JobId=')) continue;
    const kv = new Map<string, string>();
    for (const m of raw.matchAll(/(?:^|\s)([A-Za-z][\w/:]*)=(\S*)/g)) if (!kv.has(m[1]!)) kv.set(m[1]!, m[2]!);
    const arrayJobId = kv.get('ArrayJobId') ?? kv.get('JobId')!;
    const ids = expandTaskIds(kv.get('ArrayTaskId') ?? '');
    const info = {
      arrayJobId,
      state: normState(kv.get('JobState') ?? ''),
      node: clean(kv.get('NodeList')),
      elapsed: kv.get('RunTime') ?? '',
      reason: clean(kv.get('Reason')),
      exitCode: kv.get('ExitCode'),
    };
    for (const taskId of ids) out.push({ ...info, taskId });
  }
  return out;
}

/** Parses `sacct -n -P -X -j <id> -o JobID,State,NodeList,Elapsed,ExitCode` (array tasks as `<job>_<task>`). */
export function parseSacct(text: string): ArrayTaskInfo[] {
  const out: ArrayTaskInfo[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const [jobId, state, node, elapsed, exitCode] = raw.trim().split('|');
    const m = /^(\d+)_(\[?[\d,\-%]+\]?)$/.exec(jobId ?? '');
    if (!m || state === undefined) continue;
    for (const taskId of expandTaskIds(m[2]!)) {
      out.push({
        arrayJobId: m[1]!,
        taskId,
        state: normState(state),
        node: clean(node === 'None assigned' ? '' : node),
        elapsed: elapsed ?? '',
        reason: '',
        exitCode,
      });
    }
  }
  return out;
}

/** `sbatch --parsable` prints `<jobid>` or `<jobid>;<cluster>`. */
export function parseSbatchParsable(stdout: string): string | undefined {
  const m = /^\s*(\d+)(?:;\S+)?\s*$/m.exec(stdout);
  return m?.[1];
}

/** "1-02:03:04", "02:03:04", "3:04" → seconds (NaN for anything else, e.g. "INVALID"). */
export function slurmDurationSeconds(s: string): number {
  const m = /^(?:(\d+)-)?(?:(\d+):)?(\d+):(\d+)$/.exec(s.trim());
  if (!m) return NaN;
  return Number(m[1] ?? 0) * 86400 + Number(m[2] ?? 0) * 3600 + Number(m[3]) * 60 + Number(m[4]);
}

/** The words Slurm printed when it refused something: its `error:` lines, else its whole output. */
export function slurmWords(stderr: string, stdout = ''): string {
  const lines = `${stderr}\n${stdout}`
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean);
  const errors = lines.filter((l) => /error/i.test(l));
  return (errors.length ? errors : lines).join('; ') || '(no message)';
}

export class SlurmError extends Error {
  constructor(
    message: string,
    readonly slurmMessage: string,
    readonly exitCode: number | null,
  ) {
    super(message);
  }
}

export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface QueueOptions {
  /** Command prefix to reach the login node, e.g. ["ssh", "login01", "--"]. */
  commandPrefix?: string[];
  /** Environment of the Slurm commands (SLURM_CONF and the other SLURM_* variables live here). */
  env?: NodeJS.ProcessEnv;
  /** Time limit of one Slurm command. */
  timeoutMs?: number;
}

export { shellQuote };

/**
 * The Slurm commands of one cluster, run locally or through a prefix. Through `ssh` the
 * remote shell joins the words again, so each one is quoted for it.
 */
export class SlurmQueue {
  private sacctWorks: boolean | undefined;
  constructor(readonly options: QueueOptions = {}) {}

  async run(argv: string[], stdin?: string): Promise<CommandResult> {
    const prefix = this.options.commandPrefix ?? [];
    const viaShell = prefix.length > 0 && path.basename(prefix[0]!) === 'ssh';
    const full = prefix.length ? [...prefix, ...(viaShell ? argv.map(shellQuote) : argv)] : argv;
    return runCommand(full, { env: this.options.env, timeoutMs: this.options.timeoutMs ?? 60_000, stdin });
  }

  /** Submits a script file (on the shared file system) and returns the array job id. Throws SlurmError with Slurm's words when refused. */
  async sbatch(scriptFile: string, args: string[]): Promise<string> {
    const r = await this.run(['sbatch', '--parsable', ...args, scriptFile]);
    if (r.code === null) {
      const via = this.options.commandPrefix?.length ? ` through '${this.options.commandPrefix.join(' ')}'` : '';
      throw new SlurmError(
        `cannot run sbatch${via}: ${r.stderr.trim()} (is Slurm installed here, or should the login node be reached through ttsDistill.slurm.commandPrefix / --login?)`,
        r.stderr.trim(),
        null,
      );
    }
    const id = r.code === 0 ? parseSbatchParsable(r.stdout) : undefined;
    if (!id) {
      const words = slurmWords(r.stderr, r.stdout);
      throw new SlurmError(`Slurm refused the job: ${words}`, words, r.code);
    }
    return id;
  }

  /**
   * The array tasks of the given jobs, from squeue, else scontrol, else sacct. Jobs Slurm forgot
   * ("Invalid job id specified") are absent. Throws SlurmError when Slurm cannot be asked at all
   * (controller down, ssh failing): then absence would prove nothing, and a follower must not
   * take running shards for finished ones.
   */
  async status(jobIds: readonly string[]): Promise<ArrayTaskInfo[]> {
    if (!jobIds.length) return [];
    const found: ArrayTaskInfo[] = [];
    const missing = new Set(jobIds);
    const problems: string[] = [];
    const forgotten = (r: CommandResult) => /Invalid job id/i.test(r.stderr + r.stdout);
    // squeue rejects the whole list when one id is unknown, so ask per job.
    for (const id of jobIds) {
      const r = await this.run(['squeue', '-h', '-r', '-t', 'all', '-j', id, '-o', SQUEUE_FORMAT]);
      if (r.code === 0) {
        const tasks = parseSqueue(r.stdout);
        if (tasks.length) {
          found.push(...tasks);
          missing.delete(id);
        }
      } else if (!forgotten(r)) problems.push(slurmWords(r.stderr, r.stdout));
    }
    for (const id of [...missing]) {
      const r = await this.run(['scontrol', 'show', 'job', id, '-o']);
      if (r.code === 0) {
        const tasks = parseScontrolJobs(r.stdout);
        if (tasks.length) {
          found.push(...tasks);
          missing.delete(id);
        }
      } else if (!forgotten(r)) problems.push(slurmWords(r.stderr, r.stdout));
    }
    if (missing.size && problems.length)
      throw new SlurmError(`cannot ask Slurm about job ${[...missing].join(', ')}: ${problems.at(-1)}`, problems.at(-1)!, null);
    if (missing.size && this.sacctWorks !== false) {
      for (const id of [...missing]) {
        const r = await this.run(['sacct', '-n', '-P', '-X', '-j', id, '-o', 'JobID,State,NodeList,Elapsed,ExitCode']);
        if (r.code !== 0 || /disabled|not running|error/i.test(r.stderr + r.stdout)) {
          this.sacctWorks = false;
          break;
        }
        this.sacctWorks = true;
        found.push(...parseSacct(r.stdout));
      }
    }
    return found;
  }

  /** Cancels whole array jobs (or `<job>_<task>` ids). */
  async scancel(ids: readonly string[]): Promise<void> {
    if (!ids.length) return;
    const r = await this.run(['scancel', ...ids]);
    if (r.code !== 0 && !/Invalid job id|already completing or completed/i.test(r.stderr)) {
      const words = slurmWords(r.stderr, r.stdout);
      throw new SlurmError(`scancel failed: ${words}`, words, r.code);
    }
  }
}

/** Runs a command without a shell; a missing program gives code null and the reason in stderr. */
export function runCommand(
  argv: string[],
  opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number; stdin?: string } = {},
): Promise<CommandResult> {
  return new Promise((resolve) => {
    const child = spawn(argv[0]!, argv.slice(1), { env: opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '',
      stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    const timer = opts.timeoutMs
      ? setTimeout(() => {
          stderr += `\n${argv[0]}: timed out after ${opts.timeoutMs} ms`;
          child.kill('SIGKILL');
        }, opts.timeoutMs)
      : undefined;
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve({ code: null, stdout, stderr: `${stderr}${argv[0]}: ${err.message}` });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.on('error', () => {
      /* the program may not read its stdin */
    });
    child.stdin.end(opts.stdin ?? '');
  });
}
