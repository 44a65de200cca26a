// The student's synthesis of the evaluation set (ttsDistill.student.synthCommand), timed: the
// real-time factor per line (when the command prints per-line timings) and overall (wall time /
// seconds of audio written). Its WAVs fill the student folder for the A/B comparison.
//   in   ${tasks}: the evaluation set as a webui task file (output_name, input_text, prompt_audio?)
//        ${out}:   the folder to write `<output_name>.wav` into
//   out  optional, one line per WAV on stdout: {"name":"a","seconds":0.42} (compute seconds of that line);
//        {"event":"log"|"error",…} and non-JSON lines as for the external trainer
import { mkdir, stat } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { writeLinesAtomic } from '../batch/manifest';
import { readWavHeader } from '../audio/wavHeader';
import { runJsonLines } from './judges/jsonLinesProcess';
import { substitute } from '../util/shell';
import type { RtfSummary, SynthTiming } from './judges/types';

export interface SynthOptions {
  /** Command and arguments; `${tasks}` and `${out}` are replaced in each. */
  command: readonly string[];
  /** Where the student's WAVs go (`${out}`). */
  outDir: string;
  /** Where the task list is written. */
  workDir: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  killGraceMs?: number;
}

export interface SynthRecord {
  name: string;
  text: string;
  promptAudio?: string;
}

export interface SynthResult {
  summary: RtfSummary;
  timings: Map<string, SynthTiming>;
}

/** `<dir>/<name>.wav`, or undefined when the name would leave `dir`. */
export function wavIn(dir: string, name: string): string | undefined {
  const file = resolve(dir, `${name}.wav`);
  return file.startsWith(resolve(dir) + sep) ? file : undefined;
}

export async function synthesizeStudent(
  records: readonly SynthRecord[],
  opts: SynthOptions,
  run: { signal?: AbortSignal; onLog?: (line: string) => void } = {},
): Promise<SynthResult> {
  await mkdir(opts.outDir, { recursive: true });
  await mkdir(opts.workDir, { recursive: true });
  const tasks = join(opts.workDir, 'synth-input.jsonl');
  await writeLinesAtomic(
    tasks,
    records.map(
      (r) => JSON.stringify({ output_name: r.name, input_text: r.text, ...(r.promptAudio ? { prompt_audio: r.promptAudio } : {}) }) + '\n',
    ),
  );
  const reported = new Map<string, number>();
  const started = Date.now();
  const result = await runJsonLines({
    command: substitute(opts.command, { tasks, out: resolve(opts.outDir) }),
    setting: 'ttsDistill.student.synthCommand',
    cwd: opts.cwd,
    env: opts.env,
    signal: run.signal,
    killGraceMs: opts.killGraceMs,
    onObject: (o) => {
      const name = typeof o.name === 'string' ? o.name : typeof o.output_name === 'string' ? o.output_name : undefined;
      if (name !== undefined && typeof o.seconds === 'number' && Number.isFinite(o.seconds) && o.seconds >= 0)
        reported.set(name, o.seconds);
    },
    onLog: (l) => run.onLog?.(l),
  });
  if (result.cancelled) throw new Error('evaluation cancelled');
  const timings = new Map<string, SynthTiming>();
  let audioSeconds = 0,
    items = 0;
  const lineRtfs: number[] = [];
  for (const r of records) {
    const t: SynthTiming = {};
    if (reported.has(r.name)) t.seconds = reported.get(r.name)!;
    const file = wavIn(opts.outDir, r.name);
    // Only WAVs this run wrote count: one left from an earlier run says nothing of this one's speed.
    const fresh = file
      ? await stat(file).then(
          (s) => s.isFile() && s.mtimeMs >= started - 1000,
          () => false,
        )
      : false;
    if (fresh) {
      try {
        t.audioSeconds = (await readWavHeader(file!)).durationSeconds;
        audioSeconds += t.audioSeconds;
        items++;
        if (t.seconds !== undefined && t.audioSeconds > 0) lineRtfs.push((t.rtf = t.seconds / t.audioSeconds));
      } catch {
        // not a readable WAV: the acoustic comparison says why
      }
    }
    if (Object.keys(t).length) timings.set(r.name, t);
  }
  const summary: RtfSummary = {
    command: opts.command.join(' '),
    outDir: resolve(opts.outDir),
    wallSeconds: result.wallSeconds,
    audioSeconds,
    items,
    rtf: audioSeconds > 0 ? result.wallSeconds / audioSeconds : null,
    meanLineRtf: lineRtfs.length ? lineRtfs.reduce((a, b) => a + b, 0) / lineRtfs.length : null,
    exitCode: result.exitCode,
  };
  if (result.error) summary.error = result.error;
  else if (!items) summary.error = `the synth command wrote no <name>.wav into ${resolve(opts.outDir)}`;
  return { summary, timings };
}
