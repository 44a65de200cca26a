/**
 * QA of a teacher run folder (the output of `tts-distill submit`): measures every WAV of its
 * manifest, applies the gates and writes `<run>/qa.jsonl` (one QaRecord a line). The user's
 * decisions live in `<run>/qa-overrides.json` (`{ "<name>": "include" | "exclude" }`).
 * `excludedLines(run)` is what training, evaluation and export ask before they use a line.
 *
 * Measures are kept in qa.jsonl with the WAV's size and mtime: a second run measures only the
 * WAVs that changed (or are new) and re-applies the gates, so changing a threshold is instant.
 */
import { lstat } from 'node:fs/promises';
import * as path from 'node:path';
import { latestByName, MANIFEST_FILE, readJsonLines, readManifest, writeFileAtomic, writeLinesAtomic } from '../batch/manifest';
import { JUDGES_FILE, type JudgesLine, parseJudgesFile } from '../evaluation/judges/apply';
import { readRegularFile } from '../util/safeFs';
import { applyGates, type QaInput, type QaOverride, type QaRecord, type QaSummary, type QaThresholds } from './gates';
import { measureWavFile } from './measureFile';

export const QA_FILE = 'qa.jsonl';
export const OVERRIDES_FILE = 'qa-overrides.json';
/** Bumped when a measure changes meaning: cached measures of another version are recomputed. */
export const MEASURES_VERSION = 1;
/** Largest WAV measured (a 30-minute 24 kHz 16-bit file is ~86 MB). */
const MAX_WAV_BYTES = 1 << 30;

/** A problem the user must fix (no manifest, a broken overrides file). */
export class QaError extends Error {}

/** What qa.jsonl stores beyond the record: the cache key of the measures. */
interface StoredRecord extends QaRecord {
  wav?: { size: number; mtimeMs: number; version: number };
}

function isQaRecord(v: unknown): v is StoredRecord {
  const r = v as QaRecord;
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof r.name === 'string' &&
    (r.verdict === 'ok' || r.verdict === 'excluded') &&
    Array.isArray(r.reasons)
  );
}

export async function readQa(runDir: string): Promise<QaRecord[]> {
  return readJsonLines(path.join(runDir, QA_FILE), isQaRecord);
}

/** The user's overrides; an empty map when the file is absent. Throws QaError when it is not `{ name: "include"|"exclude" }`. */
export async function readOverrides(runDir: string): Promise<Map<string, QaOverride>> {
  const file = path.join(runDir, OVERRIDES_FILE);
  let text: string;
  try {
    text = (await readRegularFile(file, 64 << 20)).toString('utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
    throw new QaError(`${file}: ${(err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new QaError(`${file} is not valid JSON (${(err as Error).message}); it should be { "<name>": "include" | "exclude" }`);
  }
  if (!json || typeof json !== 'object' || Array.isArray(json))
    throw new QaError(`${file} should be one JSON object: { "<name>": "include" | "exclude" }`);
  const out = new Map<string, QaOverride>();
  for (const [name, v] of Object.entries(json as Record<string, unknown>)) {
    if (v !== 'include' && v !== 'exclude')
      throw new QaError(`${file}: "${name}" is ${JSON.stringify(v)}; it must be "include" or "exclude"`);
    out.set(name, v);
  }
  return out;
}

/** Writes the overrides (sorted by name), or removes nothing: an empty map writes `{}`. */
export async function writeOverrides(runDir: string, overrides: ReadonlyMap<string, QaOverride>): Promise<void> {
  const obj: Record<string, QaOverride> = {};
  for (const name of [...overrides.keys()].sort()) obj[name] = overrides.get(name)!;
  await writeFileAtomic(path.join(runDir, OVERRIDES_FILE), JSON.stringify(obj, null, 2) + '\n');
}

/**
 * The lines of a run that must not be used, with why: the gates' verdicts of qa.jsonl with the
 * current overrides applied (an override wins). Empty when the run has had no QA and no overrides.
 * Throws QaError when qa-overrides.json is broken.
 */
export async function excludedLines(runDir: string): Promise<Map<string, string>> {
  const overrides = await readOverrides(runDir);
  const out = new Map<string, string>();
  for (const r of await readQa(runDir)) {
    const o = overrides.get(r.name);
    if (o === 'include') continue;
    if (o === 'exclude') out.set(r.name, `excluded by hand (${OVERRIDES_FILE})`);
    else if (r.reasons.length) out.set(r.name, `QA: ${r.reasons.join('; ')}`);
  }
  for (const [name, o] of overrides) if (o === 'exclude' && !out.has(name)) out.set(name, `excluded by hand (${OVERRIDES_FILE})`);
  return out;
}

export interface RunQaOptions {
  thresholds: QaThresholds;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

export interface RunQaResult {
  file: string;
  records: QaRecord[];
  summary: QaSummary;
  /** WAVs measured now (the rest came from the previous qa.jsonl). */
  measured: number;
}

/** QA of a run folder; writes `<run>/qa.jsonl`. Throws QaError when the folder has no manifest. */
export async function runQa(runDir: string, opts: RunQaOptions): Promise<RunQaResult> {
  const run = path.resolve(runDir);
  const manifest = path.join(run, MANIFEST_FILE);
  const records = [...latestByName(await readManifest(manifest)).values()].sort((a, b) => a.line - b.line);
  if (!records.length) {
    const exists = await lstat(manifest).then(
      () => true,
      () => false,
    );
    throw new QaError(
      exists
        ? `${manifest} holds no finished line`
        : `${run} has no ${MANIFEST_FILE}: give the folder a teacher batch wrote (tts-distill submit --out)`,
    );
  }
  const overrides = await readOverrides(run);
  const cached = latestByName(await readJsonLines(path.join(run, QA_FILE), isQaRecord));
  // The judges' scores (tts-distill eval --judge …), each only for the very WAV it judged.
  const judged = await readRegularFile(path.join(run, JUDGES_FILE), 256 << 20).then(
    (b) => parseJudgesFile(b.toString('utf8')),
    () => new Map<string, JudgesLine>(),
  );
  const inputs: QaInput[] = [];
  const keys = new Map<string, StoredRecord['wav']>();
  let measured = 0;
  for (const [k, rec] of records.entries()) {
    if (opts.signal?.aborted) throw new Error('QA cancelled');
    const input: QaInput = { name: rec.name, line: rec.line, audio: rec.audio, text: rec.text, measures: null };
    const j = judged.get(rec.name);
    if (j && !j.error && (!j.wavSha256 || j.wavSha256 === rec.wavSha256)) input.judges = { cer: j.cer, similarity: j.similarity };
    const file = path.resolve(run, rec.audio);
    if (!file.startsWith(run + path.sep)) input.error = `the WAV path ${rec.audio} leaves the run folder`;
    else {
      try {
        const st = await lstat(file);
        const key = { size: st.size, mtimeMs: st.mtimeMs, version: MEASURES_VERSION };
        const hit = cached.get(rec.name);
        if (
          hit?.measures &&
          hit.wav &&
          hit.wav.size === key.size &&
          hit.wav.mtimeMs === key.mtimeMs &&
          hit.wav.version === key.version &&
          hit.audio === rec.audio
        ) {
          input.measures = hit.measures;
        } else {
          input.measures = await measureWavFile(file, MAX_WAV_BYTES);
          measured++;
          // Let an abort and other work in.
          await new Promise<void>((r) => setImmediate(r));
        }
        keys.set(rec.name, key);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        input.error = code === 'ENOENT' ? `${rec.audio} is missing` : `${rec.audio}: ${(err as Error).message}`;
      }
    }
    inputs.push(input);
    opts.onProgress?.(k + 1, records.length);
  }
  const { records: out, summary } = applyGates(inputs, opts.thresholds, overrides);
  const file = path.join(run, QA_FILE);
  await writeLinesAtomic(
    file,
    out.map((r) => JSON.stringify(keys.has(r.name) ? { ...r, wav: keys.get(r.name) } : r) + '\n'),
  );
  return { file, records: out, summary, measured };
}
