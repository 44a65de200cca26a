// Dataset authoring: reading coverage of the CPP dev sentences (server/src/core/dataset/coverage.ts) beside its floor,
// the teacher's readings alone (predictReadings on the same lines, what coverage must compute anyway); and an
// export of a 2,000-line teacher run to Kaldi (hard links, sha256 of every WAV checked) beside its floor, a plain
// recursive copy of the same WAVs. Fastest of 3, wall clock and CPU time of this process.
// `npm run bench -- dataset`
import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { encodeWav } from '../server/src/core/audio/wav';
import { computeCoverage } from '../server/src/core/dataset/coverage';
import { exportDataset } from '../server/src/core/dataset/export';
import { clearTeacherCache, predictReadings } from '../server/src/core/pronunciation/teacherReadings';

const ROOT = path.join(__dirname, '..');

async function best<T>(n: number, fn: () => Promise<T> | T): Promise<{ value: T; wall: number; cpu: number }> {
  let out: { value: T; wall: number; cpu: number } | undefined;
  for (let i = 0; i < n; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const value = await fn();
    const wall = performance.now() - t0;
    const c = process.cpuUsage(c0);
    const cpu = (c.user + c.system) / 1000;
    if (!out || wall < out.wall) out = { value, wall, cpu };
  }
  return out!;
}

const ms = (x: number) => `${x.toFixed(0)} ms`;

export async function run(): Promise<void> {
  const sent = readFileSync(path.join(ROOT, 'data', 'cpp', 'dev.sent'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((s) => s.replace(/\u2581/g, ''));
  const lines = sent.map((text, line) => ({ file: 'dev.sent', line, text }));
  computeCoverage(lines.slice(0, 200)); // warm-up: G2P data loaded
  const floor = await best(3, () => {
    clearTeacherCache();
    for (const l of lines) predictReadings(l.text);
    return lines.length;
  });
  const cov = await best(3, () => computeCoverage(lines));
  console.log(`\n## Reading coverage — ${lines.length} CPP dev sentences, fastest of 3`);
  console.log(`| | wall | CPU |\n|---|---|---|`);
  console.log(`| tts-distill coverage core (computeCoverage) | ${ms(cov.wall)} | ${ms(cov.cpu)} |`);
  console.log(`| floor: the teacher's readings alone (predictReadings) | ${ms(floor.wall)} | ${ms(floor.cpu)} |`);
  console.log(
    `(${cov.value.polyphones.length} polyphones, ${cov.value.thin.length} thin readings, syllables ${cov.value.syllables.covered}/${cov.value.syllables.total}, phoneme tokens ${cov.value.phonemes.covered}/204)`,
  );

  const dir = mkdtempSync(path.join(tmpdir(), 'bench-export-'));
  try {
    const runDir = path.join(dir, 'run');
    mkdirSync(runDir);
    const n = 2000;
    const records: string[] = [];
    for (let i = 0; i < n; i++) {
      const wav = encodeWav(
        Float32Array.from({ length: 24000 * 2 }, (_, k) => 0.1 * Math.sin(k / (5 + (i % 7)))),
        24000,
      );
      writeFileSync(path.join(runDir, `u${i}.wav`), wav);
      const text = sent[i % sent.length]!;
      records.push(
        JSON.stringify({
          line: i,
          name: `u${i}`,
          taskHash: 'h',
          text,
          readings: Array.from(text, () => null),
          phonemes: text,
          audio: `u${i}.wav`,
          durationSeconds: 2,
          sampleRate: 24000,
          backend: 'embedded',
          seed: 42,
          wavSha256: createHash('sha256').update(wav).digest('hex'),
          clonedVoice: false,
          speaker: `s${i % 20}`,
        }),
      );
    }
    writeFileSync(path.join(runDir, 'manifest.jsonl'), records.join('\n') + '\n');
    let k = 0;
    const exp = await best(3, () =>
      exportDataset({ run: runDir, format: 'kaldi', out: path.join(dir, `kaldi${k++}`), splits: [{ name: 'dev', share: 0.05 }] }),
    );
    let c = 0;
    const copy = await best(3, () => cpSync(runDir, path.join(dir, `copy${c++}`), { recursive: true }));
    console.log(`\n## Export — ${n} lines of 2 s (96 KB WAV each) to Kaldi, fastest of 3`);
    console.log(`| | wall | CPU |\n|---|---|---|`);
    console.log(`| tts-distill export --format kaldi (hard links, sha256 checked) | ${ms(exp.wall)} | ${ms(exp.cpu)} |`);
    console.log(`| floor: cp -r of the run folder | ${ms(copy.wall)} | ${ms(copy.cpu)} |`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) void run();
