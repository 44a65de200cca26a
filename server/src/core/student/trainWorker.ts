// Worker-thread entry (dist/trainWorker.js): trains off the language server's main thread.
import { parentPort, workerData } from 'node:worker_threads';
import type { TrainWorkerData, TrainWorkerMessage } from './trainInWorker';
import { runTrainJob } from './trainJob';
import { TrainingCancelled } from './trainer';

const { request, cancelFlag } = workerData as TrainWorkerData;
const flag = new Int32Array(cancelFlag);
const post = (m: TrainWorkerMessage) => parentPort!.postMessage(m);
const signal = {
  get aborted() {
    return Atomics.load(flag, 0) !== 0;
  },
};

runTrainJob(request, (progress) => post({ type: 'progress', progress }), signal).then(
  (result) => post({ type: 'done', result }),
  (err: unknown) =>
    post(
      err instanceof TrainingCancelled
        ? { type: 'cancelled' }
        : { type: 'error', message: err instanceof Error ? err.message : String(err) },
    ),
);
