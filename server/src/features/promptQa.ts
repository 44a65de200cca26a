import { existsSync } from 'node:fs';
import type { Worker } from 'node:worker_threads';
import { startWorker } from '../core/util/worker';
import { measureWavFile } from '../core/qa/measureFile';
import type { MeasureDone, MeasureJob } from '../core/qa/measureWorker';
import type { SignalMeasures } from '../core/qa/signal';

/**
 * Signal QA of prompt WAVs for the task-file diagnostics, measured in a worker thread (reading and
 * measuring a prompt takes ~100 ms; a long one more) and kept per path + mtime + size: each
 * version of a file is measured once, however often the documents are validated.
 */
export class PromptQaMeasurer {
  private worker: Worker | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private nextId = 0;
  private readonly pending = new Map<number, { job: MeasureJob; resolve: (r: MeasureDone) => void }>();
  private readonly results = new Map<string, Promise<SignalMeasures>>();
  /** Files measured so far (for the log and the tests). */
  measuredCount = 0;

  /**
   * `idleMs`: a worker with nothing to measure for this long ends (its own V8 heap and code, some
   * 30 MB resident, held for nothing while a big file is read); the next file starts one again.
   */
  constructor(
    private readonly file: string,
    private readonly log: (message: string) => void,
    private readonly idleMs = 5000,
  ) {}

  /** Whether a worker thread is running. */
  get running(): boolean {
    return this.worker !== undefined;
  }

  /** The measures of one version of a file (`key` changes with its mtime and size). Rejects when it cannot be measured. */
  measure(path: string, key: string, maxBytes: number): Promise<SignalMeasures> {
    const cacheKey = `${path}\0${key}`;
    let hit = this.results.get(cacheKey);
    if (!hit) {
      const t0 = performance.now();
      hit = this.run(path, maxBytes).then((m) => {
        this.measuredCount++;
        this.log(
          `prompt QA: measured ${path} in ${Math.round(performance.now() - t0)} ms (SNR ${m.snrDb === null ? '—' : m.snrDb.toFixed(1)} dB)`,
        );
        return m;
      });
      // Failures are not retried for this version of the file; older versions are forgotten.
      for (const k of this.results.keys()) if (k.startsWith(`${path}\0`)) this.results.delete(k);
      this.results.set(cacheKey, hit);
    }
    return hit;
  }

  private async run(path: string, maxBytes: number): Promise<SignalMeasures> {
    const w = this.start();
    if (!w) return measureWavFile(path, maxBytes);
    const done = await new Promise<MeasureDone>((resolve) => {
      const job: MeasureJob = { id: ++this.nextId, path, maxBytes };
      this.pending.set(job.id, { job, resolve });
      clearTimeout(this.idleTimer);
      w.postMessage(job);
    });
    if (!done.measures) throw new Error(done.error ?? 'not measured');
    return done.measures;
  }

  private start(): Worker | undefined {
    if (this.worker) return this.worker;
    // Without the bundle (tests run from source), measured in this thread.
    if (!existsSync(this.file)) return undefined;
    const w = startWorker(this.file);
    w.unref();
    w.on('message', (m: MeasureDone) => {
      this.pending.get(m.id)?.resolve(m);
      this.pending.delete(m.id);
      if (this.pending.size === 0) {
        clearTimeout(this.idleTimer);
        this.idleTimer = setTimeout(() => {
          if (this.pending.size === 0 && this.worker === w) {
            this.worker = undefined;
            void w.terminate();
          }
        }, this.idleMs);
        this.idleTimer.unref();
      }
    });
    w.on('error', (err) => this.log(`prompt QA worker failed: ${err.stack ?? err.message}`));
    w.on('exit', (code) => {
      // One retired when idle had no jobs: the pending ones are a newer worker's.
      if (this.worker !== w) return;
      this.worker = undefined;
      for (const [id, { resolve }] of this.pending) {
        this.pending.delete(id);
        resolve({ id, error: `the measurement stopped (worker exit code ${code})` });
      }
    });
    this.worker = w;
    return w;
  }
}
