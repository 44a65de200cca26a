// What every judge backend offers the evaluation.
import type { JudgeInput, JudgeRole, JudgeScores } from './types';

export type { JudgeInput, JudgeScores };

export interface JudgeRunOptions {
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
  onLog?: (line: string) => void;
}

export interface Judge {
  backend: 'reward' | 'command';
  /** Where it runs (URLs, command), for the report. */
  where: string;
  /** Scores per `judgeKey(role, name)`; a WAV it could not judge has `error`. Throws JudgeUnavailableError when it can judge nothing. */
  judge(inputs: readonly JudgeInput[], opts?: JudgeRunOptions): Promise<Map<string, JudgeScores>>;
}

/** The judge could not run at all (server down, command missing): the evaluation goes on without it. */
export class JudgeUnavailableError extends Error {}

export const judgeKey = (role: JudgeRole, name: string) => `${role}\u0000${name}`;

/** The emotion2vec(+) classes, in the order of its `scores` (the reward server's `emotion` index). */
export const EMOTION2VEC_LABELS = ['angry', 'disgusted', 'fearful', 'happy', 'neutral', 'other', 'sad', 'surprised', 'unknown'] as const;
/** Its Chinese labels (`生气/angry`…) and the usual synonyms, per class. */
const EMOTION2VEC_ZH = [
  ['生气', '愤怒'],
  ['厌恶'],
  ['恐惧', '害怕'],
  ['开心', '快乐', '高兴'],
  ['中立', '中性', '平静'],
  ['其他'],
  ['难过', '悲伤', '伤心'],
  ['吃惊', '惊讶'],
  ['未知'],
];
export const NEUTRAL = 4;

/**
 * The reward server's `emotion` for a line's label: an emotion2vec index (0–8, or -1 for "any
 * emotion but neutral"), its English or Chinese name; no label means neutral. `known` is false for
 * a label that is none of these (the index is then neutral's, and the score means nothing).
 */
export function emotionIndex(label: string | number | undefined): { index: number; label: string; known: boolean } {
  if (label === undefined || label === '') return { index: NEUTRAL, label: 'neutral', known: true };
  const s = String(label).trim().toLowerCase();
  const n = Number(s);
  if (s !== '' && Number.isInteger(n) && n >= -1 && n < EMOTION2VEC_LABELS.length)
    return { index: n, label: n === -1 ? 'not neutral' : EMOTION2VEC_LABELS[n]!, known: true };
  let i = EMOTION2VEC_LABELS.indexOf(s as (typeof EMOTION2VEC_LABELS)[number]);
  if (i < 0) i = EMOTION2VEC_ZH.findIndex((zs) => zs.some((z) => s === z || s.startsWith(`${z}/`)));
  if (i < 0 && (s === 'emotional' || s === 'not neutral')) return { index: -1, label: 'not neutral', known: true };
  return i >= 0
    ? { index: i, label: EMOTION2VEC_LABELS[i]!, known: true }
    : { index: NEUTRAL, label: `"${String(label)}" is not an emotion2vec class`, known: false };
}

/** Runs `work` on every item with at most `limit` at a time; results in input order. */
export async function pool<T, R>(items: readonly T[], limit: number, work: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await work(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return out;
}
