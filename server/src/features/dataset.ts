import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { uriToPath } from '../core/util/paths';
import { LSPErrorCodes, ResponseError } from 'vscode-languageserver/node';
import type { ServerContext } from '../context';
import { loadReplaceDict } from '../core/pronunciation/dictionary';
import { loadAbleList } from '../core/pronunciation/g2p/ableList';
import { computeCoverageAsync, suggestFromCorpus } from '../core/dataset/coverage';
import { ExportError, exportDataset, parseSplitSpec } from '../core/dataset/export';
import { findTaskFiles, tasksOfText, type TaskFileTasks } from '../core/dataset/taskLines';
import { kindByGlobs } from '../core/formats/documentKind';
import { readVoiceLabels, setVoiceLabels, voicePool } from '../core/dataset/voices';
import type { Settings } from '../core/settings';
import {
  DatasetCoverageRequest,
  DatasetExportRequest,
  DatasetSetVoiceLabelsRequest,
  DatasetSuggestRequest,
  DatasetVoicesRequest,
  type CoverageResult,
  type ExportDatasetResult,
  type VoicesResult,
} from '../../../protocol/lsp/dataset';

/** Error codes of the dataset requests. */
export const enum DatasetError {
  Refused = 1,
}

/**
 * Dataset authoring in the language server: coverage and the voice pool of the workspace
 * folder's task files (open editors' unsaved text counts), voice labels written to the sidecar,
 * and Export Dataset. The client only shows the results.
 */
export function register(ctx: ServerContext): void {
  const folderFor = (uri: string | undefined) => ctx.workDirOf(uri ? uriToPath(uri) : undefined);

  async function taskFiles(folder: string, settings: Settings): Promise<TaskFileTasks[]> {
    const open = new Map<string, string>();
    for (const d of ctx.allDocuments())
      if (d.kind === 'tasks' && d.path && d.path.startsWith(folder + path.sep)) open.set(d.path, d.document.getText());
    const files = [
      ...new Set([...(await findTaskFiles(folder, 1000, (f) => kindByGlobs(f, folder, settings) === 'tasks')), ...open.keys()]),
    ].sort();
    const out: TaskFileTasks[] = [];
    for (const f of files) {
      const text = open.get(f) ?? (await readFile(f, 'utf8').catch(() => undefined));
      if (text !== undefined) out.push(tasksOfText(f, text, settings, folder));
    }
    return out;
  }

  /** The coverage of the workspace's task text. In chunks: diagnostics and hovers go on while a large workspace is counted; a cancelled request stops. */
  async function coverageOf(uri: string | undefined, maxRefs: number, token: { isCancellationRequested: boolean }) {
    const settings = await ctx.getSettings(uri);
    const folder = folderFor(uri);
    const files = await taskFiles(folder, settings);
    const dict = await loadReplaceDict(path.resolve(folder, settings.dictionary.path));
    const able = (await loadAbleList(settings.teacher.glmttsPath || undefined, folder)).list;
    const lines = files.flatMap((f) => f.tasks.map((t) => ({ file: f.file, line: t.line, text: t.text })));
    const report = await computeCoverageAsync(lines, {
      dict,
      able,
      minExamples: settings.coverage.minExamples,
      maxRefs,
      isCancelled: () => token.isCancellationRequested,
    });
    if (!report) throw new ResponseError(LSPErrorCodes.RequestCancelled, 'cancelled');
    return { files, dict, able, report };
  }

  ctx.connection.onRequest(DatasetCoverageRequest.type, async (params, token): Promise<CoverageResult> => {
    const { files, report } = await coverageOf(params.uri, 500, token);
    return { files: files.map((f) => f.file), report };
  });

  ctx.connection.onRequest(DatasetSuggestRequest.type, async (params, token) => {
    const { dict, able, report } = await coverageOf(params.uri, 1, token);
    const corpus = (await readFile(params.corpus, 'utf8')).split(/\r?\n/);
    return { suggestions: suggestFromCorpus(report, corpus, { dict, able, limit: params.limit ?? 20 }) };
  });

  ctx.connection.onRequest(DatasetVoicesRequest.type, async (params): Promise<VoicesResult> => {
    const settings = await ctx.getSettings(params.uri);
    const folder = folderFor(params.uri);
    const files = await taskFiles(folder, settings);
    const labelsFile = path.resolve(folder, settings.voices.labelsFile);
    const uses = files.flatMap((f) =>
      f.tasks.map((t, i) => ({ audio: f.promptPaths[i]!, file: f.file, ...(t.labels ? { labels: t.labels } : {}) })),
    );
    const pool = await voicePool(uses, {
      workspaceFolder: folder,
      sidecar: await readVoiceLabels(labelsFile),
      speakerPattern: settings.voices.speakerPattern,
      maxBytes: settings.promptAudio.maxMegabytes * 1024 * 1024,
    });
    return { files: files.map((f) => f.file), labelsFile, pool };
  });

  ctx.connection.onRequest(DatasetSetVoiceLabelsRequest.type, async (params) => {
    const settings = await ctx.getSettings(params.uri);
    const labelsFile = path.resolve(folderFor(params.uri), settings.voices.labelsFile);
    await setVoiceLabels(labelsFile, params.audio, params.labels);
    ctx.log(`Voice labels of ${params.audio} written to ${labelsFile}`);
    return null;
  });

  ctx.connection.onRequest(DatasetExportRequest.type, async (params): Promise<ExportDatasetResult> => {
    const settings = await ctx.getSettings(params.uri);
    const folder = folderFor(params.uri);
    try {
      const summary = await exportDataset({
        run: params.run,
        format: params.format,
        out: params.out,
        text: params.text ?? 'plain',
        splits: params.split ? parseSplitSpec(params.split) : [],
        splitBy: params.splitBy ?? 'speaker',
        seed: params.seed ?? 42,
        force: params.force ?? false,
        voices: {
          workspaceFolder: folder,
          sidecar: await readVoiceLabels(path.resolve(folder, settings.voices.labelsFile)),
          speakerPattern: settings.voices.speakerPattern,
        },
      });
      ctx.log(
        `Exported ${summary.utterances.length} utterance(s) as ${summary.format} to ${summary.out}; left out ${summary.leftOut.length}`,
      );
      for (const l of summary.leftOut) ctx.log(`  left out ${l.name}: ${l.reason}`);
      for (const w of summary.warnings) ctx.log(`  warning: ${w}`);
      const { utterances, ...rest } = summary;
      return { summary: { ...rest, utterances: utterances.length } };
    } catch (err) {
      if (err instanceof ExportError) throw new ResponseError(DatasetError.Refused, err.message);
      throw err;
    }
  });
}
