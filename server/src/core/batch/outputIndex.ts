// What a teacher output folder holds — the newest manifest record and failure per output name —
// read once per change of its manifest or failure list, for every feature that asks (code lenses,
// the audio preview's teacher take).
import { stat } from 'node:fs/promises';
import * as path from 'node:path';
import { FAILURES_FILE, type FailureRecord, latestByName, MANIFEST_FILE, type ManifestRecord, readFailures, readManifest } from './manifest';

export interface OutputFolderState {
  records: Map<string, ManifestRecord>;
  failures: Map<string, FailureRecord>;
}

/** Manifests above this size are not indexed (a million-line run would cost seconds and memory in the editor). */
export const MAX_INDEXED_MANIFEST_BYTES = 64 * 1024 * 1024;

export class OutputFolderIndex {
  private readonly byDir = new Map<string, { key: string; state: Promise<OutputFolderState> }>();

  constructor(private readonly log: (message: string) => void = () => undefined, private readonly maxBytes = MAX_INDEXED_MANIFEST_BYTES) {}

  /** The folder's state, or undefined when it holds neither file (or a manifest too big to index). */
  async get(dir: string): Promise<OutputFolderState | undefined> {
    const manifest = path.join(dir, MANIFEST_FILE);
    const failures = path.join(dir, FAILURES_FILE);
    const [m, f] = await Promise.all([stat(manifest).catch(() => undefined), stat(failures).catch(() => undefined)]);
    if (!m && !f) return undefined;
    if (m && m.size > this.maxBytes) return undefined;
    const key = `${m?.mtimeMs}:${m?.size}:${f?.mtimeMs}:${f?.size}`;
    let hit = this.byDir.get(dir);
    if (!hit || hit.key !== key) {
      const unreadable = (file: string) => (err: unknown) => {
        this.log(`cannot read ${file}: ${err instanceof Error ? err.message : String(err)}`);
        return [];
      };
      const state = Promise.all([
        m ? readManifest(manifest).catch(unreadable(manifest)) : [],
        f ? readFailures(failures).catch(unreadable(failures)) : [],
      ]).then(([records, failed]) => ({ records: latestByName(records), failures: latestByName(failed) }));
      hit = { key, state };
      this.byDir.set(dir, hit);
    }
    return hit.state;
  }
}
