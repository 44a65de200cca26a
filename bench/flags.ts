// `npm run bench:flags`: how well the polyphone warnings ("the teacher likely misreads this")
// find the teacher's real misreadings on held-out CPP. The teacher is the real GLM-TTS G2P (jieba +
// pypinyin, scripts/reference/teacher_g2p.py, one batched run) and, beside it, its TypeScript port
// (core/pronunciation/g2p/glmG2P.ts). A misreading: the teacher's reading of the CPP target ≠ the gold label.
// Same split as bench:student (seed 42, 20 % held out); the confidence threshold is calibrated on
// a validation split carved from the training part, and reported once on the held-out part.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { g2pReadings } from '../server/src/core/pronunciation/g2p/glmG2P';
import { parseReplacement, isHan as isHanCode } from '../server/src/core/formats/notation';
import { readCpp } from '../server/src/core/student/labels';
import { studentFromJson, type LoadedStudentModel } from '../server/src/core/student/model';
import { defaultReading } from '../server/src/core/pronunciation/teacherReadings';
import { misreadingAt, MISREADING_CONFIDENCE } from '../server/src/core/student/secondOpinion';
import { DEFAULT_HELDOUT, DEFAULT_SEED, splitExamples, trainStudent, type LabelledExample } from '../server/src/core/student/trainer';

const ROOT = join(__dirname, '..');
const CPP = join(ROOT, 'data', 'cpp', 'dev.sent');
const TEACHER = join(ROOT, 'scripts', 'reference', 'teacher_g2p.py');
const PYTHON = process.env.TEACHER_PYTHON ?? '/usr/bin/python3';
/** The validation split carved from the training part (never the held-out part). */
const VALIDATION_FRACTION = 0.2;
const VALIDATION_SEED = 1042;
/**
 * The calibration rule: the highest threshold that keeps this share of the best validation recall
 * (a disagreement of the student is a teacher misreading far more often than not, so the threshold
 * is there to drop the unsure ones, e.g. pinyin-pro's guesses for characters the student never saw).
 */
const RECALL_KEPT = 0.99;

/**
 * The real teacher's reading of every Han character of each text, per UTF-16 unit; null for a
 * text the teacher fails on (its G2P raises on a few inputs) or whose output does not line up.
 * One process for all texts; after a crash, a new one goes on from the next text.
 */
function pythonTeacher(texts: string[]): {
  readings: Array<Array<string | null> | null>;
  crashed: number;
  misaligned: number;
  seconds: number;
} {
  const t0 = performance.now();
  const out: Array<Array<string | null> | null> = [];
  let crashed = 0,
    misaligned = 0;
  while (out.length < texts.length) {
    const rest = texts.slice(out.length);
    const r = spawnSync(PYTHON, [TEACHER], { input: rest.join('\n') + '\n', encoding: 'utf8', maxBuffer: 1 << 30 });
    if (r.error) throw r.error;
    const lines = r.stdout.split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    if (r.status !== 0 && !lines.length && !rest.length) throw new Error(r.stderr);
    for (let k = 0; k < lines.length && out.length < texts.length; k++) {
      const a = align(texts[out.length]!, lines[k]!);
      if (!a) misaligned++;
      out.push(a);
    }
    if (r.status !== 0) {
      if (out.length >= texts.length) break;
      if (!/Traceback/.test(r.stderr)) throw new Error(`teacher_g2p.py failed: ${r.stderr.slice(0, 500)}`);
      // The text after the last printed line made the teacher raise.
      crashed++;
      out.push(null);
    }
  }
  return { readings: out, crashed, misaligned, seconds: (performance.now() - t0) / 1000 };
}

/**
 * One syllable per Han character (teacher_g2p.py's output: token groups, but the teacher's
 * non-phoneme tokens, e.g. <|1990|> for digits it leaves alone, glue groups together): the
 * syllables in order, after dropping the tokens that are not phonemes.
 */
function align(text: string, line: string): Array<string | null> | null {
  const tokens = (line.match(/<\|[^|]*\|>/g) ?? []).filter((t) => !/^<\|[\d.]+\|>$/.test(t));
  const syllables: string[] = [];
  for (const p of parseReplacement(tokens.join(''))) if (p.kind === 'syllable') syllables.push(p.pinyin);
  const han: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const cp = text.codePointAt(i)!;
    if (isHanCode(cp)) han.push(i);
    if (cp > 0xffff) i++;
  }
  if (syllables.length !== han.length) return null;
  const out: Array<string | null> = new Array<string | null>(text.length).fill(null);
  han.forEach((i, k) => {
    out[i] = syllables[k]!;
  });
  return out;
}

interface Case {
  e: LabelledExample;
  teacher: string;
}
interface Counts {
  flagged: number;
  right: number;
  misread: number;
  cases: number;
}

function count(cases: readonly Case[], flag: (c: Case) => boolean): Counts {
  const c: Counts = { flagged: 0, right: 0, misread: 0, cases: cases.length };
  for (const x of cases) {
    const misread = x.teacher !== x.e.reading;
    if (misread) c.misread++;
    if (flag(x)) {
      c.flagged++;
      if (misread) c.right++;
    }
  }
  return c;
}
const precision = (c: Counts) => (c.flagged ? c.right / c.flagged : NaN);
const recall = (c: Counts) => (c.misread ? c.right / c.misread : NaN);
const pct = (x: number) => (Number.isNaN(x) ? '—' : `${(x * 100).toFixed(1)} %`);

/** The old criterion's notion of agreement: equal, or differing only by a neutral tone. */
function sameReading(a: string, b: string): boolean {
  return a === b || ((a.endsWith('5') || b.endsWith('5')) && a.slice(0, -1) === b.slice(0, -1));
}

function casesOf(
  examples: readonly LabelledExample[],
  teacherOf: Map<string, Array<string | null> | null>,
): { cases: Case[]; unknown: number } {
  const cases: Case[] = [];
  let unknown = 0;
  for (const e of examples) {
    const t = teacherOf.get(e.text)?.[e.index];
    if (t) cases.push({ e, teacher: t });
    else unknown++;
  }
  return { cases, unknown };
}

function curve(cases: readonly Case[], student: LoadedStudentModel, thresholds: number[]): Array<{ t: number; c: Counts }> {
  // One prediction per case, then every threshold.
  const scored = cases.map((x) => ({ ...x, confidence: misreadingAt(x.e.text, x.e.index, x.teacher, student, 0)?.confidence ?? -1 }));
  return thresholds.map((t) => ({ t, c: count(scored, (x) => (x as Case & { confidence: number }).confidence >= t) }));
}

async function main(): Promise<void> {
  if (!existsSync(CPP)) throw new Error(`CPP data not found at ${CPP}`);
  const { examples } = await readCpp(CPP);
  const seed = DEFAULT_SEED;
  const { train, heldOut } = splitExamples(examples, DEFAULT_HELDOUT, seed);
  const { train: fitPart, heldOut: validation } = splitExamples(train, VALIDATION_FRACTION, VALIDATION_SEED);
  process.stdout.write(
    `CPP dev: ${examples.length} examples; seed ${seed}: train ${train.length} (of which validation ${validation.length}), held out ${heldOut.length}\n`,
  );

  const texts = [...new Set(examples.map((e) => e.text))];
  const t0 = performance.now();
  const portOf = new Map(texts.map((t) => [t, g2pReadings(t)] as const));
  const portSeconds = (performance.now() - t0) / 1000;
  // --port: the TS port stands in for the Python teacher (measured identical on the held-out targets; faster).
  const usePort = process.argv.includes('--port');
  const py = usePort ? undefined : pythonTeacher(texts);
  const pyOf = py ? new Map(texts.map((t, k) => [t, py.readings[k]!] as const)) : portOf;
  process.stdout.write(
    py
      ? `teacher: scripts/reference/teacher_g2p.py on ${texts.length} sentences in ${py.seconds.toFixed(1)} s (${py.crashed} raised, ${py.misaligned} did not line up); TS port in ${portSeconds.toFixed(1)} s\n`
      : `teacher: the TS port (--port) on ${texts.length} sentences in ${portSeconds.toFixed(1)} s\n`,
  );

  const validationCases = casesOf(validation, pyOf).cases;
  const held = casesOf(heldOut, pyOf);
  const heldPort = casesOf(heldOut, portOf);
  const teacherAcc = (cs: Case[]) => cs.filter((x) => x.teacher === x.e.reading).length / cs.length;
  const portSame = held.cases.filter((x) => portOf.get(x.e.text)?.[x.e.index] === x.teacher).length;
  process.stdout.write(
    `teacher accuracy on held-out targets: ${py ? 'Python' : 'TS port'} ${pct(teacherAcc(held.cases))} (${held.cases.length}; ${held.unknown} without a reading), TS port ${pct(teacherAcc(heldPort.cases))}; port = Python on ${portSame}/${held.cases.length}\n\n`,
  );

  // Calibration: a student trained without the validation part, the threshold read off its curve.
  const calibrationStudent = studentFromJson(trainStudent(fitPart, { seed, heldOutFraction: 0 }));
  const thresholds = [0, 0.5, 0.55, 0.6, 0.65, 0.7, 0.8, 0.84, 0.86, 0.88, 0.9, 0.92, 0.94, 0.96, 0.98];
  const valCurve = curve(validationCases, calibrationStudent, thresholds);
  const bestRecall = Math.max(...valCurve.map((p) => recall(p.c)));
  const chosen = [...valCurve].reverse().find((p) => recall(p.c) >= RECALL_KEPT * bestRecall)!;

  // Report: the bench:student model (trained on the whole training part), on the held-out part.
  const student = studentFromJson(trainStudent(examples, { seed }));
  const heldCurve = curve(held.cases, student, thresholds);
  const row = (name: string, c: Counts, ref = '') =>
    process.stdout.write(
      `${name.padEnd(56)} ${String(c.flagged).padStart(5)} ${pct(precision(c)).padStart(8)} ${pct(recall(c)).padStart(8)}   ${ref}\n`,
    );
  process.stdout.write(`threshold curve (flag where the student reads otherwise with confidence ≥ t)\n`);
  process.stdout.write(`${'t'.padEnd(6)} ${'validation: flags  precision  recall'.padEnd(40)} held-out: flags  precision  recall\n`);
  thresholds.forEach((t, k) => {
    const v = valCurve[k]!.c,
      h = heldCurve[k]!.c;
    process.stdout.write(
      `${t.toFixed(2).padEnd(6)} ${String(v.flagged).padStart(17)} ${pct(precision(v)).padStart(10)} ${pct(recall(v)).padStart(7)}   ${String(h.flagged).padStart(20)} ${pct(precision(h)).padStart(10)} ${pct(recall(h)).padStart(7)}${t === chosen.t ? '   ← calibrated' : ''}\n`,
    );
  });
  process.stdout.write(
    `\ncalibrated on validation: the highest t keeping ${RECALL_KEPT * 100} % of the best recall → t = ${chosen.t.toFixed(2)} (precision ${pct(precision(chosen.c))}, recall ${pct(recall(chosen.c))}); shipped MISREADING_CONFIDENCE = ${MISREADING_CONFIDENCE}\n\n`,
  );

  process.stdout.write(`held-out: ${held.cases.length} targets, the teacher misreads ${count(held.cases, () => false).misread}\n`);
  process.stdout.write(`${'warning criterion'.padEnd(56)} flags precision   recall   reference\n`);
  const at = (t: number) => count(held.cases, (x) => !!misreadingAt(x.e.text, x.e.index, x.teacher, student, t));
  row(
    `student disagrees, confidence ≥ ${MISREADING_CONFIDENCE} (shipped)`,
    at(MISREADING_CONFIDENCE),
    'target: precision ≥ 90 %, recall ≥ 85 %',
  );
  if (chosen.t !== MISREADING_CONFIDENCE) row(`student disagrees, confidence ≥ ${chosen.t} (calibrated now)`, at(chosen.t));
  row('student disagrees, any confidence', at(0));
  row(
    'old: pinyin-pro alone reads otherwise',
    count(held.cases, (x) => {
      const d = defaultReading(x.e.text.slice(x.e.index, x.e.index + 1));
      return !!d && !sameReading(d, x.teacher);
    }),
    'issue: ≈ 7 % / 4 %',
  );
  const portCases = heldPort.cases;
  row(
    `with the TS port as the teacher, confidence ≥ ${MISREADING_CONFIDENCE}`,
    count(portCases, (x) => !!misreadingAt(x.e.text, x.e.index, x.teacher, student, MISREADING_CONFIDENCE)),
  );
  process.stdout.write(`  (the TS port misreads ${count(portCases, () => false).misread} of ${portCases.length})\n`);
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exitCode = 1;
});
