import { spawn } from 'node:child_process';
import { streamLines } from '../formats/jsonl';
/** POSIX shell quoting of one word: as it is when it is plain, else in single quotes. */
export function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** `${key}` in each argument replaced by vars[key]; unknown placeholders stay as they are. */
export function substitute(command: readonly string[], vars: Record<string, string>): string[] {
  return command.map((a) => a.replace(/\$\{(\w+)\}/g, (m, k: string) => (Object.hasOwn(vars, k) ? vars[k]! : m)));
}

export interface GroupRun {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  cancelled: boolean;
  spawnError?: Error;
  /** The last 10 stderr lines, to explain a non-zero exit. */
  stderrTail: string[];
}

/**
 * Runs a user's program in its own process group, so that cancel (the signal) ends it and all it
 * started: SIGTERM, then SIGKILL after `killGraceMs`; stragglers left in the group when it exits
 * after a cancel are killed too. Each non-blank stdout/stderr line goes to its callback as it comes.
 */
export function runInProcessGroup(
  cmd: string,
  args: readonly string[],
  opts: {
    cwd?: string;
    env?: NodeJS.ProcessEnv;
    signal?: AbortSignal;
    killGraceMs?: number;
    onStdout: (line: string) => void;
    onStderr: (line: string) => void;
  },
): Promise<GroupRun> {
  return new Promise((resolvePromise) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let cancelled = false,
      spawnError: Error | undefined;
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
    streamLines(child.stdout!, opts.onStdout);
    streamLines(child.stderr!, (l) => {
      stderrTail = [...stderrTail.slice(-9), l];
      opts.onStderr(l);
    });
    child.on('error', (err) => {
      spawnError = err;
    });
    child.on('close', (code, signal) => {
      clearTimeout(killTimer);
      opts.signal?.removeEventListener('abort', onAbort);
      if (cancelled) killGroup('SIGKILL');
      resolvePromise({ exitCode: code, signal, cancelled, stderrTail, ...(spawnError ? { spawnError } : {}) });
    });
  });
}
