import { capFindings, type Finding } from './findings';
import type { Settings } from './settings';
import {
  type PromptAudioStatus,
  resolvePromptAudio,
  type TaskDialect,
  TaskFileModel,
  type TaskLineAnalyzer,
  type TaskValidationOptions,
} from './formats/taskFile';
import { documentKind, type DocumentKind } from './formats/documentKind';
import { validateDictionaryText } from './formats/dictFile';
import { dictionaryFindings, taskLineAnalyzers } from './pronunciation/checks';
import { readPromptStatus } from './audio/promptStatus';
import { measureWavFile } from './qa/measureFile';

/** What the caller plugs into one validation: the editor (features, caches, workers) and the CLI (read now) differ only here. */
export interface DocumentChecks {
  /** Per-line analyzers of task lines (polyphone flags…). */
  analyzers: TaskLineAnalyzer[];
  /** The prompt recording of a line, as far as it is known now (`pending` while it is read). */
  promptAudioStatus: (written: string, dialect: TaskDialect) => PromptAudioStatus;
  /** Checks of a dictionary beyond its structure (pronunciation, shadowing…). */
  dictionaryChecks: () => Promise<Finding[]>;
  /** The editor's pass gives up when a newer one starts. */
  isCancelled?: () => boolean;
  /** Lines between yields to the event loop (the editor keeps answering requests during a long pass). */
  chunkLines?: number;
  /** Only edits changed since the last validation of this model (see TaskFileModel.validate). */
  incremental?: boolean;
  /** What a long complete pass has found so far, handed over once (see TaskValidationOptions.partial). */
  partial?: TaskValidationOptions['partial'];
}

export interface DocumentValidation {
  dialect: string;
  dialectSource: 'file' | 'setting';
  findings: Finding[];
}

/**
 * The one validation of a document, which decides which checks run: the language server's pass and
 * `tts-distill validate` (validateFile) both call it. Undefined when cancelled.
 */
export async function validateDocument(
  doc: { kind: 'tasks'; model: TaskFileModel } | { kind: 'dictionary'; text: string },
  settings: Settings,
  checks: DocumentChecks,
): Promise<DocumentValidation | undefined> {
  if (doc.kind === 'dictionary') {
    const res = validateDictionaryText(doc.text, settings);
    const more = await checks.dictionaryChecks();
    if (checks.isCancelled?.()) return undefined;
    return {
      dialect: res.dialect,
      dialectSource: 'file',
      findings: capFindings([...res.findings, ...more], settings.diagnostics.maxPerFile),
    };
  }
  const model = doc.model;
  model.setDialectSetting(settings.taskFiles.dialect);
  model.setLabelKeys(settings.taskFiles.labelKeys ?? []);
  const findings = await model.validate({
    maxPerFile: settings.diagnostics.maxPerFile,
    promptAudio: settings.promptAudio,
    ...(settings.qa.promptChecks ? { promptQa: settings.qa } : {}),
    promptAudioStatus: checks.promptAudioStatus,
    analyzers: checks.analyzers,
    ...(checks.isCancelled ? { isCancelled: checks.isCancelled } : {}),
    ...(checks.chunkLines ? { chunkLines: checks.chunkLines } : {}),
    ...(checks.incremental ? { incremental: true } : {}),
    ...(checks.partial ? { partial: checks.partial } : {}),
  });
  return { dialect: model.dialect.dialect, dialectSource: model.dialect.source, findings };
}

/**
 * Validates one file completely, prompt audio included (read now, not in the background):
 * what `tts-distill validate` prints and what the editor shows once every check has settled.
 */
export async function validateFile(
  file: string,
  text: string,
  settings: Settings,
  env: { workspaceFolder?: string; kind?: DocumentKind },
): Promise<{ kind: DocumentKind; dialect: string; findings: Finding[] } | undefined> {
  const kind = env.kind ?? documentKind(file, text);
  if (!kind) return undefined;
  const ctx = { workspaceFolder: env.workspaceFolder, file };
  if (kind === 'dictionary') {
    const res = await validateDocument({ kind, text }, settings, {
      analyzers: [],
      promptAudioStatus: () => ({ state: 'pending' }),
      dictionaryChecks: () => dictionaryFindings(text, settings, ctx),
    });
    return { kind, dialect: res!.dialect, findings: res!.findings };
  }
  const model = new TaskFileModel(text, settings.taskFiles.dialect, settings.taskFiles.labelKeys);
  const { dialect } = model.dialect;
  // Prompt audio is read now, each file once, before the pass (the editor reads it in the background).
  const statuses = new Map<string, PromptAudioStatus>();
  const resolve = (written: string) => resolvePromptAudio(written, dialect, file, settings.teacher.glmttsPath, env.workspaceFolder);
  for (let i = 0; i < model.lineCount; i++) {
    const written = model.line(i)!.get('promptAudio');
    if (written === undefined || written.trim() === '') continue;
    const abs = resolve(written);
    if (statuses.has(abs)) continue;
    const { status: st } = await readPromptStatus(abs, settings.promptAudio.maxMegabytes * 1048576);
    // The prompt's signal QA (noise, clipping, band limit, silence): a file the header check passed, measured once.
    if (st.state === 'ok' && settings.qa.promptChecks) {
      try {
        st.qa = await measureWavFile(abs, settings.promptAudio.maxMegabytes * 1048576);
      } catch {
        /* the header check has said what there is to say */
      }
    }
    statuses.set(abs, st);
  }
  const res = await validateDocument({ kind, model }, settings, {
    analyzers: await taskLineAnalyzers(settings, ctx),
    promptAudioStatus: (written) => statuses.get(resolve(written)) ?? { state: 'pending' },
    dictionaryChecks: async () => [],
  });
  return { kind, dialect: res!.dialect, findings: res!.findings };
}
