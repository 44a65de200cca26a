// Batch runner: overhead per task with an instant teacher at 10,000 tasks (target ≤ 1 ms/task),
// beside the bare file writes it must do anyway; then throughput against `tts-distill teacher
// serve` (the embedded teacher, a separate process) over loopback HTTP at concurrency 1, 4, 16,
// beside an instant HTTP teacher that shows what the protocol itself costs.
// `node --import tsx bench/runner.bench.ts [tasks]`
import { spawn } from 'node:child_process';
import { appendFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { encodeWav } from '../server/src/core/audio/wav';
import { runBatch } from '../server/src/core/batch/runner';
import type { Task } from '../server/src/core/formats/taskFile';
import { HttpTeacher, serveTeacher } from '../server/src/core/teacher/http';
import type { SynthesisResult, Teacher } from '../server/src/core/teacher/types';
import { fastest, paired, row, time } from './report';

const REPO = path.resolve(__dirname, '..');
const WAV = encodeWav(
  Float32Array.from({ length: 2400 }, (_, i) => 0.1 * Math.sin(i / 5)),
  24000,
);

function instantTeacher(): Teacher {
  return {
    kind: 'embedded',
    g2p: async (text) => ({ text, readings: [...text].map(() => 'hao3'), pinyin: '', phonemes: text }),
    health: async () => ({ ok: true, backend: 'embedded', detail: 'instant' }),
    async synthesize(task): Promise<SynthesisResult> {
      return {
        text: task.text,
        readings: [...task.text].map(() => 'hao3'),
        pinyin: 'hao3',
        phonemes: task.text,
        wav: WAV,
        sampleRate: 24000,
        durationSeconds: 0.1,
        clonedVoice: false,
        engine: 'instant',
      };
    },
  };
}

function tasks(n: number, promptAudio = 'p.wav'): Task[] {
  const texts = ['银行行长来了。', '长江很长，真的很长。', '我们还要重新开始。', '他会还钱的。', '这个音乐很好听。'];
  return Array.from({ length: n }, (_, i) => ({
    line: i,
    name: `utt${String(i).padStart(6, '0')}`,
    text: texts[i % texts.length]! + i,
    promptText: '提示',
    promptAudio,
  }));
}

export async function run(): Promise<void> {
  const n = Number(process.argv.find((a) => /^\d+$/.test(a)) ?? 10_000);
  const dir = await mkdtemp(path.join(tmpdir(), 'runner-bench-'));
  try {
    console.log(`\n## Batch runner (${n} tasks, instant teacher, 4.8 KB WAV each)`);
    const all = tasks(n);
    let round = 0;
    // Alternating runs, fastest of each: on a busy machine the minimum is what the code costs.
    const [runner, floor] = await paired(
      3,
      () => runBatch({ tasks: all, outDir: path.join(dir, `a${++round}`), teacher: instantTeacher(), concurrency: 16 }),
      async () => {
        const out = path.join(dir, `floor${round}`);
        await mkdir(out);
        for (const t of all) {
          await writeFile(path.join(out, `${t.name}.wav`), WAV);
          await appendFile(path.join(out, 'manifest.jsonl'), JSON.stringify({ name: t.name }) + '\n');
        }
      },
    );
    row(
      'runner, fresh folder: per task (fastest of 3)',
      runner / n,
      `target ≤ 1 ms/task; WAVs written atomically, manifest fsync'd (${runner.toFixed(0)} ms total)`,
    );
    row('reference: bare writeFile + appendFile per task', floor / n, 'no atomic rename, no fsync, no hashing');
    const resume = await time(() => runBatch({ tasks: all, outDir: path.join(dir, 'a1'), teacher: instantTeacher(), concurrency: 16 }));
    row('runner, resume of a finished folder: per task', resume.ms / n, `reads and hashes every WAV (skipped ${resume.result.skipped})`);
    await Promise.all([1, 2, 3].map((i) => rm(path.join(dir, `floor${i}`), { recursive: true, force: true })));

    console.log('\n## HTTP teacher over loopback (tasks/s)');
    const server = spawn(
      process.execPath,
      [
        '--import',
        pathToFileURL(path.join(REPO, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href,
        path.join(REPO, 'server', 'src', 'cli.ts'),
        'teacher',
        'serve',
        '--port',
        '0',
      ],
      { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    server.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
    });
    let engine = '';
    server.stderr!.setEncoding('utf8').on('data', (d: string) => {
      engine += d;
    });
    const deadline = Date.now() + 30_000;
    while (!/listening on/.test(out)) {
      if (Date.now() > deadline) throw new Error('teacher serve did not start');
      await new Promise((r) => setTimeout(r, 20));
    }
    const url = /listening on (\S+)/.exec(out)![1]!;
    const instant = await serveTeacher(instantTeacher());
    // A 4 s prompt, sent base64 with every request as a cloning teacher needs it.
    const prompt = path.join(dir, 'prompt.wav');
    await writeFile(
      prompt,
      encodeWav(
        Float32Array.from({ length: 64000 }, (_, i) => 0.1 * Math.sin(i / 9)),
        16000,
      ),
    );
    try {
      const m = 48;
      console.log(`  (${m} tasks per run, fastest of 2; ${engine.trim().split('\n').pop()}; ${availableParallelism()} cores)`);
      await runBatch({ tasks: tasks(4, prompt), outDir: path.join(dir, 'warm'), teacher: new HttpTeacher({ url }), concurrency: 4 });
      for (const c of [1, 4, 16]) {
        let k = 0;
        const e = await fastest(2, () =>
          runBatch({
            tasks: tasks(m, prompt),
            outDir: path.join(dir, `http-${c}-${++k}`),
            teacher: new HttpTeacher({ url }),
            concurrency: c,
          }),
        );
        const i = await fastest(2, () =>
          runBatch({
            tasks: tasks(m, prompt),
            outDir: path.join(dir, `instant-${c}-${++k}`),
            teacher: new HttpTeacher({ url: instant.url }),
            concurrency: c,
          }),
        );
        row(
          `concurrency ${String(c).padStart(2)}: embedded teacher serve`,
          (m / e.ms) * 1000,
          `tasks/s (${(e.ms / m).toFixed(1)} ms/task, ${e.result.done} done, ${e.result.failed} failed; instant HTTP teacher: ${((m / i.ms) * 1000).toFixed(0)} tasks/s)`,
          true,
        );
      }
    } finally {
      await instant.close();
      server.kill('SIGTERM');
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (require.main === module) void run();
