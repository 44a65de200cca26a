import { promises as fs } from 'node:fs';
import * as path from 'node:path';

/** Folders never entered by a workspace search (besides hidden ones). */
export const SKIP_DIRS: ReadonlySet<string> = new Set(['node_modules']);

export interface FindOptions {
  /** How many folders down from the start (0: the start folder only). */
  depth: number;
  /** Which files to keep, by absolute path and name. */
  match: (file: string, name: string) => boolean;
  /** Stop after this many files. */
  limit?: number;
  /** Folder names not entered (hidden folders never are); SKIP_DIRS when omitted. */
  skipDirs?: ReadonlySet<string>;
}

/**
 * The one bounded walk of a workspace: files below `dir` that `match` keeps, in a stable order
 * (entries sorted by name), hidden folders and `skipDirs` not entered. Unreadable folders are skipped.
 */
export async function walkFiles(dir: string, opts: FindOptions): Promise<string[]> {
  const out: string[] = [];
  const limit = opts.limit ?? Infinity;
  const skip = opts.skipDirs ?? SKIP_DIRS;
  const walk = async (d: string, depth: number): Promise<void> => {
    let entries;
    try {
      entries = await fs.readdir(d, { withFileTypes: true });
    } catch {
      return;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      if (out.length >= limit) return;
      const p = path.join(d, e.name);
      if (e.isFile()) {
        if (opts.match(p, e.name)) out.push(p);
      } else if (e.isDirectory() && depth > 0 && !e.name.startsWith('.') && !skip.has(e.name)) await walk(p, depth - 1);
    }
  };
  await walk(dir, opts.depth);
  return out;
}

/** Files below `dir` (at most `depth` folders down) whose name passes `match`, appended to `out`. */
export async function findFiles(dir: string, depth: number, match: (name: string) => boolean, out: string[]): Promise<void> {
  out.push(...(await walkFiles(dir, { depth, match: (_file, name) => match(name) })));
}
