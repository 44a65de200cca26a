import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { uriToPath } from '../core/util/paths';
import { ResponseError } from 'vscode-languageserver/node';
import type { ServerContext } from '../context';
import { readingsDocument } from '../core/evaluation/diffText';
import { evaluate, EvalInputError, writeReport } from '../core/evaluation/evaluate';
import { createJudge } from '../core/evaluation/judges';
import { runExternalTrainer } from '../core/student/externalTrainer';
import { DEFAULT_SEED } from '../core/student/defaults';
import { loadStudent } from '../core/student/model';
import { trainInWorker } from '../core/student/trainInWorker';
import {
  EvaluateStudentRequest,
  StudentTrainProgressNotification,
  TrainStudentRequest,
  type StudentTrainProgress,
  type TrainStudentResult,
} from '../../../protocol/lsp/student';

/** Error codes of the student requests. */
export const enum StudentError {
  NoManifest = 1,
  Untrusted = 2,
  NoCommand = 3,
  NoModel = 4,
  Busy = 5,
}

/**
 * The student in the language server: training runs in a worker thread (G2P) or a child process
 * group (external trainer), never in the extension host; cancel = cancel the request.
 */
export function register(ctx: ServerContext): void {
  let training = false;

  const folderFor = (uri: string | undefined) => ctx.workDirOf(uri ? uriToPath(uri) : undefined);

  ctx.connection.onRequest(TrainStudentRequest.type, async (params, token): Promise<TrainStudentResult> => {
    const settings = await ctx.getSettings(params.uri);
    const base = folderFor(params.uri);
    const manifest = path.join(params.teacherDir, 'manifest.jsonl');
    if (!existsSync(manifest))
      throw new ResponseError(StudentError.NoManifest, `${params.teacherDir} has no manifest.jsonl: run a teacher batch into it first.`);
    if (training) throw new ResponseError(StudentError.Busy, 'A student is already training.');
    const controller = new AbortController();
    const sub = token.onCancellationRequested(() => controller.abort());
    const progress = (p: Omit<StudentTrainProgress, 'runId' | 'kind'>) =>
      void ctx.connection.sendNotification(StudentTrainProgressNotification.type, { runId: params.runId, kind: params.kind, ...p });
    training = true;
    try {
      if (params.kind === 'g2p') {
        const out = path.resolve(base, settings.student.modelPath);
        ctx.log(`Training the G2P student from ${manifest} → ${out}`);
        const result = await trainInWorker(
          { labels: [manifest], out, seed: DEFAULT_SEED },
          {
            signal: controller.signal,
            onProgress: (p) => {
              if (p.phase === 'epoch')
                progress({
                  step: p.step,
                  total: p.total,
                  loss: p.errorRate ?? 0,
                  message: `epoch ${p.step}/${p.total}: ${((p.errorRate ?? 0) * 100).toFixed(2)} % of training examples wrong`,
                });
              else if (p.phase === 'evaluate' && p.step === 0) progress({ step: 0, message: 'measuring accuracy' });
            },
          },
        );
        if (!result) return { kind: 'g2p', status: 'cancelled' };
        const m = result.metrics;
        ctx.log(
          `G2P student: ${result.examples} examples, held-out accuracy ${m.heldOutAccuracy === null ? '—' : `${(m.heldOutAccuracy * 100).toFixed(2)} %`} (pinyin-pro ${m.heldOutPinyinProAccuracy === null ? '—' : `${(m.heldOutPinyinProAccuracy * 100).toFixed(2)} %`}), ${out}`,
        );
        // The polyphone diagnostics take the new model as their second opinion.
        ctx.revalidate();
        return { kind: 'g2p', status: 'done', model: out, result };
      }
      if (!params.workspaceTrusted)
        throw new ResponseError(StudentError.Untrusted, 'The external trainer runs a program: not allowed in an untrusted workspace.');
      const command = settings.student.trainCommand;
      if (!command.length)
        throw new ResponseError(StudentError.NoCommand, 'No external trainer is configured (ttsDistill.student.trainCommand).');
      const out = path.resolve(base, path.dirname(settings.student.modelPath), 'acoustic');
      ctx.log(`External trainer: ${command.join(' ')} (manifest ${manifest}, out ${out})`);
      const result = await runExternalTrainer({
        command,
        manifest,
        out,
        cwd: base,
        signal: controller.signal,
        onEvent: (e) => {
          if (e.event === 'progress')
            progress({
              step: e.step,
              ...(e.total !== undefined ? { total: e.total } : {}),
              ...(e.loss !== undefined ? { loss: e.loss } : {}),
            });
          else if (e.event === 'log') progress({ step: -1, message: e.message });
          else if (e.event === 'error') progress({ step: -1, message: `error: ${e.message}` });
        },
      });
      if (result.status === 'cancelled') return { kind: 'external', status: 'cancelled' };
      ctx.log(
        result.status === 'done'
          ? `External trainer finished: ${result.model ?? '(no model reported)'}`
          : `External trainer failed: ${result.error}`,
      );
      return { kind: 'external', status: result.status, out, result };
    } finally {
      training = false;
      sub.dispose();
    }
  });

  ctx.connection.onRequest(EvaluateStudentRequest.type, async (params, token) => {
    const settings = await ctx.getSettings(params.uri);
    const model = path.resolve(folderFor(params.uri), settings.student.modelPath);
    if (!existsSync(model))
      throw new ResponseError(StudentError.NoModel, `No G2P student at ${model}: train one first (TTS Distill: Train Student).`);
    const controller = new AbortController();
    const sub = token.onCancellationRequested(() => controller.abort());
    try {
      const student = await loadStudent(model);
      const evalDir = path.join(path.dirname(model), 'eval');
      // The judges and the student's synthesis, when the settings ask for them (ttsDistill.judges.*, student.synthCommand).
      let judge;
      try {
        judge = createJudge(settings.judges, settings.judges.backend, { workDir: evalDir, cwd: folderFor(params.uri) });
      } catch (err) {
        ctx.log(`Judges: ${(err as Error).message}`);
      }
      const synthCommand = settings.student.synthCommand;
      const synth = synthCommand.length
        ? {
            command: synthCommand,
            outDir: params.studentAudioDir ?? path.resolve(folderFor(params.uri), settings.preview.studentOutputDir),
            workDir: evalDir,
            cwd: folderFor(params.uri),
          }
        : undefined;
      const report = await evaluate({
        teacherDir: params.teacherDir,
        student,
        modelFile: model,
        studentAudioDir: params.studentAudioDir,
        signal: controller.signal,
        ...(judge ? { judge } : {}),
        ...(synth ? { synth } : {}),
        onLog: (l) => ctx.log(l),
      });
      if (report.summary.judges?.error) ctx.log(`Judges: ${report.summary.judges.error}`);
      if (report.summary.rtf?.error) ctx.log(`Student synthesis: ${report.summary.rtf.error}`);
      const files = await writeReport(report, evalDir);
      const taskFile = await findTaskFile(folderFor(params.uri), report.items);
      return {
        report,
        model,
        files,
        ...(taskFile ? { taskFile } : {}),
        teacherDocument: readingsDocument(report.items, 'teacher'),
        studentDocument: readingsDocument(report.items, 'student'),
      };
    } catch (err) {
      if (err instanceof EvalInputError) throw new ResponseError(StudentError.NoManifest, err.message);
      throw err;
    } finally {
      sub.dispose();
    }
  });
}

/**
 * The task file a teacher run came from (the manifest does not say): the workspace's
 * `*.tasks.jsonl` whose lines hold the run's first tasks' names at their line numbers.
 */
export async function findTaskFile(folder: string, items: ReadonlyArray<{ line: number; name: string }>): Promise<string | undefined> {
  const probe = items.slice(0, 5);
  if (!probe.length) return undefined;
  let entries: string[];
  try {
    entries = (await readdir(folder, { recursive: true })).filter(
      (f) => f.endsWith('.tasks.jsonl') && !f.split(path.sep).includes('node_modules'),
    );
  } catch {
    return undefined;
  }
  for (const rel of entries.slice(0, 500)) {
    const file = path.join(folder, rel);
    const lines = (await readFile(file, 'utf8').catch(() => '')).split('\n');
    if (probe.every((i) => lines[i.line]?.includes(JSON.stringify(i.name)))) return file;
  }
  return undefined;
}
