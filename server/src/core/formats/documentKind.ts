// "Task file or G2P dictionary?" — decided here only; the client (languages.ts), the server (a
// `.jsonl` opened under another language id) and the CLI (`tts-distill validate`) all ask this module.
import * as path from 'node:path';
import type { Settings } from '../settings';

/** What kind of file the product treats a document as. */
export type DocumentKind = 'tasks' | 'dictionary';

/** Keys of a task line in either dialect (upstream GLM-TTS and the web-UI one). */
const TASK_KEYS = /"(prompt_audio|input_text|output_name|uttid|prompt_speech|syn_text)"\s*:/;
/** Keys of a dictionary rule, or a token of the pinned-reading notation. */
const DICTIONARY_KEYS = /"(word|context|phoneme)"\s*:|<\|[A-Z0-9]+\|>/;
/** How many lines are looked at for the first non-blank one. */
const SNIFF_LINES = 50;

/** The kind of one line of text (the first non-blank line of a file), or undefined. */
export function kindOfLine(line: string): DocumentKind | undefined {
  const text = line.replace(/^\uFEFF/, '');
  if (TASK_KEYS.test(text)) return 'tasks';
  if (DICTIONARY_KEYS.test(text)) return 'dictionary';
  return undefined;
}

/** Decides by the first non-blank line among the first 50. */
export function sniffKind(text: string): DocumentKind | undefined {
  let start = 0;
  for (let n = 0; n < SNIFF_LINES && start < text.length; n++) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const line = text.slice(start, end).replace(/^\uFEFF/, '');
    if (line.trim() !== '') return kindOfLine(line);
    start = end + 1;
  }
  return undefined;
}

/** Decides by name first (`*.tasks.jsonl`, `G2P_replace_dict.jsonl`, `*.g2p.jsonl`), then, for `.jsonl`/`.json`, by the first non-blank line. */
export function documentKind(file: string, text: string): DocumentKind | undefined {
  const byName = kindByName(file);
  if (byName) return byName;
  if (!/\.jsonl?$/i.test(path.basename(file))) return undefined;
  return sniffKind(text);
}

/** The kind a file's name alone says, or undefined. */
export function kindByName(file: string): DocumentKind | undefined {
  const base = path.basename(file);
  if (base.endsWith('.tasks.jsonl')) return 'tasks';
  if (base === 'G2P_replace_dict.jsonl' || base.endsWith('.g2p.jsonl')) return 'dictionary';
  return undefined;
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
        re +=
          '[' +
          glob
            .slice(i + 1, end)
            .replace(/^!/, '^')
            .replace(/\\/g, '\\\\') +
          ']';
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
export function kindByGlobs(file: string, cwd: string, settings: Pick<Settings, 'taskFiles' | 'dictionary'>): DocumentKind | undefined {
  const abs = path.resolve(cwd, file).split(path.sep).join('/');
  const rel = path.relative(cwd, path.resolve(cwd, file)).split(path.sep).join('/');
  const matches = (globs: string[]) =>
    globs.some((g) => {
      const re = globToRegExp(g.replace(/\\/g, '/'));
      return re.test(rel) || re.test(abs);
    });
  if (matches(settings.taskFiles.globs)) return 'tasks';
  if (matches(settings.dictionary.globs)) return 'dictionary';
  return undefined;
}
