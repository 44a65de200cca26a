// Student versus teacher on a teacher run: reads its manifest, asks the G2P student for every
// character, compares audio where the student's WAV sits beside the teacher's, writes the report.
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { isAbsolute, join, resolve, sep } from 'node:path';
import { writeFileAtomic } from '../batch/manifest';
import { readRegularFile } from '../util/safeFs';
import { parseManifest, type TeacherRecord } from '../student/labels';
import { excludedLines, QaError } from '../qa/runQa';
import type { G2PStudent } from '../student/model';
import { charAt, isHan } from '../student/readings';
import { compareAudio } from './acoustic';
import { agreement, disagreements } from './agreement';
import { renderReportHtml } from './html';
import { applyJudge, writeJudgesFile } from './judges/apply';
import type { Judge } from './judges/judge';
import { synthesizeStudent, type SynthOptions } from './studentSynth';
import { runSummaries } from './listening';
import { EVAL_FORMAT_VERSION, type EvalItem, type EvalReport } from './types';

export { EVAL_FORMAT_VERSION };
export type { AcousticSummary, EvalItem, EvalReport } from './types';

export interface EvalOptions {
  /** Teacher output folder with manifest.jsonl. */
  teacherDir: string;
  student: G2PStudent;
  modelFile?: string;
  /** Folder holding `<name>.wav` of the student for the same tasks. */
  studentAudioDir?: string;
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
  /** The teacher's judges (reward server or evaluator command) on the teacher's and the student's WAVs. */
  judge?: Judge;
  /** Synthesize the set with the student first (ttsDistill.student.synthCommand) into `synth.outDir`, which becomes the student audio; timed for the RTF. */
  synth?: SynthOptions;
  /** Log lines of the judge and synth commands, and their progress. */
  onLog?: (line: string) => void;
}

export class EvalInputError extends Error {}

export async function evaluate(opts: EvalOptions): Promise<EvalReport> {
  const manifest = join(opts.teacherDir, 'manifest.jsonl');
  let content: string;
  try {
    content = (await readRegularFile(manifest, 1 << 30)).toString('utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EUNSAFE') throw new EvalInputError((err as Error).message);
    throw new EvalInputError(`${opts.teacherDir} has no manifest.jsonl (run a teacher batch first)`);
  }
  const parsed = parseManifest(content);
  // Lines the QA gates exclude (qa.jsonl, qa-overrides.json of the run) are not evaluated.
  let excluded: Map<string, string>;
  try {
    excluded = await excludedLines(opts.teacherDir);
  } catch (err) {
    if (err instanceof QaError) throw new EvalInputError(err.message);
    throw err;
  }
  const records = parsed.records.filter((r) => !excluded.has(r.name));
  const { skipped } = parsed;
  const synth = opts.synth ? await synthesizeStudent(records, opts.synth, { signal: opts.signal, onLog: opts.onLog }) : undefined;
  if (opts.synth) opts = { ...opts, studentAudioDir: opts.synth.outDir };
  const items: EvalItem[] = [];
  for (let k = 0; k < records.length; k++) {
    if (opts.signal?.aborted) throw new Error('evaluation cancelled');
    items.push(await evaluateRecord(records[k]!, opts));
    opts.onProgress?.(k + 1, records.length);
  }
  if (synth)
    for (const item of items) {
      const t = synth.timings.get(item.name);
      if (t) item.synth = t;
    }
  const byName = new Map(records.map((r) => [r.name, r]));
  const judges = opts.judge
    ? await applyJudge(
        opts.judge,
        items,
        (name) => {
          const r = byName.get(name);
          const emotion = r?.labels?.emotion;
          return {
            ...(r?.promptAudio && isAbsolute(r.promptAudio) ? { promptAudio: r.promptAudio } : {}),
            ...(typeof emotion === 'string' || typeof emotion === 'number' ? { emotion } : {}),
            ...(r?.wavSha256 ? { wavSha256: r.wavSha256 } : {}),
          };
        },
        resolve(opts.teacherDir),
        { signal: opts.signal, onLog: opts.onLog, onProgress: (d, t) => opts.onLog?.(`judged ${d}/${t}`) },
      )
    : undefined;
  const g2p = agreement(items);
  const withAudio = items.filter((i) => i.acoustic);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const f0s = withAudio.map((i) => i.acoustic!.f0Rmse).filter((x): x is number => x !== null);
  return {
    format: 'tts-distill-eval',
    formatVersion: EVAL_FORMAT_VERSION,
    teacher: {
      dir: resolve(opts.teacherDir),
      manifest,
      records: records.length,
      skipped,
      ...(parsed.records.length > records.length ? { excluded: parsed.records.length - records.length } : {}),
    },
    student: {
      version: opts.student.version,
      ...(opts.modelFile ? { model: resolve(opts.modelFile) } : {}),
      ...(opts.studentAudioDir ? { audioDir: resolve(opts.studentAudioDir) } : {}),
    },
    summary: {
      characters: g2p.characters,
      polyphones: g2p.polyphones,
      sentences: g2p.sentences,
      bySource: g2p.bySource,
      acoustic: withAudio.length
        ? {
            items: withAudio.length,
            meanDurationRatio: mean(withAudio.map((i) => i.acoustic!.durationRatio)),
            meanMcd: mean(withAudio.map((i) => i.acoustic!.mcd)),
            meanF0Rmse: f0s.length ? mean(f0s) : null,
          }
        : null,
      ...(judges ? { judges } : {}),
      ...(synth ? { rtf: synth.summary } : {}),
    },
    polyphones: g2p.table,
    items,
  };
}

async function evaluateRecord(r: TeacherRecord, opts: EvalOptions): Promise<EvalItem> {
  const student: (string | null)[] = new Array<string | null>(r.text.length).fill(null);
  for (let i = 0; i < r.text.length; i++) {
    const ch = charAt(r.text, i);
    if (ch && isHan(ch)) student[i] = opts.student.predict(r.text, i) ?? null;
  }
  const item: EvalItem = { line: r.line, name: r.name, text: r.text, teacher: r.readings, student, disagreements: [] };
  if (r.sources) item.sources = r.sources;
  item.disagreements = disagreements(item);
  const teacherAudio = join(opts.teacherDir, r.audio ?? `${r.name}.wav`);
  // A manifest's `audio` could say ../../etc/passwd: only a file inside the teacher folder is read or linked.
  if (existsSync(teacherAudio) && resolve(teacherAudio).startsWith(resolve(opts.teacherDir) + sep))
    item.teacherAudio = resolve(teacherAudio);
  if (opts.studentAudioDir) {
    const studentAudio = join(opts.studentAudioDir, `${r.name}.wav`);
    if (existsSync(studentAudio)) {
      item.studentAudio = resolve(studentAudio);
      if (item.teacherAudio) {
        try {
          // Regular files only: a FIFO named like a WAV must not hang the evaluation.
          item.acoustic = compareAudio(
            await readRegularFile(item.teacherAudio, 0xffffffff),
            await readRegularFile(studentAudio, 0xffffffff),
          );
        } catch (err) {
          item.acousticError = (err as Error).message;
        }
      }
    }
  }
  return item;
}

/** Writes eval.json and eval.html into `outDir`. */
export async function writeReport(report: EvalReport, outDir: string): Promise<{ json: string; html: string }> {
  await mkdir(outDir, { recursive: true });
  const json = join(outDir, 'eval.json'),
    html = join(outDir, 'eval.html');
  const judges = report.summary.judges;
  if (judges?.judgesFile) {
    // For the QA gates of the teacher run; a read-only run folder costs only this file.
    await writeJudgesFile(judges.judgesFile, report.items, judges.backend).catch((err: Error) => {
      delete judges.judgesFile;
      judges.judgesFileError = `cannot write ${join(report.teacher.dir, 'judges.jsonl')}: ${err.message}`;
    });
  }
  // Listening tests answered on an earlier evaluation into this folder stay in the report.
  const listening = await runSummaries(outDir);
  if (listening.length) report.listening = listening;
  // Through a temp file and a rename: an eval.html that is a symbolic link (to ~/.bashrc) is replaced, never written through.
  await writeFileAtomic(json, JSON.stringify(report, null, 1) + '\n');
  await writeFileAtomic(html, renderReportHtml(report, outDir));
  return { json, html };
}
