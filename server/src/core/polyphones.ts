import type { LineFinding, Range, RelatedInformation, Severity } from './findings';
import type { ReplaceDict } from './dictEngine';
import type { ParsedTaskLine, TaskLineAnalyzer } from './taskFile';
import { type CharReading, defaultReading, teacherReadings } from './teacherG2P';

/**
 * Polyphone flags on task text: every polyphonic character the teacher will decide gets a
 * finding naming the reading the teacher will use and the other candidates; where a second
 * opinion disagrees it is raised to a warning (the "ambiguous" case the user must look at).
 */

/** A second predictor of a character's reading (the G2P student). */
export interface SecondOpinion {
  readonly version: string;
  /** Who it is, in messages ("the student"). */
  readonly label: string;
  predict(text: string, index: number): string | undefined;
}

/** Readings an earlier teacher run recorded for a text. */
export interface RecordedRun {
  /** Per UTF-16 unit of the text: tone-numbered pinyin or null. */
  readings: ReadonlyArray<string | null>;
  /** Where they come from, for messages ("run teacher-out"). */
  run: string;
  /** The file that holds them and the place in it. */
  file?: string;
  range?: Range;
}

export interface RecordedRuns {
  readonly version: string;
  lookup(text: string): RecordedRun | undefined;
}

export interface PolyphoneOptions {
  dict: ReplaceDict;
  /** Where the dictionary's entries are (for related information): the rule with this key on this 0-based line. */
  ruleLocation?: (key: string, line: number | undefined) => { file?: string; range: Range } | undefined;
  /** Name of the dictionary in messages (its file name). */
  dictName?: string;
  severity: Severity;
  ignore: readonly string[];
  student?: SecondOpinion;
  recorded?: RecordedRuns;
}

/** Data on each polyphone finding, for quick fixes and hovers. */
export interface PolyphoneData {
  kind: 'polyphone';
  char: string;
  /** Index of the character in the decoded text. */
  index: number;
  reading: string | null;
  candidates: string[];
  pinned?: string;
}

export const POLYPHONE_CODE = 'pronunciation/polyphone';
export const AMBIGUOUS_CODE = 'pronunciation/ambiguous';

export function createPolyphoneAnalyzer(opts: PolyphoneOptions): TaskLineAnalyzer {
  const ignore = new Set(opts.ignore);
  const version = ['poly', opts.dict.version, opts.severity, [...ignore].join(''), opts.student?.version ?? '-', opts.recorded?.version ?? '-'].join('|');
  const raised: Severity = opts.severity === 'error' ? 'error' : 'warning';
  return {
    version,
    analyze(line: ParsedTaskLine): LineFinding[] {
      const text = line.get('text');
      if (text === undefined || text === '') return [];
      const readings = teacherReadings(text, opts.dict);
      let out: LineFinding[] | undefined;
      let recorded: RecordedRun | undefined | null = null;
      let field: ReturnType<ParsedTaskLine['field']> | null = null;
      for (let i = 0; i < readings.length; i++) {
        const r = readings[i]!;
        if (!r.polyphone || ignore.has(r.char)) continue;
        if (recorded === null) recorded = opts.recorded?.lookup(text);
        if (field === null) field = line.field('text');
        if (!field) return [];
        const f = flag(text, i, r, recorded, opts, raised);
        (out ??= []).push({ ...f, start: field.offsetOf(i), end: field.offsetOf(i + r.char.length) });
      }
      return out ?? [];
    },
  };
}

function flag(text: string, i: number, r: CharReading, recorded: RecordedRun | undefined, opts: PolyphoneOptions, raised: Severity): Omit<LineFinding, 'start' | 'end'> {
  const rec = recorded?.readings[i] ?? undefined;
  const teacher = rec ?? r.reading;
  const also = r.candidates.filter((c) => c !== teacher);
  const alsoText = also.length ? ` (also ${also.join(', ')})` : '';
  let message = rec
    ? `${r.char}: teacher read ${rec} in ${recorded!.run}${alsoText}`
    : `${r.char}: teacher reads ${teacher ?? '?'}${alsoText}`;
  const related: RelatedInformation[] = [];
  if (r.source === 'dictionary' && r.rule) {
    const where = r.rule.line !== undefined ? `${opts.dictName ?? 'dictionary'}:${r.rule.line + 1}` : opts.dictName ?? 'dictionary';
    message += `, decided by the dictionary rule "${r.rule.key}" (${where})`;
    const loc = opts.ruleLocation?.(r.rule.key, r.rule.line);
    if (loc) related.push({ file: loc.file, range: loc.range, message: `the rule "${r.rule.key}" → ${r.reading}` });
  }
  if (rec && recorded?.file && recorded.range) related.push({ file: recorded.file, range: recorded.range, message: `recorded by ${recorded.run}` });
  const disagree: string[] = [];
  if (rec && r.reading && rec !== r.reading) disagree.push(`${r.source === 'dictionary' ? 'the dictionary now says' : 'the embedded teacher predicts'} ${r.reading}`);
  if (opts.student) {
    const s = opts.student.predict(text, i);
    if (s && s !== teacher) disagree.push(`${opts.student.label} reads ${s}`);
  } else if (r.source !== 'dictionary' && !rec) {
    const d = defaultReading(r.char);
    if (d && teacher && d !== teacher) disagree.push(`pinyin-pro alone reads ${d}`);
  }
  if (disagree.length) message += `; ${disagree.join('; ')}: ambiguous, pin the reading you want`;
  const data: PolyphoneData = { kind: 'polyphone', char: r.char, index: i, reading: teacher, candidates: r.candidates };
  if (r.source === 'dictionary') data.pinned = r.rule?.key;
  const finding: Omit<LineFinding, 'start' | 'end'> = {
    severity: disagree.length ? raised : opts.severity,
    code: disagree.length ? AMBIGUOUS_CODE : POLYPHONE_CODE,
    message,
    data,
  };
  if (related.length) finding.related = related;
  return finding;
}
