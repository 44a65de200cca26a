import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type CodeLens, CodeLensRefreshRequest, ResponseError } from 'vscode-languageserver/node';
import type { OpenDocument, ServerContext } from '../context';
import { MANIFEST_FILE, type ManifestRecord, taskHash } from '../core/batch/manifest';
import type { OutputFolderState } from '../core/batch/outputIndex';
import { checkNames, parseTaskText, runBatch } from '../core/batch/runner';
import type { JudgesLine } from '../core/evaluation/judges/apply';
import type { Settings } from '../core/settings';
import { createTeacher } from '../core/teacher';
import {
  BatchPreflightRequest,
  BatchProgressNotification,
  QaOverrideRequest,
  SubmitBatchRequest,
  TeacherHealthRequest,
} from '../../../protocol/lsp/teacher';
import { QaError, readOverrides, writeOverrides } from '../core/qa/runQa';
import { qaSummaryLine } from '../core/qa/gates';

/**
 * The teacher in the language server: batches run here (not in the extension host), with typed
 * progress notifications and cancellation through the request; finished lines get code lenses
 * from the output folders' manifests.
 */
export function register(ctx: ServerContext): void {
  const running = new Set<string>();

  // Without a workspace folder, a batch's outputs go beside its task file.
  const folderOf = (file: string | undefined) => ctx.workDirOf(file);
  const outDirs = (settings: Settings, file: string | undefined) => {
    const base = folderOf(file);
    return { outputDir: path.resolve(base, settings.batch.outputDir), testOutputDir: path.resolve(base, settings.batch.testOutputDir) };
  };
  // glmtts-cli runs python (through the command prefix, e.g. ssh, when one is set).
  const runsExternalProgram = (s: Settings) => s.teacher.backend === 'glmtts-cli';

  ctx.connection.onRequest(BatchPreflightRequest.type, async ({ uri }) => {
    const file = filePath(uri);
    const settings = await ctx.getSettings(uri);
    const dirs = outDirs(settings, file);
    const text = ctx.getDocument(uri)?.document.getText() ?? (await readFile(file, 'utf8'));
    const { tasks, invalid } = parseTaskText(text, settings.taskFiles.dialect);
    const names = checkNames(tasks, dirs.outputDir);
    // The runner's own checks, plus the errors the Problems panel shows (prompt audio is checked only there).
    const errors = new Map<number, string>([...invalid, ...names.invalid].map((x) => [x.line, x.reason]));
    for (const [line, reason] of editorErrors(ctx.getDocument(uri))) if (!errors.has(line)) errors.set(line, reason);
    return {
      lines: tasks.length + invalid.length,
      invalid: [...errors].sort((a, b) => a[0] - b[0]).map(([line, reason]) => ({ line, reason })),
      backend: settings.teacher.backend,
      runsExternalProgram: runsExternalProgram(settings),
      ...dirs,
    };
  });

  ctx.connection.onRequest(SubmitBatchRequest.type, async (params, token) => {
    const file = filePath(params.uri);
    const settings = await ctx.getSettings(params.uri);
    if (!params.workspaceTrusted && runsExternalProgram(settings)) {
      throw new ResponseError(
        1,
        `The ${settings.teacher.backend} teacher runs an external program: not allowed in an untrusted workspace.`,
      );
    }
    const outDir = path.resolve(params.outDir);
    if (running.has(outDir)) throw new ResponseError(2, `A batch is already writing to ${outDir}.`);
    running.add(outDir);
    const base = folderOf(file);
    const controller = new AbortController();
    const sub = token.onCancellationRequested(() => controller.abort());
    const teacher = createTeacher(settings, {
      baseDir: base,
      log: ctx.log,
      ...(params.token ? { token: params.token } : {}),
      // glmtts-cli: the checkout's dictionary differs and tts-distill did not write it — ask before replacing it.
      confirmDictionaryReplace: async (q) => {
        const replace = 'Replace (keep a backup)';
        const answer = await ctx.connection.window.showWarningMessage(q.message, { title: replace }, { title: 'Cancel' });
        return answer?.title === replace;
      },
    });
    let lastSent = 0,
      lastRefresh = Date.now();
    ctx.log(
      `Batch ${path.basename(file)} → ${outDir} (teacher: ${settings.teacher.backend}, seed ${settings.batch.seed}, ${settings.batch.concurrency} at once)`,
    );
    try {
      const summary = await runBatch({
        tasksFile: file,
        dialect: settings.taskFiles.dialect,
        validOnly: params.validOnly,
        outDir,
        teacher,
        // With validOnly, the lines the editor shows errors on are left out too: the server decides from its own findings.
        ...(params.validOnly ? { skipLines: new Set(editorErrors(ctx.getDocument(params.uri)).keys()) } : {}),
        concurrency: settings.batch.concurrency,
        timeoutMs: settings.batch.timeoutSeconds * 1000,
        retries: settings.batch.retries,
        seed: settings.batch.seed,
        sampleRate: settings.teacher.sampleRate,
        glmttsPath: settings.teacher.glmttsPath,
        workspaceFolder: base,
        signal: controller.signal,
        onLog: ctx.log,
        onProgress: (p) => {
          const now = Date.now();
          const finished = p.done + p.skipped + p.failed === p.total;
          if (!finished && now - lastSent < 250) return;
          lastSent = now;
          void ctx.connection.sendNotification(BatchProgressNotification.type, { ...p, batchId: params.batchId });
          if (now - lastRefresh > 2000) {
            lastRefresh = now;
            refreshLenses();
          }
        },
      });
      ctx.log(
        `Batch ${summary.cancelled ? 'cancelled' : 'finished'}: done ${summary.done}, skipped ${summary.skipped}, failed ${summary.failed} of ${summary.total}${summary.invalid ? ` (${summary.invalid} line(s) with errors left out)` : ''} in ${(summary.elapsedMs / 1000).toFixed(1)} s.`,
      );
      return summary;
    } finally {
      sub.dispose();
      running.delete(outDir);
      await teacher.close?.();
      refreshLenses();
      // The recorded teacher phonemes feed the polyphone checks.
      ctx.revalidate();
    }
  });

  ctx.connection.onRequest(TeacherHealthRequest.type, async ({ uri, token }) => {
    const settings = await ctx.getSettings(uri);
    const file = uri ? filePath(uri) : undefined;
    const teacher = createTeacher(settings, { baseDir: folderOf(file), ...(token ? { token } : {}) });
    try {
      return await teacher.health();
    } finally {
      await teacher.close?.();
    }
  });

  const refreshLenses = () => {
    void ctx.connection.sendRequest(CodeLensRefreshRequest.type).catch(() => undefined);
  };

  // A QA decision from a code lens: only in an output folder of this workspace's settings that holds a manifest.
  ctx.connection.onRequest(QaOverrideRequest.type, async ({ runDir, name, override }) => {
    const dir = path.resolve(runDir);
    const known = await Promise.all(
      ctx
        .allDocuments()
        .filter((d) => d.kind === 'tasks')
        .map(async (d) => Object.values(outDirs(await ctx.getSettings(d.uri), d.path))),
    );
    if (!known.flat().includes(dir) || !existsSync(path.join(dir, MANIFEST_FILE)))
      throw new ResponseError(4, `${runDir} is not a teacher output folder of an open task file.`);
    try {
      const overrides = await readOverrides(dir);
      if (override === 'clear') overrides.delete(name);
      else overrides.set(name, override);
      await writeOverrides(dir, overrides);
    } catch (err) {
      throw new ResponseError(
        5,
        err instanceof QaError ? err.message : `Could not write the QA decision: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
    ctx.log(`QA: ${name} in ${dir}: ${override === 'clear' ? "back to the gates' verdict" : `${override}d by hand`}`);
    refreshLenses();
  });

  ctx.onCodeLens(async (doc) => {
    if (doc.kind !== 'tasks' || !doc.tasks) return [];
    const settings = await ctx.getSettings(doc.uri);
    const dirs = outDirs(settings, doc.path);
    const prod = await ctx.outputs.get(dirs.outputDir);
    const test = await ctx.outputs.get(dirs.testOutputDir);
    if (!prod && !test) return [];
    return lensesFor(
      doc,
      [
        [prod, '', dirs.outputDir],
        [test, ' (test)', dirs.testOutputDir],
      ],
      settings.editor.maxItemsComputed,
    );
  });
}

/** The lines with an error in the document's last published findings, with the first message of each. */
function editorErrors(doc: OpenDocument | undefined): Map<number, string> {
  const out = new Map<number, string>();
  for (const f of doc?.findings ?? []) if (f.severity === 'error' && !out.has(f.range.start.line)) out.set(f.range.start.line, f.message);
  return out;
}

function filePath(uri: string): string {
  if (!uri.startsWith('file:')) throw new ResponseError(3, 'Only task files saved on disk can be submitted.');
  return fileURLToPath(uri);
}

/** The lenses of the first `maxLines` lines (ttsDistill.editor.maxItemsComputed: VS Code asks for all of them after each edit). */
function lensesFor(doc: OpenDocument, folders: Array<[OutputFolderState | undefined, string, string]>, maxLines: number): CodeLens[] {
  const lenses: CodeLens[] = [];
  const model = doc.tasks!;
  for (let i = 0; i < Math.min(model.lineCount, maxLines); i++) {
    const p = model.line(i)!;
    if (p.kind !== 'object') continue;
    const task = p.toTask(i);
    if (!task) continue;
    const range = { start: { line: i, character: 0 }, end: { line: i, character: 0 } };
    for (const [state, suffix, runDir] of folders) {
      if (!state) continue;
      const rec = state.records.get(task.name);
      const fail = state.failures.get(task.name);
      if (!rec && !fail) continue;
      // Only the hash tells whether the output still belongs to this line as it is now written.
      const hash = taskHash(task);
      if (rec && rec.taskHash === hash) {
        lenses.push({
          range,
          command: {
            title: `▶ play${suffix}`,
            command: 'ttsDistill.previewAudio',
            arguments: [{ uri: doc.uri, line: i, source: 'teacher' }],
          },
        });
        const qa = state.qa?.get(task.name);
        const qaText = qa?.measures ? ` · SNR ${qa.measures.snrDb === null ? 'n/a' : `${qa.measures.snrDb.toFixed(0)} dB`}` : '';
        const tooltip = [rec.note ?? rec.phonemes, qa?.measures ? `QA: ${qaSummaryLine(qa)}` : undefined].filter(Boolean).join('\n');
        lenses.push({
          range,
          command: {
            title: `✓ ${rec.durationSeconds.toFixed(1)} s${rec.clonedVoice ? '' : ' · voice not cloned'}${judgeLensText(state.judges?.get(task.name), rec)}${qaText}`,
            command: 'ttsDistill.showOutput',
            tooltip,
          },
        });
        // Left out by the QA gates (or by hand): say why, and let the user include it anyway.
        const excluded = state.excluded.get(task.name);
        if (excluded) {
          const short = excluded.length > 60 ? excluded.slice(0, 59) + '…' : excluded;
          lenses.push({
            range,
            command: {
              title: `⊘ excluded · ${short}`,
              command: 'ttsDistill.qaOverride',
              tooltip: `${excluded}. Click to include this line in training, evaluation and export anyway.`,
              arguments: [{ runDir, name: task.name, override: 'include' }],
            },
          });
        }
        break;
      }
      if (fail && (fail.taskHash === hash || fail.taskHash === '')) {
        const reason = fail.reason.length > 70 ? fail.reason.slice(0, 69) + '…' : fail.reason;
        lenses.push({
          range,
          command: {
            title: `✗ ${reason}${suffix}`,
            command: 'ttsDistill.showOutput',
            tooltip: `${fail.reason} (after ${fail.attempts} attempt(s)${fail.transient ? '; may succeed when run again' : ''})`,
          },
        });
        break;
      }
    }
  }
  return lenses;
}

/** The judges' scores of this output (`judges.jsonl` of the run), when they are of this very WAV. */
function judgeLensText(j: JudgesLine | undefined, rec: Pick<ManifestRecord, 'wavSha256'>): string {
  if (!j || (j.wavSha256 && j.wavSha256 !== rec.wavSha256)) return '';
  if (j.error) return ' · not judged';
  const parts = [
    j.cer !== null ? `CER ${j.cer.toFixed(2)}` : '',
    j.similarity !== null ? `sim ${j.similarity.toFixed(2)}` : '',
    j.emotion !== null ? `emotion ${j.emotion.toFixed(2)}` : '',
  ].filter(Boolean);
  return parts.length ? ` · ${parts.join(' · ')}` : '';
}
