import type { LineFinding, Range, RelatedInformation, Severity } from '../findings';
import type { ReplaceDict } from './dictionary';
import { type ParsedTaskLine, TASK_FIELDS, type TaskLineAnalyzer } from '../formats/taskFile';
import { candidateReadings, candidatesOfCode, defaultReading, type LineReadings, type ReadingSource, sourceAt } from './teacherReadings';
import { AbleList } from './g2p/ableList';
import { isHan } from '../formats/notation';
import { linePredict } from './lineCache';
import { intern } from '../util/intern';

/**
 * Polyphone flags on task text: every polyphonic character the teacher will decide gets a
 * finding naming the reading the teacher will use and the other candidates; where a second
 * opinion disagrees it is raised to a warning (the "ambiguous" case the user must look at).
 * A polyphone in GLM-TTS's able list gets no tokens from the teacher's G2P: the finding says
 * that its language model decides, with the G2P's reading only as a hint.
 */

/** A second predictor of a character's reading (the G2P student). */
export interface SecondOpinion {
  readonly version: string;
  /** Who it is, in messages ("the student"). */
  readonly label: string;
  predict(text: string, index: number): string | undefined;
  /** Its reading where it confidently disagrees with the teacher's (core/student/secondOpinion.ts), else undefined. */
  misreading?(text: string, index: number, teacherReading: string): { reading: string; confidence: number } | undefined;
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
  /** The student that computed the verdicts elsewhere (worker threads), when `student` is not loaded here. */
  studentRef?: { version: string; label: string };
  recorded?: RecordedRuns;
  /** GLM-TTS's able list (the checkout's when one is configured); the bundled copy when absent. */
  able?: AbleList;
  /** Only the findings a second opinion raises (ambiguous): the per-polyphone ones are not built at all. */
  raisedOnly?: boolean;
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
  /** Who decides the reading when the teacher runs: a dictionary rule, the G2P's tokens, or the language model (able list). */
  source: ReadingSource;
}

export const POLYPHONE_CODE = 'pronunciation/polyphone';
export const AMBIGUOUS_CODE = 'pronunciation/ambiguous';

/**
 * What the analysis decided about one polyphone of a text: plain data, so that worker threads
 * can compute it (core/pronunciation/readingsWorker.ts) and the language server only turns it
 * into a finding (`PolyphoneAnalyzer.fromVerdicts`).
 */
export interface PolyphoneVerdict {
  /** UTF-16 index of the character in the text. */
  index: number;
  /** The embedded teacher's prediction (its G2P and the dictionary), null when it has none. */
  predicted: string | null;
  source: ReadingSource;
  /** The dictionary rule that decides it. */
  pinned?: { key: string; line?: number };
  /** A second opinion that reads it otherwise than the teacher (the student, or pinyin-pro alone without one). */
  second?: { reading: string; by: 'student' | 'pinyin-pro'; confidence?: number };
}

export interface VerdictOptions {
  dict: ReplaceDict;
  able?: AbleList;
  student?: SecondOpinion;
  /** Only the polyphones a second opinion (or a recorded run) raises. */
  raisedOnly?: boolean;
}

/**
 * The verdict on every polyphone of `text` (or only on the raised ones): `lr` is the text's
 * readings (`predictReadings`), `recorded` an earlier run's readings of the same text, which
 * are then the teacher's reading the second opinion is compared with.
 */
export function polyphoneVerdicts(
  text: string,
  lr: LineReadings,
  o: VerdictOptions,
  recorded?: ReadonlyArray<string | null>,
): PolyphoneVerdict[] {
  const { readings, pinned } = lr;
  const able = o.able ?? AbleList.bundled;
  const out: PolyphoneVerdict[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x2e80) continue;
    let char: string;
    if (c >= 0xd800 && c <= 0xdbff) {
      const cp = text.codePointAt(i)!;
      if (!isHan(cp)) continue;
      char = text.slice(i, i + 2);
      if (candidateReadings(char).length < 2) {
        i++;
        continue;
      }
    } else {
      // By code first: most characters are not polyphones, and no string is made for them.
      if (!isHan(c) || candidatesOfCode(c).length < 2) continue;
      char = text[i]!;
    }
    const rec = recorded?.[i] ?? undefined;
    const predicted = readings[i] ?? defaultReading(char) ?? null;
    const teacher = rec ?? predicted;
    const rule = pinned?.get(i);
    let second: PolyphoneVerdict['second'];
    if (o.student?.misreading) {
      // Only where the student confidently reads otherwise (core/student/secondOpinion.ts; the
      // threshold is calibrated by npm run bench:flags), the model-read (able-list) ones alike.
      const m = teacher ? o.student.misreading(text, i, teacher) : undefined;
      if (m) second = { reading: m.reading, by: 'student', confidence: m.confidence };
    } else if (o.student) {
      const st = o.student.predict(text, i);
      if (st && teacher && !sameReading(st, teacher)) second = { reading: st, by: 'student' };
    } else if (!rule && !rec) {
      const d = defaultReading(char);
      if (d && teacher && !sameReading(d, teacher)) second = { reading: d, by: 'pinyin-pro' };
    }
    const raised = !!second || (!!rec && !!predicted && !sameReading(rec, predicted));
    if (!o.raisedOnly || raised) {
      const v: PolyphoneVerdict = { index: i, predicted, source: sourceAt(lr, char, i, able) };
      if (rule) v.pinned = rule;
      if (second) v.second = second;
      out.push(v);
    }
    if (char.length === 2) i++;
  }
  return out;
}

export interface PolyphoneAnalyzer extends TaskLineAnalyzer {
  /** The findings of a line from verdicts computed elsewhere (with the same dictionary, student and runs). */
  fromVerdicts(line: ParsedTaskLine, text: string, verdicts: readonly PolyphoneVerdict[]): LineFinding[];
}

export function createPolyphoneAnalyzer(opts: PolyphoneOptions): PolyphoneAnalyzer {
  const ignore = new Set(opts.ignore);
  const able = opts.able ?? AbleList.bundled;
  const version = [
    'poly',
    opts.raisedOnly ? 'raised' : 'all',
    opts.dict.version,
    able.version,
    opts.severity,
    [...ignore].join(''),
    opts.student?.version ?? opts.studentRef?.version ?? '-',
    opts.recorded?.version ?? '-',
  ].join('|');
  const raised: Severity = opts.severity === 'error' ? 'error' : 'warning';
  const alsoCache = new Map<string, Map<string, string>>();
  // The quick fixes' readings with the second opinion's first: one array per character and reading
  // (67,000 findings at 100,000 lines shared a few hundred; they are never changed).
  const firstCache = new Map<string, Map<string, string[]>>();
  const suggestedFirst = (char: string, cands: string[], first: string): string[] => {
    let byFirst = firstCache.get(char);
    if (!byFirst) firstCache.set(char, (byFirst = new Map()));
    let list = byFirst.get(first);
    if (!list) byFirst.set(first, (list = [first, ...cands.filter((x) => x !== first)]));
    return list;
  };
  const messages = new Map<string, string>();
  const label = opts.student?.label ?? opts.studentRef?.label ?? 'the student';

  const fromVerdicts = (line: ParsedTaskLine, text: string, verdicts: readonly PolyphoneVerdict[]): LineFinding[] => {
    if (!verdicts.length) return [];
    const recorded = opts.recorded?.lookup(text);
    const field = textField(line, text);
    if (!field) return [];
    let out: LineFinding[] | undefined;
    for (const v of verdicts) {
      const i = v.index;
      const cp = text.codePointAt(i)!;
      // Findings are kept per line for the whole file: share the small strings they hold.
      const char = intern(String.fromCodePoint(cp));
      if (ignore.has(char)) continue;
      const cands = candidateReadings(char);
      const rec = recorded?.readings[i] ?? undefined;
      const predicted = v.predicted;
      const teacher = rec ?? predicted;
      let byReading = alsoCache.get(char);
      if (!byReading) alsoCache.set(char, (byReading = new Map()));
      let also = byReading.get(teacher ?? '');
      if (also === undefined) {
        const rest = cands.filter((x) => x !== teacher);
        also = rest.length ? ` (also ${rest.join(', ')})` : '';
        byReading.set(teacher ?? '', also);
      }
      const rule = v.pinned;
      let disagree: string | undefined;
      if (rec && predicted && !sameReading(rec, predicted))
        disagree = `${rule ? 'the dictionary now says' : 'the embedded teacher predicts'} ${predicted}`;
      // The second opinion's reading, first in the quick fixes when it raises the flag with a confidence.
      let suggested: string | undefined;
      const second = v.second;
      if (second?.by === 'student') {
        if (second.confidence !== undefined) suggested = second.reading;
        disagree =
          (disagree ? `${disagree}; ` : '') +
          `${label} reads ${second.reading}${second.confidence !== undefined ? ` (${Math.round(second.confidence * 100)} % sure)` : ''}`;
      } else if (second) disagree = `pinyin-pro alone reads ${second.reading}`;
      // Only the raised ones wanted (the language server without information diagnostics): build nothing else.
      if (opts.raisedOnly && !disagree) continue;
      const source = v.source;
      const f: LineFinding = {
        start: field.offsetOf(i),
        end: field.offsetOf(i + char.length),
        severity: opts.severity,
        code: POLYPHONE_CODE,
        message:
          source === 'model'
            ? `${char}: GLM-TTS leaves ${char} to its language model${rec ? ` (${recorded!.run} recorded ${rec})` : ''}; its G2P would read ${predicted ?? '?'}${also}, only a hint; a dictionary rule is the only way to decide it`
            : rec
              ? `${char}: teacher read ${rec} in ${recorded!.run}${also}`
              : `${char}: teacher reads ${teacher ?? '?'}${also}`,
        data: {
          kind: 'polyphone',
          char,
          index: i,
          reading: teacher === null ? null : (cands.find((x) => x === teacher) ?? teacher),
          candidates: suggested ? suggestedFirst(char, cands, suggested) : cands,
          source,
        } satisfies PolyphoneData,
      };
      let related: RelatedInformation[] | undefined;
      if (rule) {
        (f.data as PolyphoneData).pinned = rule.key;
        const where = rule.line !== undefined ? `${opts.dictName ?? 'dictionary'}:${rule.line + 1}` : (opts.dictName ?? 'dictionary');
        f.message += `, decided by the dictionary rule "${rule.key}" (${where})`;
        const loc = opts.ruleLocation?.(rule.key, rule.line);
        if (loc) (related ??= []).push({ file: loc.file, range: loc.range, message: `the rule "${rule.key}" → ${predicted}` });
      }
      if (rec && recorded?.file && recorded.range)
        (related ??= []).push({ file: recorded.file, range: recorded.range, message: `recorded by ${recorded.run}` });
      if (related) f.related = related;
      if (disagree) {
        f.message += `; ${disagree}: ambiguous, pin the reading you want`;
        f.severity = raised;
        f.code = AMBIGUOUS_CODE;
      }
      // Most messages repeat across lines (same character, reading and second opinion): keep one copy of each.
      if (!rule && !rec) {
        const same = messages.get(f.message);
        if (same !== undefined) f.message = same;
        else if (messages.size < 50000) messages.set(f.message, f.message);
      }
      (out ??= []).push(f);
    }
    return out ?? [];
  };

  return {
    version,
    fromVerdicts,
    analyze(line: ParsedTaskLine): LineFinding[] {
      const text = line.get('text');
      if (text === undefined || text === '') return [];
      // Cached per text and dictionary (the language server fills the cache ahead, in worker threads).
      const lr = linePredict(text, opts.dict);
      const verdicts = polyphoneVerdicts(
        text,
        lr,
        { dict: opts.dict, able, student: opts.student, raisedOnly: opts.raisedOnly },
        opts.recorded?.lookup(text)?.readings,
      );
      return fromVerdicts(line, text, verdicts);
    },
  };
}

/** Two readings agree when they are equal or differ only by a neutral tone (个 ge4 / ge5). */
function sameReading(a: string, b: string): boolean {
  if (a === b) return true;
  const ta = a.charCodeAt(a.length - 1),
    tb = b.charCodeAt(b.length - 1);
  return (ta === 53 || tb === 53) && a.slice(0, -1) === b.slice(0, -1);
}

/**
 * Offsets of the text field's characters. The common case (the key once, no escapes in the
 * value) is found with two string searches; anything else goes through the JSON scanner.
 */
function textField(line: ParsedTaskLine, text: string): { offsetOf(i: number): number } | undefined {
  const raw = line.text;
  const needle = `"${TASK_FIELDS[line.dialect].text}"`;
  const at = raw.indexOf(needle);
  if (at > 0 && raw.charCodeAt(at - 1) !== 92 && raw.indexOf(needle, at + 1) < 0) {
    let p = at + needle.length;
    while (raw.charCodeAt(p) === 32) p++;
    if (raw.charCodeAt(p) === 58 /* : */) {
      p++;
      while (raw.charCodeAt(p) === 32) p++;
      if (raw.charCodeAt(p) === 34 && raw.startsWith(text, p + 1) && raw.charCodeAt(p + 1 + text.length) === 34) {
        const base = p + 1;
        return { offsetOf: (i) => base + i };
      }
    }
  }
  return line.field('text');
}
