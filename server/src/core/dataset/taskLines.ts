/** The task lines of a workspace's task files, as the dataset views and commands read them. */
import { readdir, readFile } from 'node:fs/promises';
import * as path from 'node:path';
import type { Settings } from '../settings';
import { resolvePromptAudio, type Task, type TaskDialect, TaskFileModel } from '../taskFile';

export interface TaskFileTasks {
  file: string;
  dialect: TaskDialect;
  tasks: Task[];
  /** Resolved prompt WAV path per task (same order). */
  promptPaths: string[];
}

/** Parses task files (either dialect) with the workspace's settings; prompt paths resolved as the teacher resolves them. */
export function tasksOfText(file: string, text: string, settings: Pick<Settings, 'taskFiles' | 'teacher'>, workspaceFolder: string | undefined): TaskFileTasks {
  const model = new TaskFileModel(text, settings.taskFiles.dialect, settings.taskFiles.labelKeys);
  const dialect = model.dialect.dialect;
  const tasks = model.tasks();
  const promptPaths = tasks.map((t) => (t.promptAudio.trim() ? resolvePromptAudio(t.promptAudio, dialect, file, settings.teacher.glmttsPath, workspaceFolder) : ''));
  return { file, dialect, tasks, promptPaths };
}

export async function readTaskFiles(files: readonly string[], settings: Pick<Settings, 'taskFiles' | 'teacher'>, workspaceFolder: string | undefined): Promise<TaskFileTasks[]> {
  const out: TaskFileTasks[] = [];
  for (const f of files) out.push(tasksOfText(f, await readFile(f, 'utf8'), settings, workspaceFolder));
  return out;
}

const SKIP_DIRS = new Set(['node_modules', 'dist', 'out']);

/**
 * The task files under a folder: `*.tasks.jsonl`, and the files `isTaskFile` accepts (the configured
 * `ttsDistill.taskFiles.globs`); dot folders, node_modules and build output skipped; at most `limit`
 * files, depth 8; sorted.
 */
export async function findTaskFiles(root: string, limit = 1000, isTaskFile?: (file: string) => boolean): Promise<string[]> {
  const out: string[] = [];
  async function walk(dir: string, depth: number): Promise<void> {
    if (depth > 8 || out.length >= limit) return;
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (out.length >= limit) return;
      if (e.isDirectory()) {
        if (!e.name.startsWith('.') && !SKIP_DIRS.has(e.name)) await walk(path.join(dir, e.name), depth + 1);
      } else if (e.isFile() && (e.name.endsWith('.tasks.jsonl') || isTaskFile?.(path.join(dir, e.name)))) out.push(path.join(dir, e.name));
    }
  }
  await walk(root, 0);
  return out;
}
