import type { Finding } from './findings';
import type { Settings } from './settings';
import type { TaskLineAnalyzer } from './taskFile';

/**
 * The pronunciation checks as the CLI and the server both run them: polyphone flags on task
 * lines, and pronunciation checks of G2P dictionaries. (Filled in by the pronunciation feature.)
 */
export interface PronunciationEnv {
  /** Workspace folder: the dictionary path of the settings is relative to it. */
  workspaceFolder?: string;
  /** Absolute path of the file being checked. */
  file?: string;
}

export async function taskLineAnalyzers(_settings: Settings, _env: PronunciationEnv): Promise<TaskLineAnalyzer[]> {
  return [];
}

export async function dictionaryFindings(_text: string, _settings: Settings, _env: PronunciationEnv): Promise<Finding[]> {
  return [];
}
