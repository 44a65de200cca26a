// Runs a judge over the teacher's and the student's WAVs of an evaluation and joins its scores
// into the items and the summary; writes `<teacher run>/judges.jsonl` for the QA gates.
import { join } from 'node:path';
import { writeLinesAtomic } from '../../batch/manifest';
import { readRegularFile } from '../../util/safeFs';
import type { EvalItem } from '../types';
import { type Judge, type JudgeInput, JudgeUnavailableError, judgeKey } from './judge';
import type { JudgeMeans, JudgeRole, JudgeScores, JudgesSummary } from './types';

export const JUDGES_FILE = 'judges.jsonl';

/** What the judge needs of a line beyond the item: the prompt WAV (absolute) and the emotion label. */
export interface JudgeLineInfo {
  promptAudio?: string;
  emotion?: string | number;
  /** The teacher WAV's sha256 from the manifest. */ wavSha256?: string;
}

export function judgeInputs(items: readonly EvalItem[], info: (name: string) => JudgeLineInfo): JudgeInput[] {
  const out: JudgeInput[] = [];
  for (const item of items) {
    const extra = info(item.name);
    for (const [role, audio] of [
      ['teacher', item.teacherAudio],
      ['student', item.studentAudio],
    ] as const) {
      if (!audio) continue;
      out.push({
        name: item.name,
        role,
        audio,
        text: item.text,
        ...(extra.promptAudio ? { promptAudio: extra.promptAudio } : {}),
        ...(extra.emotion !== undefined ? { emotion: extra.emotion } : {}),
      });
    }
  }
  return out;
}

function means(scores: JudgeScores[]): JudgeMeans | null {
  if (!scores.length) return null;
  const ok = scores.filter((s) => !s.error);
  const mean = (k: 'cer' | 'similarity' | 'emotion') => {
    const xs = ok.map((s) => s[k]).filter((x): x is number => typeof x === 'number');
    return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null;
  };
  return { items: ok.length, meanCer: mean('cer'), meanSimilarity: mean('similarity'), meanEmotion: mean('emotion') };
}

/**
 * Judges every WAV of the items (mutating them: `item.judges`) and returns the summary. A judge
 * that cannot run gives a summary with `error` and no per-line scores: the evaluation goes on.
 */
export async function applyJudge(
  judge: Judge,
  items: EvalItem[],
  info: (name: string) => JudgeLineInfo,
  teacherDir: string,
  run: { signal?: AbortSignal; onLog?: (line: string) => void; onProgress?: (done: number, total: number) => void } = {},
): Promise<JudgesSummary> {
  const inputs = judgeInputs(items, info);
  const summary: JudgesSummary = { backend: judge.backend, where: judge.where, teacher: null, student: null, failed: 0 };
  if (!inputs.length) {
    summary.error = 'no WAV to judge (the teacher run has no audio)';
    return summary;
  }
  let scores: Map<string, JudgeScores>;
  try {
    scores = await judge.judge(inputs, run);
  } catch (err) {
    if (err instanceof JudgeUnavailableError) {
      summary.error = err.message;
      summary.failed = inputs.length;
      return summary;
    }
    throw err;
  }
  const byRole: Record<JudgeRole, JudgeScores[]> = { teacher: [], student: [] };
  const byName = new Map(items.map((i) => [i.name, i]));
  for (const input of inputs) {
    const s = { ...(scores.get(judgeKey(input.role, input.name)) ?? { error: 'not judged' }) };
    const item = byName.get(input.name)!;
    const sha = input.role === 'teacher' ? info(input.name).wavSha256 : undefined;
    if (sha) s.wavSha256 = sha;
    (item.judges ??= {})[input.role] = s;
    byRole[input.role].push(s);
    if (s.error) summary.failed++;
  }
  summary.teacher = means(byRole.teacher);
  summary.student = means(byRole.student);
  const first = [...byRole.teacher, ...byRole.student].find((s) => s.error)?.error;
  // Every WAV failed: one reason for the report, and no judges.jsonl of errors for the QA gates.
  if (summary.failed === inputs.length) summary.error = `no WAV was judged: ${first ?? 'no answer'}`;
  else if (byRole.teacher.length) summary.judgesFile = join(teacherDir, JUDGES_FILE);
  return summary;
}

/** A line of `<teacher run>/judges.jsonl`. */
export interface JudgesLine {
  name: string;
  line: number;
  backend: string;
  cer: number | null;
  similarity: number | null;
  emotion: number | null;
  emotionLabel?: string;
  error?: string;
  /** The manifest's sha256 of the WAV judged: a judgement of an older output does not count for a new one. */
  wavSha256?: string;
}

/** The lines of a judges.jsonl (malformed lines skipped), the last per name. */
export function parseJudgesFile(text: string): Map<string, JudgesLine> {
  const out = new Map<string, JudgesLine>();
  const n = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
  for (const l of text.split('\n')) {
    if (!l.trim()) continue;
    try {
      const o = JSON.parse(l) as Record<string, unknown>;
      if (typeof o.name !== 'string') continue;
      out.set(o.name, {
        name: o.name,
        line: typeof o.line === 'number' ? o.line : -1,
        backend: String(o.backend ?? ''),
        cer: n(o.cer),
        similarity: n(o.similarity),
        emotion: n(o.emotion),
        ...(typeof o.emotionLabel === 'string' ? { emotionLabel: o.emotionLabel } : {}),
        ...(typeof o.error === 'string' ? { error: o.error } : {}),
        ...(typeof o.wavSha256 === 'string' ? { wavSha256: o.wavSha256 } : {}),
      });
    } catch {
      // a torn line
    }
  }
  return out;
}

/** `<teacher run>/judges.jsonl`: one line per teacher WAV, {name, line, cer, similarity, emotion, …}. */
export async function writeJudgesFile(file: string, items: readonly EvalItem[], backend: string): Promise<void> {
  // Lines not judged this time (excluded by the QA gates, not in this evaluation) keep their earlier
  // judgement: otherwise a line the gates excluded for its CER would lose it and come back.
  const now = new Set(items.filter((i) => i.judges?.teacher).map((i) => i.name));
  const earlier = await readRegularFile(file, 256 << 20).then(
    (b) => parseJudgesFile(b.toString('utf8')),
    () => new Map<string, JudgesLine>(),
  );
  const lines: string[] = [];
  for (const [name, l] of earlier) if (!now.has(name)) lines.push(JSON.stringify(l) + '\n');
  for (const i of items) {
    const s = i.judges?.teacher;
    if (!s) continue;
    lines.push(
      JSON.stringify({
        name: i.name,
        line: i.line,
        backend,
        cer: s.cer ?? null,
        similarity: s.similarity ?? null,
        emotion: s.emotion ?? null,
        ...(s.emotionLabel ? { emotionLabel: s.emotionLabel } : {}),
        ...(s.error ? { error: s.error } : {}),
        ...(s.wavSha256 ? { wavSha256: s.wavSha256 } : {}),
      }) + '\n',
    );
  }
  await writeLinesAtomic(file, lines);
}
