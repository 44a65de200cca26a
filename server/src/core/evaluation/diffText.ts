// The two documents of the evaluation diff: one line per task, the same prefix and the same
// characters on both sides, so that the diff editor lights up exactly the readings that differ.
import { candidateReadings, charAt, isHan } from '../student/readings';
import type { EvalItem } from './types';

export type DiffSide = 'teacher' | 'student';

type Line = Pick<EvalItem, 'line' | 'name' | 'text' | 'teacher' | 'student'>;

/**
 * `line 12 · utt_003 | 行hang2 长zhang3` (1-based task line; not `#12`, which the editor would
 * decorate as a colour): the characters the teacher read that are
 * polyphones or where the two disagree. Monophonic characters they agree on are left out:
 * they cannot differ, and short lines keep the diff editor fast on thousands of tasks.
 */
export function readingsLine(item: Line, side: DiffSide): string {
  const readings = side === 'teacher' ? item.teacher : item.student;
  const parts: string[] = [];
  for (let i = 0; i < item.text.length; i++) {
    const t = item.teacher[i];
    if (!t) continue;
    const ch = charAt(item.text, i);
    if (!ch || !isHan(ch)) continue;
    if (candidateReadings(ch).length < 2 && item.student[i] === t) continue;
    parts.push(`${ch}${readings[i] ?? '?'}`);
  }
  return `line ${item.line + 1} · ${item.name} | ${parts.join(' ')}`;
}

/** The whole document of one side; line k (0-based) is items[k]. */
export function readingsDocument(items: readonly Line[], side: DiffSide): string {
  return items.map((i) => readingsLine(i, side)).join('\n') + '\n';
}
