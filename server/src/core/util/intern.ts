/**
 * One copy of each string that many long-lived objects hold (characters of findings, readings and
 * sources of verdicts that arrived from worker threads as copies, prompt-audio paths of task lines):
 * a big file held tens of thousands of equal copies of each. At most `MAX` distinct strings are
 * kept; past that, strings are returned as they came.
 */
const pool = new Map<string, string>();
const MAX = 50_000;

export function intern<T extends string | null | undefined>(s: T): T {
  if (typeof s !== 'string') return s;
  const hit = pool.get(s);
  if (hit !== undefined) return hit as T;
  if (pool.size < MAX) pool.set(s, s);
  return s;
}
