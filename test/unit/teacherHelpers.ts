/** Helpers of the teacher/runner tests: the CLI as a child process, WAV fixtures, polling with a deadline. */
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { encodeWav } from '../../server/src/core/audio/wav';
import type { ManifestRecord } from '../../server/src/core/batch/manifest';

export const REPO = path.resolve(__dirname, '..', '..');
// By URL: the child may run in a folder that has no node_modules.
const TSX = pathToFileURL(path.join(REPO, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;

/** Runs `tts-distill <args>` from the sources (tsx), like bin/tts-distill.js runs the bundle. */
export function spawnCli(
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): ChildProcess & { out: string[]; err: string[] } {
  const child = spawn(process.execPath, ['--import', TSX, path.join(REPO, 'server', 'src', 'cli.ts'), ...args], {
    cwd: opts.cwd ?? REPO,
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  }) as ChildProcess & { out: string[]; err: string[] };
  child.out = [];
  child.err = [];
  child.stdout!.setEncoding('utf8').on('data', (d: string) => child.out.push(d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => child.err.push(d));
  return child;
}

export function exitOf(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

/** Polls `check` until it returns a value, or fails after `ms`. */
export async function waitFor<T>(check: () => Promise<T | undefined> | T | undefined, ms: number, what: string): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export async function writePromptWav(file: string, seconds = 4, sampleRate = 16000): Promise<void> {
  const n = Math.round(seconds * sampleRate);
  await writeFile(
    file,
    encodeWav(
      Float32Array.from({ length: n }, (_, i) => 0.1 * Math.sin(i / 9)),
      sampleRate,
    ),
  );
}

export function webuiLines(n: number, promptAudio = 'prompt.wav'): string {
  const texts = ['银行行长来了。', '长江很长。', '我们还要重新开始。', '他会还钱的。', '这个音乐很好听。', '行不行？'];
  return (
    Array.from({ length: n }, (_, i) =>
      JSON.stringify({
        prompt_audio: promptAudio,
        prompt_text: '今天天气很好。',
        input_text: `${texts[i % texts.length]}${i}`,
        output_name: `utt${String(i).padStart(4, '0')}`,
      }),
    ).join('\n') + '\n'
  );
}

/** The manifest fields that must not depend on how a batch was interrupted and resumed. */
export function essential(records: ManifestRecord[]): string[] {
  return records.map((r) =>
    JSON.stringify([
      r.line,
      r.name,
      r.taskHash,
      r.text,
      r.readings,
      r.phonemes,
      r.audio,
      r.durationSeconds,
      r.sampleRate,
      r.backend,
      r.seed,
      r.wavSha256,
      r.clonedVoice,
    ]),
  );
}
