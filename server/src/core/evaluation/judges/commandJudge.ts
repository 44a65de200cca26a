// A generic evaluator command (ttsDistill.judges.command) for any ASR or speaker model: it is run
// once per role (the teacher's WAVs, then the student's) and speaks JSON lines, with the external
// trainer's conventions (core/student/externalTrainer.ts):
//   in   ${tasks}: a JSON-lines file, one WAV a line:
//        {"name","role","audio","text","prompt_audio"?,"emotion"?}   (absolute paths)
//        ${out}: the evaluation's output folder · ${role}: teacher | student
//   out  one line per WAV on stdout: {"name":"a","cer":0.05,"similarity":0.81,"emotion":0.9}
//        (each measure optional; "error":"…" for a WAV it could not judge)
//        {"event":"log","message":"…"} or any non-JSON line: a log line
//        {"event":"error","message":"…"}: it failed (exit code should be non-zero)
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { writeLinesAtomic } from '../../batch/manifest';
import { type Judge, type JudgeInput, type JudgeRunOptions, type JudgeScores, JudgeUnavailableError, judgeKey } from './judge';
import { runJsonLines } from './jsonLinesProcess';
import { substitute } from '../../util/shell';
import type { JudgeRole } from './types';

export interface CommandJudgeOptions {
  /** Command and arguments; `${tasks}`, `${out}` and `${role}` are replaced in each. */
  command: readonly string[];
  /** Folder for the input lists (the evaluation's output folder); `${out}`. */
  workDir: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  killGraceMs?: number;
}

/** One stdout object → scores; measures that are not finite numbers are dropped; a problem with the line is returned instead. */
export function parseJudgeLine(o: Record<string, unknown>): { name: string; scores: JudgeScores } | { problem: string } {
  if (typeof o.name !== 'string' || !o.name) return { problem: `a result without "name": ${JSON.stringify(o).slice(0, 120)}` };
  const scores: JudgeScores = {};
  const measure = (k: 'cer' | 'similarity' | 'emotion', ok: (x: number) => boolean) => {
    const v = o[k];
    if (v === null) scores[k] = null;
    else if (typeof v === 'number' && Number.isFinite(v) && ok(v)) scores[k] = v;
  };
  measure('cer', (x) => x >= 0);
  measure('similarity', (x) => x >= -1 && x <= 1);
  measure('emotion', (x) => x >= 0 && x <= 1);
  if (typeof o.emotion_label === 'string') scores.emotionLabel = o.emotion_label;
  if (typeof o.error === 'string' && o.error) scores.error = o.error;
  return { name: o.name, scores };
}

export class CommandJudge implements Judge {
  readonly backend = 'command' as const;
  readonly where: string;

  constructor(private readonly opts: CommandJudgeOptions) {
    if (!opts.command.length || !opts.command[0]) throw new RangeError('no evaluator command is configured (ttsDistill.judges.command)');
    this.where = opts.command.join(' ');
  }

  async judge(inputs: readonly JudgeInput[], run: JudgeRunOptions = {}): Promise<Map<string, JudgeScores>> {
    const out = new Map<string, JudgeScores>();
    const failures: string[] = [];
    let done = 0;
    for (const role of ['teacher', 'student'] as JudgeRole[]) {
      const mine = inputs.filter((i) => i.role === role);
      if (!mine.length) continue;
      if (run.signal?.aborted) throw new Error('evaluation cancelled');
      await mkdir(this.opts.workDir, { recursive: true });
      const tasks = join(this.opts.workDir, `judge-input.${role}.jsonl`);
      await writeLinesAtomic(
        tasks,
        mine.map(
          (i) =>
            JSON.stringify({
              name: i.name,
              role,
              audio: i.audio,
              text: i.text,
              ...(i.promptAudio ? { prompt_audio: i.promptAudio } : {}),
              ...(i.emotion !== undefined ? { emotion: i.emotion } : {}),
            }) + '\n',
        ),
      );
      const wanted = new Set(mine.map((i) => i.name));
      const got = new Map<string, JudgeScores>();
      const result = await runJsonLines({
        command: substitute(this.opts.command, { tasks, out: this.opts.workDir, role }),
        setting: 'ttsDistill.judges.command',
        cwd: this.opts.cwd,
        env: this.opts.env,
        signal: run.signal,
        killGraceMs: this.opts.killGraceMs,
        onObject: (o) => {
          const r = parseJudgeLine(o);
          if ('problem' in r) return run.onLog?.(r.problem);
          if (!wanted.has(r.name)) return run.onLog?.(`the evaluator command judged "${r.name}", which is not in its ${role} list`);
          if (!got.has(r.name)) run.onProgress?.(++done, inputs.length);
          got.set(r.name, r.scores);
        },
        onLog: (l) => run.onLog?.(l),
      });
      if (result.cancelled) throw new Error('evaluation cancelled');
      if (result.error && !got.size) {
        failures.push(`${role}: ${result.error}`);
        continue;
      }
      for (const name of wanted) {
        out.set(
          judgeKey(role, name),
          got.get(name) ?? {
            error: result.error
              ? `the evaluator command failed before this line: ${result.error}`
              : 'the evaluator command printed no result for this line',
          },
        );
      }
    }
    if (failures.length && !out.size) throw new JudgeUnavailableError(failures.join('; '));
    for (const f of failures) {
      const role = f.startsWith('teacher') ? 'teacher' : 'student';
      for (const i of inputs.filter((x) => x.role === role)) out.set(judgeKey(role, i.name), { error: f.slice(role.length + 2) });
    }
    return out;
  }
}
