import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ResponseError, ErrorCodes } from 'vscode-languageserver/node';
import type { ServerContext } from '../context';
import type { Settings } from '../core/settings';
import { SlurmError, SlurmQueue } from '../core/slurm/queue';
import { liveRun, runDirIn, runSlurmBatch, SlurmRunError } from '../core/slurm/run';
import { TOKEN_ENV } from '../cli/submit';
import {
  SlurmCancelRequest,
  type SlurmRunRef,
  SlurmRunsRequest,
  type SlurmRunStatus,
  SlurmStatusNotification,
  SlurmSubmitRequest,
  SlurmTrackRequest,
} from '../../../protocol/lsp/slurm';

interface FollowedRun {
  status: SlurmRunStatus;
  controller: AbortController;
  done: Promise<void>;
}

interface StartOptions {
  tasksFile: string;
  outDir: string;
  runDir: string;
  folder: string;
  settings: Settings;
  submit: boolean;
  shards?: number;
  token?: string;
}

/** Plugs the slurm feature into the language server: runs are followed here, the client only shows them. */
export function register(ctx: ServerContext): void {
  const runs = new Map<string, FollowedRun>();
  const following = (runDir: string) => ['running', 'submitting'].includes(runs.get(runDir)?.status.state ?? '');

  /** Starts following (and, with `submit`, submitting) a run; resolves once it is submitted or followed, rejects with Slurm's words. */
  async function start(o: StartOptions): Promise<SlurmRunRef> {
    const ref: SlurmRunRef = { runId: o.runDir, uri: pathToFileURL(o.tasksFile).href, outDir: o.outDir };
    const status: SlurmRunStatus = { ...ref, state: 'submitting' };
    const controller = new AbortController();
    const publish = () => void ctx.connection.sendNotification(SlurmStatusNotification.type, status);
    let started!: () => void;
    let refused!: (err: unknown) => void;
    const firstProgress = new Promise<void>((resolve, reject) => {
      started = resolve;
      refused = reject;
    });
    const notes: string[] = [];
    const s = o.settings.slurm;
    const done = runSlurmBatch({
      tasksFile: o.tasksFile,
      outDir: o.outDir,
      runDir: o.runDir,
      shards: o.shards ?? s.shards,
      maxParallel: s.maxParallel,
      partition: s.partition,
      gres: s.gres,
      time: s.time,
      account: s.account,
      sbatchArgs: s.sbatchArgs,
      commandPrefix: s.commandPrefix,
      maxRetries: s.maxRetries,
      pollSeconds: s.pollSeconds,
      submitArgs: shardSubmitArgs(o.settings, o.folder),
      workDir: o.folder,
      // sbatch exports the submitter's environment to the jobs (unless the cluster says otherwise).
      env: o.token ? { ...process.env, [TOKEN_ENV]: o.token } : process.env,
      wait: true,
      submit: o.submit,
      signal: controller.signal,
      log: (m) => {
        ctx.log(`Slurm: ${m}`);
        if (/resubmitting|no retries left|refused|failed|cannot ask/.test(m)) notes.push(m);
      },
      onProgress: (p) => {
        status.progress = p;
        if (status.state === 'submitting') status.state = 'running';
        if (notes.length) status.message = notes.slice(-3).join('\n');
        publish();
        started();
      },
    }).then(
      (r) => {
        status.progress = r.progress;
        status.exitCode = r.exitCode;
        status.state = r.cancelled ? 'cancelled' : 'finished';
        const retried = r.retried.map((x) => `shard ${x.shard} retried after ${x.state}${x.reason ? ` (${x.reason})` : ''}`);
        const m = r.merge;
        status.message = [
          m ? `${m.done} done, ${m.failed} failed, ${m.unfinished.length} unfinished of ${m.total} → ${m.manifestFile}` : '',
          ...retried,
        ]
          .filter(Boolean)
          .join('\n');
        ctx.log(`Slurm run ${o.runDir}: ${status.message.replace(/\n/g, '; ')}`);
        publish();
        started();
      },
      (err: unknown) => {
        status.state = 'error';
        status.message = err instanceof Error ? err.message : String(err);
        ctx.log(`Slurm run ${o.runDir} failed: ${status.message}`);
        publish();
        refused(err);
      },
    );
    runs.set(o.runDir, { status, controller, done });
    try {
      await firstProgress;
    } catch (err) {
      const message =
        err instanceof SlurmError || err instanceof SlurmRunError
          ? err.message
          : `the Slurm batch could not start: ${(err as Error).message}`;
      throw new ResponseError(ErrorCodes.InternalError, message);
    }
    return ref;
  }

  ctx.connection.onRequest(SlurmSubmitRequest.type, async (params) => {
    if (!params.uri.startsWith('file:'))
      throw new ResponseError(ErrorCodes.InvalidParams, 'save the task file first: a Slurm batch runs from a file on disk');
    const tasksFile = fileURLToPath(params.uri);
    const settings = await ctx.getSettings(params.uri);
    const folder = ctx.workDirOf(tasksFile);
    const outDir = params.outDir ?? path.resolve(folder, params.testRun ? settings.batch.testOutputDir : settings.batch.outputDir);
    const runDir = runDirIn(path.resolve(folder, settings.slurm.sharedDir), outDir);
    if (following(runDir)) return { runId: runDir, uri: params.uri, outDir } satisfies SlurmRunRef;
    return start({
      tasksFile,
      outDir,
      runDir,
      folder,
      settings,
      submit: params.submit !== false,
      shards: params.shards,
      token: params.token,
    });
  });

  ctx.connection.onRequest(SlurmTrackRequest.type, async () => {
    const refs: SlurmRunRef[] = [];
    for (const folder of ctx.workspaceFolders()) {
      const settings = await ctx.getSettings(pathToFileURL(folder).href);
      const shared = path.resolve(folder, settings.slurm.sharedDir);
      const entries = await readdir(shared, { withFileTypes: true }).catch(() => []);
      const queue = new SlurmQueue({ commandPrefix: settings.slurm.commandPrefix });
      for (const e of entries) {
        const runDir = path.join(shared, e.name);
        if (!e.isDirectory() || following(runDir)) continue;
        const live = await liveRun(runDir, queue).catch((err: unknown) => {
          ctx.log(`Slurm: cannot look at ${runDir}: ${(err as Error).message}`);
          return undefined;
        });
        if (!live) continue;
        ctx.log(`Slurm: following again the run of ${live.tasksFile} (shards ${live.liveShards.join(', ')} still in the queue)`);
        refs.push(await start({ tasksFile: live.tasksFile, outDir: live.outDir, runDir, folder, settings, submit: false }));
      }
    }
    return refs;
  });

  ctx.connection.onRequest(SlurmCancelRequest.type, async ({ runId }) => {
    const run = runs.get(runId);
    if (!run) throw new ResponseError(ErrorCodes.InvalidParams, `no Slurm run ${runId} is followed here`);
    run.controller.abort();
    await run.done;
  });

  ctx.connection.onRequest(SlurmRunsRequest.type, () => [...runs.values()].map((r) => r.status));
}

/** The teacher options every shard's `tts-distill submit` gets, from the settings of the task file. */
export function shardSubmitArgs(s: Settings, folder: string): string[] {
  const args = [
    '--teacher',
    s.teacher.backend,
    '--concurrency',
    String(s.batch.concurrency),
    '--seed',
    String(s.batch.seed),
    '--timeout',
    String(s.batch.timeoutSeconds),
    '--retries',
    String(s.batch.retries),
    '--sample-rate',
    String(s.teacher.sampleRate),
    '--quiet',
  ];
  if (s.taskFiles.dialect !== 'auto') args.push('--dialect', s.taskFiles.dialect);
  if (s.teacher.backend === 'http') args.push('--url', s.teacher.httpUrl, '--http-protocol', s.teacher.httpProtocol);
  if (s.teacher.glmttsPath) args.push('--glmtts', path.resolve(folder, s.teacher.glmttsPath));
  const dict = path.resolve(folder, s.dictionary.path);
  if (existsSync(dict)) args.push('--dict', dict);
  return args;
}
