import Ajv, { type ValidateFunction } from 'ajv';
import ruleSchema from '../../../../schemas/g2p-rule.schema.json';
import upstreamSchema from '../../../../schemas/g2p-upstream.schema.json';
import { capFindings, type Finding, range, type RelatedInformation } from '../findings';
import { BOM, findSyntaxError, jsonLimitProblem, type JsonMember, scanMembers, splitLines, stringOffsetMapper } from './jsonl';
import type { Settings } from '../settings';
import { type DictDialect, hanChars, ReplaceDict, ruleToUpstream } from '../pronunciation/dictionary';
import { keyNeverMatches, teacherTextView } from '../pronunciation/glmFrontend';
import { isHan, looksLikeTokens, parsePinyin, parseReplacement, pinyinToTokens, readingToPinyin } from './notation';
import { candidateReadings, teacherReadings } from '../pronunciation/teacherReadings';

export type { DictDialect } from '../pronunciation/dictionary';

/**
 * G2P replacement dictionaries (docs/FORMATS.md §2), both dialects: `rule` lines
 * `{"word","context","phoneme"}` and `upstream` lines `{"<surface>": "<replacement>"}`.
 * `parseDictionaryFile` gives every entry with the offsets of its key and value;
 * `validateDictionaryText` does the structural checks; `dictionaryPronunciationFindings` the
 * checks of what the teacher will do with each entry.
 */
const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
const validators: Record<DictDialect, ValidateFunction> = { rule: ajv.compile(ruleSchema), upstream: ajv.compile(upstreamSchema) };

export function lineDialect(value: Record<string, unknown>): DictDialect {
  return 'word' in value || 'context' in value || 'phoneme' in value ? 'rule' : 'upstream';
}

/** One entry of a dictionary file, with offsets into its line (the JSON string literals, quotes included). */
export interface DictFileEntry {
  /** 0-based line. */
  line: number;
  dialect: DictDialect;
  /** Upstream: the key. Rule: the context (the key it stands for). */
  key: string;
  keyStart: number;
  keyEnd: number;
  /** Upstream: the replacement. Rule: the phoneme as written. */
  value: string;
  valueStart: number;
  valueEnd: number;
  /** Rule lines: the word and its offsets. */
  word?: string;
  wordStart?: number;
  wordEnd?: number;
  /** Offset in the line of character i of the decoded key / value. */
  keyOffsetOf(i: number): number;
  valueOffsetOf(i: number): number;
  /** Index of this entry among the members of its line (upstream lines may hold several). */
  member: number;
  /** Members on the line (to remove one key of a multi-key line). */
  membersOnLine: number;
}

export interface ParsedDictionary {
  dialect: DictDialect | 'mixed' | 'unknown';
  entries: DictFileEntry[];
  /** Structural findings (JSON, schema, BOM). */
  findings: Finding[];
  lines: string[];
}

export function parseDictionaryFile(text: string): ParsedDictionary {
  const lines = splitLines(text);
  const findings: Finding[] = [];
  const entries: DictFileEntry[] = [];
  const seen = new Set<DictDialect>();
  lines.forEach((raw, i) => {
    let line = raw;
    let off = 0;
    if (i === 0 && line.startsWith(BOM)) {
      findings.push({
        range: range(0, 0, 1),
        severity: 'error',
        code: 'dict/bom',
        message:
          'The dictionary starts with a UTF-8 byte order mark: the teacher reads it with json.loads, which rejects it ("Unexpected UTF-8 BOM"), so the run fails. Save as UTF-8 without BOM.',
      });
      line = line.slice(1);
      off = 1;
    }
    if (line.trim() === '') return; // the teacher skips blank lines
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      const e = findSyntaxError(line);
      findings.push({
        range: range(i, e.start + off, e.end + off),
        severity: 'error',
        code: 'dict/json-syntax',
        message: `${e.message} (column ${e.start + off + 1}); the teacher fails to load the dictionary.`,
      });
      return;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      findings.push({
        range: range(i, off, raw.length),
        severity: 'error',
        code: 'dict/not-object',
        message: 'Each line must be one JSON object.',
      });
      return;
    }
    const obj = value as Record<string, unknown>;
    const limit = jsonLimitProblem(obj, line);
    if (limit) {
      findings.push({ range: range(i, off, raw.length), severity: 'error', code: `dict/${limit.code}`, message: limit.message });
      return;
    }
    const dialect = lineDialect(obj);
    seen.add(dialect);
    const members = (scanMembers(line) ?? []).map((m) => ({
      ...m,
      keyStart: m.keyStart + off,
      keyEnd: m.keyEnd + off,
      valueStart: m.valueStart + off,
      valueEnd: m.valueEnd + off,
    }));
    const validate = validators[dialect];
    if (!validate(value)) {
      for (const err of validate.errors ?? []) {
        const key =
          err.instancePath.replace(/^\//, '') ||
          (err.params as { additionalProperty?: string; missingProperty?: string }).additionalProperty;
        const m = key !== undefined ? lastMember(members, key) : undefined;
        const [s, e] = m
          ? err.keyword === 'additionalProperties'
            ? [m.keyStart, m.keyEnd]
            : [m.valueStart, m.valueEnd]
          : [off, raw.length];
        const what =
          err.keyword === 'required'
            ? `missing key "${(err.params as { missingProperty: string }).missingProperty}"`
            : err.keyword === 'additionalProperties'
              ? `unknown key "${key}" in a rule line (rule lines have word, context, phoneme)`
              : err.keyword === 'propertyNames' || (err.instancePath === '' && err.keyword === 'minLength')
                ? 'an empty key: the teacher would match it at every position and never finish'
                : `${key ? `"${key}" ` : ''}${err.message}`;
        if (err.keyword === 'propertyNames' && (err.params as { propertyName?: string }).propertyName !== undefined) {
          const em = lastMember(members, (err.params as { propertyName: string }).propertyName);
          findings.push({
            range: em ? range(i, em.keyStart, em.keyEnd) : range(i, off, raw.length),
            severity: 'error',
            code: 'dict/empty-key',
            message: 'An empty key: the teacher matches it at every position and never finishes (the run hangs).',
          });
          continue;
        }
        findings.push({ range: range(i, s, e), severity: 'error', code: 'dict/schema', message: `${what}.` });
      }
    }
    if (dialect === 'rule') {
      const w = lastMember(members, 'word'),
        c = lastMember(members, 'context'),
        p = lastMember(members, 'phoneme');
      if (typeof obj.word === 'string' && typeof obj.context === 'string' && typeof obj.phoneme === 'string' && w && c && p) {
        entries.push({
          line: i,
          dialect,
          key: obj.context,
          keyStart: c.valueStart,
          keyEnd: c.valueEnd,
          value: obj.phoneme,
          valueStart: p.valueStart,
          valueEnd: p.valueEnd,
          word: obj.word,
          wordStart: w.valueStart,
          wordEnd: w.valueEnd,
          keyOffsetOf: stringOffsetMapper(raw, c.valueStart, c.valueEnd),
          valueOffsetOf: stringOffsetMapper(raw, p.valueStart, p.valueEnd),
          member: 0,
          membersOnLine: 1,
        });
      }
    } else {
      // Later members of one object overwrite earlier ones with the same key, as in json.loads.
      const keys = Object.keys(obj);
      keys.forEach((k, idx) => {
        const v = obj[k];
        const m = lastMember(members, k);
        if (typeof v !== 'string' || !m) return;
        entries.push({
          line: i,
          dialect,
          key: k,
          keyStart: m.keyStart,
          keyEnd: m.keyEnd,
          value: v,
          valueStart: m.valueStart,
          valueEnd: m.valueEnd,
          keyOffsetOf: stringOffsetMapper(raw, m.keyStart, m.keyEnd),
          valueOffsetOf: stringOffsetMapper(raw, m.valueStart, m.valueEnd),
          member: idx,
          membersOnLine: keys.length,
        });
      });
    }
  });
  const dialect = seen.size === 2 ? 'mixed' : seen.size === 1 ? [...seen][0]! : 'unknown';
  return { dialect, entries, findings, lines };
}

function lastMember(members: JsonMember[], key: string): JsonMember | undefined {
  for (let k = members.length - 1; k >= 0; k--) if (members[k]!.key === key) return members[k];
  return undefined;
}

/** Structural checks (JSON, schema, BOM) and the parsed entries. */
export function validateDictionaryText(
  text: string,
  settings: Pick<Settings, 'diagnostics'>,
): { dialect: string; findings: Finding[]; entries: DictFileEntry[] } {
  const p = parseDictionaryFile(text);
  return { dialect: p.dialect, findings: capFindings(p.findings, settings.diagnostics.maxPerFile), entries: p.entries };
}

/** What a pronunciation finding carries for its quick fix. */
export type DictFixData =
  | { fix: 'remove-duplicate'; line: number; key: string; member: number; membersOnLine: number }
  | { fix: 'use-tokens' | 'use-pinyin'; line: number; start: number; end: number; replacement: string };

export interface DictCheckOptions {
  /** Absolute path of the dictionary (for related information in other files). */
  file?: string;
  /**
   * Texts the teacher will speak (the workspace's task texts): a rule that never fires in any
   * of them because a longer key always wins is reported as shadowed.
   */
  contexts?: Iterable<string>;
}

/**
 * What the teacher will do with each entry: readings that are invalid or that the character
 * cannot have, contexts without their word, duplicate keys, keys that can never match after
 * the teacher's normalisation, rules shadowed by longer keys, rules that restate the default.
 */
export function dictionaryPronunciationFindings(parsed: ParsedDictionary, opts: DictCheckOptions = {}): Finding[] {
  const findings: Finding[] = [];
  const at = (e: DictFileEntry, s: number, end: number) => range(e.line, s, end);
  /** Entries that stand for a valid upstream entry, with their replacement. */
  const valid: Array<{ e: DictFileEntry; replacement: string }> = [];
  for (const e of parsed.entries) {
    let replacement: string | undefined;
    if (e.dialect === 'rule') {
      const word = e.word!;
      if (!e.key.includes(word)) {
        findings.push({
          range: at(e, e.keyStart, e.keyEnd),
          severity: 'error',
          code: 'dict/context-without-word',
          message: `"context" "${e.key}" does not contain "word" "${word}": the rule never applies.`,
          related: [{ file: opts.file, range: at(e, e.wordStart!, e.wordEnd!), message: 'the word' }],
        });
        continue;
      }
      const r = readingToPinyin(e.value);
      if (!r.ok) {
        findings.push({
          range: at(e, e.valueStart, e.valueEnd),
          severity: 'error',
          code: 'dict/invalid-reading',
          message: `Invalid reading: ${r.reason}.`,
        });
        continue;
      }
      if (looksLikeTokens(e.value)) {
        findings.push({
          range: at(e, e.valueStart, e.valueEnd),
          severity: 'hint',
          code: 'dict/token-notation-in-rule',
          message: `Rule readings are usually written in pinyin: ${r.value.join(' ')}.`,
          data: {
            fix: 'use-pinyin',
            line: e.line,
            start: e.valueStart,
            end: e.valueEnd,
            replacement: JSON.stringify(r.value.join(' ')),
          } satisfies DictFixData,
        });
      }
      const up = ruleToUpstream(word, e.key, e.value);
      if (!up.ok) {
        findings.push({
          range: at(e, e.valueStart, e.valueEnd),
          severity: 'error',
          code: 'dict/invalid-reading',
          message: `${up.reason}.`,
        });
        continue;
      }
      replacement = up.value.value;
      // Can each character of the word be read so?
      const han = hanChars(word);
      han.forEach((h, k) => {
        const reading = up.value.pinyin[k]!;
        const problem = impossibleReading(h.char, reading, candidateReadings(h.char));
        if (problem)
          findings.push({ range: at(e, e.valueStart, e.valueEnd), severity: 'warning', code: 'dict/impossible-reading', message: problem });
      });
    } else {
      const parts = parseReplacement(e.value);
      let broken = false;
      for (const p of parts) {
        if (p.kind === 'invalid') {
          broken = true;
          findings.push({
            range: at(e, e.valueOffsetOf(p.start), e.valueOffsetOf(p.end)),
            severity: 'error',
            code: 'dict/invalid-token',
            message: `${p.reason}.`,
          });
        }
      }
      // Pinyin typed into a value is spoken as letters: the teacher emits values verbatim.
      const textRuns = /[a-zA-Züv:]+[0-5]/g;
      let pinyinTyped = false;
      for (let m = textRuns.exec(e.value); m; m = textRuns.exec(e.value)) {
        if (e.value.slice(0, m.index).lastIndexOf('<|') > e.value.slice(0, m.index).lastIndexOf('|>')) continue;
        const p = parsePinyin(m[0]);
        if (!p) continue;
        pinyinTyped = true;
        const fixed = e.value.slice(0, m.index) + pinyinToTokens(p.text) + e.value.slice(m.index + m[0].length);
        findings.push({
          range: at(e, e.valueOffsetOf(m.index), e.valueOffsetOf(m.index + m[0].length)),
          severity: 'error',
          code: 'dict/pinyin-in-value',
          message: `"${m[0]}" is pinyin: the teacher emits the value as it is and would read the letters. Write it in token notation: ${pinyinToTokens(p.text)}.`,
          data: {
            fix: 'use-tokens',
            line: e.line,
            start: e.valueStart,
            end: e.valueEnd,
            replacement: JSON.stringify(fixed),
          } satisfies DictFixData,
        });
      }
      if (e.key === '') continue;
      if (!broken && !pinyinTyped) {
        replacement = e.value;
        for (const [offset, reading] of pinsOf(e.key, e.value)) {
          const char = String.fromCodePoint(e.key.codePointAt(offset)!);
          const problem = impossibleReading(char, reading, candidateReadings(char));
          if (problem)
            findings.push({
              range: at(e, e.keyOffsetOf(offset), e.keyOffsetOf(offset + char.length)),
              severity: 'warning',
              code: 'dict/impossible-reading',
              message: problem,
            });
        }
      }
    }
    const never = keyNeverMatches(e.key);
    if (never) {
      findings.push({
        range: at(e, e.keyOffsetOf(never.index), e.keyOffsetOf(never.index + never.length)),
        severity: 'warning',
        code: 'dict/never-matches',
        message: `${never.reason}.`,
      });
      continue;
    }
    if (replacement !== undefined) valid.push({ e, replacement });
  }

  // The same key more than once: the later definition wins (dict.update).
  const byKey = new Map<string, DictFileEntry[]>();
  for (const e of parsed.entries) {
    const list = byKey.get(e.key);
    if (list) list.push(e);
    else byKey.set(e.key, [e]);
  }
  const replacementOf = (e: DictFileEntry): string | undefined =>
    e.dialect === 'rule'
      ? (() => {
          const r = ruleToUpstream(e.word!, e.key, e.value);
          return r.ok ? r.value.value : undefined;
        })()
      : e.value;
  for (const [key, list] of byKey) {
    if (list.length < 2) continue;
    const values = new Set(list.map(replacementOf));
    const differ = values.size > 1;
    const winner = list[list.length - 1]!;
    for (const e of list) {
      const others = list.filter((o) => o !== e);
      const related: RelatedInformation[] = others.map((o) => ({
        file: opts.file,
        range: range(o.line, o.keyStart, o.keyEnd),
        message: `"${key}" is also defined here${o === winner ? ' (this one wins)' : ''}`,
      }));
      const isWinner = e === winner;
      findings.push({
        range: range(e.line, e.keyStart, e.keyEnd),
        severity: differ ? 'error' : 'warning',
        code: differ ? 'dict/conflicting-key' : 'dict/duplicate-key',
        message: differ
          ? `"${key}" is defined ${list.length} times with different readings (lines ${list.map((o) => o.line + 1).join(', ')}): the teacher uses the last one (line ${winner.line + 1})${isWinner ? '' : ', so this one is ignored'}.`
          : `"${key}" is defined ${list.length} times (lines ${list.map((o) => o.line + 1).join(', ')}): the later one wins; the others are dead weight.`,
        related,
        data: { fix: 'remove-duplicate', line: e.line, key, member: e.member, membersOnLine: e.membersOnLine } satisfies DictFixData,
      });
    }
  }

  // Rules that only restate what the teacher says anyway.
  const winners = new Map<string, DictFileEntry>();
  for (const { e } of valid) winners.set(e.key, e);
  for (const { e, replacement } of valid) {
    if (winners.get(e.key) !== e) continue;
    const pins = pinsOf(e.key, replacement);
    if (!pins.size) continue;
    const view = teacherTextView(e.key);
    if (view.view !== e.key) continue;
    const defaults = teacherReadings(e.key);
    let same = true;
    for (const [offset, reading] of pins) if (defaults[offset]?.reading !== reading) same = false;
    if (same) {
      const what = [...pins].map(([o, r]) => `${String.fromCodePoint(e.key.codePointAt(o)!)} ${r}`).join(', ');
      findings.push({
        range: range(e.line, Math.min(e.keyStart, e.wordStart ?? e.keyStart), Math.max(e.valueEnd, e.keyEnd, e.wordEnd ?? 0)),
        severity: 'hint',
        code: 'dict/redundant',
        message: `Redundant: the teacher already reads ${what} in "${e.key}" without this rule.`,
        tags: ['unnecessary'],
      });
    }
  }

  // Rules that never fire in the workspace's texts because a longer key always wins.
  if (opts.contexts && valid.length) {
    const dict = new ReplaceDict(
      [...winners.values()].map((e) => ({ key: e.key, value: replacementOf(e)!, line: e.line, dialect: e.dialect })),
    );
    const seenIn = new Map<string, number>();
    const fired = new Set<string>();
    const shadowers = new Map<string, Set<string>>();
    for (const ctx of opts.contexts) {
      const view = teacherTextView(ctx).view;
      const occ = dict.occurrences(view);
      if (!occ.length) continue;
      const cover: Array<string | undefined> = new Array(view.length);
      for (const f of dict.apply(view)) {
        if (!f.entry) continue;
        fired.add(f.entry.key);
        for (let p = f.start; p < f.end; p++) cover[p] = f.entry.key;
      }
      const inThisText = new Set<string>();
      for (const { key, at } of occ) {
        if (!inThisText.has(key)) {
          inThisText.add(key);
          seenIn.set(key, (seenIn.get(key) ?? 0) + 1);
        }
        const by = cover[at];
        if (by !== undefined && by !== key) (shadowers.get(key) ?? shadowers.set(key, new Set()).get(key)!).add(by);
      }
    }
    for (const e of winners.values()) {
      const n = seenIn.get(e.key);
      if (!n || fired.has(e.key)) continue;
      const by = [...(shadowers.get(e.key) ?? [])];
      if (!by.length) continue;
      findings.push({
        range: range(e.line, e.keyStart, e.keyEnd),
        severity: 'hint',
        code: 'dict/shadowed',
        message: `Shadowed: "${e.key}" appears in ${n} task text${n === 1 ? '' : 's'} but never applies there: ${by
          .slice(0, 3)
          .map((b) => `"${b}"`)
          .join(', ')} ${by.length === 1 ? 'matches' : 'match'} there first (longest key first, left to right).`,
        related: by.slice(0, 5).map((b) => {
          const o = winners.get(b)!;
          return { file: opts.file, range: range(o.line, o.keyStart, o.keyEnd), message: `"${b}" wins here` };
        }),
      });
    }
  }
  return findings;
}

/** Which offsets of `key` the replacement `value` pins to which syllable (only when the value keeps the rest of the key as it is). */
export function pinsOf(key: string, value: string): Map<number, string> {
  const pins = new Map<number, string>();
  const parts = parseReplacement(value);
  let i = 0;
  for (const p of parts) {
    if (i >= key.length) return new Map();
    const cp = key.codePointAt(i)!;
    const n = cp > 0xffff ? 2 : 1;
    if (p.kind === 'text' && p.text === key.slice(i, i + n)) i += n;
    else if (p.kind === 'syllable' && isHan(cp)) {
      pins.set(i, p.pinyin);
      i += n;
    } else return new Map();
  }
  return i === key.length ? pins : new Map();
}

/** Why `char` cannot be read `reading` (pinyin-pro's candidates), or undefined when it can. A neutral tone is allowed on any known syllable. */
export function impossibleReading(char: string, reading: string, candidates: readonly string[]): string | undefined {
  if (!candidates.length || candidates.includes(reading)) return undefined;
  const base = reading.replace(/[1-5]$/, '');
  if (reading.endsWith('5') && candidates.some((c) => c.replace(/[1-5]$/, '') === base)) return undefined;
  return `${char} is never read ${reading}: its readings are ${candidates.join(', ')} (pinyin-pro).`;
}
