/**
 * File-system guards against a hostile workspace (a cloned repository can ship symbolic links,
 * FIFOs and device nodes wherever it likes): files that are written or appended to must be
 * regular files inside the real output folder, and files that are read (prompt audio, earlier
 * WAVs) must be regular files, opened so that a FIFO can never block.
 */
import { constants } from 'node:fs';
import { type FileHandle, lstat, open, realpath } from 'node:fs/promises';
import * as path from 'node:path';

/** A file the tools will not write through (or read): a symbolic link, FIFO, device, or outside the output folder. */
export class UnsafeFileError extends Error {
  readonly code = 'EUNSAFE';
}

/** `O_NOFOLLOW` where the platform has it (not on Windows, where Node leaves it undefined). */
export const O_NOFOLLOW = constants.O_NOFOLLOW ?? 0;
/** `O_NONBLOCK`: opening a FIFO for reading then returns at once instead of waiting for a writer. */
export const O_NONBLOCK = constants.O_NONBLOCK ?? 0;

function kindOf(st: {
  isSymbolicLink(): boolean;
  isFIFO(): boolean;
  isDirectory(): boolean;
  isCharacterDevice(): boolean;
  isBlockDevice(): boolean;
  isSocket(): boolean;
}): string {
  if (st.isSymbolicLink()) return 'a symbolic link';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isDirectory()) return 'a folder';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

/**
 * Throws UnsafeFileError unless `file` is absent or a regular file that is not a symbolic link.
 * Used before a file of the output folder is read, appended to or replaced.
 */
export async function assertRegularOrAbsent(file: string, what = path.basename(file)): Promise<void> {
  let st;
  try {
    st = await lstat(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  if (!st.isFile() || st.isSymbolicLink()) {
    throw new UnsafeFileError(
      `${what} (${file}) is ${kindOf(st)}: refusing to read or write through it. Remove it (it may have come with a cloned repository) and run again.`,
    );
  }
}

/** The real path of `dir`, and a check that `file` (resolved through any symbolic links of its folders) stays inside it. */
export async function assertInsideReal(realRoot: string, file: string): Promise<void> {
  const realParent = await realpath(path.dirname(file));
  if (realParent !== realRoot && !realParent.startsWith(realRoot + path.sep)) {
    throw new UnsafeFileError(`${file} leads outside the output folder ${realRoot} (a folder on the way is a symbolic link)`);
  }
}

/**
 * Opens a file for reading only when it is a regular file: a FIFO is opened non-blocking (so
 * the open cannot hang) and refused, as are devices (`/dev/zero`), sockets and folders.
 * Symbolic links are followed (a prompt WAV may be one); what they lead to must be a regular file.
 */
export async function openRegularForRead(file: string, opts: { noFollow?: boolean } = {}): Promise<FileHandle> {
  const fh = await open(file, constants.O_RDONLY | O_NONBLOCK | (opts.noFollow ? O_NOFOLLOW : 0));
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw Object.assign(new UnsafeFileError(`${file} is ${kindOf(st)}, not a regular file`), { path: file });
    return fh;
  } catch (err) {
    await fh.close();
    throw err;
  }
}

/**
 * Reads a whole regular file of at most `maxBytes` bytes (never a FIFO or device, never more than
 * `maxBytes + 1` bytes even when the file grows while it is read).
 */
export async function readRegularFile(file: string, maxBytes: number, opts: { noFollow?: boolean } = {}): Promise<Buffer> {
  const fh = await openRegularForRead(file, opts);
  try {
    const { size } = await fh.stat();
    if (size > maxBytes) throw new UnsafeFileError(`${file} is ${fmtBytes(size)}, more than the limit of ${fmtBytes(maxBytes)}`);
    const buf = Buffer.alloc(Math.min(size, maxBytes) + 1);
    let n = 0;
    while (n < buf.length) {
      const { bytesRead } = await fh.read(buf, n, buf.length - n, n);
      if (bytesRead === 0) break;
      n += bytesRead;
    }
    if (n > maxBytes) throw new UnsafeFileError(`${file} grew past the limit of ${fmtBytes(maxBytes)} while it was read`);
    return buf.subarray(0, n);
  } finally {
    await fh.close();
  }
}

/** Opens `file` for appending (created when missing) without following a symbolic link, and only when it is a regular file. */
export async function openAppendNoFollow(file: string): Promise<FileHandle> {
  let fh: FileHandle;
  try {
    fh = await open(file, constants.O_RDWR | constants.O_APPEND | constants.O_CREAT | O_NOFOLLOW | O_NONBLOCK, 0o644);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ELOOP')
      throw new UnsafeFileError(
        `${path.basename(file)} (${file}) is a symbolic link: refusing to write through it. Remove it (it may have come with a cloned repository) and run again.`,
      );
    throw err;
  }
  const st = await fh.stat();
  if (!st.isFile()) {
    await fh.close();
    throw new UnsafeFileError(`${path.basename(file)} (${file}) is ${kindOf(st)}: refusing to write to it`);
  }
  return fh;
}

export function fmtBytes(n: number): string {
  if (n >= 1 << 30) return `${(n / (1 << 30)).toFixed(1)} GiB`;
  if (n >= 1 << 20) return `${(n / (1 << 20)).toFixed(1)} MiB`;
  if (n >= 1 << 10) return `${(n / (1 << 10)).toFixed(1)} KiB`;
  return `${n} bytes`;
}
