import type { PromptAudioStatus } from '../core/formats/taskFile';
import { readPromptStatus } from '../core/audio/promptStatus';
import type { SignalMeasures } from '../core/qa/signal';

/** Measures a prompt for the QA diagnostics (`key`: mtime and size), or undefined when the checks are off. */
export type PromptQaMeasure = (absolute: string, key: string) => Promise<SignalMeasures> | undefined;

/**
 * Prompt-audio headers, read asynchronously and cached by path and mtime: validation never
 * waits on the disk. A lookup that is not cached yet answers `pending` and starts a read; when
 * reads finish, `onSettled` is called so the documents can be validated again.
 */
export class PromptAudioCache {
  private readonly cache = new Map<string, { mtimeMs: number; size: number; status: PromptAudioStatus }>();
  /** Path + mtime + size of the prompts whose QA measurement was asked for. */
  private readonly qaAsked = new Set<string>();
  private readonly inFlight = new Set<string>();
  private readonly checkedAt = new Map<string, number>();
  private settleTimer: NodeJS.Timeout | undefined;

  /** `maxBytes`: larger prompt files are flagged unread (`ttsDistill.promptAudio.maxMegabytes`). */
  /** `measureQa`: the signal QA of a readable prompt, started once per file version; the status gains `qa` when it is done. */
  constructor(
    private readonly onSettled: () => void,
    private readonly recheckMs = 2000,
    private readonly maxBytes: () => number = () => Infinity,
    private readonly measureQa?: PromptQaMeasure,
  ) {}

  status(absolute: string): PromptAudioStatus {
    const hit = this.cache.get(absolute);
    const now = Date.now();
    const last = this.checkedAt.get(absolute) ?? 0;
    if (!this.inFlight.has(absolute) && (!hit || now - last > this.recheckMs)) {
      this.checkedAt.set(absolute, now);
      this.inFlight.add(absolute);
      void this.refresh(absolute, hit?.mtimeMs);
    }
    if (hit && hit.status.state === 'ok' && !hit.status.qa && this.measureQa) this.startQa(absolute, hit);
    return hit?.status ?? { state: 'pending' };
  }

  private startQa(absolute: string, entry: { mtimeMs: number; size: number }): void {
    const key = `${entry.mtimeMs}:${entry.size}`;
    if (this.qaAsked.has(`${absolute}\0${key}`)) return;
    const measuring = this.measureQa!(absolute, key);
    if (!measuring) return;
    this.qaAsked.add(`${absolute}\0${key}`);
    measuring.then(
      (qa) => {
        const cur = this.cache.get(absolute);
        if (!cur || cur.mtimeMs !== entry.mtimeMs || cur.size !== entry.size || cur.status.state !== 'ok') return;
        cur.status = { ...cur.status, qa };
        this.scheduleSettled();
      },
      () => undefined /* not a WAV the QA can read: the header check has said what there is to say */,
    );
  }

  invalidate(absolute?: string): void {
    if (absolute) {
      this.cache.delete(absolute);
      this.checkedAt.delete(absolute);
      for (const k of this.qaAsked) if (k.startsWith(`${absolute}\0`)) this.qaAsked.delete(k);
    } else {
      this.cache.clear();
      this.checkedAt.clear();
      this.qaAsked.clear();
    }
  }

  private async refresh(absolute: string, knownMtime: number | undefined): Promise<void> {
    let changed = false;
    try {
      const { status, mtimeMs, size } = await readPromptStatus(absolute, this.maxBytes());
      if (mtimeMs !== -1 && mtimeMs === knownMtime) return;
      const prev = this.cache.get(absolute);
      changed = !prev || JSON.stringify(prev.status) !== JSON.stringify(status);
      this.cache.set(absolute, { mtimeMs, size, status });
    } finally {
      this.inFlight.delete(absolute);
      if (changed) this.scheduleSettled();
    }
  }

  private scheduleSettled() {
    if (this.settleTimer) return;
    this.settleTimer = setTimeout(() => {
      this.settleTimer = undefined;
      this.onSettled();
    }, 50);
  }
}
