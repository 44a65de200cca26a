// Reads what the student learns from: teacher-labelled characters, from a teacher run's
// manifest.jsonl, an upstream text_compare.jsonl, or a CPP-style X.sent + X.lb pair.
import { readFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { isManifestRecord, latestByName, parseJsonLines, parseTextCompare } from '../batch/manifest';
import { parseReplacement } from '../formats/notation';
import { AbleList } from '../pronunciation/g2p/ableList';
import { excludedLines } from '../qa/runQa';
import { candidateReadings, charAt, isHan, normalizeReading } from './readings';
import type { LabelledExample } from './trainer';

export type LabelSourceKind = 'manifest' | 'text_compare' | 'cpp';

export interface LabelSource {
  file: string;
  kind: LabelSourceKind;
  examples: LabelledExample[];
  /** Records or lines that could not be used, with why (first few). */
  skipped: number;
  problems: string[];
}

/** The marks CPP puts around the target character. */
export const CPP_MARK = '\u2581';

export class LabelFileError extends Error {}

/** Polyphones only: a character with one reading teaches the student nothing. */
function isPolyphone(ch: string): boolean {
  return candidateReadings(ch).length > 1;
}

export async function readLabels(file: string): Promise<LabelSource> {
  if (file.endsWith('.sent')) return readCpp(file);
  const text = await readFile(file, 'utf8');
  if (basename(file).startsWith('text_compare') || /"syn_text_tn"\s*:/.test(text.slice(0, 4000))) return fromTextCompare(file, text);
  // A teacher run's manifest: the lines its QA gates exclude (qa.jsonl + qa-overrides.json beside it) teach nothing.
  return fromManifest(file, text, await excludedLines(dirname(file)));
}

/** The fields of a teacher manifest record (core/batch) the student and the evaluation read. */
export interface TeacherRecord {
  /** 0-based line of the task in its task file. */
  line: number;
  name: string;
  text: string;
  /** One per UTF-16 unit of `text`: tone-numbered pinyin, or null. */
  readings: (string | null)[];
  /** One per UTF-16 unit: who decided the reading (dictionary | g2p | model | none, null = a local estimate); absent in older manifests. */
  sources?: (string | null)[];
  /** WAV file name, relative to the output folder. */
  audio: string;
  durationSeconds?: number;
  /** The prompt WAV as the teacher read it, and the line's labels (emotion…), when the manifest records them. */
  promptAudio?: string;
  labels?: Record<string, string | number | boolean>;
  /** sha256 of the WAV, to tell later whether a judgement is still of this output. */
  wavSha256?: string;
}

/**
 * Records of a teacher manifest (the format is core/batch/manifest.ts's) with usable `text` +
 * `readings`, the newest per task name in task order; the others are counted with why.
 */
export function parseManifest(content: string): { records: TeacherRecord[]; skipped: number; problems: string[] } {
  const out = { records: [] as TeacherRecord[], skipped: 0, problems: [] as string[] };
  const all = parseJsonLines(content, isManifestRecord);
  const blank = content.split('\n').filter((l) => l.trim()).length;
  if (all.length < blank) skip(out, `${blank - all.length} lines are not manifest records`, blank - all.length);
  for (const rec of latestByName(all).values()) {
    if (rec.readings.length !== rec.text.length) {
      skip(out, `${rec.name}: needs one reading per UTF-16 unit of the text`);
      continue;
    }
    out.records.push({
      line: rec.line,
      name: rec.name,
      text: rec.text,
      audio: rec.audio,
      readings: rec.readings.map((r) => (typeof r === 'string' && r ? normalizeReading(r) : null)),
      ...(Array.isArray(rec.sources) && rec.sources.length === rec.text.length
        ? { sources: rec.sources.map((s) => (typeof s === 'string' ? s : null)) }
        : {}),
      ...(typeof rec.durationSeconds === 'number' ? { durationSeconds: rec.durationSeconds } : {}),
      ...(typeof rec.promptAudio === 'string' && rec.promptAudio ? { promptAudio: rec.promptAudio } : {}),
      ...(rec.labels && typeof rec.labels === 'object' ? { labels: rec.labels } : {}),
      ...(typeof rec.wavSha256 === 'string' ? { wavSha256: rec.wavSha256 } : {}),
    });
  }
  out.records.sort((a, b) => a.line - b.line);
  return out;
}

/**
 * Manifest records (see core/batch): `text` and `readings`, one reading per UTF-16 unit of `text`.
 * Only teacher labels are learnt: readings whose source is `dictionary` or `g2p` (GLM-TTS wrote
 * their phoneme tokens) — never `model` characters (GLM-TTS's language model read them; the
 * reading is the G2P's hint) nor local estimates (null). A record without sources (older
 * manifests) gives the characters outside GLM-TTS's able list, the ones the teacher's G2P decides.
 */
export function fromManifest(file: string, content: string, exclude?: ReadonlyMap<string, string>): LabelSource {
  const parsed = parseManifest(content);
  const records = exclude?.size ? parsed.records.filter((r) => !exclude.has(r.name)) : parsed.records;
  const dropped = parsed.records.length - records.length;
  const problems = dropped
    ? [`${dropped} line(s) excluded by the QA gates (qa.jsonl, qa-overrides.json)`, ...parsed.problems]
    : parsed.problems;
  const src: LabelSource = { file, kind: 'manifest', examples: [], skipped: parsed.skipped + dropped, problems };
  let left = 0,
    old = 0;
  for (const r of records) {
    if (!r.sources) old++;
    left += addSentence(
      src,
      r.text,
      r.readings,
      r.sources ? (i) => r.sources![i] === 'dictionary' || r.sources![i] === 'g2p' : (i) => !AbleList.bundled.has(charAt(r.text, i) ?? ''),
    );
  }
  if (left && src.problems.length < 5)
    src.problems.push(`${left} polyphone reading(s) left out: read by GLM-TTS's language model or estimated locally, not teacher labels`);
  if (old && src.problems.length < 5)
    src.problems.push(`${old} record(s) without sources (older manifest): characters in GLM-TTS's able list left out`);
  return src;
}

/** Adds the polyphones of a sentence; returns how many `usable` left out. */
function addSentence(src: LabelSource, text: string, readings: readonly unknown[], usable?: (i: number) => boolean): number {
  let left = 0;
  for (let i = 0; i < text.length; i++) {
    const r = readings[i];
    if (typeof r !== 'string' || !r) continue;
    const ch = charAt(text, i);
    if (!ch || !isHan(ch) || !isPolyphone(ch)) continue;
    if (usable && !usable(i)) {
      left++;
      continue;
    }
    src.examples.push({ text, index: i, reading: normalizeReading(r) });
  }
  return left;
}

/**
 * Upstream text_compare.jsonl (read by core/batch/manifest.ts): per chunk, `syn_text_phoneme`
 * writes the characters the teacher's G2P converted in tokens in place of the characters of
 * `syn_text_tn`; those are the labels.
 */
export function fromTextCompare(file: string, content: string): LabelSource {
  const src: LabelSource = { file, kind: 'text_compare', examples: [], skipped: 0, problems: [] };
  for (const rec of parseTextCompare(content)) {
    if (!rec.syn_text_phoneme.length) {
      skip(src, `${rec.uttid}: no syn_text_phoneme (the run did not use --use_phoneme)`);
      continue;
    }
    rec.syn_text_tn.forEach((tn, k) => {
      const readings = alignPhonemes(tn, rec.syn_text_phoneme[k] ?? '');
      if (readings) addSentence(src, tn, readings);
      else skip(src, `${rec.uttid} chunk ${k + 1}: syn_text_phoneme does not line up with syn_text_tn`);
    });
  }
  return src;
}

/** Per UTF-16 unit of `text`, the reading written in tokens in `phonemes`, or null; undefined when they do not line up. */
export function alignPhonemes(text: string, phonemes: string): (string | null)[] | undefined {
  const out: (string | null)[] = new Array<string | null>(text.length).fill(null);
  let i = 0;
  for (const part of parseReplacement(phonemes)) {
    if (part.kind === 'invalid') return undefined;
    if (i >= text.length) return part.kind === 'text' && !part.text.trim() ? out : undefined;
    if (part.kind === 'text') {
      if (text.startsWith(part.text, i)) {
        i += part.text.length;
        continue;
      }
      // Whitespace may differ between the two fields.
      if (!part.text.trim()) continue;
      return undefined;
    }
    const ch = charAt(text, i);
    if (!ch) return undefined;
    out[i] = part.pinyin;
    i += ch.length;
  }
  return i >= text.length ? out : undefined;
}

/** CPP: X.sent holds one sentence a line with the target wrapped in U+2581, X.lb its reading. */
export async function readCpp(sentFile: string): Promise<LabelSource> {
  const lbFile = sentFile.replace(/\.sent$/, '.lb');
  let lb: string;
  try {
    lb = await readFile(lbFile, 'utf8');
  } catch {
    throw new LabelFileError(`${sentFile}: its labels ${basename(lbFile)} are not beside it`);
  }
  return fromCpp(sentFile, await readFile(sentFile, 'utf8'), lb);
}

export function fromCpp(file: string, sent: string, lb: string): LabelSource {
  const src: LabelSource = { file, kind: 'cpp', examples: [], skipped: 0, problems: [] };
  const sents = trimLines(sent),
    labels = trimLines(lb);
  if (sents.length !== labels.length) throw new LabelFileError(`${file}: ${sents.length} sentences but ${labels.length} labels`);
  sents.forEach((line, n) => {
    const t = parseCppSentence(line);
    if (!t) {
      skip(src, `line ${n + 1}: no target marked with ${CPP_MARK}…${CPP_MARK}`);
      return;
    }
    src.examples.push({ text: t.text, index: t.index, reading: normalizeReading(labels[n]!) });
  });
  return src;
}

/** `…发现▁了▁此天体。` → the text without marks and the index of the target. */
export function parseCppSentence(line: string): { text: string; index: number } | undefined {
  const a = line.indexOf(CPP_MARK);
  const b = a < 0 ? -1 : line.indexOf(CPP_MARK, a + 1);
  if (a < 0 || b <= a + 1) return undefined;
  return { text: line.slice(0, a) + line.slice(a + 1, b) + line.slice(b + 1), index: a };
}

function trimLines(s: string): string[] {
  const lines = s.split(/\r?\n/);
  while (lines.length && !lines[lines.length - 1]!.trim()) lines.pop();
  return lines;
}

function skip(src: { skipped: number; problems: string[] }, why: string, count = 1): void {
  src.skipped += count;
  if (src.problems.length < 5) src.problems.push(why);
}
