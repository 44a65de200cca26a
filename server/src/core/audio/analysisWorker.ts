// Worker-thread entry (bundled to dist/audioWorker.js): analyses WAV files for the preview so that
// a long file never holds up the language server's diagnostics, hovers and completions.
import { parentPort } from 'node:worker_threads';
import { analyseFile } from './analysis';
import type { AudioAnalysisResult } from '../../../../protocol/previewTypes';

export interface AnalysisJob {
  id: number;
  path: string;
  range?: { start: number; end: number };
}
export interface AnalysisDone {
  id: number;
  result: AudioAnalysisResult;
}

parentPort?.on('message', (job: AnalysisJob) => {
  void analyseFile(job.path, job.range ? { range: job.range } : {}).then((result) =>
    parentPort!.postMessage({ id: job.id, result } satisfies AnalysisDone),
  );
});
