// What a teacher output folder holds — the newest manifest record and failure per output name —
// read once per change of its manifest or failure list, for every feature that asks (code lenses,
// the audio preview's teacher take).
import { stat } from 'node:fs/promises';
import * as path from 'node:path';
import { FAILURES_FILE, type FailureRecord, latestByName, MANIFEST_FILE, type ManifestRecord, readFailures, readManifest } from './manifest';
import { excludedLines, OVERRIDES_FILE, QA_FILE } from '../qa/runQa';

export interface OutputFolderState {
  records: Map<string, ManifestRecord>;
  failures: Map<string, FailureRecord>;
  /** Lines the QA gates or the user leave out of training, evaluation and export, with why (core/qa/runQa.ts#excludedLines). */
  excluded: Map<string, string>;
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
    const [m, f, q, o] = await Promise.all([manifest, failures, path.join(dir, QA_FILE), path.join(dir, OVERRIDES_FILE)].map((p) => stat(p).catch(() => undefined)));
    if (!m && !f) return undefined;
    if (m && m.size > this.maxBytes) return undefined;
    const key = [m, f, q, o].map((s) => `${s?.mtimeMs}:${s?.size}`).join(':');
    let hit = this.byDir.get(dir);
    if (!hit || hit.key !== key) {
      const unreadable = (file: string) => (err: unknown) => {
        this.log(`cannot read ${file}: ${err instanceof Error ? err.message : String(err)}`);
        return [];
      };
      const state = Promise.all([
        m ? readManifest(manifest).catch(unreadable(manifest)) : [],
        f ? readFailures(failures).catch(unreadable(failures)) : [],
        q || o ? excludedLines(dir).catch((err: unknown) => {
          this.log(`QA of ${dir}: ${err instanceof Error ? err.message : String(err)}`);
          return new Map<string, string>();
        }) : new Map<string, string>(),
      ]).then(([records, failed, excluded]) => ({ records: latestByName(records), failures: latestByName(failed), excluded }));
      hit = { key, state };
      this.byDir.set(dir, hit);
    }
    return hit.state;
  }
}
