// What a teacher output folder holds — the newest manifest record and failure per output name —
// and the judges' scores of its WAVs (judges.jsonl), read once per change of those files, for every feature that asks (code lenses,
// the audio preview's teacher take).
import { readFile, stat } from 'node:fs/promises';
import * as path from 'node:path';
import { JUDGES_FILE, type JudgesLine, parseJudgesFile } from '../evaluation/judges/apply';
import {
  FAILURES_FILE,
  type FailureRecord,
  latestByName,
  MANIFEST_FILE,
  type ManifestRecord,
  readFailures,
  readManifest,
} from './manifest';
import { excludedLines, OVERRIDES_FILE, QA_FILE, readQa } from '../qa/runQa';
import type { QaRecord } from '../qa/gates';

export interface OutputFolderState {
  records: Map<string, ManifestRecord>;
  failures: Map<string, FailureRecord>;
  /** Lines the QA gates or the user leave out of training, evaluation and export, with why (core/qa/runQa.ts#excludedLines). */
  excluded: Map<string, string>;
  /** The judges' scores of the teacher's WAVs (`judges.jsonl`, written by the evaluation), when there are any. */
  judges?: Map<string, JudgesLine>;
  /** The signal QA of the teacher's WAVs (`qa.jsonl`, written by `tts-distill qa`), when there is one. */
  qa?: Map<string, QaRecord>;
}

/** Manifests above this size are not indexed (a million-line run would cost seconds and memory in the editor). */
export const MAX_INDEXED_MANIFEST_BYTES = 64 * 1024 * 1024;

export class OutputFolderIndex {
  private readonly byDir = new Map<string, { key: string; state: Promise<OutputFolderState> }>();

  constructor(
    private readonly log: (message: string) => void = () => undefined,
    private readonly maxBytes = MAX_INDEXED_MANIFEST_BYTES,
  ) {}

  /** The folder's state, or undefined when it holds neither file (or a manifest too big to index). */
  async get(dir: string): Promise<OutputFolderState | undefined> {
    const manifest = path.join(dir, MANIFEST_FILE);
    const failures = path.join(dir, FAILURES_FILE);
    const judges = path.join(dir, JUDGES_FILE);
    const [m, f, q, o, j] = await Promise.all(
      [manifest, failures, path.join(dir, QA_FILE), path.join(dir, OVERRIDES_FILE), judges].map((p) => stat(p).catch(() => undefined)),
    );
    if (!m && !f) return undefined;
    if (m && m.size > this.maxBytes) return undefined;
    const key = [m, f, q, o, j].map((s) => `${s?.mtimeMs}:${s?.size}`).join(':');
    let hit = this.byDir.get(dir);
    if (!hit || hit.key !== key) {
      const unreadable = (file: string) => (err: unknown) => {
        this.log(`cannot read ${file}: ${err instanceof Error ? err.message : String(err)}`);
        return [];
      };
      const state = Promise.all([
        m ? readManifest(manifest).catch(unreadable(manifest)) : [],
        f ? readFailures(failures).catch(unreadable(failures)) : [],
        q || o
          ? excludedLines(dir).catch((err: unknown) => {
              this.log(`QA of ${dir}: ${err instanceof Error ? err.message : String(err)}`);
              return new Map<string, string>();
            })
          : new Map<string, string>(),
        j && j.size <= this.maxBytes
          ? readFile(judges, 'utf8').then(parseJudgesFile, (err: unknown) => {
              unreadable(judges)(err);
              return undefined;
            })
          : undefined,
        q && q.size <= this.maxBytes
          ? readQa(dir).then(
              (r) => latestByName(r),
              (err: unknown) => {
                unreadable(path.join(dir, QA_FILE))(err);
                return undefined;
              },
            )
          : undefined,
      ]).then(([records, failed, excluded, judged, qa]) => ({
        records: latestByName(records),
        failures: latestByName(failed),
        excluded,
        ...(judged ? { judges: judged } : {}),
        ...(qa ? { qa } : {}),
      }));
      hit = { key, state };
      this.byDir.set(dir, hit);
    }
    return hit.state;
  }
}
