/**
 * Export of a teacher run for the student's trainers: Kaldi data folders, a Hugging Face
 * audiofolder, LJSpeech and CosyVoice's own recipe input. Failed lines and lines the QA gates
 * exclude are left out and listed; WAVs are hard-linked or copied, never moved; nothing is
 * written outside the export folder.
 */
import { readFile, realpath } from 'node:fs/promises';
import * as path from 'node:path';
import { FAILURES_FILE, latestByName, MANIFEST_FILE, type ManifestRecord, readFailures, readManifest } from '../../batch/manifest';
import { isHan } from '../../formats/notation';
import { excludedLines, QaError } from '../../qa/runQa';
import { resolveVoiceLabels, type VoiceLabels } from '../voices';
import { EXPORT_MARKER, ExportError, OutDir, wavProblem } from './outDir';
import { seededRandom as rng } from '../../student/prng';

export { ExportError } from './outDir';

export type ExportFormat = 'kaldi' | 'hf' | 'ljspeech' | 'cosyvoice';
export const EXPORT_FORMATS: readonly ExportFormat[] = ['kaldi', 'hf', 'ljspeech', 'cosyvoice'];
export type TextMode = 'plain' | 'pinyin' | 'tokens';
export const TEXT_MODES: readonly TextMode[] = ['plain', 'pinyin', 'tokens'];

export interface SplitSpec {
  name: string;
  /** A share of the utterances (0–1) or a count. */
  share?: number;
  count?: number;
}

export interface ExportOptions {
  /** The teacher run folder (manifest.jsonl, failures.jsonl, the WAVs). */
  run: string;
  format: ExportFormat;
  out: string;
  text?: TextMode;
  /** Held-out splits; the rest is `train`. */
  splits?: SplitSpec[];
  splitBy?: 'speaker' | 'random';
  seed?: number;
  force?: boolean;
  /** `copy` to copy every WAV (default: hard link, copy when linking is impossible). */
  wavMode?: 'link' | 'copy';
  /** More names to leave out (with the reason), besides what the QA gates exclude (`excludedLines`). */
  exclude?: Map<string, string>;
  /** Voice labels (sidecar / path pattern) for speaker ids and label columns when the manifest has none. */
  voices?: { workspaceFolder?: string; sidecar?: Map<string, VoiceLabels>; speakerPattern?: string };
  /** CosyVoice: a folder holding utt2embedding.pt and spk2embedding.pt (copied into each split when given). */
  embeddingsDir?: string;
  /** Skip the sha256 check of each WAV against the manifest. */
  noVerify?: boolean;
}

export interface ExportedUtterance {
  id: string;
  name: string;
  speaker: string;
  split: string;
  text: string;
  /** The text in the chosen mode (plain, pinyin or tokens). */
  output: string;
  /** Path of the WAV in the export, relative to its split folder. */
  wav: string;
  labels: Record<string, string | number | boolean>;
}

export interface LeftOut {
  name: string;
  line?: number;
  reason: string;
}

export interface ExportSummary {
  format: ExportFormat;
  out: string;
  text: TextMode;
  splits: Record<string, { utterances: number; speakers: number; seconds: number }>;
  utterances: ExportedUtterance[];
  leftOut: LeftOut[];
  linked: number;
  copied: number;
  /** Files written, relative to the export folder (WAVs not listed). */
  files: string[];
  warnings: string[];
}

/** `dev=5%,test=5%` or `dev=100,test=100`. */
export function parseSplitSpec(spec: string): SplitSpec[] {
  const out: SplitSpec[] = [];
  for (const part of spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const m = /^([A-Za-z][A-Za-z0-9_-]*)=(\d+(?:\.\d+)?)(%?)$/.exec(part);
    if (!m) throw new ExportError(`--split: "${part}" is not name=N% or name=COUNT`);
    const name = m[1]!;
    if (name === 'train') throw new ExportError('--split: train is what is left over; name the held-out splits (dev, test…)');
    if (out.some((s) => s.name === name)) throw new ExportError(`--split: ${name} is given twice`);
    const n = Number(m[2]);
    if (m[3]) {
      if (n <= 0 || n >= 100) throw new ExportError(`--split: ${part}: a share is between 0 and 100 %`);
      out.push({ name, share: n / 100 });
    } else {
      if (!Number.isInteger(n) || n <= 0) throw new ExportError(`--split: ${part}: a count is a whole number above 0`);
      out.push({ name, count: n });
    }
  }
  const total = out.reduce((a, s) => a + (s.share ?? 0), 0);
  if (total >= 1) throw new ExportError('--split: the held-out shares leave nothing for train');
  return out;
}

/** An id part safe in every format: ASCII letters, digits, `_` and any non-ASCII letter or digit; the rest becomes `_`. */
export function safeId(s: string): string {
  const id = s
    .normalize('NFC')
    .replace(/[^\p{L}\p{N}_]/gu, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, 100);
  return id || 'x';
}

/** Byte-wise (LC_ALL=C) comparison of UTF-8 strings, as Kaldi's `sort` wants. */
export function compareC(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/**
 * Pinyin of Han characters, other runs of non-space characters as words, one space between. A
 * character the record says the teacher's language model read (`sources[i] === 'model'`) stays a
 * character: its G2P reading is only a hint of what the audio says.
 */
export function pinyinText(text: string, readings: readonly (string | null)[], sources?: readonly (string | null)[]): string {
  const words: string[] = [];
  let run = '';
  for (let i = 0; i < text.length; i++) {
    const cp = text.codePointAt(i)!;
    const n = cp > 0xffff ? 2 : 1;
    const r = readings[i];
    if (isHan(cp) && r && sources?.[i] !== 'model') {
      if (run) words.push(run);
      run = '';
      words.push(r);
    } else if (/\s/.test(text[i]!)) {
      if (run) words.push(run);
      run = '';
    } else run += text.slice(i, i + n);
    i += n - 1;
  }
  if (run) words.push(run);
  return words.join(' ');
}

function oneLine(s: string): string {
  return s
    .replace(/[\r\n\t\u2028\u2029]+/g, ' ')
    .replace(/ {2,}/g, ' ')
    .trim();
}

function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

/** Assigns each utterance a split: whole speakers (`speaker`) or utterances (`random`), deterministic for a seed. */
export function assignSplits<T extends { speaker: string; id: string }>(
  items: readonly T[],
  splits: readonly SplitSpec[],
  by: 'speaker' | 'random',
  seed: number,
): { split: Map<T, string>; warnings: string[] } {
  const split = new Map<T, string>();
  const warnings: string[] = [];
  const n = items.length;
  const target = splits.map((s) => Math.min(n, s.count ?? Math.max(s.share! > 0 && n > 1 ? 1 : 0, Math.round(s.share! * n))));
  const random = rng(seed);
  // Sorted first, so the input order does not matter.
  const sorted = [...items].sort((a, b) => compareC(a.id, b.id));
  if (by === 'random') {
    const order = shuffle(sorted, random);
    let k = 0;
    splits.forEach((s, i) => {
      for (let c = 0; c < target[i]! && k < order.length; c++) split.set(order[k++]!, s.name);
    });
    for (; k < order.length; k++) split.set(order[k]!, 'train');
  } else {
    const bySpeaker = new Map<string, T[]>();
    for (const it of sorted) {
      const l = bySpeaker.get(it.speaker);
      if (l) l.push(it);
      else bySpeaker.set(it.speaker, [it]);
    }
    const speakers = shuffle([...bySpeaker.keys()].sort(compareC), random);
    const filled = splits.map(() => 0);
    let si = 0;
    for (const spk of speakers) {
      const utts = bySpeaker.get(spk)!;
      // The next held-out split still short of its target takes the whole speaker; the rest go to train.
      while (si < splits.length && filled[si]! >= target[si]!) si++;
      const name = si < splits.length && speakers.length - speakers.indexOf(spk) > 1 ? splits[si]!.name : 'train';
      if (si < splits.length && name !== 'train') filled[si]! += utts.length;
      for (const u of utts) split.set(u, name);
    }
    splits.forEach((s, i) => {
      if (filled[i] === 0)
        warnings.push(
          `split ${s.name} is empty: there are too few speakers (${speakers.length}) to hold out whole speakers; use --split-by random`,
        );
      else if (Math.abs(filled[i]! - target[i]!) > Math.max(1, target[i]! * 0.5))
        warnings.push(`split ${s.name} has ${filled[i]} utterances (asked for ${target[i]}): speakers are kept whole`);
    });
  }
  return { split, warnings };
}

/** Names listed in an exclusion file: one name a line, or JSON lines with `name` (and `reason`). */
export function parseExcludeList(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    if (line.startsWith('{')) {
      try {
        const v = JSON.parse(line) as { name?: unknown; reason?: unknown };
        if (typeof v.name === 'string') out.set(v.name, typeof v.reason === 'string' ? v.reason : 'excluded by the QA gates');
      } catch {
        /* skipped */
      }
    } else out.set(line, 'excluded by the QA gates');
  }
  return out;
}

/** Exports a teacher run. Throws ExportError for what the user must change (folder not empty, no manifest…). */
export async function exportDataset(opts: ExportOptions): Promise<ExportSummary> {
  const textMode = opts.text ?? 'plain';
  const run = path.resolve(opts.run);
  const records = [...latestByName(await readManifest(path.join(run, MANIFEST_FILE))).values()].sort((a, b) => a.line - b.line);
  if (!records.length)
    throw new ExportError(`${path.join(run, MANIFEST_FILE)}: no finished lines to export (is this a teacher run folder?)`);
  const failures = latestByName(await readFailures(path.join(run, FAILURES_FILE)));
  // The QA gates' verdicts (<run>/qa.jsonl, `tts-distill qa`) with the user's overrides; --exclude adds to them.
  let qaExcluded: Map<string, string>;
  try {
    qaExcluded = await excludedLines(run);
  } catch (err) {
    if (err instanceof QaError) throw new ExportError(err.message);
    throw err;
  }
  const exclusion = (name: string) => opts.exclude?.get(name) ?? qaExcluded.get(name);
  const realRun = await realpath(run);
  const leftOut: LeftOut[] = [];
  const warnings: string[] = [];
  for (const [name, f] of failures)
    if (!records.some((r) => r.name === name)) leftOut.push({ name, line: f.line, reason: `failed: ${f.reason}` });

  interface Item {
    rec: ManifestRecord;
    id: string;
    speaker: string;
    labels: Record<string, string | number | boolean>;
    source: string;
  }
  const items: Item[] = [];
  const usedIds = new Set<string>();
  // The file checks (realpath, lstat, sha256) of all lines, 16 at a time; the decisions below stay in line order.
  const checks = await mapLimit(records, 16, async (rec): Promise<string | undefined> => {
    if (exclusion(rec.name)) return undefined;
    const source = path.resolve(run, rec.audio);
    if (!source.startsWith(run + path.sep)) return 'its WAV path leaves the run folder';
    // A folder on the way that is a symbolic link could lead anywhere: the WAV must really be inside the run.
    const real = await realpath(source).catch(() => undefined);
    if (real && !real.startsWith(realRun + path.sep)) return 'its WAV lies outside the run folder (symbolic link)';
    return wavProblem(source, opts.noVerify ? undefined : rec.wavSha256);
  });
  for (const [k, rec] of records.entries()) {
    const excluded = exclusion(rec.name);
    if (excluded) {
      leftOut.push({ name: rec.name, line: rec.line, reason: excluded });
      continue;
    }
    const source = path.resolve(run, rec.audio);
    const problem = checks[k];
    if (problem) {
      leftOut.push({ name: rec.name, line: rec.line, reason: problem });
      continue;
    }
    const voice = rec.promptAudio ? resolveVoiceLabels(rec.promptAudio, opts.voices ?? {}, rec.labels) : { labels: {} as VoiceLabels };
    const speakerRaw =
      rec.speaker ?? voice.labels.speaker ?? (rec.promptAudio ? path.basename(rec.promptAudio).replace(/\.[^.]*$/, '') : 'unknown');
    const speaker = safeId(speakerRaw);
    const labels: Record<string, string | number | boolean> = { ...voice.labels, ...(rec.labels ?? {}) };
    delete labels.speaker;
    let id = `${speaker}-${safeId(rec.name)}`;
    for (let n = 2; usedIds.has(id); n++) id = `${speaker}-${safeId(rec.name)}_${n}`;
    usedIds.add(id);
    items.push({ rec, id, speaker, labels, source });
  }
  if (!items.length) throw new ExportError('nothing left to export: every line failed or is excluded');
  const { split, warnings: splitWarnings } = assignSplits(items, opts.splits ?? [], opts.splitBy ?? 'speaker', opts.seed ?? 42);
  warnings.push(...splitWarnings);

  const outDir = await OutDir.open(opts.out, opts.force ?? false);
  if ((opts.format === 'kaldi' || opts.format === 'cosyvoice') && /\s/.test(outDir.root)) {
    throw new ExportError(`${outDir.root} contains white space: wav.scp cannot hold such a path (its readers split lines on white space)`);
  }
  const splitNames = ['train', ...(opts.splits ?? []).map((s) => s.name)].filter((n) => items.some((it) => split.get(it) === n));
  const utterances: ExportedUtterance[] = [];
  const files: string[] = [];
  let linked = 0,
    copied = 0;
  const summarySplits: ExportSummary['splits'] = {};
  for (const splitName of splitNames) {
    const mine = items.filter((it) => split.get(it) === splitName).sort((a, b) => compareC(a.id, b.id));
    const folder = await outDir.folder(splitName);
    const wavFolder = await outDir.folder(splitName, 'wavs');
    const utts: ExportedUtterance[] = [];
    const placed = await mapLimit(mine, 16, (it) => outDir.placeWav(it.source, wavFolder, `${it.id}.wav`, opts.wavMode ?? 'link'));
    for (const how of placed) {
      if (how === 'link') linked++;
      else copied++;
    }
    for (const it of mine) {
      const output =
        textMode === 'plain'
          ? oneLine(it.rec.text)
          : textMode === 'pinyin'
            ? oneLine(pinyinText(it.rec.text, it.rec.readings, it.rec.sources))
            : oneLine(it.rec.phonemes);
      utts.push({
        id: it.id,
        name: it.rec.name,
        speaker: it.speaker,
        split: splitName,
        text: oneLine(it.rec.text),
        output,
        wav: `wavs/${it.id}.wav`,
        labels: it.labels,
      });
    }
    const written = await writeFormat(opts.format, outDir, folder, utts, opts);
    files.push(...written.map((f) => path.relative(outDir.root, f).split(path.sep).join('/')));
    utterances.push(...utts);
    summarySplits[splitName] = {
      utterances: utts.length,
      speakers: new Set(utts.map((u) => u.speaker)).size,
      seconds: Math.round(mine.reduce((a, it) => a + (it.rec.durationSeconds || 0), 0) * 10) / 10,
    };
  }
  if (opts.format === 'cosyvoice' && !opts.embeddingsDir) {
    warnings.push(
      "no --embeddings: CosyVoice's tools/make_parquet_list.py also reads utt2embedding.pt, spk2embedding.pt (tools/extract_embedding.py makes them from wav.scp and utt2spk) and utt2speech_token.pt (tools/extract_speech_token.py)",
    );
  }
  leftOut.sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
  const marker = {
    tool: 'tts-distill export',
    format: opts.format,
    text: textMode,
    run,
    splits: splitNames,
    splitBy: opts.splitBy ?? 'speaker',
    seed: opts.seed ?? 42,
    utterances: utterances.length,
    leftOut,
  };
  await outDir.writeText(outDir.root, EXPORT_MARKER, JSON.stringify(marker, null, 2) + '\n');
  files.push(EXPORT_MARKER);
  return {
    format: opts.format,
    out: outDir.root,
    text: textMode,
    splits: summarySplits,
    utterances,
    leftOut,
    linked,
    copied,
    files,
    warnings,
  };
}

async function writeFormat(
  format: ExportFormat,
  outDir: OutDir,
  folder: string,
  utts: ExportedUtterance[],
  opts: ExportOptions,
): Promise<string[]> {
  switch (format) {
    case 'kaldi':
      return writeKaldi(outDir, folder, utts);
    case 'cosyvoice': {
      const files = await writeKaldi(outDir, folder, utts);
      if (opts.embeddingsDir) {
        for (const name of ['utt2embedding.pt', 'spk2embedding.pt']) {
          const src = path.resolve(opts.embeddingsDir, name);
          const problem = await wavProblem(src, undefined);
          if (problem) throw new ExportError(`--embeddings: ${src}: ${problem.replace('its WAV', 'the file')}`);
          await outDir.placeWav(src, folder, name, 'copy');
          files.push(path.join(folder, name));
        }
      }
      return files;
    }
    case 'hf':
      return [await writeHf(outDir, folder, utts)];
    case 'ljspeech':
      return [await writeLjspeech(outDir, folder, utts)];
  }
}

/** wav.scp, text, utt2spk, spk2utt: C-sorted; utterance ids start with the speaker id, so both sort orders agree. */
async function writeKaldi(outDir: OutDir, folder: string, utts: ExportedUtterance[]): Promise<string[]> {
  const sorted = [...utts].sort((a, b) => compareC(a.id, b.id));
  const wavScp = sorted.map((u) => `${u.id} ${path.join(folder, u.wav)}\n`).join('');
  const text = sorted.map((u) => `${u.id} ${u.output}\n`).join('');
  const utt2spk = sorted.map((u) => `${u.id} ${u.speaker}\n`).join('');
  const bySpk = new Map<string, string[]>();
  for (const u of sorted) {
    const l = bySpk.get(u.speaker);
    if (l) l.push(u.id);
    else bySpk.set(u.speaker, [u.id]);
  }
  const spk2utt = [...bySpk.keys()]
    .sort(compareC)
    .map((s) => `${s} ${bySpk.get(s)!.join(' ')}\n`)
    .join('');
  return [
    await outDir.writeText(folder, 'wav.scp', wavScp),
    await outDir.writeText(folder, 'text', text),
    await outDir.writeText(folder, 'utt2spk', utt2spk),
    await outDir.writeText(folder, 'spk2utt', spk2utt),
  ];
}

/** Hugging Face audiofolder: metadata.jsonl with file_name relative to the folder, the text and the labels as columns (every row has every column). */
async function writeHf(outDir: OutDir, folder: string, utts: ExportedUtterance[]): Promise<string> {
  const labelKeys = [...new Set(utts.flatMap((u) => Object.keys(u.labels)))]
    .filter((k) => !['file_name', 'id', 'text', 'speaker_id', 'name', 'transcription'].includes(k))
    .sort();
  const rows = [...utts]
    .sort((a, b) => compareC(a.id, b.id))
    .map((u) => {
      const row: Record<string, unknown> = {
        file_name: u.wav,
        id: u.id,
        text: u.output,
        transcription: u.text,
        speaker_id: u.speaker,
        name: u.name,
      };
      for (const k of labelKeys) row[k] = u.labels[k] ?? null;
      return JSON.stringify(row) + '\n';
    });
  return outDir.writeText(folder, 'metadata.jsonl', rows.join(''));
}

/** LJSpeech: metadata.csv `id|text|normalized text` (no header; `|` in text becomes a space) and wavs/<id>.wav. */
async function writeLjspeech(outDir: OutDir, folder: string, utts: ExportedUtterance[]): Promise<string> {
  const clean = (s: string) => s.replace(/\|/g, ' ');
  const rows = [...utts].sort((a, b) => compareC(a.id, b.id)).map((u) => `${u.id}|${clean(u.text)}|${clean(u.output)}\n`);
  return outDir.writeText(folder, 'metadata.csv', rows.join(''));
}

/** `fn` over `items`, at most `limit` at a time; results in input order. */
async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** Reads an exclusion file (see parseExcludeList). */
export async function readExcludeList(file: string): Promise<Map<string, string>> {
  return parseExcludeList(await readFile(file, 'utf8'));
}
