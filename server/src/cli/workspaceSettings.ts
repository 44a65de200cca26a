import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { parse, type ParseError } from 'jsonc-parser';
import { defaultSettings, type Settings, settingsFromVsCode } from '../core/settings';

/**
 * The settings of the workspace the CLI runs in: `<cwd>/.vscode/settings.json` (JSON with
 * comments, as VS Code writes it) over the defaults. A missing or broken file means the defaults;
 * paths in it stay relative to the workspace folder, as in the editor.
 */
export async function workspaceSettings(cwd: string): Promise<Settings> {
  let text: string;
  try {
    text = await readFile(path.join(cwd, '.vscode', 'settings.json'), 'utf8');
  } catch {
    return structuredClone(defaultSettings);
  }
  const errors: ParseError[] = [];
  const json: unknown = parse(text, errors, { allowTrailingComma: true });
  if (!json || typeof json !== 'object' || Array.isArray(json)) return structuredClone(defaultSettings);
  return settingsFromVsCode(json as Record<string, unknown>);
}
