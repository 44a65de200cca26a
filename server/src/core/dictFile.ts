import Ajv, { type ValidateFunction } from 'ajv';
import ruleSchema from '../../../schemas/g2p-rule.schema.json';
import upstreamSchema from '../../../schemas/g2p-upstream.schema.json';
import { capFindings, type Finding, range } from './findings';
import { BOM, findSyntaxError, scanMembers, splitLines } from './jsonl';
import type { Settings } from './settings';

/**
 * G2P replacement dictionaries (FORMATS.md §2), both dialects: `rule` lines
 * `{"word","context","phoneme"}` and `upstream` lines `{"<surface>": "<replacement>"}`.
 * Structural checks only here; pronunciation checks plug in as dictionary validators.
 */
export type DictDialect = 'rule' | 'upstream';

const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
const validators: Record<DictDialect, ValidateFunction> = { rule: ajv.compile(ruleSchema), upstream: ajv.compile(upstreamSchema) };

export function lineDialect(value: Record<string, unknown>): DictDialect {
  return 'word' in value || 'context' in value || 'phoneme' in value ? 'rule' : 'upstream';
}

export function validateDictionaryText(text: string, settings: Pick<Settings, 'diagnostics'>): { dialect: string; findings: Finding[] } {
  const lines = splitLines(text);
  const findings: Finding[] = [];
  const seen = new Set<DictDialect>();
  lines.forEach((raw, i) => {
    let line = raw;
    let off = 0;
    if (i === 0 && line.startsWith(BOM)) {
      findings.push({ range: range(0, 0, 1), severity: 'error', code: 'dict/bom', message: 'The dictionary starts with a UTF-8 byte order mark: the teacher reads the first key with it and never matches it. Save as UTF-8 without BOM.' });
      line = line.slice(1);
      off = 1;
    }
    if (line.trim() === '') return; // the teacher skips blank lines
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      const e = findSyntaxError(line);
      findings.push({ range: range(i, e.start + off, e.end + off), severity: 'error', code: 'dict/json-syntax', message: `${e.message} (column ${e.start + off + 1}); the teacher fails to load the dictionary.` });
      return;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      findings.push({ range: range(i, off, raw.length), severity: 'error', code: 'dict/not-object', message: 'Each line must be one JSON object.' });
      return;
    }
    const dialect = lineDialect(value as Record<string, unknown>);
    seen.add(dialect);
    const validate = validators[dialect];
    if (!validate(value)) {
      const members = scanMembers(line) ?? [];
      for (const err of validate.errors ?? []) {
        const key = err.instancePath.replace(/^\//, '') || (err.params as { additionalProperty?: string; missingProperty?: string }).additionalProperty;
        const m = key ? members.find((x) => x.key === key) : undefined;
        const [s, e] = m ? (err.keyword === 'additionalProperties' ? [m.keyStart, m.keyEnd] : [m.valueStart, m.valueEnd]) : [0, line.length];
        const what = err.keyword === 'required' ? `missing key "${(err.params as { missingProperty: string }).missingProperty}"`
          : err.keyword === 'additionalProperties' ? `unknown key "${key}" in a rule line (rule lines have word, context, phoneme)`
          : `${key ? `"${key}" ` : ''}${err.message}`;
        findings.push({ range: range(i, s + off, e + off), severity: 'error', code: 'dict/schema', message: `${what}.` });
      }
    }
  });
  const dialect = seen.size === 2 ? 'mixed' : seen.size === 1 ? [...seen][0]! : 'unknown';
  return { dialect, findings: capFindings(findings, settings.diagnostics.maxPerFile) };
}
