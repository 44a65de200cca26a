import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { shellQuote, SlurmError } from './queue';

export interface BatchScriptOptions {
  /** Run folder on the shared file system; shard i lives in `<runDir>/shard-<i>`. */
  runDir: string;
  /** Working directory of the job (relative paths in `submitArgs` are resolved there). */
  workDir: string;
  /** Shell words that start `tts-distill` on the compute node (see defaultNodeCommand). */
  nodeCommand: string;
  /** Arguments after `submit <shard> --out <shard out>`: the teacher and its options. */
  submitArgs: string[];
  partition?: string;
  gres?: string;
  time?: string;
  account?: string;
  jobName?: string;
  /** The task file the shards come from, for the header comment. */
  tasksFile?: string;
  shards?: number;
}

/** A value that cannot be written into batch.sh safely (a control character would start a new shell line). */
export class SlurmScriptError extends SlurmError {
  constructor(message: string) {
    super(message, '', null);
  }
}

// Every C0 control character, DEL and the C1 controls, and the Unicode line/paragraph separators.
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

function checked(what: string, value: string): string {
  const m = CONTROL.exec(value);
  if (m) {
    throw new SlurmScriptError(
      `${what} contains a control character (U+${m[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')} at ${m.index + 1}): it cannot go into batch.sh (${JSON.stringify(value)})`,
    );
  }
  return value;
}

/**
 * One `#SBATCH --opt=value` line. sbatch reads these lines with its own word splitting, not the
 * shell's: a value is plain, or in double quotes (sbatch keeps a double-quoted value as one word),
 * so values with a double quote or a backslash are refused rather than guessed at.
 */
function directive(opt: string, value: string): string {
  checked(`--${opt}`, value);
  if (/^[\w@%+=:,./-]+$/.test(value)) return `--${opt}=${value}`;
  // sbatch does no shell expansion here ($ and ` are plain characters); only its own quote and escape characters are ambiguous.
  if (/["\\]/.test(value))
    throw new SlurmScriptError(
      `--${opt} value ${JSON.stringify(value)} contains a double quote or a backslash: not supported in a #SBATCH line`,
    );
  return `--${opt}="${value}"`;
}

/**
 * The batch script of one run. Static resources are `#SBATCH` lines so that the file alone
 * says how the shards ran; `--array` and the extra sbatch arguments are given at each
 * submission, because a resume submits only some shards. Every value that goes into the script
 * is checked for control characters (a newline in a file name or an option would start a shell
 * line) and quoted.
 */
export function batchScript(o: BatchScriptOptions): string {
  const directives: string[] = [
    directive('job-name', o.jobName || 'tts-distill'),
    directive('output', path.join(o.runDir, 'shard-%a', 'slurm.log')),
    '--open-mode=append',
    directive('chdir', o.workDir),
  ];
  if (o.partition) directives.push(directive('partition', o.partition));
  if (o.gres) directives.push(directive('gres', o.gres));
  if (o.time) directives.push(directive('time', o.time));
  if (o.account) directives.push(directive('account', o.account));
  checked('the run folder', o.runDir);
  checked('the node command', o.nodeCommand);
  o.submitArgs.forEach((a, i) => checked(`submit argument ${i + 1}`, a));
  // The task file's name is only a comment, but a newline in it would still end the comment: checked, and quoted for the reader.
  const tasksFile = o.tasksFile === undefined ? undefined : checked('the task file name', o.tasksFile);
  const shard = `${shellQuote(o.runDir)}/shard-\${SLURM_ARRAY_TASK_ID:?submit this script with sbatch --array}`;
  return [
    '#!/bin/bash',
    `# tts-distill teacher batch${tasksFile ? ` of ${shellQuote(tasksFile)}` : ''}${o.shards ? `, ${o.shards} shards` : ''}.`,
    '# Array task i runs shard i; the shard resumes line by line from its own manifest.',
    ...directives.map((d) => `#SBATCH ${d}`),
    'set -u',
    `shard=${shard}`,
    'echo "[tts-distill] shard $SLURM_ARRAY_TASK_ID of job ${SLURM_ARRAY_JOB_ID:-?} on $(hostname) at $(date -Is)"',
    `${o.nodeCommand} submit "$shard/tasks.jsonl" --out "$shard/out" ${o.submitArgs.map(shellQuote).join(' ')}`.trimEnd(),
    'status=$?',
    'echo "[tts-distill] shard $SLURM_ARRAY_TASK_ID ended with exit code $status at $(date -Is)"',
    "# 2 = some lines failed: they are in the shard's failures.jsonl and the merge reports them.",
    '# Only a crash of the job itself (any other code) should make Slurm mark the task FAILED.',
    '[ "$status" -eq 2 ] && exit 0',
    'exit "$status"',
    '',
  ].join('\n');
}

/**
 * How a compute node starts this very installation of `tts-distill`: the Node.js that runs
 * now and the package's `bin/tts-distill.js` (else `dist/cli.js`), by absolute path. It
 * works on the node when the installation and Node live on the shared file system (or at the
 * same path on every node); otherwise the user gives the command (`--node-command`). Inside
 * VS Code the runtime is Electron, which acts as Node only when told so.
 */
export function defaultNodeCommand(
  from = __dirname,
  runtime: { execPath: string; electron?: string } = { execPath: process.execPath, electron: process.versions.electron },
): string {
  const root = findPackageRoot(from);
  const cli = root && [path.join(root, 'bin', 'tts-distill.js'), path.join(root, 'dist', 'cli.js')].find((f) => existsSync(f));
  if (!cli)
    throw new Error(
      `cannot find bin/tts-distill.js or dist/cli.js above ${from}: build the package (npm run build) or give the node command`,
    );
  return `${runtime.electron ? 'ELECTRON_RUN_AS_NODE=1 ' : ''}${shellQuote(runtime.execPath)} ${shellQuote(cli)}`;
}

/** The closest folder above `from` that holds a built copy of this package (bin/tts-distill.js needs dist/cli.js). */
function findPackageRoot(from: string): string | undefined {
  for (let dir = path.resolve(from); ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json')) && existsSync(path.join(dir, 'dist', 'cli.js'))) return dir;
    if (path.dirname(dir) === dir) return undefined;
  }
}
