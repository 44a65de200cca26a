import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { type DocumentSymbol, type SymbolInformation, SymbolKind } from 'vscode-languageserver/node';
import type { OpenDocument, ServerContext } from '../context';
import { parseDictionaryFile } from '../core/formats/dictFile';
import type { TaskFileModel } from '../core/formats/taskFile';
import { findFiles } from '../core/util/findFiles';

/** Longest text shown beside a task's output name in the outline. */
const DETAIL_CHARS = 40;
/** At most this many workspace symbols per query (VS Code filters and ranks them again). */
const MAX_WORKSPACE_SYMBOLS = 2000;

/**
 * Outline and "Go to Symbol": a task file has one symbol per task line, named by its output
 * name (`output_name` / `uttid`), with the text to speak as detail; a dictionary has one per
 * entry. Workspace symbols are the output names of every task file in the workspace.
 */
export function register(ctx: ServerContext): void {
  // VS Code asks for the whole outline at once (breadcrumbs, Outline view) and again after each edit:
  // the first ttsDistill.editor.maxItemsComputed symbols (100,000 were 33 MB of JSON and ~1 s each time).
  ctx.connection.onDocumentSymbol(async (params) => {
    const doc = ctx.getDocument(params.textDocument.uri);
    if (!doc) return null;
    const max = (await ctx.getSettings(doc.uri)).editor.maxItemsComputed;
    if (doc.kind === 'tasks' && doc.tasks) return taskSymbols(doc.tasks, { max });
    return dictionarySymbols(doc.document.getText()).slice(0, max);
  });

  ctx.connection.onWorkspaceSymbol(async (params, token) => {
    const query = params.query.toLowerCase();
    const out: SymbolInformation[] = [];
    const open = new Set<string>();
    for (const doc of ctx.allDocuments()) {
      if (doc.kind !== 'tasks' || !doc.tasks) continue;
      if (doc.path) open.add(doc.path);
      // Every line (no cap but the answer's), only the matching ones built.
      const match = query ? (name: string) => name.toLowerCase().includes(query) : undefined;
      for (const s of taskSymbols(doc.tasks, { max: MAX_WORKSPACE_SYMBOLS - out.length, match })) {
        out.push(info(s, doc.uri, containerOf(ctx, doc.path)));
      }
      if (out.length >= MAX_WORKSPACE_SYMBOLS) return out;
    }
    for (const folder of ctx.workspaceFolders()) {
      for (const file of await workspaceTaskFiles(folder)) {
        if (token.isCancellationRequested || out.length >= MAX_WORKSPACE_SYMBOLS) return out;
        if (open.has(file)) continue;
        const uri = pathToFileURL(file).href;
        for (const n of await namesOnDisk(file)) {
          if (out.length >= MAX_WORKSPACE_SYMBOLS) break;
          if (query && !n.name.toLowerCase().includes(query)) continue;
          const range = { start: { line: n.line, character: n.start }, end: { line: n.line, character: n.end } };
          out.push({ name: n.name, kind: SymbolKind.Object, location: { uri, range }, containerName: path.relative(folder, file) });
        }
      }
    }
    return out;
  });
}

function info(s: DocumentSymbol, uri: string, containerName?: string): SymbolInformation {
  return { name: s.name, kind: s.kind, location: { uri, range: s.selectionRange }, containerName };
}

function containerOf(ctx: ServerContext, file: string | undefined): string | undefined {
  if (!file) return undefined;
  const folder = ctx.containingFolder(file);
  return folder ? path.relative(folder, file) : path.basename(file);
}

/**
 * One symbol per task line (lines without an object are left out), named by the output name: the
 * first `max`, of those whose name `match` accepts when given.
 */
export function taskSymbols(model: TaskFileModel, opts: { max?: number; match?: (name: string) => boolean } = {}): DocumentSymbol[] {
  const out: DocumentSymbol[] = [];
  const max = opts.max ?? Infinity;
  for (let i = 0; i < model.lineCount && out.length < max; i++) {
    const p = model.line(i);
    if (!p || p.kind !== 'object') continue;
    const name = p.get('name') || `line ${i + 1}`;
    if (opts.match && !opts.match(name)) continue;
    const nameField = p.field('name');
    const text = p.get('text');
    const lineRange = { start: { line: i, character: 0 }, end: { line: i, character: p.text.length } };
    const selectionRange = nameField
      ? { start: { line: i, character: nameField.valueStart }, end: { line: i, character: nameField.valueEnd } }
      : lineRange;
    out.push({
      name,
      detail: text === undefined ? undefined : text.length > DETAIL_CHARS ? text.slice(0, DETAIL_CHARS - 1) + '…' : text,
      kind: SymbolKind.Object,
      range: lineRange,
      selectionRange,
    });
  }
  return out;
}

/** One symbol per dictionary entry: the word (rule lines) or the key (upstream lines), its replacement as detail. */
export function dictionarySymbols(text: string): DocumentSymbol[] {
  const parsed = parseDictionaryFile(text);
  return parsed.entries.map((e) => {
    const lineLength = parsed.lines[e.line]?.length ?? 0;
    const start = e.wordStart ?? e.keyStart,
      end = e.wordEnd ?? e.keyEnd;
    return {
      name: (e.word ?? e.key) || `line ${e.line + 1}`,
      detail: e.word !== undefined ? `${e.key} → ${e.value}` : e.value,
      kind: SymbolKind.Key,
      range: { start: { line: e.line, character: 0 }, end: { line: e.line, character: lineLength } },
      selectionRange: { start: { line: e.line, character: start }, end: { line: e.line, character: end } },
    };
  });
}

// --- task files on disk -----------------------------------------------------------------------

const SCAN_DEPTH = 4;
const RESCAN_MS = 5000;
const fileLists = new Map<string, { at: number; files: string[] }>();
const nameCache = new Map<string, { mtimeMs: number; size: number; names: DiskName[] }>();

interface DiskName {
  name: string;
  line: number;
  start: number;
  end: number;
}

/** `*.tasks.jsonl` in a workspace folder (at most 4 folders deep, no hidden folders, no node_modules), listed at most every 5 s. */
export async function workspaceTaskFiles(folder: string): Promise<string[]> {
  const hit = fileLists.get(folder);
  if (hit && Date.now() - hit.at < RESCAN_MS) return hit.files;
  const files: string[] = [];
  await findFiles(folder, SCAN_DEPTH, (n) => !n.startsWith('.') && n.endsWith('.tasks.jsonl'), files);
  files.sort();
  fileLists.set(folder, { at: Date.now(), files });
  return files;
}

/** Output names of a task file on disk with their places, cached by mtime and size. */
async function namesOnDisk(file: string): Promise<DiskName[]> {
  let st;
  try {
    st = await fs.stat(file);
  } catch {
    return [];
  }
  const hit = nameCache.get(file);
  if (hit && hit.mtimeMs === st.mtimeMs && hit.size === st.size) return hit.names;
  const text = await fs.readFile(file, 'utf8').catch(() => '');
  const names: DiskName[] = [];
  text.split(/\r\n|\r|\n/).forEach((line, i) => {
    if (!line.includes('output_name') && !line.includes('uttid')) return;
    try {
      const v = JSON.parse(line.replace(/^\uFEFF/, '')) as Record<string, unknown>;
      const raw = v.output_name ?? v.uttid;
      const name = typeof raw === 'number' ? String(raw) : raw;
      if (typeof name !== 'string' || !name) return;
      const literal = typeof raw === 'number' ? name : JSON.stringify(name);
      const at = line.indexOf(literal);
      names.push(at >= 0 ? { name, line: i, start: at, end: at + literal.length } : { name, line: i, start: 0, end: line.length });
    } catch {
      /* a broken line has no name */
    }
  });
  nameCache.set(file, { mtimeMs: st.mtimeMs, size: st.size, names });
  return names;
}

export type { OpenDocument };
