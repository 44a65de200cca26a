// Runs an external (acoustic) student trainer, e.g. FastSpeech2 + HiFi-GAN on a GPU box, and
// follows its JSON-lines protocol on stdout:
//   {"event":"progress","step":120,"total":1000,"loss":0.83}
//   {"event":"log","message":"…"}            (any non-JSON line counts as a log line too)
//   {"event":"error","message":"…"}          (the run failed; exit code should be non-zero)
//   {"event":"done","model":"out/model.pt"}  (the run finished; `model` relative to the out folder or absolute)
import { runInProcessGroup, substitute } from '../util/shell';
import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';

export type TrainerEvent =
  | { event: 'progress'; step: number; total?: number; loss?: number }
  | { event: 'log'; message: string; stream?: 'stdout' | 'stderr' }
  | { event: 'error'; message: string }
  | { event: 'done'; model?: string; metrics?: Record<string, number> };

export interface ExternalTrainerOptions {
  /** Command and arguments; `${manifest}` and `${out}` are replaced in each. */
  command: readonly string[];
  manifest: string;
  out: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  onEvent?: (e: TrainerEvent) => void;
  /** After SIGTERM to the process group, SIGKILL follows after this long (default 3 s). */
  killGraceMs?: number;
}

export interface ExternalTrainResult {
  status: 'done' | 'failed' | 'cancelled';
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** Absolute path of the model the trainer reported. */
  model?: string;
  metrics?: Record<string, number>;
  losses: Array<{ step: number; loss: number }>;
  /** Why it failed, in the trainer's words when it said any. */
  error?: string;
}

export function substituteCommand(command: readonly string[], vars: { manifest: string; out: string }): string[] {
  return substitute(command, vars);
}

/** One stdout line → an event; anything that is not a protocol object is a log line. */
export function parseTrainerLine(line: string): TrainerEvent {
  const t = line.trim();
  if (t.startsWith('{')) {
    try {
      const o = JSON.parse(t) as Record<string, unknown>;
      const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
      switch (o.event) {
        case 'progress': {
          const step = num(o.step);
          if (step === undefined) break;
          const e: TrainerEvent = { event: 'progress', step };
          if (num(o.total) !== undefined) e.total = num(o.total)!;
          if (num(o.loss) !== undefined) e.loss = num(o.loss)!;
          return e;
        }
        case 'log':
          return { event: 'log', message: String(o.message ?? ''), stream: 'stdout' };
        case 'error':
          return { event: 'error', message: String(o.message ?? 'the trainer reported an error') };
        case 'done': {
          const e: TrainerEvent = { event: 'done' };
          if (typeof o.model === 'string') e.model = o.model;
          if (o.metrics && typeof o.metrics === 'object') e.metrics = o.metrics as Record<string, number>;
          return e;
        }
      }
    } catch {
      // not JSON: a log line
    }
  }
  return { event: 'log', message: line, stream: 'stdout' };
}

export function runExternalTrainer(opts: ExternalTrainerOptions): Promise<ExternalTrainResult> {
  const [cmd, ...args] = substituteCommand(opts.command, { manifest: opts.manifest, out: opts.out });
  const result: ExternalTrainResult = { status: 'failed', exitCode: null, signal: null, losses: [] };
  if (!cmd) return Promise.resolve({ ...result, error: 'no trainer command is configured (ttsDistill.student.trainCommand)' });
  const emit = (e: TrainerEvent) => {
    if (e.event === 'progress' && e.loss !== undefined) result.losses.push({ step: e.step, loss: e.loss });
    else if (e.event === 'error') result.error = e.message;
    else if (e.event === 'done') {
      if (e.model) result.model = isAbsolute(e.model) ? e.model : resolve(opts.out, e.model);
      if (e.metrics) result.metrics = e.metrics;
      result.status = 'done';
    }
    opts.onEvent?.(e);
  };
  // Its own process group, so that cancel ends the trainer and everything it started.
  return runInProcessGroup(cmd, args, {
    ...(opts.cwd ? { cwd: opts.cwd } : {}),
    ...(opts.env ? { env: opts.env } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(opts.killGraceMs !== undefined ? { killGraceMs: opts.killGraceMs } : {}),
    onStdout: (l) => emit(parseTrainerLine(l)),
    onStderr: (l) => emit({ event: 'log', message: l, stream: 'stderr' }),
  }).then(({ exitCode: code, signal, cancelled, spawnError, stderrTail }) => {
    result.exitCode = code;
    result.signal = signal;
    if (cancelled) result.status = 'cancelled';
    else if (spawnError) {
      result.status = 'failed';
      result.error = `cannot run ${cmd}: ${spawnError.message}`;
    } else if (code !== 0) {
      result.status = 'failed';
      result.error ??= `${cmd} exited with ${code === null ? `signal ${signal}` : `code ${code}`}${stderrTail.length ? `: ${stderrTail.join(' | ')}` : ''}`;
    } else if (result.status !== 'done') {
      result.status = 'failed';
      result.error ??= `${cmd} exited without reporting {"event":"done"}`;
    } else if (result.model && !existsSync(result.model)) {
      result.status = 'failed';
      result.error = `${cmd} reported the model ${result.model}, which does not exist`;
    }
    return result;
  });
}
