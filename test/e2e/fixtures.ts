// The fixtures workspace of the end-to-end tests: test/e2e/workspace/ plus prompt WAVs made
// here rather than committed (binary, and their exact content does not matter).
//   node --import tsx test/e2e/fixtures.ts <dest>      copy the workspace to <dest> with prompts
//   node --import tsx test/e2e/fixtures.ts --in-place  write the prompts into test/e2e/workspace
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { WaveFile } from 'wavefile';

export const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), 'workspace');

/** The prompt WAVs the task fixtures refer to: 16 kHz mono 16-bit, inside GLM-TTS's 3–10 s. */
export const PROMPTS: Record<string, { seconds: number; pitchHz: number }> = {
  'prompts/speaker_a.wav': { seconds: 4, pitchHz: 140 },
  'prompts/speaker_b.wav': { seconds: 3.5, pitchHz: 210 },
};

/** A voiced, syllable-like signal (harmonics under a ~4 Hz envelope), so level and pitch checks see speech-like audio. */
export function promptWav(seconds: number, pitchHz: number, sampleRate = 16000): Uint8Array {
  const n = Math.round(seconds * sampleRate);
  const samples = new Int16Array(n);
  for (let i = 0; i < n; i++) {
    const t = i / sampleRate;
    const envelope = Math.max(0, Math.sin(2 * Math.PI * 2 * t)) ** 0.5;
    const f0 = pitchHz * (1 + 0.05 * Math.sin(2 * Math.PI * 0.7 * t));
    let v = 0;
    for (let h = 1; h <= 6; h++) v += Math.sin(2 * Math.PI * f0 * h * t) / h;
    samples[i] = Math.round(0.25 * envelope * v * 32767);
  }
  const wav = new WaveFile();
  wav.fromScratch(1, sampleRate, '16', samples);
  return wav.toBuffer();
}

export function writePrompts(root: string): void {
  for (const [rel, { seconds, pitchHz }] of Object.entries(PROMPTS)) {
    const file = path.join(root, rel);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, promptWav(seconds, pitchHz));
  }
}

/** A fresh, writable copy of the fixtures workspace (tests edit and save files in it). */
export function makeWorkspace(dest: string): string {
  cpSync(FIXTURES, dest, { recursive: true, filter: (src) => !src.includes(`${path.sep}prompts`) });
  writePrompts(dest);
  return dest;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const arg = process.argv[2];
  if (arg === '--in-place') writePrompts(FIXTURES);
  else if (arg) makeWorkspace(path.resolve(arg));
  else {
    console.error('usage: fixtures.ts <dest> | --in-place');
    process.exit(2);
  }
}
