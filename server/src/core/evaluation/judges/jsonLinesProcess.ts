// Runs a user's command that speaks JSON lines on stdout, with the external trainer's conventions
// (core/student/externalTrainer.ts): its own process group (cancel ends it and all it started),
// any line that is not a JSON object is a log line, `{"event":"error","message":…}` says why it
// failed, and the last stderr lines explain a non-zero exit.
import { spawn } from 'node:child_process';
import { streamLines } from '../../jsonl';

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

/** `${key}` in each argument replaced by vars[key]; unknown placeholders stay as they are. */
export function substitute(command: readonly string[], vars: Record<string, string>): string[] {
  return command.map((a) => a.replace(/\$\{(\w+)\}/g, (m, k: string) => (Object.hasOwn(vars, k) ? vars[k]! : m)));
}

export function runJsonLines(opts: JsonLinesOptions): Promise<JsonLinesRun> {
  const [cmd, ...args] = opts.command;
  const started = performance.now();
  const wall = () => (performance.now() - started) / 1000;
  if (!cmd) return Promise.resolve({ exitCode: null, signal: null, cancelled: false, error: `no command is configured (${opts.setting})`, wallSeconds: 0 });
  return new Promise((resolvePromise) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let cancelled = false, reported: string | undefined, spawnError: Error | undefined;
    let killTimer: NodeJS.Timeout | undefined;
    const killGroup = (sig: NodeJS.Signals) => {
      try {
        if (child.pid) process.kill(-child.pid, sig);
      } catch {
        // already gone
      }
    };
    const onAbort = () => {
      cancelled = true;
      killGroup('SIGTERM');
      killTimer = setTimeout(() => killGroup('SIGKILL'), opts.killGraceMs ?? 3000);
    };
    if (opts.signal?.aborted) onAbort();
    else opts.signal?.addEventListener('abort', onAbort, { once: true });
    let stderrTail: string[] = [];
    streamLines(child.stdout!, (l) => {
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
    });
    streamLines(child.stderr!, (l) => {
      stderrTail = [...stderrTail.slice(-9), l];
      opts.onLog?.(l, 'stderr');
    });
    child.on('error', (err) => { spawnError = err; });
    child.on('close', (code, signal) => {
      clearTimeout(killTimer);
      opts.signal?.removeEventListener('abort', onAbort);
      if (cancelled) killGroup('SIGKILL');
      const run: JsonLinesRun = { exitCode: code, signal, cancelled, wallSeconds: wall() };
      if (cancelled) run.error = 'cancelled';
      else if (spawnError) run.error = `cannot run ${cmd} (${opts.setting}): ${spawnError.message}`;
      else if (reported !== undefined) run.error = `${cmd}: ${reported}`;
      else if (code !== 0) run.error = `${cmd} exited with ${code === null ? `signal ${signal}` : `code ${code}`}${stderrTail.length ? `: ${stderrTail.join(' | ')}` : ''}`;
      resolvePromise(run);
    });
  });
}
