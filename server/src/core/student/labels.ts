// Reads what the student learns from: teacher-labelled characters, from a teacher run's
// manifest.jsonl, an upstream text_compare.jsonl, or a CPP-style X.sent + X.lb pair.
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { parseReplacement } from '../notation';
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
  if (basename(file).startsWith('text_compare') || /"syn_text_phoneme"\s*:/.test(text.slice(0, 4000))) return fromTextCompare(file, text);
  return fromManifest(file, text);
}

/** The fields of a teacher manifest record (core/batch) the student and the evaluation read. */
export interface TeacherRecord {
  /** 0-based line of the task in its task file. */
  line: number;
  name: string;
  text: string;
  /** One per UTF-16 unit of `text`: tone-numbered pinyin, or null. */
  readings: (string | null)[];
  /** WAV file name, relative to the output folder. */
  audio?: string;
  durationSeconds?: number;
}

/** Manifest records with usable `text` + `readings`; the others are counted with why. */
export function parseManifest(content: string): { records: TeacherRecord[]; skipped: number; problems: string[] } {
  const out = { records: [] as TeacherRecord[], skipped: 0, problems: [] as string[] };
  content.split(/\r?\n/).forEach((line, n) => {
    if (!line.trim()) return;
    let rec: Partial<Record<keyof TeacherRecord, unknown>>;
    try {
      rec = JSON.parse(line) as typeof rec;
    } catch {
      skip(out, `line ${n + 1}: not JSON`);
      return;
    }
    if (typeof rec.text !== 'string' || !Array.isArray(rec.readings) || rec.readings.length !== rec.text.length) {
      skip(out, `line ${n + 1}: needs "text" and "readings" with one entry per UTF-16 unit of the text`);
      return;
    }
    out.records.push({
      line: typeof rec.line === 'number' ? rec.line : n,
      name: typeof rec.name === 'string' ? rec.name : String(n),
      text: rec.text,
      readings: (rec.readings as unknown[]).map((r) => (typeof r === 'string' && r ? normalizeReading(r) : null)),
      ...(typeof rec.audio === 'string' ? { audio: rec.audio } : {}),
      ...(typeof rec.durationSeconds === 'number' ? { durationSeconds: rec.durationSeconds } : {}),
    });
  });
  return out;
}

/** Manifest records (see core/batch): `text` and `readings`, one reading per UTF-16 unit of `text`. */
export function fromManifest(file: string, content: string): LabelSource {
  const { records, skipped, problems } = parseManifest(content);
  const src: LabelSource = { file, kind: 'manifest', examples: [], skipped, problems };
  for (const r of records) addSentence(src, r.text, r.readings);
  return src;
}

function addSentence(src: LabelSource, text: string, readings: readonly unknown[]): void {
  for (let i = 0; i < text.length; i++) {
    const r = readings[i];
    if (typeof r !== 'string' || !r) continue;
    const ch = charAt(text, i);
    if (!ch || !isHan(ch) || !isPolyphone(ch)) continue;
    src.examples.push({ text, index: i, reading: normalizeReading(r) });
  }
}

/**
 * Upstream text_compare.jsonl: pretty-printed records, one after the other. In
 * `syn_text_phoneme`, the characters the teacher's G2P converted are written in tokens in place
 * of the character of `syn_text_tn`; those are the labels.
 */
export function fromTextCompare(file: string, content: string): LabelSource {
  const src: LabelSource = { file, kind: 'text_compare', examples: [], skipped: 0, problems: [] };
  let n = 0;
  for (const raw of splitConcatenatedJson(content)) {
    n++;
    let rec: { syn_text_tn?: unknown; syn_text_phoneme?: unknown; uttid?: unknown };
    try {
      rec = JSON.parse(raw) as typeof rec;
    } catch {
      skip(src, `record ${n}: not JSON`);
      continue;
    }
    const tn = rec.syn_text_tn, ph = rec.syn_text_phoneme;
    if (typeof tn !== 'string' || typeof ph !== 'string') {
      skip(src, `record ${n}: needs syn_text_tn and syn_text_phoneme`);
      continue;
    }
    const readings = alignPhonemes(tn, ph);
    if (!readings) {
      skip(src, `record ${n}${typeof rec.uttid === 'string' ? ` (${rec.uttid})` : ''}: syn_text_phoneme does not line up with syn_text_tn`);
      continue;
    }
    addSentence(src, tn, readings);
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
      if (text.startsWith(part.text, i)) { i += part.text.length; continue; }
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

/** Splits text holding JSON objects written one after another (any layout) into each object's text. */
export function splitConcatenatedJson(content: string): string[] {
  const out: string[] = [];
  let depth = 0, start = -1, inString = false, escaped = false;
  for (let i = 0; i < content.length; i++) {
    const c = content[i]!;
    if (inString) {
      if (escaped) escaped = false;
      else if (c === '\\') escaped = true;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === '{') { if (depth++ === 0) start = i; }
    else if (c === '}' && depth > 0 && --depth === 0) out.push(content.slice(start, i + 1));
  }
  return out;
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
  const sents = trimLines(sent), labels = trimLines(lb);
  if (sents.length !== labels.length) throw new LabelFileError(`${file}: ${sents.length} sentences but ${labels.length} labels`);
  sents.forEach((line, n) => {
    const t = parseCppSentence(line);
    if (!t) { skip(src, `line ${n + 1}: no target marked with ${CPP_MARK}…${CPP_MARK}`); return; }
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

function skip(src: { skipped: number; problems: string[] }, why: string): void {
  src.skipped++;
  if (src.problems.length < 5) src.problems.push(why);
}
