import { promises as fs } from 'node:fs';
import * as path from 'node:path';

/**
 * Files below `dir` (at most `depth` folders down) whose name passes `match`; hidden folders and
 * node_modules are not entered.
 */
export async function findFiles(dir: string, depth: number, match: (name: string) => boolean, out: string[]): Promise<void> {
  let entries;
  try {
    entries = await fs.readdir(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isFile() && match(e.name)) out.push(p);
    else if (e.isDirectory() && depth > 0 && !e.name.startsWith('.') && e.name !== 'node_modules') await findFiles(p, depth - 1, match, out);
  }
}
