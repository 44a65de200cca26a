// Blind listening tests on an evaluation run (the folder of eval.json): plan a test on a seeded
// sample of the lines that have both a teacher and a student WAV, record answers append-only in
// `<run>/listening/<test>.jsonl`, resume at the first unanswered item, and summarise (preference
// share with a Wilson interval, MOS means with Student-t intervals).
import { existsSync } from 'node:fs';
import { lstat, mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../batch/manifest';
import { assertRegularOrAbsent, openAppendNoFollow, readRegularFile } from '../util/safeFs';
import { seededRandom, shuffle } from '../student/prng';
import { meanCi, wilson } from './confidence';
import { renderReportHtml } from './html';
import {
  LISTENING_FORMAT_VERSION,
  LISTENING_PLAN_FORMAT,
  type ListeningAnswer,
  type ListeningItem,
  type ListeningKinds,
  type ListeningPlan,
  type ListeningSummary,
  type ListeningSystem,
} from '../../../../protocol/listeningTypes';
import type { EvalReport } from './types';

export * from '../../../../protocol/listeningTypes';

/** A run, test or answer the user gave that cannot be used: the message says why (CLI exit 2, a message in VS Code). */
export class ListeningInputError extends Error {}

export const LISTENING_DIR = 'listening';
const TEST_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** eval.json of a 100,000-line run is tens of MB; more than this is not an evaluation report. */
const MAX_REPORT_BYTES = 512 << 20;
const MAX_ANSWERS_BYTES = 64 << 20;

export function checkTestName(test: string): string {
  if (!TEST_NAME.test(test) || test.endsWith('.plan')) {
    throw new ListeningInputError(`test name "${test}": use 1–64 letters, digits, '.', '_' or '-', starting with a letter or digit`);
  }
  return test;
}

export const answersFile = (runDir: string, test: string) => join(runDir, LISTENING_DIR, `${checkTestName(test)}.jsonl`);
export const planFile = (runDir: string, test: string) => join(runDir, LISTENING_DIR, `${checkTestName(test)}.plan.json`);

/** A line that can be listened to: both takes exist. */
export interface ListeningCandidate {
  name: string;
  line: number;
  text: string;
  teacherAudio: string;
  studentAudio: string;
}

/** Reads `<runDir>/eval.json` (what `tts-distill eval` and *Open Evaluation Diff* write). */
export async function readEvalReport(runDir: string): Promise<EvalReport> {
  const file = join(runDir, 'eval.json');
  let text: string;
  try {
    text = (await readRegularFile(file, MAX_REPORT_BYTES)).toString('utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT')
      throw new ListeningInputError(
        `${runDir} has no eval.json: run \`tts-distill eval --student-audio DIR\` (or Open Evaluation Diff with the student's audio) first`,
      );
    throw new ListeningInputError(`${file}: ${(err as Error).message}`);
  }
  let report: unknown;
  try {
    report = JSON.parse(text);
  } catch (err) {
    throw new ListeningInputError(`${file} is not valid JSON: ${(err as Error).message}`);
  }
  const r = report as Partial<EvalReport> | null;
  if (!r || typeof r !== 'object' || r.format !== 'tts-distill-eval' || !Array.isArray(r.items))
    throw new ListeningInputError(`${file} is not an evaluation report of tts-distill eval`);
  return r as EvalReport;
}

/** The report's lines with both a teacher and a student WAV on disk, in report order. */
export function listeningCandidates(
  report: Pick<EvalReport, 'items'>,
  exists: (file: string) => boolean = existsSync,
): ListeningCandidate[] {
  const out: ListeningCandidate[] = [];
  for (const i of report.items) {
    if (!i || typeof i.name !== 'string' || typeof i.teacherAudio !== 'string' || typeof i.studentAudio !== 'string') continue;
    if (!exists(i.teacherAudio) || !exists(i.studentAudio)) continue;
    out.push({
      name: i.name,
      line: typeof i.line === 'number' ? i.line : 0,
      text: typeof i.text === 'string' ? i.text : '',
      teacherAudio: i.teacherAudio,
      studentAudio: i.studentAudio,
    });
  }
  return out;
}

export interface PlanOptions {
  test: string;
  seed: number;
  count: number;
  kinds: ListeningKinds;
  now?: Date;
}

/**
 * A test on `count` lines drawn with the seeded PRNG (mulberry32, like the student's split):
 * A/B items in a shuffled order, each with teacher and student in an order drawn from the seed;
 * then MOS items, the teacher's and the student's takes of the same lines shuffled together.
 * The same candidates, seed, count and kinds give the same plan.
 */
export function planTest(candidates: readonly ListeningCandidate[], opts: PlanOptions): ListeningPlan {
  checkTestName(opts.test);
  if (!Number.isInteger(opts.count) || opts.count < 1) throw new ListeningInputError(`count must be a whole number ≥ 1, got ${opts.count}`);
  if (!Number.isInteger(opts.seed)) throw new ListeningInputError(`seed must be a whole number, got ${opts.seed}`);
  if (!candidates.length)
    throw new ListeningInputError(
      "no line of the run has both a teacher WAV and a student WAV: evaluate with the student's audio (`tts-distill eval --student-audio DIR`) first",
    );
  const random = seededRandom(opts.seed);
  const sample = shuffle([...candidates], random).slice(0, opts.count);
  const items: ListeningItem[] = [];
  if (opts.kinds !== 'mos') {
    for (const c of shuffle([...sample], random)) {
      const studentFirst = random() < 0.5;
      const teacher = { system: 'teacher' as const, audio: c.teacherAudio },
        student = { system: 'student' as const, audio: c.studentAudio };
      items.push({
        id: `ab/${c.name}`,
        kind: 'ab',
        name: c.name,
        line: c.line,
        text: c.text,
        a: studentFirst ? student : teacher,
        b: studentFirst ? teacher : student,
      });
    }
  }
  if (opts.kinds !== 'ab') {
    const takes = sample.flatMap((c) => (['teacher', 'student'] as const).map((system) => ({ c, system })));
    // The id carries no system name: a listener who sees it learns nothing.
    shuffle(takes, random).forEach(({ c, system }, k) =>
      items.push({
        id: `mos/${c.name}/${k + 1}`,
        kind: 'mos',
        name: c.name,
        line: c.line,
        text: c.text,
        system,
        audio: system === 'teacher' ? c.teacherAudio : c.studentAudio,
      }),
    );
  }
  return {
    format: LISTENING_PLAN_FORMAT,
    formatVersion: LISTENING_FORMAT_VERSION,
    test: opts.test,
    seed: opts.seed,
    count: sample.length,
    kinds: opts.kinds,
    candidates: candidates.length,
    created: (opts.now ?? new Date()).toISOString(),
    items,
  };
}

function isSystem(v: unknown): v is ListeningSystem {
  return v === 'teacher' || v === 'student';
}

/** Whether a parsed line is an answer (what a torn or hand-edited line is not). */
export function isListeningAnswer(v: unknown): v is ListeningAnswer {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return false;
  const a = v as Record<string, unknown>;
  if (typeof a.item !== 'string' || typeof a.name !== 'string') return false;
  if (a.kind === 'ab') return (a.choice === 'A' || a.choice === 'B') && isSystem(a.preferred);
  if (a.kind === 'mos')
    return isSystem(a.system) && typeof a.score === 'number' && Number.isInteger(a.score) && a.score >= 1 && a.score <= 5;
  return false;
}

/** Answers of a jsonl text: lines that are not an answer (a torn last line, an edit) are counted and skipped, never fatal. */
export function parseAnswers(text: string): { answers: ListeningAnswer[]; invalidLines: number } {
  const answers: ListeningAnswer[] = [];
  let invalidLines = 0;
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      invalidLines++;
      continue;
    }
    if (isListeningAnswer(v)) answers.push(v);
    else invalidLines++;
  }
  return { answers, invalidLines };
}

export async function readAnswers(runDir: string, test: string): Promise<{ answers: ListeningAnswer[]; invalidLines: number }> {
  const file = answersFile(runDir, test);
  try {
    return parseAnswers((await readRegularFile(file, MAX_ANSWERS_BYTES, { noFollow: true })).toString('utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { answers: [], invalidLines: 0 };
    if ((err as NodeJS.ErrnoException).code === 'ELOOP') throw new ListeningInputError(`${file} is a symbolic link: refusing to read it`);
    throw err;
  }
}

/** The latest answer per item id (an item answered again counts once, with its last answer). */
export function latestAnswers(answers: readonly ListeningAnswer[]): Map<string, ListeningAnswer> {
  const m = new Map<string, ListeningAnswer>();
  for (const a of answers) m.set(a.item, a);
  return m;
}

/** Index of the first item without an answer; items.length when all are answered. */
export function nextItem(plan: Pick<ListeningPlan, 'items'>, answers: readonly ListeningAnswer[]): number {
  const done = latestAnswers(answers);
  const k = plan.items.findIndex((i) => !done.has(i.id));
  return k < 0 ? plan.items.length : k;
}

/**
 * The answer record for item `index` of the plan: A/B `value` 1 (A) or 2 (B), MOS 1–5.
 * Throws ListeningInputError for anything else.
 */
export function makeAnswer(plan: ListeningPlan, index: number, value: number, now = new Date()): ListeningAnswer {
  const item = plan.items[index];
  if (!item) throw new ListeningInputError(`no item ${index + 1} in test ${plan.test} (${plan.items.length} items)`);
  const at = now.toISOString();
  if (item.kind === 'ab') {
    if (value !== 1 && value !== 2) throw new ListeningInputError(`an A/B answer is 1 (A) or 2 (B), got ${value}`);
    return {
      item: item.id,
      kind: 'ab',
      name: item.name,
      choice: value === 1 ? 'A' : 'B',
      preferred: value === 1 ? item.a.system : item.b.system,
      at,
    };
  }
  if (!Number.isInteger(value) || value < 1 || value > 5) throw new ListeningInputError(`a MOS answer is 1 to 5, got ${value}`);
  return { item: item.id, kind: 'mos', name: item.name, system: item.system, score: value as 1 | 2 | 3 | 4 | 5, at };
}

/** The run's listening folder, created when missing; refused when it is not a real folder (a symbolic link shipped with a repository). */
async function listeningDir(runDir: string): Promise<string> {
  const dir = join(runDir, LISTENING_DIR);
  await mkdir(dir, { recursive: true });
  const st = await lstat(dir);
  if (!st.isDirectory() || st.isSymbolicLink())
    throw new ListeningInputError(`${dir} is not a folder (a symbolic link?): refusing to write answers through it`);
  return dir;
}

/**
 * Appends one answer line (fsync'd). Nothing already in the file is changed: after a torn last
 * line (no final newline) the answer starts on a line of its own, so the torn line stays as it
 * was and is skipped when read.
 */
export async function appendAnswer(runDir: string, test: string, answer: ListeningAnswer): Promise<void> {
  await listeningDir(runDir);
  const fh = await openAppendNoFollow(answersFile(runDir, test));
  try {
    const { size } = await fh.stat();
    let lead = '';
    if (size > 0) {
      const last = Buffer.alloc(1);
      await fh.read(last, 0, 1, size - 1);
      if (last[0] !== 0x0a) lead = '\n';
    }
    await fh.appendFile(lead + JSON.stringify(answer) + '\n');
    await fh.sync();
  } finally {
    await fh.close();
  }
}

function isPlan(v: unknown): v is ListeningPlan {
  const p = v as Partial<ListeningPlan> | null;
  return (
    !!p &&
    typeof p === 'object' &&
    p.format === LISTENING_PLAN_FORMAT &&
    typeof p.test === 'string' &&
    Array.isArray(p.items) &&
    p.items.every(
      (i) =>
        i &&
        typeof i.id === 'string' &&
        (i.kind === 'ab'
          ? typeof i.a?.audio === 'string' && typeof i.b?.audio === 'string'
          : i.kind === 'mos' && typeof i.audio === 'string'),
    )
  );
}

export async function readPlan(runDir: string, test: string): Promise<ListeningPlan | undefined> {
  const file = planFile(runDir, test);
  let text: string;
  try {
    text = (await readRegularFile(file, MAX_ANSWERS_BYTES, { noFollow: true })).toString('utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ListeningInputError(`${file}: ${(err as Error).message}`);
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new ListeningInputError(`${file} is not valid JSON: remove it (its answers stay in ${test}.jsonl) or use another test name`);
  }
  if (!isPlan(v)) throw new ListeningInputError(`${file} is not a listening-test plan`);
  return v;
}

export interface OpenedTest {
  plan: ListeningPlan;
  answers: ListeningAnswer[];
  invalidLines: number;
  /** First unanswered item (plan.items.length when finished). */
  next: number;
  /** The plan existed: its seed, count and kinds win over the options given. */
  resumed: boolean;
}

/**
 * Opens test `test` of the run: an existing plan is resumed as it is (answers and item order kept,
 * whatever seed or count is asked now); otherwise a plan is drawn from eval.json and written.
 */
export async function openTest(runDir: string, opts: PlanOptions): Promise<OpenedTest> {
  checkTestName(opts.test);
  let plan = await readPlan(runDir, opts.test);
  const resumed = !!plan;
  if (!plan) {
    plan = planTest(listeningCandidates(await readEvalReport(runDir)), opts);
    await listeningDir(runDir);
    const file = planFile(runDir, opts.test);
    await assertRegularOrAbsent(file);
    await writeFileAtomic(file, JSON.stringify(plan, null, 1) + '\n');
  }
  const { answers, invalidLines } = await readAnswers(runDir, opts.test);
  return { plan, answers, invalidLines, next: nextItem(plan, answers), resumed };
}

/** Summary of one test's answers (the latest per item); `plan` only adds the item count. */
export function summarize(
  test: string,
  answers: readonly ListeningAnswer[],
  invalidLines = 0,
  plan?: Pick<ListeningPlan, 'items'>,
): ListeningSummary {
  const latest = [...latestAnswers(answers).values()];
  const ab = latest.filter((a) => a.kind === 'ab');
  const mos = latest.filter((a): a is Extract<ListeningAnswer, { kind: 'mos' }> => a.kind === 'mos');
  const student = ab.filter((a) => a.preferred === 'student').length;
  const scores = (s: ListeningSystem) => mos.filter((a) => a.system === s).map((a) => a.score);
  return {
    test,
    answers: answers.length,
    invalidLines,
    items: plan ? plan.items.length : null,
    answered: latest.length,
    preference: ab.length ? { ...wilson(student, ab.length), teacher: ab.length - student, student } : null,
    mos: mos.length ? { teacher: meanCi(scores('teacher')), student: meanCi(scores('student')) } : null,
  };
}

/** The tests of a run (by their answer or plan files), sorted by name. */
export async function listTests(runDir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(join(runDir, LISTENING_DIR));
  } catch {
    return [];
  }
  const tests = new Set<string>();
  for (const f of names) {
    const m = /^(.+?)(\.plan\.json|\.jsonl)$/.exec(f);
    if (m && TEST_NAME.test(m[1]!)) tests.add(m[1]!);
  }
  return [...tests].sort();
}

/** A summary per test of the run that has answers (for the report); [] when there are none. */
export async function runSummaries(runDir: string): Promise<ListeningSummary[]> {
  const out: ListeningSummary[] = [];
  for (const test of await listTests(runDir)) {
    const { answers, invalidLines } = await readAnswers(runDir, test);
    if (!answers.length) continue;
    const plan = await readPlan(runDir, test).catch(() => undefined);
    out.push(summarize(test, answers, invalidLines, plan));
  }
  return out;
}

/**
 * Puts the run's listening summaries into its eval.json and eval.html (rewritten atomically, the
 * rest of the report unchanged). Returns the summaries, or undefined when the run has no eval.json.
 */
export async function updateReport(runDir: string): Promise<{ summaries: ListeningSummary[]; json: string; html: string } | undefined> {
  const json = join(runDir, 'eval.json'),
    html = join(runDir, 'eval.html');
  if (!existsSync(json)) return undefined;
  const report = await readEvalReport(runDir);
  const summaries = await runSummaries(runDir);
  if (summaries.length) report.listening = summaries;
  else delete report.listening;
  await assertRegularOrAbsent(json);
  await assertRegularOrAbsent(html);
  await writeFileAtomic(json, JSON.stringify(report, null, 1) + '\n');
  await writeFileAtomic(html, renderReportHtml(report, runDir));
  return { summaries, json, html };
}
