/**
 * Worker threads that predict the teacher's readings of task lines ahead of time and store them in
 * the line cache (lineCache.ts). The language server hands it the texts it has not seen, in the
 * order it wants them (lines in view first); results arrive batch by batch, and `onResults`
 * tells the server to publish what is new. Without workers (no worker file, a worker crashed) the
 * same batches run on the calling thread between events, so nothing is ever lost, only slower.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { ReplaceDict } from './dictionary';
import type { LineReadings } from './teacherReadings';
import { cachedReadings, storeReadings } from './lineCache';
import { predictReadings } from './teacherReadings';

export type ReadingsWorkerRequest =
  | { type: 'dict'; version: string; entries: unknown[] }
  | { type: 'batch'; id: number; version: string; texts: string[] };

export interface ReadingsWorkerReply {
  id: number;
  results?: LineReadings[];
  error?: string;
}

/** The worker script: dist/readingsWorker.js beside the bundled server, readingsWorker.ts beside this file under tsx. */
export function defaultReadingsWorkerFile(): string | undefined {
  for (const f of [join(__dirname, 'readingsWorker.js'), join(__dirname, 'readingsWorker.ts')]) if (existsSync(f)) return f;
  return undefined;
}

interface Slot {
  worker: Worker;
  busy: number;
  dictVersion?: string;
}

export interface ReadingsPoolOptions {
  /** Worker threads (default: one per core, at most 4). 0 computes on the calling thread. */
  workers?: number;
  workerFile?: string;
  /** Texts per batch. */
  batch?: number;
  log?: (message: string) => void;
}

export class ReadingsPool {
  private slots: Slot[] | undefined;
  private readonly size: number;
  private readonly batchSize: number;
  private readonly file: string | undefined;
  private dict: ReplaceDict | undefined;
  /** Texts waiting, in the order they will be sent. */
  private queue: string[] = [];
  private queueHead = 0;
  /** Queued or in flight, for the current dictionary. */
  private known = new Set<string>();
  private nextId = 1;
  private readonly inflight = new Map<number, { texts: string[]; version: string; slot: Slot }>();
  private readonly listeners: Array<(version: string, texts: string[]) => void> = [];
  private localTimer: NodeJS.Immediate | undefined;
  private disposed = false;

  constructor(private readonly opts: ReadingsPoolOptions = {}) {
    this.size = opts.workers ?? Math.max(1, Math.min(4, availableParallelism()));
    this.batchSize = opts.batch ?? 400;
    this.file = opts.workerFile ?? defaultReadingsWorkerFile();
  }

  /** Called after each batch is stored in the line cache. */
  onResults(listener: (version: string, texts: string[]) => void): void {
    this.listeners.push(listener);
  }

  /** Texts queued or being computed. */
  get outstanding(): number {
    return this.known.size;
  }

  /**
   * Asks for the readings of `texts` under `dict`. Texts already cached, queued or in flight are
   * skipped; `front` puts these before what is already queued (lines in view).
   */
  request(texts: Iterable<string>, dict: ReplaceDict, front = false): void {
    if (this.disposed) return;
    if (this.dict?.version !== dict.version) {
      // A new dictionary: what was queued for the old one is useless.
      this.dict = dict;
      this.queue = [];
      this.queueHead = 0;
      this.known = new Set();
    }
    const fresh: string[] = [];
    for (const t of texts) {
      if (this.known.has(t) || cachedReadings(t, dict)) continue;
      this.known.add(t);
      fresh.push(t);
    }
    if (!fresh.length) return;
    if (front) {
      this.queue = [...fresh, ...this.queue.slice(this.queueHead)];
      this.queueHead = 0;
    } else {
      for (const t of fresh) this.queue.push(t);
    }
    this.pump();
  }

  private takeBatch(): string[] {
    const end = Math.min(this.queue.length, this.queueHead + this.batchSize);
    const texts = this.queue.slice(this.queueHead, end);
    this.queueHead = end;
    if (this.queueHead > 50_000 && this.queueHead * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.queueHead);
      this.queueHead = 0;
    }
    return texts;
  }

  private pump(): void {
    const dict = this.dict;
    if (!dict || this.queueHead >= this.queue.length) return;
    const slots = this.ensureWorkers();
    if (!slots.length) {
      this.pumpLocally();
      return;
    }
    // Two batches per worker: one computing, one waiting, so a worker never idles on a round trip.
    for (const slot of slots) {
      while (slot.busy < 2 && this.queueHead < this.queue.length) {
        if (slot.dictVersion !== dict.version) {
          slot.worker.postMessage({ type: 'dict', version: dict.version, entries: [...dict.entries.values()] } satisfies ReadingsWorkerRequest);
          slot.dictVersion = dict.version;
        }
        const texts = this.takeBatch();
        const id = this.nextId++;
        this.inflight.set(id, { texts, version: dict.version, slot });
        slot.busy++;
        slot.worker.postMessage({ type: 'batch', id, version: dict.version, texts } satisfies ReadingsWorkerRequest);
      }
    }
  }

  /** No workers: one batch per turn of the event loop. */
  private pumpLocally(): void {
    if (this.localTimer) return;
    this.localTimer = setImmediate(() => {
      this.localTimer = undefined;
      const dict = this.dict;
      if (!dict || this.disposed) return;
      const texts = this.takeBatch();
      for (const t of texts) if (!cachedReadings(t, dict)) storeReadings(dict.version, t, predictReadings(t, dict));
      this.delivered(dict.version, texts);
      if (this.queueHead < this.queue.length) this.pumpLocally();
    });
  }

  private delivered(version: string, texts: string[]) {
    if (this.dict?.version === version) for (const t of texts) this.known.delete(t);
    for (const l of this.listeners) l(version, texts);
  }

  /** Starts the workers now (they load the G2P while the caller does its own first pass). */
  warm(): void {
    if (!this.disposed) this.ensureWorkers();
  }

  private ensureWorkers(): Slot[] {
    if (this.slots) return this.slots;
    this.slots = [];
    if (!this.file || this.size <= 0) return this.slots;
    for (let i = 0; i < this.size; i++) {
      let worker: Worker;
      try {
        // Under tsx (tests, bench) the worker's TypeScript entry needs tsx's require hook in the thread.
        worker = this.file.endsWith('.ts')
          ? new Worker(`require('tsx/cjs'); require(${JSON.stringify(this.file)});`, { eval: true })
          : new Worker(this.file);
      } catch (err) {
        this.opts.log?.(`readings worker could not start: ${err instanceof Error ? err.message : String(err)}`);
        break;
      }
      worker.unref();
      const slot: Slot = { worker, busy: 0 };
      worker.on('message', (m: ReadingsWorkerReply) => this.reply(slot, m));
      worker.on('error', (err) => this.lost(slot, err));
      worker.on('exit', (code) => {
        if (!this.disposed) this.lost(slot, new Error(`exited with code ${code}`));
      });
      this.slots.push(slot);
    }
    return this.slots;
  }

  private reply(slot: Slot, m: ReadingsWorkerReply) {
    const job = this.inflight.get(m.id);
    if (!job) return;
    this.inflight.delete(m.id);
    slot.busy--;
    if (m.results) {
      for (let i = 0; i < job.texts.length; i++) storeReadings(job.version, job.texts[i]!, m.results[i]!);
    } else {
      this.opts.log?.(`readings worker: ${m.error ?? 'no result'}`);
      // Give the texts back to the queue: the next dictionary message fixes the worker.
      slot.dictVersion = undefined;
      if (this.dict?.version === job.version) {
        this.queue.push(...job.texts);
      }
    }
    if (m.results) this.delivered(job.version, job.texts);
    this.pump();
  }

  /** A worker died: its batches go back to the queue, the others carry on (or this thread, when none is left). */
  private lost(slot: Slot, err: Error) {
    if (!this.slots?.includes(slot)) return;
    this.opts.log?.(`readings worker stopped: ${err.message}`);
    this.slots = this.slots.filter((s) => s !== slot);
    for (const [id, job] of [...this.inflight]) {
      if (job.slot !== slot) continue;
      this.inflight.delete(id);
      if (this.dict?.version === job.version) this.queue.push(...job.texts);
    }
    this.pump();
  }

  dispose(): void {
    this.disposed = true;
    for (const s of this.slots ?? []) void s.worker.terminate();
    this.slots = [];
    if (this.localTimer) clearImmediate(this.localTimer);
  }
}
