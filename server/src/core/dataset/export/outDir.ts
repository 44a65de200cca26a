/**
 * Writing an export folder without ever leaving it: every path is built from sanitised ids under
 * the folder, folders are created one level at a time and refused when they are symbolic links,
 * files are written through a temp file + rename (a symbolic link in the way is replaced, never
 * followed), and WAVs are hard-linked or copied, never moved.
 */
import { createHash } from 'node:crypto';
import { constants, createReadStream } from 'node:fs';
import { copyFile, link, lstat, mkdir, readdir, readFile, realpath, rm, unlink } from 'node:fs/promises';
import * as path from 'node:path';
import { writeFileAtomic } from '../../batch/manifest';

export class ExportError extends Error {}

/** The marker an export leaves in its folder (what --force may replace). */
export const EXPORT_MARKER = 'tts-distill-export.json';

export class OutDir {
  private constructor(
    readonly root: string,
    private readonly realRoot: string,
  ) {}

  /**
   * Takes `dir` for an export: created when missing; an existing non-empty folder is refused
   * unless `force`, and then only the folders a previous export listed in its marker are removed.
   */
  static async open(dir: string, force: boolean): Promise<OutDir> {
    const root = path.resolve(dir);
    const st = await lstat(root).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined;
      throw err;
    });
    if (st?.isSymbolicLink()) throw new ExportError(`${root} is a symbolic link: give the real folder`);
    if (st && !st.isDirectory()) throw new ExportError(`${root} exists and is not a folder`);
    if (st) {
      const entries = await readdir(root);
      if (entries.length && !force)
        throw new ExportError(`${root} exists and is not empty: choose another --out, or --force to replace a previous export there`);
      if (entries.length && force) {
        let previous: string[] = [];
        try {
          const marker = JSON.parse(await readFile(path.join(root, EXPORT_MARKER), 'utf8')) as { splits?: unknown };
          if (Array.isArray(marker.splits)) previous = marker.splits.filter((s): s is string => typeof s === 'string' && safeSegment(s));
        } catch {
          /* not one of our exports: files are replaced one by one */
        }
        // rm never follows a symbolic link: a link named like a split is removed, not its target.
        for (const s of previous) await rm(path.join(root, s), { recursive: true, force: true });
      }
    } else {
      await mkdir(root, { recursive: true });
    }
    return new OutDir(root, await realpath(root));
  }

  /** A folder under the root (segments are sanitised ids), created when missing; never a symbolic link. */
  async folder(...segments: string[]): Promise<string> {
    let at = this.root;
    for (const s of segments) {
      if (!safeSegment(s)) throw new ExportError(`unsafe folder name ${JSON.stringify(s)}`);
      at = path.join(at, s);
      try {
        await mkdir(at);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const st = await lstat(at);
      if (st.isSymbolicLink() || !st.isDirectory())
        throw new ExportError(`${at} is a symbolic link or not a folder: refusing to write through it`);
    }
    const real = await realpath(at);
    if (real !== this.realRoot && !real.startsWith(this.realRoot + path.sep)) throw new ExportError(`${at} leads outside ${this.root}`);
    return at;
  }

  /** Writes a text file inside a folder made by `folder` (temp + rename). */
  async writeText(folder: string, name: string, text: string): Promise<string> {
    if (!safeSegment(name)) throw new ExportError(`unsafe file name ${JSON.stringify(name)}`);
    const file = path.join(folder, name);
    this.assertInside(file);
    await writeFileAtomic(file, text, { fsync: false });
    return file;
  }

  /**
   * Puts a WAV at `folder/name`: a hard link to `source` when the file system allows it, a copy
   * otherwise. An existing entry (a link left by an earlier run) is unlinked first, never written through.
   */
  async placeWav(source: string, folder: string, name: string, mode: 'link' | 'copy'): Promise<'link' | 'copy'> {
    if (!safeSegment(name)) throw new ExportError(`unsafe file name ${JSON.stringify(name)}`);
    const dest = path.join(folder, name);
    this.assertInside(dest);
    await unlink(dest).catch(() => undefined);
    if (mode === 'link') {
      try {
        await link(source, dest);
        return 'link';
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'EXDEV' && code !== 'EPERM' && code !== 'EMLINK' && code !== 'ENOTSUP' && code !== 'EACCES') throw err;
      }
    }
    await copyFile(source, dest, constants.COPYFILE_EXCL);
    return 'copy';
  }

  private assertInside(file: string) {
    const rel = path.relative(this.root, file);
    if (!rel || rel.startsWith('..') || path.isAbsolute(rel)) throw new ExportError(`${file} is outside ${this.root}`);
  }
}

/** One path segment that cannot leave its folder. */
export function safeSegment(s: string): boolean {
  return s.length > 0 && s.length <= 200 && s !== '.' && s !== '..' && !/[\\/\u0000-\u001f]/.test(s) && !s.startsWith('.');
}

/**
 * Checks a WAV of the teacher run before it is exported: a regular file (not a symbolic link),
 * whose sha256 is the one the manifest recorded. Returns why not, or undefined.
 */
export async function wavProblem(file: string, expectedSha256: string | undefined): Promise<string | undefined> {
  let st;
  try {
    st = await lstat(file);
  } catch {
    return 'its WAV is missing';
  }
  if (st.isSymbolicLink()) return 'its WAV is a symbolic link (not exported)';
  if (!st.isFile()) return 'its WAV is not a regular file';
  if (expectedSha256) {
    const h = createHash('sha256');
    // Ordinary WAVs in one read; a very large one streamed.
    if (st.size <= 64 * 1024 * 1024) h.update(await readFile(file));
    else for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
    if (h.digest('hex') !== expectedSha256) return 'its WAV changed since the teacher wrote it (sha256 differs from the manifest)';
  }
  return undefined;
}
