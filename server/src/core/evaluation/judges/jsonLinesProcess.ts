// Runs a user's command that speaks JSON lines on stdout, with the external trainer's conventions
// (core/student/externalTrainer.ts): its own process group (cancel ends it and all it started),
// any line that is not a JSON object is a log line, `{"event":"error","message":…}` says why it
// failed, and the last stderr lines explain a non-zero exit.
import { runInProcessGroup } from '../../util/shell';

export interface JsonLinesRun {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  cancelled: boolean;
  /** Why it failed (spawn error, `{"event":"error"}`, exit code with the stderr tail); absent on success. */
  error?: string;
  wallSeconds: number;
}

export interface JsonLinesOptions {
  /** Command and arguments after substitution. */
  command: readonly string[];
  /** The setting that names the command, for messages. */
  setting: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  /** Each stdout line that is a JSON object (not an `event` of the protocol). */
  onObject: (o: Record<string, unknown>) => void;
  onLog?: (line: string, stream: 'stdout' | 'stderr') => void;
  killGraceMs?: number;
}

export function runJsonLines(opts: JsonLinesOptions): Promise<JsonLinesRun> {
  const [cmd, ...args] = opts.command;
  const started = performance.now();
  const wall = () => (performance.now() - started) / 1000;
  if (!cmd)
    return Promise.resolve({
      exitCode: null,
      signal: null,
      cancelled: false,
      error: `no command is configured (${opts.setting})`,
      wallSeconds: 0,
    });
  let reported: string | undefined;
  const onStdout = (l: string) => {
    const t = l.trim();
    let o: unknown;
    if (t.startsWith('{')) {
      try {
        o = JSON.parse(t);
      } catch {
        // not JSON: a log line
      }
    }
    if (!o || typeof o !== 'object' || Array.isArray(o)) return opts.onLog?.(l, 'stdout');
    const rec = o as Record<string, unknown>;
    if (rec.event === 'error') reported = String(rec.message ?? 'the command reported an error');
    else if (rec.event === 'log') opts.onLog?.(String(rec.message ?? ''), 'stdout');
    else if (rec.event === undefined) opts.onObject(rec);
  };
  return runInProcessGroup(cmd, args, {
    ...(opts.cwd ? { cwd: opts.cwd } : {}),
    ...(opts.env ? { env: opts.env } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(opts.killGraceMs !== undefined ? { killGraceMs: opts.killGraceMs } : {}),
    onStdout,
    onStderr: (l) => opts.onLog?.(l, 'stderr'),
  }).then(({ exitCode: code, signal, cancelled, spawnError, stderrTail }) => {
    const run: JsonLinesRun = { exitCode: code, signal, cancelled, wallSeconds: wall() };
    if (cancelled) run.error = 'cancelled';
    else if (spawnError) run.error = `cannot run ${cmd} (${opts.setting}): ${spawnError.message}`;
    else if (reported !== undefined) run.error = `${cmd}: ${reported}`;
    else if (code !== 0)
      run.error = `${cmd} exited with ${code === null ? `signal ${signal}` : `code ${code}`}${stderrTail.length ? `: ${stderrTail.join(' | ')}` : ''}`;
    return run;
  });
}
