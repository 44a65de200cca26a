import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ResponseError, ErrorCodes } from 'vscode-languageserver/node';
import type { ServerContext } from '../context';
import type { Settings } from '../core/settings';
import { SlurmError } from '../core/slurm/queue';
import { TOKEN_ENV } from '../cli/submit';
import { runDirIn, runSlurmBatch, SlurmRunError } from '../core/slurm/run';
import {
  SlurmCancelRequest, type SlurmRunRef, SlurmRunsRequest, type SlurmRunStatus, SlurmStatusNotification, SlurmSubmitRequest,
} from '../protocol/slurm';

interface FollowedRun {
  status: SlurmRunStatus;
  controller: AbortController;
  done: Promise<void>;
}

/** Plugs the slurm feature into the language server: runs are followed here, the client only shows them. */
export function register(ctx: ServerContext): void {
  const runs = new Map<string, FollowedRun>();

  ctx.connection.onRequest(SlurmSubmitRequest.type, async (params) => {
    if (!params.uri.startsWith('file:')) throw new ResponseError(ErrorCodes.InvalidParams, 'save the task file first: a Slurm batch runs from a file on disk');
    const tasksFile = fileURLToPath(params.uri);
    const settings = await ctx.getSettings(params.uri);
    const folder = workspaceFolderOf(tasksFile, ctx.workspaceFolders());
    const outDir = params.outDir ?? path.resolve(folder, params.testRun ? settings.batch.testOutputDir : settings.batch.outputDir);
    const runDir = runDirIn(path.resolve(folder, settings.slurm.sharedDir), outDir);
    const existing = runs.get(runDir);
    if (existing && (existing.status.state === 'running' || existing.status.state === 'submitting')) {
      return { runId: runDir, uri: params.uri, outDir } satisfies SlurmRunRef;
    }
    const ref: SlurmRunRef = { runId: runDir, uri: params.uri, outDir };
    const status: SlurmRunStatus = { ...ref, state: 'submitting' };
    const controller = new AbortController();
    const publish = () => void ctx.connection.sendNotification(SlurmStatusNotification.type, status);
    let submitted!: () => void;
    let refused!: (err: unknown) => void;
    const firstProgress = new Promise<void>((resolve, reject) => { submitted = resolve; refused = reject; });
    const notes: string[] = [];
    const done = runSlurmBatch({
      tasksFile, outDir, runDir,
      shards: params.shards ?? settings.slurm.shards,
      maxParallel: settings.slurm.maxParallel,
      partition: settings.slurm.partition,
      gres: settings.slurm.gres,
      time: settings.slurm.time,
      account: settings.slurm.account,
      sbatchArgs: settings.slurm.sbatchArgs,
      commandPrefix: settings.slurm.commandPrefix,
      maxRetries: settings.slurm.maxRetries,
      pollSeconds: settings.slurm.pollSeconds,
      submitArgs: shardSubmitArgs(settings, folder),
      workDir: folder,
      // sbatch exports the submitter's environment to the jobs (unless the cluster says otherwise).
      env: params.token ? { ...process.env, [TOKEN_ENV]: params.token } : process.env,
      wait: true,
      submit: params.submit !== false,
      signal: controller.signal,
      log: (m) => {
        ctx.log(`Slurm: ${m}`);
        if (/resubmitting|no retries left|refused|failed/.test(m)) notes.push(m);
      },
      onProgress: (p) => {
        status.progress = p;
        if (status.state === 'submitting') status.state = 'running';
        if (notes.length) status.message = notes.slice(-3).join('\n');
        publish();
        submitted();
      },
    }).then((r) => {
      status.progress = r.progress;
      status.exitCode = r.exitCode;
      status.state = r.cancelled ? 'cancelled' : 'finished';
      const retried = r.retried.map((x) => `shard ${x.shard} retried after ${x.state}${x.reason ? ` (${x.reason})` : ''}`);
      const m = r.merge;
      status.message = [m ? `${m.done} done, ${m.failed} failed, ${m.unfinished.length} unfinished of ${m.total} → ${m.manifestFile}` : '', ...retried].filter(Boolean).join('\n');
      ctx.log(`Slurm run ${runDir}: ${status.message.replace(/\n/g, '; ')}`);
      publish();
      submitted();
    }, (err: unknown) => {
      status.state = 'error';
      status.message = err instanceof Error ? err.message : String(err);
      ctx.log(`Slurm run ${runDir} failed: ${status.message}`);
      publish();
      refused(err);
    });
    runs.set(runDir, { status, controller, done });
    try {
      await firstProgress;
    } catch (err) {
      const message = err instanceof SlurmError || err instanceof SlurmRunError ? err.message : `the Slurm batch could not start: ${(err as Error).message}`;
      throw new ResponseError(ErrorCodes.InternalError, message);
    }
    return ref;
  });

  ctx.connection.onRequest(SlurmCancelRequest.type, async ({ runId }) => {
    const run = runs.get(runId);
    if (!run) throw new ResponseError(ErrorCodes.InvalidParams, `no Slurm run ${runId} is followed here`);
    run.controller.abort();
    await run.done;
  });

  ctx.connection.onRequest(SlurmRunsRequest.type, () => [...runs.values()].map((r) => r.status));
}

function workspaceFolderOf(file: string, folders: string[]): string {
  const inside = folders.filter((f) => !path.relative(f, file).startsWith('..')).sort((a, b) => b.length - a.length);
  return inside[0] ?? folders[0] ?? path.dirname(file);
}

/** The teacher options every shard's `tts-distill submit` gets, from the settings of the task file. */
export function shardSubmitArgs(s: Settings, folder: string): string[] {
  const args = ['--teacher', s.teacher.backend, '--concurrency', String(s.batch.concurrency), '--seed', String(s.batch.seed),
    '--timeout', String(s.batch.timeoutSeconds), '--retries', String(s.batch.retries), '--sample-rate', String(s.teacher.sampleRate), '--quiet'];
  if (s.taskFiles.dialect !== 'auto') args.push('--dialect', s.taskFiles.dialect);
  if (s.teacher.backend === 'http') args.push('--url', s.teacher.httpUrl);
  if (s.teacher.glmttsPath) args.push('--glmtts', path.resolve(folder, s.teacher.glmttsPath));
  const dict = path.resolve(folder, s.dictionary.path);
  if (existsSync(dict)) args.push('--dict', dict);
  return args;
}
