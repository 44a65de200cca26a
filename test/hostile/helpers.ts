/** Helpers of the hostile tier: temp folders, the CLI as a bounded child process, hostile files made only inside a temp folder. */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';

export const REPO = path.resolve(__dirname, '..', '..');
const TSX = pathToFileURL(path.join(REPO, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;

/** A temp folder removed after the test (the caller registers `cleanup` with t.after). */
export async function tempDir(t: { after(fn: () => Promise<void> | void): void }, prefix = 'hostile-'): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  out: string;
  err: string;
  ms: number;
  timedOut: boolean;
}

/**
 * Runs `tts-distill <args>` from the sources in a child with a memory cap (`--max-old-space-size`)
 * and a deadline: a child that overruns is killed and reported as `timedOut`, so a hang fails
 * the test instead of holding the suite.
 */
export function runCliBounded(
  args: string[],
  opts: { cwd: string; timeoutMs?: number; maxOldSpaceMb?: number; env?: NodeJS.ProcessEnv; onSpawn?(pid: number): void },
): Promise<CliRun> {
  const started = Date.now();
  const child = spawn(
    process.execPath,
    [
      `--max-old-space-size=${opts.maxOldSpaceMb ?? 256}`,
      '--stack-size=984',
      '--import',
      TSX,
      path.join(REPO, 'server', 'src', 'cli.ts'),
      ...args,
    ],
    {
      cwd: opts.cwd,
      env: { ...process.env, ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '',
    err = '',
    timedOut = false;
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    if (out.length < 1 << 20) out += d;
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    if (err.length < 1 << 20) err += d;
  });
  if (child.pid) opts.onSpawn?.(child.pid);
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, opts.timeoutMs ?? 60_000);
  return new Promise((resolve) =>
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, out, err, ms: Date.now() - started, timedOut });
    }),
  );
}

/** Makes a FIFO (named pipe) with mkfifo; false when the platform has none. */
export function mkfifo(file: string): boolean {
  return spawnSync('mkfifo', [file]).status === 0;
}
