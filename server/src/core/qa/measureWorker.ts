// Worker-thread entry (bundled to dist/qaWorker.js): measures prompt WAVs for the task-file
// diagnostics, so that reading and measuring a long recording never holds up the language server.
import { parentPort } from 'node:worker_threads';
import { measureWavFile } from './measureFile';
import type { SignalMeasures } from './signal';

export interface MeasureJob {
  id: number;
  path: string;
  maxBytes: number;
}
export interface MeasureDone {
  id: number;
  measures?: SignalMeasures;
  error?: string;
}

parentPort?.on('message', (job: MeasureJob) => {
  measureWavFile(job.path, job.maxBytes).then(
    (measures) => parentPort!.postMessage({ id: job.id, measures } satisfies MeasureDone),
    (err: unknown) =>
      parentPort!.postMessage({ id: job.id, error: err instanceof Error ? err.message : String(err) } satisfies MeasureDone),
  );
});
