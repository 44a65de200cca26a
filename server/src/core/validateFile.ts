import { capFindings, type Finding } from './findings';
import type { Settings } from './settings';
import { type PromptAudioStatus, resolvePromptAudio, TaskFileModel } from './taskFile';
import { documentKind, type DocumentKind } from './documentKind';
import { validateDictionaryText } from './dictFile';
import { dictionaryFindings, taskLineAnalyzers } from './pronunciation';
import { readWavHeader } from './audio/wavHeader';
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
    const st = await promptAudioStatus(abs, settings.promptAudio.maxMegabytes * 1048576);
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

export async function promptAudioStatus(abs: string, maxBytes = Infinity): Promise<PromptAudioStatus> {
  try {
    // Never opens a FIFO or device for good (readWavHeader refuses them): `validate` cannot hang on a hostile prompt path.
    const h = await readWavHeader(abs);
    if (h.fileSize > maxBytes) return { state: 'unreadable', path: abs, reason: `the file is larger than the limit of ${Math.round(maxBytes / 1048576)} MB (ttsDistill.promptAudio.maxMegabytes)` };
    return { state: 'ok', path: abs, channels: h.channels, sampleRate: h.sampleRate, durationSeconds: h.durationSeconds, truncated: h.truncated };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return { state: 'missing', path: abs };
    return { state: 'unreadable', path: abs, reason: err instanceof Error ? err.message : String(err) };
  }
}
