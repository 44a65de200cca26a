import { readdir, readFile } from 'node:fs/promises';
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

/**
 * A VS Code glob (`**`, `*`, `?`, `{a,b}`, `[abc]`) as a regular expression over `/`-separated
 * paths. As in the editor, a pattern is matched against the whole path: `**\/examples/*.jsonl`
 * matches anywhere, `examples/*.jsonl` only relative to the workspace folder.
 */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  let braces = 0;
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') {
      if (glob[i + 1] === '*') {
        i++;
        if (glob[i + 1] === '/') {
          i++;
          re += '(?:.*/)?';
        } else re += '.*';
      } else re += '[^/]*';
    } else if (c === '?') re += '[^/]';
    else if (c === '{') {
      braces++;
      re += '(?:';
    } else if (c === '}' && braces) {
      braces--;
      re += ')';
    } else if (c === ',' && braces) re += '|';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 1);
      if (end < 0) re += '\\[';
      else {
        re += '[' + glob.slice(i + 1, end).replace(/^!/, '^').replace(/\\/g, '\\\\') + ']';
        i = end;
      }
    } else re += c.replace(/[.+^$()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/**
 * What `taskFiles.globs` / `dictionary.globs` say a file is (undefined when neither matches):
 * the pattern is tried on the path relative to the workspace folder and on the absolute path.
 */
export function kindByGlobs(file: string, cwd: string, settings: Settings): 'tasks' | 'dictionary' | undefined {
  const abs = path.resolve(cwd, file).split(path.sep).join('/');
  const rel = path.relative(cwd, path.resolve(cwd, file)).split(path.sep).join('/');
  const matches = (globs: string[]) => globs.some((g) => {
    const re = globToRegExp(g.replace(/\\/g, '/'));
    return re.test(rel) || re.test(abs);
  });
  if (matches(settings.taskFiles.globs)) return 'tasks';
  if (matches(settings.dictionary.globs)) return 'dictionary';
  return undefined;
}

/**
 * The task files and dictionaries of a workspace folder, as the editor finds them: by name
 * (`*.tasks.jsonl`, `G2P_replace_dict.jsonl`, `*.g2p.jsonl`) and by the configured globs; at most
 * 6 folders deep, skipping hidden folders and node_modules. Paths relative to `cwd`, sorted.
 */
export async function workspaceFiles(cwd: string, settings: Settings): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string, depth: number): Promise<void> => {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (e.name.startsWith('.')) continue;
      const p = path.join(dir, e.name);
      if (e.isDirectory()) {
        if (depth > 0 && e.name !== 'node_modules') await walk(p, depth - 1);
      } else if (e.isFile()) {
        const byName = e.name.endsWith('.tasks.jsonl') || e.name === 'G2P_replace_dict.jsonl' || e.name.endsWith('.g2p.jsonl');
        if (byName || kindByGlobs(p, cwd, settings)) out.push(path.relative(cwd, p));
      }
    }
  };
  await walk(cwd, 6);
  return out.sort();
}
