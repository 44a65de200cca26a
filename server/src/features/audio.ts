import { existsSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import type { Worker } from 'node:worker_threads';
import * as path from 'node:path';
import { uriToPath } from '../core/util/paths';
import { startWorker } from '../core/util/worker';
import { type CodeLens, CodeLensRefreshRequest } from 'vscode-languageserver/node';
import type { ServerContext } from '../context';
import { analyseFile, AudioAnalysisCache } from '../core/audio/analysis';
import type { AnalysisDone, AnalysisJob } from '../core/audio/analysisWorker';
import type {
  AudioAnalysisResult,
  AudioSource,
  AudioSourceKind,
  PreviewLine,
  ReadingCell,
  TeacherTake,
} from '../../../protocol/previewTypes';
import type { OutputFolderState } from '../core/batch/outputIndex';
import { qaSummaryLine } from '../core/qa/gates';
import type { Settings } from '../core/settings';
import { resolvePromptAudio, TaskFileModel, type ParsedTaskLine } from '../core/formats/taskFile';
import { loadReplaceDict } from '../core/pronunciation/dictionary';
import { teacherReadings } from '../core/pronunciation/teacherReadings';
import { AnalyseAudioRequest, AudioFilesChangedNotification, type PreviewAudioArgs, PreviewLineRequest } from '../../../protocol/lsp/audio';

const SOURCE_TITLES: Record<AudioSourceKind, string> = { prompt: '$(play) Prompt', teacher: '$(play) Teacher', student: '$(play) Student' };

/**
 * The audio preview's server side: WAV analysis (off the extension host, cached by path and
 * mtime), what a task line's preview shows, and a code lens per task line.
 */
export function register(ctx: ServerContext): void {
  const worker = new AnalysisWorker(path.join(__dirname, 'audioWorker.js'), ctx.log);
  const analyses = new AudioAnalysisCache(32, (file) => worker.analyse(file));
  const listings = new DirectoryListings();

  ctx.connection.onRequest(AnalyseAudioRequest.type, ({ path: file, range }) =>
    range ? worker.analyse(file, range) : analyses.analyse(file),
  );

  ctx.connection.onRequest(PreviewLineRequest.type, async ({ uri, line, withReadings }) => {
    const doc = ctx.getDocument(uri);
    const file = doc?.path ?? uriToPath(uri);
    const model = doc?.tasks ?? (file ? await loadModel(file) : undefined);
    const parsed = model?.line(line);
    if (!model || !parsed || parsed.kind !== 'object') return null;
    const settings = await ctx.getSettings(uri);
    const folder = ctx.folderOf(file);
    const sources = lineSources(parsed, model.dialect.dialect, file, folder, settings);
    await Promise.all(
      sources.map(async (s) => {
        s.exists = await isFile(s.path);
      }),
    );
    const text = parsed.get('text') ?? '';
    const { readings, readingsSource } =
      withReadings === false ? { readings: [], readingsSource: 'none' as const } : await readingsOf(text, folder, settings, ctx);
    const field = parsed.field('promptAudio');
    const result: PreviewLine = { uri, line, name: parsed.get('name') ?? '', text, readings, readingsSource, sources };
    const teacher = sources.find((s) => s.kind === 'teacher');
    if (teacher?.exists && withReadings !== false) {
      const take = teacherTake(await ctx.outputs.get(path.dirname(teacher.path)), result.name);
      if (take) result.teacherTake = take;
    }
    if (field) result.promptAudioColumns = [field.valueStart, field.valueEnd];
    return result;
  });

  // A hover on the prompt-audio value: links that open the preview on each audio of the line (command links the client trusts).
  ctx.onHover(async (doc, params) => {
    const parsed = doc.kind === 'tasks' ? doc.tasks?.line(params.position.line) : undefined;
    const field = parsed?.kind === 'object' ? parsed.field('promptAudio') : undefined;
    if (!parsed || !field || params.position.character < field.valueStart || params.position.character > field.valueEnd) return null;
    const settings = await ctx.getSettings(doc.uri);
    const sources = lineSources(parsed, doc.tasks!.dialect.dialect, doc.path, ctx.folderOf(doc.path), settings);
    const links = await Promise.all(
      sources.map(async (s) => {
        const args: PreviewAudioArgs = { uri: doc.uri, line: params.position.line, source: s.kind };
        if (await isFile(s.path))
          return `[${SOURCE_TITLES[s.kind]}](command:ttsDistill.previewAudio?${encodeURIComponent(JSON.stringify([args]))} "Open the audio preview")`;
        return `${SOURCE_TITLES[s.kind].replace('$(play) ', '')} (${s.kind === 'prompt' ? 'missing' : 'not written yet'})`;
      }),
    );
    const line = params.position.line;
    return {
      contents: { kind: 'markdown', value: `**Audio preview:** ${links.join(' · ')}` },
      range: { start: { line, character: field.valueStart }, end: { line, character: field.valueEnd } },
    };
  });

  ctx.onCodeLens(async (doc) => {
    if (doc.kind !== 'tasks' || !doc.tasks) return [];
    const settings = await ctx.getSettings(doc.uri);
    const folder = ctx.folderOf(doc.path);
    const model = doc.tasks;
    const dialect = model.dialect.dialect;
    const lenses: CodeLens[] = [];
    // Lenses stop after ttsDistill.editor.maxItemsComputed lines: VS Code asks for all of them after each edit.
    const last = Math.min(model.lineCount, settings.editor.maxItemsComputed);
    for (let line = 0; line < last; line++) {
      const parsed = model.line(line);
      if (!parsed || parsed.kind !== 'object') continue;
      const range = { start: { line, character: 0 }, end: { line, character: 0 } };
      for (const s of lineSources(parsed, dialect, doc.path, folder, settings)) {
        // The prompt lens always shows (a missing prompt is worth seeing); outputs only once written.
        if (s.kind !== 'prompt' && !(await listings.has(s.path))) continue;
        const args: PreviewAudioArgs = { uri: doc.uri, line, source: s.kind };
        lenses.push({ range, command: { title: SOURCE_TITLES[s.kind], command: 'ttsDistill.previewAudio', arguments: [args] } });
      }
    }
    return lenses;
  });

  ctx.onSettingsChanged(() => listings.clear());
  ctx.connection.onNotification(AudioFilesChangedNotification.type, () => {
    listings.clear();
    // Teacher and student lenses appear as their outputs are written; a client without refresh support keeps the old ones.
    ctx.connection.sendRequest(CodeLensRefreshRequest.type).catch(() => undefined);
  });
}

/** The prompt, teacher and student WAVs of a task line (whether or not they exist yet). */
function lineSources(
  parsed: ParsedTaskLine,
  dialect: 'webui' | 'upstream',
  taskFile: string | undefined,
  folder: string | undefined,
  settings: Settings,
): AudioSource[] {
  const out: AudioSource[] = [];
  const prompt = parsed.get('promptAudio');
  if (prompt)
    out.push({ kind: 'prompt', path: resolvePromptAudio(prompt, dialect, taskFile, settings.teacher.glmttsPath, folder), exists: false });
  const name = parsed.get('name');
  if (name) {
    const base = folder ?? (taskFile ? path.dirname(taskFile) : process.cwd());
    out.push({ kind: 'teacher', path: path.resolve(base, settings.batch.outputDir, `${name}.wav`), exists: false });
    out.push({ kind: 'student', path: path.resolve(base, settings.preview.studentOutputDir, `${name}.wav`), exists: false });
  }
  return out;
}

async function readingsOf(
  text: string,
  folder: string | undefined,
  settings: Settings,
  ctx: ServerContext,
): Promise<{ readings: ReadingCell[]; readingsSource: PreviewLine['readingsSource'] }> {
  if (!text) return { readings: [], readingsSource: 'none' };
  try {
    const dictFile = folder ? path.resolve(folder, settings.dictionary.path) : undefined;
    const dict = dictFile ? await loadReplaceDict(dictFile).catch(() => undefined) : undefined;
    const readings = teacherReadings(text, dict).map((r) => ({
      char: r.char,
      reading: r.reading,
      polyphone: r.polyphone,
      fromDictionary: r.source === 'dictionary',
      source: r.source,
    }));
    return { readings, readingsSource: 'teacher-g2p' };
  } catch (err) {
    ctx.log(`audio preview: readings of "${text.slice(0, 20)}" failed: ${err instanceof Error ? err.message : String(err)}`);
    return { readings: [], readingsSource: 'none' };
  }
}

/**
 * Analyses in a worker thread (dist/audioWorker.js next to the bundled server), so a 10-minute
 * file does not delay diagnostics; in process when the worker is not there (tests from source).
 */
class AnalysisWorker {
  private worker: Worker | undefined;
  private nextId = 0;
  private readonly pending = new Map<number, { job: AnalysisJob; resolve: (r: AudioAnalysisResult) => void }>();

  constructor(
    private readonly file: string,
    private readonly log: (message: string) => void,
  ) {}

  analyse(file: string, range?: { start: number; end: number }): Promise<AudioAnalysisResult> {
    const job: AnalysisJob = range ? { id: ++this.nextId, path: file, range } : { id: ++this.nextId, path: file };
    const w = this.start();
    if (!w) return analyseFile(file, job.range ? { range: job.range } : {});
    return new Promise((resolve) => {
      this.pending.set(job.id, { job, resolve });
      w.postMessage(job);
    });
  }

  private start(): Worker | undefined {
    if (this.worker) return this.worker;
    if (!existsSync(this.file)) return undefined;
    const w = startWorker(this.file);
    w.unref();
    w.on('message', (m: AnalysisDone) => {
      this.pending.get(m.id)?.resolve(m.result);
      this.pending.delete(m.id);
    });
    w.on('error', (err) => this.log(`audio analysis worker failed: ${err.stack ?? err.message}`));
    w.on('exit', (code) => {
      if (this.worker === w) this.worker = undefined;
      // Not retried in this process: what killed the worker (memory, most likely) would kill the server.
      // The next request starts a new worker.
      for (const [id, { job, resolve }] of this.pending) {
        this.pending.delete(id);
        resolve({
          ok: false,
          problem: {
            path: job.path,
            kind: 'unreadable',
            message: `The analysis stopped (worker exit code ${code}); the file may be too large to preview.`,
          },
        });
      }
    });
    this.worker = w;
    return w;
  }
}

/** Which files a folder holds, re-read only when the folder's mtime changes (a batch adds files). */
class DirectoryListings {
  private readonly dirs = new Map<string, { checkedAt: number; mtimeMs: number; names: Set<string> }>();

  async has(file: string): Promise<boolean> {
    const dir = path.dirname(file);
    let e = this.dirs.get(dir);
    const now = Date.now();
    // One stat per folder per second at most: code lenses ask for every line at once.
    if (!e || now - e.checkedAt > 1000) {
      let mtimeMs = -1;
      try {
        mtimeMs = (await stat(dir)).mtimeMs;
      } catch {
        // missing folder: nothing in it
      }
      if (!e || e.mtimeMs !== mtimeMs) {
        const names = mtimeMs < 0 ? new Set<string>() : new Set(await readdir(dir).catch(() => [] as string[]));
        e = { checkedAt: now, mtimeMs, names };
      } else e.checkedAt = now;
      this.dirs.set(dir, e);
    }
    return e.names.has(path.basename(file));
  }

  clear(): void {
    this.dirs.clear();
  }
}

async function loadModel(file: string): Promise<TaskFileModel | undefined> {
  try {
    return new TaskFileModel(await readFile(file, 'utf8'));
  } catch {
    return undefined;
  }
}

async function isFile(file: string): Promise<boolean> {
  try {
    return (await stat(file)).isFile();
  } catch {
    return false;
  }
}

/** What the teacher did for this output name, from its folder's manifest. */
function teacherTake(state: OutputFolderState | undefined, name: string): TeacherTake | undefined {
  const r = state?.records.get(name);
  if (!r) return undefined;
  const take: TeacherTake = { text: r.text, readings: r.readings, backend: r.backend, seed: r.seed, clonedVoice: r.clonedVoice };
  if (r.engine) take.engine = r.engine;
  if (r.note) take.note = r.note;
  const excluded = state?.excluded.get(name);
  if (excluded) take.excluded = excluded;
  const qa = state?.qa?.get(name);
  if (qa?.measures) take.qa = qaSummaryLine(qa);
  return take;
}
