// One training run from label files to a model file, as the worker thread (trainWorker.ts) runs
// it; trainInWorker.ts starts that worker without loading any of this.
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
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

export async function runTrainJob(
  req: TrainJobRequest,
  onProgress?: (p: TrainProgress) => void,
  signal?: { readonly aborted: boolean },
): Promise<TrainJobResult> {
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
    seed: req.seed,
    epochs: req.epochs,
    heldOutFraction: req.heldOutFraction,
    sources: req.labels.map((f) => basename(f)),
    onProgress,
    signal,
  });
  const text = serializeModel(model);
  await mkdir(dirname(req.out), { recursive: true });
  // Written beside and renamed, so that the language server never loads half a model.
  const tmp = `${req.out}.${process.pid}.tmp`;
  await writeFile(tmp, text);
  await rename(tmp, req.out);
  return {
    out: req.out,
    bytes: Buffer.byteLength(text),
    metrics: model.metrics,
    sources,
    examples: examples.length,
    characters: Object.keys(model.chars).length,
    sha256: model.trainingData.sha256,
    seconds: (performance.now() - t0) / 1000,
  };
}
