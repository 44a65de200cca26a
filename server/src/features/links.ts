import { statSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import type { DocumentLink } from 'vscode-languageserver/node';
import type { ServerContext } from '../context';
import { resolvePromptAudio } from '../core/formats/taskFile';

/**
 * Document links on prompt-audio paths (`prompt_audio` / `prompt_speech`), resolved the way the
 * teacher resolves them: web UI paths against the task file's folder, upstream paths against the
 * GLM-TTS checkout (`teacher.glmttsPath`, else the workspace folder). Only paths that exist are
 * links; a missing one already has its diagnostic.
 */
export function register(ctx: ServerContext): void {
  ctx.connection.onDocumentLinks(async (params) => {
    const doc = ctx.getDocument(params.textDocument.uri);
    if (!doc || doc.kind !== 'tasks' || !doc.tasks) return null;
    const settings = await ctx.getSettings(doc.uri);
    const folder = ctx.folderOf(doc.path);
    const { dialect } = doc.tasks.dialect;
    const exists = new Map<string, boolean>();
    const links: DocumentLink[] = [];
    // VS Code asks for the whole file's links at once and again after each edit: the first ttsDistill.editor.maxItemsComputed.
    const max = settings.editor.maxItemsComputed;
    for (let i = 0; i < doc.tasks.lineCount && links.length < max; i++) {
      const p = doc.tasks.line(i);
      if (!p || p.kind !== 'object') continue;
      const f = p.field('promptAudio');
      if (!f || f.value.trim() === '') continue;
      const abs = resolvePromptAudio(f.value, dialect, doc.path, settings.teacher.glmttsPath, folder);
      let ok = exists.get(abs);
      if (ok === undefined) {
        try {
          ok = statSync(abs).isFile();
        } catch {
          ok = false;
        }
        exists.set(abs, ok);
      }
      if (!ok) continue;
      links.push({
        range: { start: { line: i, character: f.valueStart + 1 }, end: { line: i, character: f.valueEnd - 1 } },
        target: pathToFileURL(abs).href,
        tooltip: abs,
      });
    }
    return links;
  });
}
