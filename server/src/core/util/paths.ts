// URIs and workspace folders, in one place: which folder a file belongs to is decided here only.
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The path of a `file:` URI; undefined for other schemes (untitled…) and malformed URIs. */
export function uriToPath(uri: string): string | undefined {
  try {
    return uri.startsWith('file:') ? fileURLToPath(uri) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The workspace folder of a file: the innermost folder holding it (nested multi-root workspaces),
 * else the first folder; undefined without folders.
 */
export function folderOf(folders: readonly string[], file: string | undefined): string | undefined {
  return (file ? containingFolder(folders, file) : undefined) ?? folders[0];
}

/** The innermost workspace folder holding the file, or undefined when none does. */
export function containingFolder(folders: readonly string[], file: string): string | undefined {
  let best: string | undefined;
  for (const f of folders) {
    if ((file === f || file.startsWith(f.endsWith(path.sep) ? f : f + path.sep)) && (!best || f.length > best.length)) best = f;
  }
  return best;
}

/** Where a job on a file runs and writes: its workspace folder, else (no folders) the file's own folder, else the cwd. */
export function workDirOf(folders: readonly string[], file: string | undefined): string {
  return folderOf(folders, file) ?? (file ? path.dirname(file) : process.cwd());
}
