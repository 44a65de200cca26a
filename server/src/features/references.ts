import { promises as fs } from 'node:fs';
import { pathToFileURL } from 'node:url';
import type { CancellationToken, Location, Position } from 'vscode-languageserver/node';
import type { OpenDocument, ServerContext } from '../context';
import { hanChars, ReplaceDict } from '../core/pronunciation/dictionary';
import { applyLikeTeacher } from '../core/pronunciation/glmFrontend';
import { type DictFileEntry, parseDictionaryFile } from '../core/formats/dictFile';
import { dictionaryPath } from '../core/pronunciation/checks';
import type { TaskDialectSetting } from '../core/settings';
import { type FieldRef, TaskFileModel } from '../core/formats/taskFile';
import { workspaceTaskFiles } from './symbols';

/**
 * "Find All References" between the dictionary and the task files:
 * - on a dictionary entry: every task line whose text the entry decides, matched the way the
 *   teacher applies the dictionary (normalised text, chunk by chunk, longest key first), so a
 *   shadowed or never-matching entry has no references;
 * - on a character of a task line's text: the workspace dictionary's entry that decides it.
 */
export function register(ctx: ServerContext): void {
  ctx.connection.onReferences(async (params, token) => {
    const doc = ctx.getDocument(params.textDocument.uri);
    if (!doc) return null;
    if (doc.kind === 'dictionary') return linesDecidedBy(ctx, doc, params.position, params.context.includeDeclaration, token);
    return ruleOf(ctx, doc, params.position);
  });
}

function entryRange(e: DictFileEntry) {
  const start = e.wordStart ?? e.keyStart,
    end = e.wordEnd ?? e.keyEnd;
  return { start: { line: e.line, character: start }, end: { line: e.line, character: end } };
}

async function linesDecidedBy(
  ctx: ServerContext,
  doc: OpenDocument,
  pos: Position,
  includeDeclaration: boolean,
  token: CancellationToken,
): Promise<Location[]> {
  const text = doc.document.getText();
  const parsed = parseDictionaryFile(text);
  const onLine = parsed.entries.filter((e) => e.line === pos.line);
  const entry =
    onLine.find((e) => pos.character >= Math.min(e.keyStart, e.wordStart ?? e.keyStart) && pos.character <= e.valueEnd) ?? onLine[0];
  if (!entry) return [];
  const dict = ReplaceDict.fromText(text, doc.path);
  const winner = dict.get(entry.key);
  const out: Location[] = includeDeclaration ? [{ uri: doc.uri, range: entryRange(entry) }] : [];
  // A later definition of the same key wins (dict.update): this one decides nothing.
  if (!winner || winner.line !== entry.line) return out;
  const keyHan = hanChars(entry.key).map((h) => h.char);
  const settings = await ctx.getSettings(doc.uri);
  const search = (uri: string, model: TaskFileModel) => {
    for (let i = 0; i < model.lineCount; i++) {
      const p = model.line(i);
      if (!p || p.kind !== 'object') continue;
      const field = p.field('text');
      if (!field || !keyHan.every((c) => field.value.includes(c))) continue;
      for (const [s, e] of spansOf(dict, field.value, entry.key)) {
        out.push({ uri, range: { start: { line: i, character: field.offsetOf(s) }, end: { line: i, character: field.offsetOf(e) } } });
      }
    }
  };
  const open = new Set<string>();
  for (const d of ctx.allDocuments()) {
    if (d.kind !== 'tasks' || !d.tasks) continue;
    if (d.path) open.add(d.path);
    search(d.uri, d.tasks);
  }
  for (const folder of ctx.workspaceFolders()) {
    for (const file of await workspaceTaskFiles(folder)) {
      if (token.isCancellationRequested) return out;
      if (open.has(file)) continue;
      const model = await modelOnDisk(file, settings.taskFiles.dialect);
      if (model) search(pathToFileURL(file).href, model);
    }
  }
  return out;
}

/** Spans [start, end) of `text` (UTF-16 offsets into the decoded value) that the entry with `key` replaces. */
function spansOf(dict: ReplaceDict, text: string, key: string): Array<[number, number]> {
  const { origin, fragments } = applyLikeTeacher(dict, text);
  const spans: Array<[number, number]> = [];
  for (const f of fragments) {
    if (f.entry?.key !== key || f.end <= f.start) continue;
    const s = origin ? origin[f.start]! : f.start;
    const last = origin ? origin[f.end - 1]! : f.end - 1;
    spans.push([s, last + (text.codePointAt(last)! > 0xffff ? 2 : 1)]);
  }
  return spans;
}

/** Index into the decoded value of the character at `character` of the line (undefined outside the string). */
function indexAt(field: FieldRef, character: number): number | undefined {
  if (character <= field.valueStart || character >= field.valueEnd) return undefined;
  let i = 0;
  while (i + 1 < field.value.length && field.offsetOf(i + 1) <= character) i++;
  return i;
}

async function ruleOf(ctx: ServerContext, doc: OpenDocument, pos: Position): Promise<Location[]> {
  const field = doc.tasks?.line(pos.line)?.field('text');
  if (!field) return [];
  const i = indexAt(field, pos.character);
  if (i === undefined) return [];
  const settings = await ctx.getSettings(doc.uri);
  const folder = ctx.folderOf(doc.path);
  const file = dictionaryPath(settings, folder);
  const openDict = ctx.allDocuments().find((d) => d.path === file);
  const text = openDict ? openDict.document.getText() : await fs.readFile(file, 'utf8').catch(() => undefined);
  if (text === undefined) return [];
  const dict = ReplaceDict.fromText(text, file);
  const { origin, fragments } = applyLikeTeacher(dict, field.value);
  for (const f of fragments) {
    if (!f.entry || f.end <= f.start) continue;
    const s = origin ? origin[f.start]! : f.start;
    const last = origin ? origin[f.end - 1]! : f.end - 1;
    if (i < s || i > last) continue;
    const entry = f.entry;
    const e = parseDictionaryFile(text).entries.find((x) => x.line === entry.line && x.key === entry.key);
    const range = e ? entryRange(e) : { start: { line: entry.line, character: 0 }, end: { line: entry.line, character: 0 } };
    return [{ uri: openDict?.uri ?? pathToFileURL(file).href, range }];
  }
  return [];
}

const MAX_CACHED_MODELS = 8;
const models = new Map<string, { mtimeMs: number; size: number; dialect: TaskDialectSetting; model: TaskFileModel }>();

async function modelOnDisk(file: string, dialect: TaskDialectSetting): Promise<TaskFileModel | undefined> {
  let st;
  try {
    st = await fs.stat(file);
  } catch {
    return undefined;
  }
  const hit = models.get(file);
  if (hit && hit.mtimeMs === st.mtimeMs && hit.size === st.size && hit.dialect === dialect) return hit.model;
  const text = await fs.readFile(file, 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  const model = new TaskFileModel(text, dialect);
  // Whole models are large: keep the few most recent files only.
  if (models.size >= MAX_CACHED_MODELS) models.delete(models.keys().next().value!);
  models.set(file, { mtimeMs: st.mtimeMs, size: st.size, dialect, model });
  return model;
}
