/**
 * A finding is plain data: the language server turns it into an LSP diagnostic, the CLI prints it,
 * the tests read it. Positions are 0-based, characters in UTF-16 code units (the LSP default), so
 * an LSP Range and a finding Range have the same shape.
 */
export type Severity = 'error' | 'warning' | 'information' | 'hint';

export interface Position {
  line: number;
  character: number;
}
export interface Range {
  start: Position;
  end: Position;
}

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
/** The severities by rank: errors first. */
export const SEVERITIES: readonly Severity[] = ['error', 'warning', 'information', 'hint'];

export function range(line: number, start: number, end: number, endLine = line): Range {
  return { start: { line, character: start }, end: { line: endLine, character: end } };
}

export function atLine(line: number, f: LineFinding): Finding {
  const { start, end, ...rest } = f;
  return { ...rest, range: range(line, start, end) };
}

const placed = new WeakMap<LineFinding, Finding>();

/**
 * `atLine`, the same object again while the line finding stays at that line: a big file's passes
 * publish the same 5,000 findings over and over, and the language server caches their diagnostics
 * by identity. The result is shared: never modify it.
 */
export function atLineShared(line: number, f: LineFinding): Finding {
  const hit = placed.get(f);
  if (hit && hit.range.start.line === line) return hit;
  const made = atLine(line, f);
  placed.set(f, made);
  return made;
}

/**
 * Caps the findings of one file: errors first, then warnings, then the rest, each group in
 * document order; when some are left out, one last finding says how many.
 */
export function capFindings(findings: Finding[], max: number): Finding[] {
  if (findings.length <= max) return findings;
  // Bucket by severity; a bucket is sorted only when it is not already in document order
  // (findings mostly arrive line by line, so a 100,000-finding file costs one pass).
  const buckets: Record<Severity, Finding[]> = { error: [], warning: [], information: [], hint: [] };
  for (const f of findings) buckets[f.severity].push(f);
  const kept: Finding[] = [];
  const counts: Record<Severity, number> = { error: 0, warning: 0, information: 0, hint: 0 };
  for (const s of SEVERITIES) {
    const b = buckets[s];
    const room = max - kept.length;
    if (room <= 0) {
      counts[s] = b.length;
      continue;
    }
    if (b.length > room && !inOrder(b)) b.sort((x, y) => comparePos(x.range.start, y.range.start));
    for (let i = 0; i < Math.min(room, b.length); i++) kept.push(b[i]!);
    counts[s] = Math.max(0, b.length - room);
  }
  return withLimitNotice(kept, counts, max);
}

export function inOrder(b: Finding[]): boolean {
  for (let i = 1; i < b.length; i++) if (comparePos(b[i - 1]!.range.start, b[i]!.range.start) > 0) return false;
  return true;
}

/**
 * Collects findings under a cap without building the ones that cannot be shown: a file with
 * 100,000 problems costs counting, not 100,000 objects. Keeps up to `max` per severity, then
 * returns errors first, then warnings, then the rest, each in document order.
 */
export class FindingCollector {
  private buckets: Record<Severity, Finding[]> = { error: [], warning: [], information: [], hint: [] };
  private readonly counts: Record<Severity, number> = { error: 0, warning: 0, information: 0, hint: 0 };

  constructor(readonly max: number) {}

  /** Whether a finding of this severity would be kept; when false, call `count` instead of building it. */
  wants(severity: Severity): boolean {
    return this.buckets[severity].length < this.max;
  }

  count(severity: Severity): void {
    this.counts[severity]++;
  }

  add(f: Finding): void {
    this.counts[f.severity]++;
    if (this.buckets[f.severity].length < this.max) this.buckets[f.severity].push(f);
  }

  /**
   * Forgets the findings of line `line` (added earlier, `counts` of them per severity rank):
   * a line looked at again (TaskFileModel's mid-pass recheck).
   */
  removeLine(line: number, counts: ArrayLike<number>): void {
    SEVERITIES.forEach((s, k) => {
      if (!counts[k]) return;
      this.counts[s] -= counts[k]!;
      const b = this.buckets[s];
      const kept = b.filter((f) => f.range.start.line !== line);
      if (kept.length !== b.length) this.buckets[s] = kept;
    });
  }

  /**
   * Adds a finding that may come before findings already kept (a line looked at again): when its
   * severity is at the cap, it takes the place of the furthest one kept if it comes before it.
   */
  addLate(f: Finding): void {
    this.counts[f.severity]++;
    const b = this.buckets[f.severity];
    if (b.length < this.max) {
      b.push(f);
      return;
    }
    let last = 0;
    for (let k = 1; k < b.length; k++) if (comparePos(b[k]!.range.start, b[last]!.range.start) > 0) last = k;
    if (b.length && comparePos(f.range.start, b[last]!.range.start) < 0) b[last] = f;
  }

  /** Findings of a severity added or counted. */
  countOf(severity: Severity): number {
    return this.counts[severity];
  }

  get total(): number {
    return this.counts.error + this.counts.warning + this.counts.information + this.counts.hint;
  }

  result(): Finding[] {
    const kept: Finding[] = [];
    const left: Record<Severity, number> = { error: 0, warning: 0, information: 0, hint: 0 };
    for (const s of SEVERITIES) {
      const b = this.buckets[s];
      if (!inOrder(b)) b.sort((x, y) => comparePos(x.range.start, y.range.start));
      const room = Math.max(0, this.max - kept.length);
      for (let i = 0; i < Math.min(room, b.length); i++) kept.push(b[i]!);
      left[s] = this.counts[s] - Math.min(room, b.length);
    }
    return withLimitNotice(kept, left, this.max);
  }
}

/** The code of the notice that says how many problems the cap left out (withLimitNotice). */
export const LIMIT_CODE = 'limit/too-many-findings';

/** The `data` of that notice: how many of each severity it stands for. */
export interface LimitNoticeData {
  left: Record<Severity, number>;
}

/** How many problems of each severity `findings` holds, those a cap's notice stands for included (the notice itself not). */
export function countBySeverity(findings: readonly Finding[]): Record<Severity, number> {
  const n: Record<Severity, number> = { error: 0, warning: 0, information: 0, hint: 0 };
  for (const f of findings) {
    if (f.code === LIMIT_CODE) {
      const left = (f.data as LimitNoticeData | undefined)?.left;
      if (left) for (const s of SEVERITIES) n[s] += left[s] ?? 0;
    } else n[f.severity]++;
  }
  return n;
}

/**
 * `kept`, and at its end the finding that says how many of each severity were left out under the
 * cap `max` (when any were). The notice counts in the cap: `max` entries in all, as VS Code shows at
 * most 1,000 per file and would drop a 1,001st notice for one of its own.
 */
export function withLimitNotice(kept: Finding[], left: Record<Severity, number>, max: number): Finding[] {
  let total = left.error + left.warning + left.information + left.hint;
  if (total > 0) {
    // Room for the notice: the last kept one (the least severe, furthest down) joins the left out.
    while (kept.length >= max && kept.length > 0) {
      left[kept.pop()!.severity]++;
      total++;
    }
    const parts = (Object.keys(left) as Severity[]).filter((s) => left[s] > 0).map((s) => `${left[s]} ${s}`);
    kept.push({
      range: range(0, 0, 0),
      severity: left.error > 0 ? 'error' : 'information',
      code: LIMIT_CODE,
      message: `${total} more problems not shown (${parts.join(', ')}); the limit is ttsDistill.diagnostics.maxPerFile = ${max}.`,
      data: { left: { ...left } } satisfies LimitNoticeData,
    });
  }
  return kept;
}

export function comparePos(a: Position, b: Position): number {
  return a.line - b.line || a.character - b.character;
}
