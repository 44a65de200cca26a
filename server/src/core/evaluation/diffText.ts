// The two documents of the evaluation diff: one line per task, the same prefix on both sides,
// so that the diff editor lights up exactly the readings that differ.
import { charAt, isHan } from '../student/readings';
import type { EvalItem } from './types';

export type DiffSide = 'teacher' | 'student';

/** `#12 utt_003 | 我wo3 去qu4 银yin2 行hang2` (1-based task line). Characters without a reading show `?`. */
export function readingsLine(item: Pick<EvalItem, 'line' | 'name' | 'text' | 'teacher' | 'student'>, side: DiffSide): string {
  const readings = side === 'teacher' ? item.teacher : item.student;
  const parts: string[] = [];
  for (let i = 0; i < item.text.length; i++) {
    const ch = charAt(item.text, i);
    if (!ch || !isHan(ch)) continue;
    parts.push(`${ch}${readings[i] ?? '?'}`);
  }
  return `#${item.line + 1} ${item.name} | ${parts.join(' ')}`;
}

/** The whole document of one side; line k (0-based) is items[k]. */
export function readingsDocument(items: readonly Pick<EvalItem, 'line' | 'name' | 'text' | 'teacher' | 'student'>[], side: DiffSide): string {
  return items.map((i) => readingsLine(i, side)).join('\n') + '\n';
}
