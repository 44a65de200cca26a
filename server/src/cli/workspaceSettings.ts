import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { parse, type ParseError } from 'jsonc-parser';
import { defaultSettings, type Settings, settingsFromVsCode } from '../core/settings';
import { kindByGlobs, kindByName } from '../core/formats/documentKind';
import { walkFiles } from '../core/util/findFiles';

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

/**
 * The task files and dictionaries of a workspace folder, as the editor finds them: by name
 * (`*.tasks.jsonl`, `G2P_replace_dict.jsonl`, `*.g2p.jsonl`) and by the configured globs; at most
 * 6 folders deep, skipping hidden folders and node_modules. Paths relative to `cwd`, sorted.
 */
export async function workspaceFiles(cwd: string, settings: Settings): Promise<string[]> {
  const files = await walkFiles(cwd, {
    depth: 6,
    match: (file, name) => !name.startsWith('.') && (kindByName(file) !== undefined || kindByGlobs(file, cwd, settings) !== undefined),
  });
  return files.map((f) => path.relative(cwd, f)).sort();
}
