import { capFindings, type Finding } from './findings';
import type { Settings } from './settings';
import { type PromptAudioStatus, resolvePromptAudio, TaskFileModel } from './taskFile';
import { documentKind, type DocumentKind } from './documentKind';
import { validateDictionaryText } from './dictFile';
import { dictionaryFindings, taskLineAnalyzers } from './pronunciation';
import { readPromptStatus } from './audio/promptStatus';
import { measureWavFile } from './qa/measureFile';


/**
 * Validates one file completely, prompt audio included (read now, not in the background):
 * what `tts-distill validate` prints and what the editor shows once every check has settled.
 */
export async function validateFile(file: string, text: string, settings: Settings, env: { workspaceFolder?: string; kind?: DocumentKind }): Promise<{ kind: DocumentKind; dialect: string; findings: Finding[] } | undefined> {
  const kind = env.kind ?? documentKind(file, text);
  if (!kind) return undefined;
  if (kind === 'dictionary') {
    const res = validateDictionaryText(text, settings);
    const more = await dictionaryFindings(text, settings, { workspaceFolder: env.workspaceFolder, file });
    return { kind, dialect: res.dialect, findings: capFindings([...res.findings, ...more], settings.diagnostics.maxPerFile) };
  }
  const model = new TaskFileModel(text, settings.taskFiles.dialect, settings.taskFiles.labelKeys);
  const { dialect } = model.dialect;
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
      } catch { /* the header check has said what there is to say */ }
    }
    statuses.set(abs, st);
  }
  const findings = await model.validate({
    maxPerFile: settings.diagnostics.maxPerFile,
    promptAudio: settings.promptAudio,
    ...(settings.qa.promptChecks ? { promptQa: settings.qa } : {}),
    promptAudioStatus: (written) => statuses.get(resolve(written)) ?? { state: 'pending' },
    analyzers: await taskLineAnalyzers(settings, { workspaceFolder: env.workspaceFolder, file }),
  });
  return { kind, dialect, findings };
}
