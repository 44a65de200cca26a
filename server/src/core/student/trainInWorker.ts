// Starts a training job in a worker thread (dist/trainWorker.js): the CLI and the language server
// use this, and only types come from the trainer, so their bundles carry neither it nor its lexicon.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { startWorker } from '../util/worker';
import type { TrainJobRequest, TrainJobResult } from './trainJob';
import type { TrainProgress } from './trainer';

export type { TrainJobRequest, TrainJobResult, TrainProgress };

/** Messages from the training worker to whoever started it. */
export type TrainWorkerMessage =
  | { type: 'progress'; progress: TrainProgress }
  | { type: 'done'; result: TrainJobResult }
  | { type: 'cancelled' }
  | { type: 'error'; message: string };

export interface TrainWorkerData {
  request: TrainJobRequest;
  /** Int32Array over it: [0] becomes 1 to cancel (the training loop is synchronous and never sees messages). */
  cancelFlag: SharedArrayBuffer;
}

/** The worker script: dist/trainWorker.js in the bundle, trainWorker.ts beside this file under tsx. */
export function defaultWorkerFile(): string {
  const js = join(__dirname, 'trainWorker.js');
  return existsSync(js) ? js : join(__dirname, 'trainWorker.ts');
}

/** Runs a training job in a worker thread; resolves to undefined when cancelled. */
export function trainInWorker(
  request: TrainJobRequest,
  opts: { onProgress?: (p: TrainProgress) => void; signal?: AbortSignal; workerFile?: string } = {},
): Promise<TrainJobResult | undefined> {
  const cancelFlag = new SharedArrayBuffer(4);
  const flag = new Int32Array(cancelFlag);
  const data: TrainWorkerData = { request, cancelFlag };
  const file = opts.workerFile ?? defaultWorkerFile();
  const worker = startWorker(file, { workerData: data });
  return new Promise((resolve, reject) => {
    let settled = false;
    let killTimer: NodeJS.Timeout | undefined;
    const finish = (f: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(killTimer);
      opts.signal?.removeEventListener('abort', onAbort);
      f();
    };
    const onAbort = () => {
      Atomics.store(flag, 0, 1);
      // The loop checks the flag every few thousand examples; a stuck worker is ended anyway.
      killTimer = setTimeout(() => void worker.terminate(), 5000);
    };
    if (opts.signal?.aborted) onAbort();
    else opts.signal?.addEventListener('abort', onAbort);
    worker.on('message', (m: TrainWorkerMessage) => {
      if (m.type === 'progress') opts.onProgress?.(m.progress);
      else if (m.type === 'done') finish(() => resolve(m.result));
      else if (m.type === 'cancelled') finish(() => resolve(undefined));
      else finish(() => reject(new Error(m.message)));
    });
    worker.on('error', (err) => finish(() => reject(err)));
    worker.on('exit', (code) =>
      finish(() => (Atomics.load(flag, 0) ? resolve(undefined) : reject(new Error(`training worker exited with code ${code}`)))),
    );
  });
}
