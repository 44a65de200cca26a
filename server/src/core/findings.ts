/**
 * A finding is plain data: the language server turns it into an LSP diagnostic, the CLI prints it,
 * the tests read it. Positions are 0-based, characters in UTF-16 code units (the LSP default), so
 * an LSP Range and a finding Range have the same shape.
 */
export type Severity = 'error' | 'warning' | 'information' | 'hint';

export interface Position { line: number; character: number }
export interface Range { start: Position; end: Position }

export interface RelatedInformation {
  /** Absolute file path of the related place; undefined means the same file as the finding. */
  file?: string;
  range: Range;
  message: string;
}

export interface Finding {
  range: Range;
  severity: Severity;
  /** Stable identifier, e.g. `task/duplicate-name`; shown as the diagnostic code. */
  code: string;
  message: string;
  related?: RelatedInformation[];
  /** `unnecessary` renders faded in VS Code (redundant rules). */
  tags?: Array<'unnecessary' | 'deprecated'>;
  /** Whatever a quick fix needs to act on this finding, kept JSON-serialisable. */
  data?: unknown;
}

/** A finding inside one line, before the line number is known (per-line caches store these). */
export interface LineFinding extends Omit<Finding, 'range'> {
  start: number;
  end: number;
}

export const severityRank: Record<Severity, number> = { error: 0, warning: 1, information: 2, hint: 3 };

export function range(line: number, start: number, end: number, endLine = line): Range {
  return { start: { line, character: start }, end: { line: endLine, character: end } };
}

export function atLine(line: number, f: LineFinding): Finding {
  const { start, end, ...rest } = f;
  return { ...rest, range: range(line, start, end) };
}

/**
 * Caps the findings of one file: errors first, then warnings, then the rest, each group in
 * document order; when some are left out, one last finding says how many.
 */
export function capFindings(findings: Finding[], max: number): Finding[] {
  if (findings.length <= max) return findings;
  const sorted = findings
    .map((f, i) => ({ f, i }))
    .sort((a, b) => severityRank[a.f.severity] - severityRank[b.f.severity] || comparePos(a.f.range.start, b.f.range.start) || a.i - b.i)
    .map((x) => x.f);
  const kept = sorted.slice(0, Math.max(0, max));
  const left = findings.length - kept.length;
  const counts: Record<Severity, number> = { error: 0, warning: 0, information: 0, hint: 0 };
  for (const f of sorted.slice(kept.length)) counts[f.severity]++;
  const parts = (Object.keys(counts) as Severity[]).filter((s) => counts[s] > 0).map((s) => `${counts[s]} ${s}`);
  kept.push({
    range: range(0, 0, 0),
    severity: counts.error > 0 ? 'error' : 'information',
    code: 'limit/too-many-findings',
    message: `${left} more problems not shown (${parts.join(', ')}); the limit is ttsDistill.diagnostics.maxPerFile = ${max}.`,
  });
  return kept;
}

export function comparePos(a: Position, b: Position): number {
  return a.line - b.line || a.character - b.character;
}
