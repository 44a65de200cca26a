// Custom requests and notifications of the slurm feature: typed constants, one-line JSDoc saying who sends what to whom.
import { NotificationType, RequestType, RequestType0 } from 'vscode-languageserver-protocol';
import type { ShardStatus, SlurmProgress } from '../../server/src/core/slurm/run';

export type { ShardStatus, SlurmProgress };

export interface SlurmSubmitParams {
  /** The task file (file: URI); its saved content is what the shards get. */
  uri: string;
  /** Output folder (absolute); default: the `ttsDistill.batch.outputDir` setting (`testOutputDir` with `testRun`). */
  outDir?: string;
  testRun?: boolean;
  /** Token of the HTTP teacher (from secret storage); reaches the jobs through sbatch's exported environment, never a file. */
  token?: string;
  /** Override `ttsDistill.slurm.shards` for this run. */
  shards?: number;
  /** false: only follow jobs an earlier submission left in the queue; submit nothing new. */
  submit?: boolean;
}

export interface SlurmRunRef {
  /** Identifies the run in later requests and notifications (the run folder). */
  runId: string;
  uri: string;
  outDir: string;
}

export namespace SlurmSubmitRequest {
  /** client → server: shard the task file, submit the job array (or resume the run of its output folder) and follow it; answers once submitted, then SlurmStatusNotification reports. */
  export const method = 'ttsDistill/slurm/submit' as const;
  export const type = new RequestType<SlurmSubmitParams, SlurmRunRef, void>(method);
}

export namespace SlurmTrackRequest {
  /** client → server: follow again the runs of the workspace's shared folder that still have jobs in the queue (after a reload); answers with them. */
  export const method = 'ttsDistill/slurm/track' as const;
  export const type = new RequestType0<SlurmRunRef[], void>(method);
}

export namespace SlurmCancelRequest {
  /** client → server: scancel the run's jobs; answers when Slurm says they ended and what was done is merged. */
  export const method = 'ttsDistill/slurm/cancel' as const;
  export const type = new RequestType<{ runId: string }, void, void>(method);
}

export namespace SlurmRunsRequest {
  /** client → server: the runs this server follows or followed, with their latest status (for a view opened late). */
  export const method = 'ttsDistill/slurm/runs' as const;
  export const type = new RequestType0<SlurmRunStatus[], void>(method);
}

export interface SlurmRunStatus extends SlurmRunRef {
  state: 'submitting' | 'running' | 'finished' | 'cancelled' | 'error';
  progress?: SlurmProgress;
  /** Like the CLI's exit code once finished: 0 all done, 2 some lines failed or unfinished, 130 cancelled. */
  exitCode?: number;
  /** Failures of the run itself (Slurm's words when it refused the job) and retries. */
  message?: string;
}

export namespace SlurmStatusNotification {
  /** server → client: the status of a followed run, after each queue poll and at its end. */
  export const method = 'ttsDistill/slurm/status' as const;
  export const type = new NotificationType<SlurmRunStatus>(method);
}
