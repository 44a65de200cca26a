// Issue 17, item 6: every WAV of the embedded teacher is a function of its line alone — any subset, any order, any worker, a resume.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { readManifest } from '../../server/src/core/batch/manifest';
import { runBatch } from '../../server/src/core/batch/runner';
import { EmbeddedTeacher, engineInfo } from '../../server/src/core/teacher/embedded';
import { tempDir } from './helpers';

// Lines whose espeak-ng input is longer than the WebIDL glue's first string buffer (128 bytes) leaked state into the next utterances.
const TEXTS = [
  '重庆银行的行长说：“长此以往，不行！”',
  '今天天气很好，我们去公园散步吧。'.repeat(5),
  '长江很长。',
  '他会还钱的，这个音乐很好听，我们还要重新开始，银行行长来了，行不行？'.repeat(2),
  'ABC 123 测试。',
  '一二三四五六七八九十。',
  '我们还要重新开始。'.repeat(4),
  '行不行？',
];
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

async function speakAll(order: number[], workers: number): Promise<Map<number, string>> {
  const t = new EmbeddedTeacher({ workers });
  const out = new Map<number, string>();
  try {
    for (const i of order)
      out.set(i, sha((await t.synthesize({ line: i, name: `u${i}`, text: TEXTS[i]! }, { seed: 42, sampleRate: 24000 })).wav));
  } finally {
    await t.close();
  }
  return out;
}

test('the same line gives the same bytes whatever was spoken before, in this thread and in workers', { timeout: 600_000 }, async (t) => {
  if ((await engineInfo('auto')).engine.includes('sketch')) return t.skip('espeak-ng (optional) is not installed');
  const all = TEXTS.map((_, i) => i);
  const clean = await speakAll(all, 0);
  const orders: Array<[string, number[], number]> = [
    ['reversed', [...all].reverse(), 0],
    ['a subset after the longest line', [1, 0, 0, 5, 3, 0], 0],
    ['shuffled in 2 workers', [3, 7, 1, 0, 6, 2, 5, 4], 2],
  ];
  for (const [what, order, workers] of orders) {
    const got = await speakAll(order, workers);
    for (const [i, h] of got) assert.equal(h, clean.get(i), `${what}: line ${i} differs from the clean run`);
  }
});

test('a batch cancelled and resumed has the same WAVs as a clean run of the whole file', { timeout: 600_000 }, async (t) => {
  if ((await engineInfo('auto')).engine.includes('sketch')) return t.skip('espeak-ng (optional) is not installed');
  const dir = await tempDir(t);
  const file = path.join(dir, 'd.tasks.jsonl');
  await writeFile(
    file,
    TEXTS.map((text, i) => JSON.stringify({ prompt_audio: 'p.wav', prompt_text: '提示', input_text: text, output_name: `u${i}` })).join(
      '\n',
    ) + '\n',
  );
  const clean = await runBatch({
    tasksFile: file,
    outDir: path.join(dir, 'clean'),
    teacher: new EmbeddedTeacher({ workers: 0 }),
    concurrency: 1,
  });
  assert.equal(clean.done, TEXTS.length);
  const stop = new AbortController();
  const teacher = new EmbeddedTeacher({ workers: 2 });
  t.after(() => teacher.close());
  const first = await runBatch({
    tasksFile: file,
    outDir: path.join(dir, 'resumed'),
    teacher,
    concurrency: 2,
    signal: stop.signal,
    onProgress: (p) => {
      if (p.done >= 3) stop.abort();
    },
  });
  assert.ok(first.cancelled && first.done < TEXTS.length);
  const second = await runBatch({
    tasksFile: file,
    outDir: path.join(dir, 'resumed'),
    teacher: new EmbeddedTeacher({ workers: 0 }),
    concurrency: 3,
  });
  assert.equal(second.done + second.skipped, TEXTS.length);
  const bySha = async (d: string) => (await readManifest(path.join(dir, d, 'manifest.jsonl'))).map((r) => [r.name, r.wavSha256]);
  assert.deepEqual(await bySha('resumed'), await bySha('clean'));
});
