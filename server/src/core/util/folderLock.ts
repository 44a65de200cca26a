// One lock per folder that one process works in at a time: a batch's output folder, a Slurm run's
// folder. A lock left by a process that is gone is taken over: on this host when its process no
// longer exists, on another host of a shared file system (a Slurm node that died) when it has not
// been touched for a minute.
import { readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import * as path from 'node:path';

export class FolderBusyError extends Error {}

/** Who holds a lock, as written in the lock file (one JSON line). */
export interface LockHolder {
  pid: number;
  host: string;
  started: string;
}

/** The holder touches its lock this often; a lock untouched for LOCK_STALE_MS belongs to nobody. */
const LOCK_HEARTBEAT_MS = 10_000;
const LOCK_STALE_MS = 60_000;

/**
 * Takes `dir` by creating `dir/<file>`; returns the release function. A live holder is reported
 * with `busy(holder, lockFile)` as the FolderBusyError's message.
 */
export async function acquireFolderLock(
  dir: string,
  file: string,
  busy: (holder: Partial<LockHolder>, lockFile: string) => string,
): Promise<() => Promise<void>> {
  const lockFile = path.join(dir, file);
  const me: LockHolder = { pid: process.pid, host: hostname(), started: new Date().toISOString() };
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      await writeFile(lockFile, JSON.stringify(me) + '\n', { flag: 'wx' });
      const beat = setInterval(() => {
        const now = new Date();
        utimes(lockFile, now, now).catch(() => undefined);
      }, LOCK_HEARTBEAT_MS);
      beat.unref();
      return async () => {
        clearInterval(beat);
        await rm(lockFile, { force: true });
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    let holder: Partial<LockHolder> = {};
    let touched = 0;
    try {
      touched = (await stat(lockFile)).mtimeMs;
      holder = JSON.parse(await readFile(lockFile, 'utf8')) as Partial<LockHolder>;
    } catch {
      /* torn by a crash while it was written: nobody holds it */
    }
    const stale =
      typeof holder.pid !== 'number' || (holder.host === me.host ? !processAlive(holder.pid) : Date.now() - touched > LOCK_STALE_MS);
    if (!stale) throw new FolderBusyError(busy(holder, lockFile));
    await rm(lockFile, { force: true });
  }
  throw new FolderBusyError(`could not take ${lockFile}`);
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
