// Where the teacher's G2P likely misreads a polyphone: the student reads it otherwise, and is
// confident. Pure: no I/O, no model loading; the polyphone diagnostics and bench/flags.ts call it.
import { candidateReadings, charAt, isHan } from './readings';
import type { ScoredReading } from './model';

/**
 * The confidence (the student's calibrated probability of being right) from which a
 * disagreement with the teacher is reported. Calibrated by `npm run bench:flags` on a validation
 * split carved from the training part of CPP dev (seed 42): the highest threshold that keeps 99 %
 * of the best validation recall. The teacher is the real GLM-TTS G2P (scripts/reference/teacher_g2p.py):
 *   validation (1,583 targets): t = 0.65 → precision 92.7 %, recall 79.4 % (t = 0.70: 93.2 %, 78.5 %)
 *   held-out   (1,978 targets, reported once): precision 93.4 %, recall 85.5 % of the teacher's 248 misreadings
 * (student format 3, with word features; the same threshold as format 2's calibration chose).
 *   the old criterion (pinyin-pro alone reads otherwise): precision 38.4 %, recall 56.5 %
 * A student's disagreement is a teacher misreading far more often than not: the threshold drops
 * the unsure opinions — pinyin-pro's guesses for characters the student never saw (≈ 0.59) — and
 * keeps the characters it learnt (≥ 0.83, the calibrated floor of a zero margin).
 */
export const MISREADING_CONFIDENCE = 0.65;

/** A student that says how sure it is (model.ts's loaded student). */
export interface ConfidentStudent {
  predictWithConfidence(text: string, index: number): ScoredReading | undefined;
  /**
   * The same reading without its confidence, when that is cheaper (model.ts skips pinyin-pro's
   * vote where it cannot change the answer): an agreement with the teacher is settled by it.
   */
  predict?(text: string, index: number): string | undefined;
  /**
   * The highest confidence it can give text[index] (model.ts: a character it never saw gets the
   * calibrated accuracy of pinyin-pro's guesses, whatever the guess): below the threshold, no
   * reading needs computing.
   */
  maxConfidence?(text: string, index: number): number;
  /**
   * Both steps in one (model.ts): undefined where the student reads `reading`, else its reading
   * with its confidence, the character scored once.
   */
  judge?(text: string, index: number, reading: string): ScoredReading | undefined;
}

export interface LikelyMisreading {
  /** UTF-16 index of the character in the text. */
  index: number;
  char: string;
  teacherReading: string;
  studentReading: string;
  /** The student's calibrated probability that its reading is right. */
  confidence: number;
}

/**
 * The student's opinion on one character: a likely misreading when it reads the polyphone
 * otherwise than the teacher with a confidence ≥ `threshold`; undefined otherwise.
 */
export function misreadingAt(
  text: string,
  index: number,
  teacherReading: string | null | undefined,
  student: ConfidentStudent,
  threshold = MISREADING_CONFIDENCE,
): LikelyMisreading | undefined {
  if (!teacherReading) return undefined;
  const ch = charAt(text, index);
  if (!ch || !isHan(ch) || candidateReadings(ch).length < 2) return undefined;
  if (student.maxConfidence && student.maxConfidence(text, index) < threshold) return undefined;
  let s: ScoredReading | undefined;
  if (student.judge) s = student.judge(text, index, teacherReading);
  else {
    // Most of the time the student agrees: no confidence is needed to say so.
    if (student.predict && student.predict(text, index) === teacherReading) return undefined;
    s = student.predictWithConfidence(text, index);
  }
  if (!s || s.confidence === null || s.reading === teacherReading || s.confidence < threshold) return undefined;
  return { index, char: ch, teacherReading, studentReading: s.reading, confidence: s.confidence };
}

/**
 * The polyphones of `text` the teacher likely misreads. `teacherReadings` has one entry per
 * UTF-16 unit, as `predictReadings` (core/pronunciation/teacherReadings.ts) returns them: tone-numbered pinyin or null.
 */
export function likelyMisreadings(
  text: string,
  teacherReadings: ReadonlyArray<string | null>,
  student: ConfidentStudent,
  threshold = MISREADING_CONFIDENCE,
): LikelyMisreading[] {
  const out: LikelyMisreading[] = [];
  for (let i = 0; i < text.length; i++) {
    const m = misreadingAt(text, i, teacherReadings[i], student, threshold);
    if (m) out.push(m);
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) i++;
  }
  return out;
}
