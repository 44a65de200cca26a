/**
 * Worker threads that analyse the polyphones of task lines ahead of time: each text's readings
 * (the teacher's G2P and the dictionary) and the second opinion's verdict on each polyphone
 * (core/polyphones.ts#polyphoneVerdicts). The language server hands it the texts it has not seen,
 * in the order it wants them (lines in view first); results arrive batch by batch, are kept here
 * by text, and `onResults` tells the server to publish what is new. The workers load the student
 * themselves, so the server's own thread never has to.
 *
 * Without workers (no worker file, a worker crashed) the same batches run on the calling thread
 * between events, through the `local` function of the configuration: nothing is ever lost, only
 * slower.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { basename, dirname, join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { startWorker } from '../util/worker';
import type { DictEntry } from './dictionary';
import type { PolyphoneVerdict } from './polyphones';
import type { LineReadings } from './teacherReadings';
import { type PackedReadings, SyllableTable, keptReadings, storePackedReadings, storeReadings } from './lineCache';
import { intern } from '../util/intern';
import { encodeRecord, type LineToLog, VerdictLog } from './verdictLog';

/** Everything the verdicts depend on; `key` names it (a new key empties the cache). */
export interface VerdictConfig {
  key: string;
  dict: { version: string; entries: DictEntry[] };
  /** GLM-TTS's able list: its characters, or undefined for the bundled copy. */
  able: { version: string; chars?: string[]; origin?: string };
  /** The second opinion: a student model file, the default student (`file` undefined), or none (null: pinyin-pro alone). */
  student: { file?: string } | null;
  raisedOnly: boolean;
  /** Keep the verdicts on disk for the next session and read what the last one kept (when the pool has a `cacheDir`). */
  persist?: boolean;
  /** An earlier run's readings of a text (the teacher's reading the verdicts compare with), if any. */
  recorded?: (text: string) => ReadonlyArray<string | null> | undefined;
  /** The verdicts computed on this thread (no workers, or a worker failed). */
  local: (text: string) => PolyphoneVerdict[];
}

export type ReadingsWorkerRequest =
  | {
      type: 'config';
      key: string;
      dict: VerdictConfig['dict'];
      able: VerdictConfig['able'];
      student: VerdictConfig['student'];
      raisedOnly: boolean;
    }
  | {
      type: 'batch';
      id: number;
      key: string;
      texts: string[];
      recorded: Array<ReadonlyArray<string | null> | null>;
      /** Texts asked for first (lines in view, lines just edited); the others are read in the background. */
      front: boolean;
    };

export interface ReadingsWorkerReply {
  id: number;
  results?: PolyphoneVerdict[][];
  /**
   * The texts' readings (stored in the line cache for inlay hints and hovers): packed with the
   * worker's syllable table (as they are when it is full).
   */
  readings?: Array<PackedReadings | LineReadings>;
  /** The syllables the worker's table gained since its previous reply, ids `from` on. */
  syllables?: { from: number; add: string[] };
  error?: string;
}

/**
 * Each worker's young generation (V8's default is several times this): a worker makes its
 * garbage batch by batch, and a smaller nursery keeps ~45 MB less per worker resident at no cost in
 * speed (bench, 100,000 lines: peak RSS 903 → 816 MB with two workers, all diagnostics as fast).
 */
const WORKER_YOUNG_GENERATION_MB = 8;

/** The worker script: dist/readingsWorker.js beside the bundled server, readingsWorker.ts beside this file under tsx. */
export function defaultReadingsWorkerFile(): string | undefined {
  for (const f of [join(__dirname, 'readingsWorker.js'), join(__dirname, 'readingsWorker.ts')]) if (existsSync(f)) return f;
  return undefined;
}

interface Slot {
  worker: Worker;
  busy: number;
  key?: string;
  /** A copy of the worker's syllable table (its replies' readings are packed with it). */
  syllables: SyllableTable;
}

export interface ReadingsPoolOptions {
  /** Worker threads (default: one per core, at most 4). 0 computes on the calling thread. */
  workers?: number;
  workerFile?: string;
  /** Texts per batch: small enough that a line asked for in front waits little behind a batch under way. */
  batch?: number;
  log?: (message: string) => void;
  /** Called when a worker first answers (its G2P and student are loaded). */
  onFirstAnswer?: () => void;
  /** Where the verdicts are kept from one session to the next (see VerdictLog); none: they are not. Asked at each new configuration. */
  cacheDir?: () => string | undefined;
  /**
   * Names the code and data that compute the verdicts, for the kept verdicts. By default from the
   * bundled worker and the data files beside it (dist/readingsWorker.js, dist/data/: sizes and times); a
   * worker run from TypeScript (tests) has none, and then nothing is kept unless this is given.
   */
  codeId?: string;
}

/** Lines read back from the verdict log per turn of the event loop: at most for this long. */
const REPLAY_SLICE_MS = 8;
/**
 * Lines are written to the verdict log in slices this long at most, this far apart, at most two
 * records waiting to be written: the server's thread answers in between, and memory stays flat.
 */
const LOG_SLICE_MS = 4;
const LOG_PAUSE_MS = 10;
/** And not before the user has left the editor alone for this long (edits, scrolling: see `userActive`). */
const USER_PAUSE_MS = 1000;
/** Lines per record of the verdict log. */
const LOG_RECORD_LINES = 256;

/** Texts whose verdicts are kept (as many lines as the line cache keeps readings). */
const MAX_RESULTS = 400_000;
const NONE: PolyphoneVerdict[] = [];
Object.freeze(NONE);

/** One copy of each string a verdict holds: a worker's results arrive as copies (structured clone). */
function shareStrings(v: PolyphoneVerdict): void {
  v.predicted = intern(v.predicted);
  v.source = intern(v.source);
  if (v.second) {
    v.second.reading = intern(v.second.reading);
    v.second.by = intern(v.second.by);
  }
}

export class ReadingsPool {
  private slots: Slot[] | undefined;
  /** Workers started (the ones that died are not started again). */
  private started = 0;
  /**
   * A worker has answered: the others start then. Before, they would share the cores with the first
   * one's load and the server's first pass (2 cores here), and every one of them would be late.
   */
  private answered = false;
  private readonly size: number;
  private readonly batchSize: number;
  private readonly file: string | undefined;
  private config: VerdictConfig | undefined;
  /** The verdicts of the current configuration, by text. */
  private results = new Map<string, PolyphoneVerdict[]>();
  /** Texts waiting, in the order they will be sent. */
  private queue: string[] = [];
  private queueHead = 0;
  /** Texts asked for first (lines in view, lines just edited), newest first: taken before the queue. */
  private urgent: string[] = [];
  /** Queued or in flight, for the current configuration. */
  private known = new Set<string>();
  private nextId = 1;
  private readonly inflight = new Map<number, { texts: string[]; key: string; slot: Slot }>();
  private readonly listeners: Array<(texts: string[]) => void> = [];
  private readonly waiters = new Set<{ texts: string[]; done: () => void }>();
  private localTimer: NodeJS.Immediate | undefined;
  private disposed = false;
  /** The verdict log of the current configuration, once open. */
  private log: VerdictLog | undefined;
  /** The log is being opened or read back: only texts asked for first go to the workers meanwhile. */
  private replaying = false;
  /** Lines whose verdicts came from the log (this configuration). */
  replayed = 0;
  /** Texts the workers computed that the log does not have yet: written once the workers are idle. */
  private unlogged: string[] = [];
  private logWriter: NodeJS.Timeout | undefined;
  /** The writer waits for the log's backlog to be written. */
  private logWaiting = false;
  /** The writer waits until then (performance.now()): the user is at work (see `userActive`). */
  private quietFrom = 0;
  private codeIdOnce: Promise<string | undefined> | undefined;

  constructor(private readonly opts: ReadingsPoolOptions = {}) {
    this.size = opts.workers ?? Math.max(1, Math.min(4, availableParallelism()));
    this.batchSize = opts.batch ?? 64;
    this.file = opts.workerFile ?? defaultReadingsWorkerFile();
  }

  /** Called after each batch's verdicts are stored. */
  onResults(listener: (texts: string[]) => void): void {
    this.listeners.push(listener);
  }

  /** Texts queued or being computed. */
  get outstanding(): number {
    return this.known.size;
  }

  /** Whether worker threads will do the work (without starting them). */
  get canUseWorkers(): boolean {
    return this.slots ? this.slots.length > 0 : !!this.file && this.size > 0;
  }

  /** Whether worker threads do the work (false: this thread does). Starts them. */
  get usesWorkers(): boolean {
    return this.ensureWorkers().length > 0;
  }

  /** The key of the configuration in use (undefined before the first). */
  get key(): string | undefined {
    return this.config?.key;
  }

  /** Sets what the verdicts depend on; a new key drops the verdicts and the queue of the old one. */
  configure(config: VerdictConfig): void {
    if (this.config?.key === config.key) {
      this.config = config;
      return;
    }
    this.config = config;
    this.results = new Map();
    this.queue = [];
    this.queueHead = 0;
    this.urgent = [];
    this.known = new Set();
    this.openLog(config);
  }

  /** Resolves once the verdicts kept by an earlier session are read back (or there are none). */
  whenReplayed(): Promise<void> {
    if (!this.replaying) return Promise.resolve();
    return new Promise((resolve) => this.replayWaiters.push(resolve));
  }
  private replayWaiters: Array<() => void> = [];

  /**
   * Writes the lines the workers computed to the log in short slices, once nothing is queued or in
   * flight and the user has paused: encoding them while a big file is read would take the server's
   * thread from the work the user waits for (npm run bench -- lsp: ~4 % longer to all diagnostics
   * when the workers encoded their batches themselves). Stops when work comes, goes on after it.
   */
  private writeLogSoon(): void {
    if (this.logWriter || this.logWaiting || !this.log || !this.unlogged.length || this.known.size || this.inflight.size) return;
    this.logWriter = setTimeout(
      () => {
        this.logWriter = undefined;
        const log = this.log;
        const config = this.config;
        if (!log || !config || this.disposed || this.known.size || this.inflight.size) return;
        const t0 = performance.now();
        // The user came back meanwhile: later.
        if (t0 < this.quietFrom) return this.writeLogSoon();
        while (this.unlogged.length && log.backlog < 2 && performance.now() - t0 < LOG_SLICE_MS)
          this.appendToLog(log, config, this.unlogged.splice(-LOG_RECORD_LINES));
        if (log.backlog < 2) return this.writeLogSoon();
        this.logWaiting = true;
        void log.flushed().then(() => {
          this.logWaiting = false;
          this.writeLogSoon();
        });
      },
      Math.max(LOG_PAUSE_MS, this.quietFrom - performance.now()),
    );
  }

  /** The user edits or scrolls: the verdict log is written once they have paused for a second. */
  userActive(): void {
    this.quietFrom = performance.now() + USER_PAUSE_MS;
  }

  /** Closes the old configuration's log and opens (and reads back) the new one's. */
  private openLog(config: VerdictConfig): void {
    const old = this.log;
    this.log = undefined;
    void old?.close();
    this.replayed = 0;
    this.unlogged = [];
    this.endReplay();
    const dir = this.opts.cacheDir?.();
    const gen = ++this.logGeneration;
    if (!config.persist || !dir || this.disposed) return;
    this.replaying = true;
    const key = config.key;
    const current = () => this.logGeneration === gen && !this.disposed;
    void (async () => {
      const code = await this.codeId();
      if (!current()) return;
      if (!code) return this.endReplay();
      const t0 = performance.now();
      const log = await VerdictLog.open(dir, `${code}|${key}`, this.opts.log);
      if (!current()) return void log.close();
      this.log = log;
      this.replayStats = { t0, busy: performance.now() - t0 };
      this.replay(log, key);
    })().catch((err: Error) => {
      this.opts.log?.(`readings cache not used: ${err.message}`);
      if (current()) this.endReplay();
    });
  }
  /** Counts the logs opened: an open that finishes after a newer one began is let go. */
  private logGeneration = 0;
  /** When the log's reading began, and the milliseconds this thread spent on it. */
  private replayStats = { t0: 0, busy: 0 };

  /** Reads the log back a slice per turn of the event loop; the workers get the rest of the queue once it is done. */
  private replay(log: VerdictLog, key: string): void {
    const config = this.config;
    if (this.disposed || this.log !== log || !config || config.key !== key) return;
    const t0 = performance.now();
    const texts: string[] = [];
    const results: PolyphoneVerdict[][] = [];
    // A text the log holds twice (an older version wrote it again) is taken once.
    const taken = new Set<string>();
    while (performance.now() - t0 < REPLAY_SLICE_MS) {
      const lines = log.next();
      if (!lines) break;
      for (let i = 0; i < lines.texts.length; i++) {
        const t = lines.texts[i]!;
        if (this.results.has(t) || taken.has(t)) continue;
        taken.add(t);
        storePackedReadings(config.dict.version, t, lines.readings[i]!, log.table);
        texts.push(t);
        results.push(lines.results[i]!);
      }
    }
    if (texts.length) {
      this.replayed += texts.length;
      this.delivered(key, texts, results);
    }
    this.replayStats.busy += performance.now() - t0;
    if (log.pending) {
      setImmediate(() => this.replay(log, key));
      return;
    }
    if (this.replayed) {
      const { t0: began, busy } = this.replayStats;
      this.opts.log?.(
        `readings of ${this.replayed.toLocaleString('en')} lines read back from the cache of an earlier session (${log.file}) in ${(performance.now() - began).toFixed(0)} ms (${busy.toFixed(0)} ms of the server's thread)`,
      );
    }
    this.endReplay();
  }

  private endReplay(): void {
    const was = this.replaying;
    this.replaying = false;
    const waiters = this.replayWaiters;
    this.replayWaiters = [];
    for (const w of waiters) w();
    // The texts queued meanwhile go to the workers now.
    if (was && !this.disposed) this.pump();
  }

  /**
   * The identity of the code and data that compute the verdicts (see ReadingsPoolOptions.codeId):
   * the size and modification time of the worker bundle and its data files. Their bytes are not
   * hashed (~5 MB: 3–5 ms of the server's thread, and the buffers, while a big file loads); a build or
   * an install of another version writes the files anew.
   */
  private codeId(): Promise<string | undefined> {
    if (this.opts.codeId) return Promise.resolve(this.opts.codeId);
    const file = this.file;
    this.codeIdOnce ??= (async () => {
      if (!file?.endsWith('.js')) return undefined;
      const data = join(dirname(file), 'data');
      const files = [file, ...['jieba.bin.gz', 'pypinyin.txt.gz', 'default-student.json.gz'].map((n) => join(data, n))];
      const stamps = await Promise.all(
        files.map((f) =>
          stat(f).then(
            (st) => `${st.size}:${st.mtimeMs}`,
            () => '-',
          ),
        ),
      );
      return createHash('sha256')
        .update(files.map((f, k) => `${basename(f)}=${stamps[k]}`).join('\n'))
        .digest('hex')
        .slice(0, 16);
    })().catch(() => undefined);
    return this.codeIdOnce;
  }

  /** Batches delivered so far (any configuration): a change means some texts got their verdicts. */
  deliveries = 0;

  /** Whether verdicts arrived under the current configuration (the workers have loaded what it needs). */
  get warmedUp(): boolean {
    return this.results.size > 0;
  }

  /** The verdicts of `text` under the current configuration, or undefined when not computed yet. */
  cached(text: string): PolyphoneVerdict[] | undefined {
    return this.results.get(text);
  }

  /**
   * Marks `text`, which `cached` did not have, as asked for unless it already is (then true: the
   * caller passes it to `send`, with others). A pass over a big file asks line by line: this skips
   * the lookups that `request` would do again.
   */
  enqueue(text: string): boolean {
    if (this.disposed || !this.config || this.known.has(text)) return false;
    this.known.add(text);
    return true;
  }

  /** Queues texts that `enqueue` marked (at the back) and starts the workers on them. */
  send(texts: string[]): void {
    if (this.disposed || !this.config) return;
    for (const t of texts) this.queue.push(t);
    this.pump();
  }

  /**
   * Asks for the verdicts of `texts`. Texts already computed, queued or in flight are skipped;
   * `front` puts these before what is already queued (lines in view, lines just edited).
   */
  request(texts: Iterable<string>, front = false): void {
    if (this.disposed || !this.config) return;
    const fresh: string[] = [];
    for (const t of texts) {
      if (this.results.has(t)) continue;
      if (this.known.has(t)) {
        if (front) fresh.push(t);
        continue;
      }
      this.known.add(t);
      fresh.push(t);
    }
    if (!fresh.length) return;
    if (front) {
      // Already queued ones go first too (the queue skips them later, once they have their results).
      this.urgent = fresh.concat(this.urgent);
    } else {
      for (const t of fresh) this.queue.push(t);
    }
    this.pump();
  }

  /** Resolves once every one of `texts` has its verdicts, or after `ms` (whichever comes first). */
  whenReady(texts: string[], ms: number): Promise<void> {
    const missing = texts.filter((t) => !this.results.has(t));
    if (!missing.length || ms <= 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const w = {
        texts: missing,
        done: () => {
          clearTimeout(timer);
          this.waiters.delete(w);
          resolve();
        },
      };
      const timer = setTimeout(w.done, ms);
      this.waiters.add(w);
    });
  }

  private get hasQueued(): boolean {
    return this.urgent.length > 0 || this.queueHead < this.queue.length;
  }

  /** Whether the last batch taken came from the texts asked for first. */
  private tookFront = false;

  private takeBatch(): string[] {
    this.tookFront = this.urgent.length > 0;
    if (this.urgent.length) return this.urgent.splice(0, this.batchSize);
    const end = Math.min(this.queue.length, this.queueHead + this.batchSize);
    const texts = this.queue.slice(this.queueHead, end);
    this.queueHead = end;
    // The texts sent are let go: all of them once the queue is empty, else when they are most of it.
    if (this.queueHead === this.queue.length) {
      this.queue = [];
      this.queueHead = 0;
    } else if (this.queueHead > 4096 && this.queueHead * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.queueHead);
      this.queueHead = 0;
    }
    return texts;
  }

  private pump(): void {
    const config = this.config;
    if (!config || !this.hasQueued) return;
    // While the log of an earlier session is read, one worker (for the texts asked for first) is enough.
    const slots = this.ensureWorkers(this.replaying ? 1 : undefined);
    if (!slots.length) {
      this.pumpLocally();
      return;
    }
    // Two batches per worker: one computing, one waiting, so a worker never idles on a round trip.
    // While the log of an earlier session is read back, only the texts asked for first are sent.
    const ready = () => this.urgent.length > 0 || (!this.replaying && this.queueHead < this.queue.length);
    for (const slot of slots) {
      while (slot.busy < 2 && ready()) {
        this.configureSlot(slot, config);
        const texts = this.takeBatch().filter((t) => !this.results.has(t));
        if (!texts.length) continue;
        const id = this.nextId++;
        this.inflight.set(id, { texts, key: config.key, slot });
        slot.busy++;
        const recorded = texts.map((t) => config.recorded?.(t) ?? null);
        slot.worker.postMessage({
          type: 'batch',
          id,
          key: config.key,
          texts,
          recorded,
          front: this.tookFront,
        } satisfies ReadingsWorkerRequest);
      }
    }
  }

  /** No workers: one batch per turn of the event loop. */
  private pumpLocally(): void {
    if (this.localTimer) return;
    this.localTimer = setImmediate(() => {
      this.localTimer = undefined;
      const config = this.config;
      if (!config || this.disposed) return;
      const texts = this.takeBatch();
      const results = texts.map((t) => this.results.get(t) ?? config.local(t));
      this.delivered(config.key, texts, results);
      if (this.hasQueued) this.pumpLocally();
    });
  }

  private delivered(key: string, texts: string[], results: PolyphoneVerdict[][]) {
    if (this.config?.key !== key) return;
    for (let i = 0; i < texts.length; i++) {
      const t = texts[i]!;
      this.known.delete(t);
      const r = results[i]!;
      for (const v of r) shareStrings(v);
      this.results.set(t, r.length ? r : NONE);
    }
    if (this.results.size > MAX_RESULTS) {
      // The oldest tenth goes (texts read first are the least likely to be asked again; a line asked again is recomputed).
      let drop = Math.ceil(MAX_RESULTS / 10);
      for (const t of this.results.keys()) {
        if (drop-- <= 0) break;
        this.results.delete(t);
      }
    }
    this.deliveries++;
    for (const w of [...this.waiters]) if (w.texts.every((t) => this.results.has(t))) w.done();
    for (const l of this.listeners) l(texts);
    this.writeLogSoon();
  }

  /**
   * Starts the workers now (they load the G2P and the student while the caller does its own first
   * pass): `count` of them, else one until a worker has answered, then all.
   */
  warm(count?: number): void {
    if (this.disposed) return;
    const config = this.config;
    for (const slot of this.ensureWorkers(count)) {
      if (config) this.configureSlot(slot, config);
    }
  }

  /** Sends the configuration to a worker that does not have it yet. */
  private configureSlot(slot: Slot, config: VerdictConfig): void {
    if (slot.key === config.key) return;
    const { key, dict, able, student, raisedOnly } = config;
    slot.worker.postMessage({ type: 'config', key, dict, able, student, raisedOnly } satisfies ReadingsWorkerRequest);
    slot.key = key;
  }

  private ensureWorkers(count = this.answered ? this.size : 1): Slot[] {
    this.slots ??= [];
    if (!this.file) return this.slots;
    while (this.started < Math.min(count, this.size)) {
      this.started++;
      let worker: Worker;
      try {
        // Under tsx (tests, bench) with V8's default young generation, as before.
        worker = startWorker(
          this.file,
          this.file.endsWith('.ts') ? {} : { resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB } },
        );
      } catch (err) {
        this.opts.log?.(`readings worker could not start: ${err instanceof Error ? err.message : String(err)}`);
        this.started = this.size;
        break;
      }
      worker.unref();
      const slot: Slot = { worker, busy: 0, syllables: new SyllableTable() };
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
    // The table's copy follows every reply, whether its readings are kept or not: the next one's ids follow on.
    const table = !m.syllables || slot.syllables.extend(m.syllables.from, m.syllables.add) ? slot.syllables : undefined;
    if (!table)
      this.opts.log?.(`readings worker: syllables from ${m.syllables!.from} do not follow ${slot.syllables.size}; readings not kept`);
    const job = this.inflight.get(m.id);
    if (!job) return;
    this.inflight.delete(m.id);
    slot.busy--;
    if (!this.answered) {
      this.answered = true;
      // The others start now, unless the log of an earlier session is being read (they start when work is left for them).
      if (!this.replaying) this.ensureWorkers();
      this.opts.onFirstAnswer?.();
    }
    if (m.results) {
      const dictVersion = this.config?.key === job.key ? this.config.dict.version : undefined;
      if (m.readings && dictVersion !== undefined && table)
        for (let i = 0; i < job.texts.length; i++) {
          const r = m.readings[i]!;
          if ('ids' in r) storePackedReadings(dictVersion, job.texts[i]!, r, table);
          else storeReadings(dictVersion, job.texts[i]!, r);
        }
      // Kept for the next session once the workers are idle (see writeLogSoon).
      // (Texts that have verdicts already, computed twice or read back from the log, are not written again.)
      if (dictVersion !== undefined && (this.log || this.replaying))
        for (const t of job.texts) if (!this.results.has(t)) this.unlogged.push(t);
      this.delivered(job.key, job.texts, m.results);
    } else {
      this.opts.log?.(`readings worker: ${m.error ?? 'no result'}`);
      // Give the texts back to the queue: the next configuration message fixes the worker.
      slot.key = undefined;
      if (this.config?.key === job.key) this.queue.push(...job.texts);
    }
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
      if (this.config?.key === job.key) this.queue.push(...job.texts);
    }
    this.pump();
  }

  /** Stops the workers while nothing was asked of them (they start again when needed). */
  idle(): void {
    if (this.config || this.inflight.size || !this.slots?.length) return;
    const slots = this.slots;
    this.slots = undefined;
    this.started = 0;
    this.answered = false;
    for (const s of slots) void s.worker.terminate();
  }

  /** Stops the workers, writes what the verdict log does not have yet and waits for its writes. */
  async close(): Promise<void> {
    const log = this.log;
    const config = this.config;
    if (log && config)
      for (let k = 0; k < this.unlogged.length; k += LOG_RECORD_LINES)
        this.appendToLog(log, config, this.unlogged.slice(k, k + LOG_RECORD_LINES));
    this.unlogged = [];
    this.dispose();
    await log?.close();
  }

  private appendToLog(log: VerdictLog, config: VerdictConfig, texts: readonly string[]): void {
    const lines: LineToLog[] = [];
    for (const text of texts) {
      const verdicts = this.results.get(text);
      const kept = keptReadings(config.dict.version, text);
      if (verdicts && kept) lines.push({ text, verdicts, ...kept });
    }
    if (lines.length) log.append(encodeRecord(lines));
  }

  dispose(): void {
    this.disposed = true;
    if (this.logWriter) clearTimeout(this.logWriter);
    void this.log?.close();
    this.log = undefined;
    this.endReplay();
    for (const s of this.slots ?? []) void s.worker.terminate();
    this.slots = [];
    if (this.localTimer) clearImmediate(this.localTimer);
    for (const w of [...this.waiters]) w.done();
  }
}
