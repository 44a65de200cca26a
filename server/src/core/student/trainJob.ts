// One training run from label files to a model file: what the CLI, the worker thread and the
// language server all run.
import { existsSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { readLabels, type LabelSourceKind } from './labels';
import { serializeModel, type StudentMetrics } from './model';
import { trainStudent, TrainingCancelled, type LabelledExample, type TrainProgress } from './trainer';

export interface TrainJobRequest {
  /** manifest.jsonl, text_compare.jsonl or X.sent (with X.lb beside it). */
  labels: string[];
  out: string;
  seed?: number;
  epochs?: number;
  heldOutFraction?: number;
}

export interface TrainJobResult {
  out: string;
  bytes: number;
  metrics: StudentMetrics;
  sources: Array<{ file: string; kind: LabelSourceKind; examples: number; skipped: number; problems: string[] }>;
  examples: number;
  characters: number;
  sha256: string;
  seconds: number;
}

export class NoExamplesError extends Error {}

export async function runTrainJob(req: TrainJobRequest, onProgress?: (p: TrainProgress) => void, signal?: { readonly aborted: boolean }): Promise<TrainJobResult> {
  const t0 = performance.now();
  const examples: LabelledExample[] = [];
  const sources: TrainJobResult['sources'] = [];
  for (const file of req.labels) {
    const src = await readLabels(file);
    examples.push(...src.examples);
    sources.push({ file, kind: src.kind, examples: src.examples.length, skipped: src.skipped, problems: src.problems });
    if (signal?.aborted) throw new TrainingCancelled();
  }
  if (!examples.length) throw new NoExamplesError(`no labelled polyphones in ${req.labels.join(', ')}`);
  const model = trainStudent(examples, {
    seed: req.seed, epochs: req.epochs, heldOutFraction: req.heldOutFraction, sources: req.labels.map((f) => basename(f)), onProgress, signal,
  });
  const text = serializeModel(model);
  await mkdir(dirname(req.out), { recursive: true });
  // Written beside and renamed, so that the language server never loads half a model.
  const tmp = `${req.out}.${process.pid}.tmp`;
  await writeFile(tmp, text);
  await rename(tmp, req.out);
  return {
    out: req.out, bytes: Buffer.byteLength(text), metrics: model.metrics, sources, examples: examples.length,
    characters: Object.keys(model.chars).length, sha256: model.trainingData.sha256, seconds: (performance.now() - t0) / 1000,
  };
}

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
  // Under tsx (tests, bench) the worker's TypeScript entry needs tsx's require hook in the thread.
  const worker = file.endsWith('.ts')
    ? new Worker(`require('tsx/cjs'); require(${JSON.stringify(file)});`, { eval: true, workerData: data })
    : new Worker(file, { workerData: data });
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
    worker.on('exit', (code) => finish(() => (Atomics.load(flag, 0) ? resolve(undefined) : reject(new Error(`training worker exited with code ${code}`)))));
  });
}
