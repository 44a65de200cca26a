// `tts-distill submit … --slurm`: the batch as a Slurm job array (core/slurm does the work).
import { stat } from 'node:fs/promises';
import * as path from 'node:path';
import { defaultSettings } from '../core/settings';
import { SlurmError } from '../core/slurm/queue';
import { defaultRunDir, runDirIn, runSlurmBatch, SlurmRunError, type SlurmProgress } from '../core/slurm/run';
import { intOption } from './args';
import { type CliIO, UsageError } from './types';

export const slurmUsage = `Usage: tts-distill submit <tasks.jsonl> --out <dir> --slurm [--shards N] [--max-parallel M]
         [--partition P] [--gres G] [--time T] [--account A] [--sbatch-arg ARG]…
         [--login "ssh login01 --"] [--shared-dir DIR] [--node-command CMD]
         [--max-retries R] [--poll-seconds S] [--no-wait] [--teacher …and its options]

Splits the task file into N shards (task line k goes to shard k mod N), writes one batch
script and submits it as a job array (sbatch --array=0-<N-1>%M). Each array task runs
'tts-distill submit <shard> --out <run dir>/shard-<i>/out' with the teacher options given
here. Follows the jobs (squeue; scontrol when a job left the queue), prints per-shard states
and done/failed/total with an ETA on stderr, resubmits a shard whose job FAILED / TIMEOUT /
NODE_FAIL (up to --max-retries times), and merges everything into <dir>/manifest.jsonl,
<dir>/failures.jsonl and the WAVs (hard links). Running the same command again resumes: jobs
still in the queue are followed, only shards with unfinished lines are submitted. Ctrl+C
cancels the jobs (scancel) and merges what is done.

  --shards N          number of shards (default ${defaultSettings.slurm.shards}; a resume keeps the earlier count)
  --max-parallel M    at most M shards at once (default ${defaultSettings.slurm.maxParallel})
  --partition/--gres/--time/--account   passed to sbatch (e.g. --gres gpu:1 --time 02:00:00)
  --sbatch-arg ARG    any other sbatch argument (repeatable), e.g. --sbatch-arg=--qos=long
  --login CMD         command prefix that reaches the login node, split on spaces
  --shared-dir DIR    where the shards live (default <dir>/.slurm); must be visible from the nodes
  --node-command CMD  shell words that start tts-distill on a node
                      (default: this node binary and this installation, by absolute path)
  --no-wait           submit and return; run the command again later to follow and merge
Environment: SLURM_CONF and the usual SLURM_* / SBATCH_* variables reach the Slurm commands.
Exit code: 0 every line done, 2 some lines failed or unfinished, 130 cancelled, 1 Slurm refused.`;

/** Options of ours; everything else is handed to the shards' \`tts-distill submit\`. */
const OWN_VALUES = new Set([
  'out',
  'shards',
  'max-parallel',
  'partition',
  'gres',
  'time',
  'account',
  'login',
  'shared-dir',
  'node-command',
  'max-retries',
  'poll-seconds',
]);
const OWN_MULTI = new Set(['sbatch-arg']);
const OWN_SWITCHES = new Set(['slurm', 'no-wait']);
/** Switches of the single-machine submit (they take no value, so the next word is not theirs). */
const SUBMIT_SWITCHES = new Set(['valid-only', 'quiet']);

export interface SlurmArgs {
  tasks: string;
  values: Map<string, string>;
  multi: Map<string, string[]>;
  switches: Set<string>;
  /** For the shards' submit, in the order given. */
  forwarded: string[];
}

/** Splits the command line into our options and the ones every shard's `submit` gets. */
export function splitSlurmArgs(args: string[]): SlurmArgs {
  const values = new Map<string, string>();
  const multi = new Map<string, string[]>();
  const switches = new Set<string>();
  const forwarded: string[] = [];
  const positional: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') {
      positional.push(...args.slice(i + 1));
      break;
    }
    if (!a.startsWith('--')) {
      positional.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = eq > 0 ? a.slice(2, eq) : a.slice(2);
    if (OWN_SWITCHES.has(name)) {
      if (eq > 0) throw new UsageError(`--${name} takes no value`);
      switches.add(name);
    } else if (OWN_VALUES.has(name) || OWN_MULTI.has(name)) {
      const v = eq > 0 ? a.slice(eq + 1) : args[++i];
      if (v === undefined) throw new UsageError(`--${name} needs a value`);
      if (OWN_MULTI.has(name)) multi.set(name, [...(multi.get(name) ?? []), v]);
      else values.set(name, v);
    } else if (eq > 0 || SUBMIT_SWITCHES.has(name) || i + 1 >= args.length || args[i + 1]!.startsWith('--')) {
      forwarded.push(a);
    } else {
      forwarded.push(a, args[++i]!);
    }
  }
  if (positional.length !== 1)
    throw new UsageError(positional.length ? `one task file, not ${positional.length}: ${positional.join(' ')}` : 'no task file given');
  return { tasks: positional[0]!, values, multi, switches, forwarded };
}

export async function runSlurmSubmit(args: string[], io: CliIO): Promise<number> {
  const a = splitSlurmArgs(args);
  const s = defaultSettings.slurm;
  const out = a.values.get('out');
  if (!out) throw new UsageError('--out <dir> is required');
  const tasksFile = path.resolve(io.cwd, a.tasks);
  const outDir = path.resolve(io.cwd, out);
  if (!(await stat(tasksFile).catch(() => undefined))?.isFile()) {
    io.stderr.write(`tts-distill submit: cannot read the task file ${a.tasks}\n`);
    return 2;
  }
  const sharedDir = a.values.get('shared-dir');
  const runDir = sharedDir ? runDirIn(path.resolve(io.cwd, sharedDir), outDir) : defaultRunDir(outDir);
  const login = a.values.get('login');
  const poll = a.values.has('poll-seconds') ? Number(a.values.get('poll-seconds')) : s.pollSeconds;
  if (!(poll >= 0.2)) throw new UsageError('--poll-seconds must be a number ≥ 0.2');
  const forwarded = a.forwarded.some((f) => f === '--teacher' || f.startsWith('--teacher='))
    ? a.forwarded
    : ['--teacher', 'embedded', ...a.forwarded];

  const printer = new ProgressPrinter(io.stderr);
  try {
    const result = await runSlurmBatch({
      tasksFile,
      outDir,
      runDir,
      shards: intOption(a.values.get('shards'), 'shards', 1, 100_000) ?? s.shards,
      maxParallel: intOption(a.values.get('max-parallel'), 'max-parallel', 1, 100_000) ?? s.maxParallel,
      partition: a.values.get('partition') ?? s.partition,
      gres: a.values.get('gres') ?? s.gres,
      time: a.values.get('time') ?? s.time,
      account: a.values.get('account') ?? s.account,
      sbatchArgs: a.multi.get('sbatch-arg') ?? s.sbatchArgs,
      commandPrefix: login ? login.split(/\s+/).filter(Boolean) : s.commandPrefix,
      maxRetries: intOption(a.values.get('max-retries'), 'max-retries', 0, 100) ?? s.maxRetries,
      pollSeconds: poll,
      submitArgs: forwarded,
      nodeCommand: a.values.get('node-command'),
      // The jobs start in this folder, so relative paths the shards get (--dict, --glmtts) mean what they mean here.
      workDir: io.cwd,
      env: io.env,
      wait: !a.switches.has('no-wait'),
      signal: io.signal,
      onProgress: (p) => printer.progress(p),
      log: (m) => io.stderr.write(`[slurm] ${m}\n`),
    });
    const p = result.progress;
    if (!result.merge) {
      const queued = p.shards.filter((sh) => sh.jobId && !['COMPLETED', 'DONE'].includes(sh.state)).length;
      io.stdout.write(
        result.submitted.length
          ? `submitted: job ${result.submitted.join(', ')}; ${queued} of ${p.shards.length} shards in the queue, ${p.total} lines; run folder ${runDir}\n`
          : `nothing submitted: ${queued ? `${queued} shards are still in the queue from an earlier submission` : 'every line is done'}; run folder ${runDir}\n`,
      );
      io.stdout.write(`follow and merge with the same command without --no-wait\n`);
      return 0;
    }
    const m = result.merge;
    for (const r of result.retried)
      io.stderr.write(
        `[slurm] shard ${r.shard} was retried (attempt ${r.attempt + 1}) after ${r.state}${r.reason ? ` (${r.reason})` : ''}\n`,
      );
    const failedShards = p.shards.filter((sh) => sh.done + sh.failed < sh.total);
    for (const sh of failedShards)
      io.stderr.write(
        `[slurm] shard ${sh.shard} (job ${sh.jobId ?? '-'}) ended ${sh.state} with ${sh.total - sh.done - sh.failed} lines unfinished; log: ${path.join(runDir, `shard-${sh.shard}`, 'slurm.log')}\n`,
      );
    io.stdout.write(
      `${result.cancelled ? 'cancelled' : 'finished'}: ${m.done} done, ${m.failed} failed, ${m.unfinished.length} unfinished, ${m.total} total → ${path.relative(io.cwd, m.manifestFile) || m.manifestFile}\n`,
    );
    if (result.cancelled) io.stdout.write('run the same command again to resume\n');
    return result.exitCode;
  } catch (err) {
    if (err instanceof SlurmError || err instanceof SlurmRunError) {
      io.stderr.write(`tts-distill submit: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}

/** Per-shard lines when a shard's state changes, and one overall line per change of the counts. */
class ProgressPrinter {
  private lastShard = new Map<number, string>();
  private lastOverall = '';
  constructor(private readonly out: NodeJS.WritableStream) {}

  progress(p: SlurmProgress) {
    for (const s of p.shards) {
      const line = `shard ${s.shard} ${s.jobId ?? '-'} ${s.state}${s.node ? ` on ${s.node}` : ''}${s.reason && s.reason !== 'None' ? ` (${s.reason})` : ''}`;
      if (this.lastShard.get(s.shard) === line) continue;
      this.lastShard.set(s.shard, line);
      this.out.write(
        `[slurm] ${line}: ${s.done}/${s.total} done${s.failed ? `, ${s.failed} failed` : ''}${s.elapsed ? `, ${s.elapsed}` : ''}\n`,
      );
    }
    const running = p.shards.filter((s) => s.state === 'RUNNING').length;
    const pending = p.shards.filter((s) => s.state === 'PENDING').length;
    const overall = `${p.done}/${p.total} done, ${p.failed} failed · ${running} running, ${pending} pending`;
    if (overall === this.lastOverall) return;
    this.lastOverall = overall;
    this.out.write(`[slurm] ${overall}${p.etaSeconds !== undefined && !p.finished ? ` · ETA ${formatEta(p.etaSeconds)}` : ''}\n`);
  }
}

export function formatEta(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600),
    m = Math.floor((s % 3600) / 60),
    sec = s % 60;
  return h ? `${h}:${String(m).padStart(2, '0')}:${String(sec).padStart(2, '0')}` : `${m}:${String(sec).padStart(2, '0')}`;
}
