/** The task lines of a workspace's task files, as the dataset views and commands read them. */
import { readFile } from 'node:fs/promises';
import { walkFiles } from '../util/findFiles';
import type { Settings } from '../settings';
import { resolvePromptAudio, type Task, type TaskDialect, TaskFileModel } from '../formats/taskFile';

export interface TaskFileTasks {
  file: string;
  dialect: TaskDialect;
  tasks: Task[];
  /** Resolved prompt WAV path per task (same order). */
  promptPaths: string[];
}

/** Parses task files (either dialect) with the workspace's settings; prompt paths resolved as the teacher resolves them. */
export function tasksOfText(
  file: string,
  text: string,
  settings: Pick<Settings, 'taskFiles' | 'teacher'>,
  workspaceFolder: string | undefined,
): TaskFileTasks {
  const model = new TaskFileModel(text, settings.taskFiles.dialect, settings.taskFiles.labelKeys);
  const dialect = model.dialect.dialect;
  const tasks = model.tasks();
  const promptPaths = tasks.map((t) =>
    t.promptAudio.trim() ? resolvePromptAudio(t.promptAudio, dialect, file, settings.teacher.glmttsPath, workspaceFolder) : '',
  );
  return { file, dialect, tasks, promptPaths };
}

export async function readTaskFiles(
  files: readonly string[],
  settings: Pick<Settings, 'taskFiles' | 'teacher'>,
  workspaceFolder: string | undefined,
): Promise<TaskFileTasks[]> {
  const out: TaskFileTasks[] = [];
  for (const f of files) out.push(tasksOfText(f, await readFile(f, 'utf8'), settings, workspaceFolder));
  return out;
}

/** Build output is not searched for task files either. */
const SKIP_DIRS: ReadonlySet<string> = new Set(['node_modules', 'dist', 'out']);

/**
 * The task files under a folder: `*.tasks.jsonl`, and the files `isTaskFile` accepts (the configured
 * `ttsDistill.taskFiles.globs`); dot folders, node_modules and build output skipped; at most `limit`
 * files, depth 8; sorted.
 */
export async function findTaskFiles(root: string, limit = 1000, isTaskFile?: (file: string) => boolean): Promise<string[]> {
  return walkFiles(root, {
    depth: 8,
    limit,
    skipDirs: SKIP_DIRS,
    match: (file, name) => name.endsWith('.tasks.jsonl') || !!isTaskFile?.(file),
  });
}
