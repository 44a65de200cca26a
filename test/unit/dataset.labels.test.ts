import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { encodeWav } from '../../server/src/core/audio/wav';
import { readManifest } from '../../server/src/core/batch/manifest';
import { runBatch } from '../../server/src/core/batch/runner';
import { TaskFileModel } from '../../server/src/core/formats/taskFile';
import { embeddedG2P } from '../../server/src/core/teacher/embeddedG2P';
import type { SynthesisResult, SynthesizeOptions, Teacher, TeacherTask } from '../../server/src/core/teacher/types';
import { runCli } from './runCli';

const opts = { maxPerFile: 100, promptAudio: { minSeconds: 3, maxSeconds: 10 } };
const line = JSON.stringify({
  prompt_audio: 'p.wav',
  prompt_text: '好。',
  input_text: '你好。',
  output_name: 'a',
  speaker: 'anna',
  emotion: 'happy',
  mood: 'x',
});

test('labelKeys: listed keys raise no unknown-key warning, the others still do; the task carries every scalar extra key as a label', async () => {
  const plain = new TaskFileModel(line + '\n', 'auto');
  const unknown = (await plain.validate(opts)).filter((f) => f.code === 'task/unknown-key').map((f) => f.message);
  assert.equal(unknown.length, 3);
  const labelled = new TaskFileModel(line + '\n', 'auto', ['speaker', 'emotion']);
  const rest = (await labelled.validate(opts)).filter((f) => f.code === 'task/unknown-key').map((f) => f.message);
  assert.deepEqual(rest, ['Unknown key "mood": the teacher ignores it.']);
  assert.deepEqual(labelled.tasks()[0]!.labels, { speaker: 'anna', emotion: 'happy', mood: 'x' });
  // Changing the setting re-checks the lines.
  labelled.setLabelKeys([]);
  assert.equal((await labelled.validate(opts)).filter((f) => f.code === 'task/unknown-key').length, 3);
  // The other dialect's keys are roles, never labels.
  const mixed = new TaskFileModel(JSON.stringify({ prompt_audio: 'p.wav', input_text: '好', output_name: 'b', uttid: 'x' }) + '\n', 'auto');
  assert.equal(mixed.tasks()[0]!.labels, undefined);
});

class Teacher1 implements Teacher {
  readonly kind = 'embedded' as const;
  seen: TeacherTask[] = [];
  async g2p(text: string) {
    return embeddedG2P(text);
  }
  async synthesize(task: TeacherTask, o: SynthesizeOptions): Promise<SynthesisResult> {
    this.seen.push(task);
    return {
      ...embeddedG2P(task.text),
      wav: encodeWav(new Float32Array(480).fill(0.1), o.sampleRate),
      sampleRate: o.sampleRate,
      durationSeconds: 480 / o.sampleRate,
      clonedVoice: false,
      engine: 'fake',
    };
  }
  async health() {
    return { ok: true, backend: 'embedded' as const, detail: 'fake' };
  }
}

test('manifest: every record carries the resolved prompt audio, the speaker id and the labels; the teacher never sees the labels', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'labels-'));
  const tasks = path.join(dir, 'x.tasks.jsonl');
  await writeFile(
    tasks,
    [line, JSON.stringify({ prompt_audio: 'q.wav', prompt_text: '好。', input_text: '再见。', output_name: 'b' })].join('\n') + '\n',
  );
  const teacher = new Teacher1();
  await runBatch({ tasksFile: tasks, outDir: path.join(dir, 'out'), teacher, concurrency: 1 });
  const recs = await readManifest(path.join(dir, 'out', 'manifest.jsonl'));
  assert.equal(recs.length, 2);
  const a = recs.find((r) => r.name === 'a')!,
    b = recs.find((r) => r.name === 'b')!;
  assert.equal(a.promptAudio, path.join(dir, 'p.wav'));
  assert.equal(a.speaker, 'anna');
  assert.deepEqual(a.labels, { speaker: 'anna', emotion: 'happy', mood: 'x' });
  assert.equal(b.promptAudio, path.join(dir, 'q.wav'));
  assert.equal(b.speaker, undefined);
  assert.equal(b.labels, undefined);
  for (const t of teacher.seen) assert.deepEqual(Object.keys(t).sort(), ['line', 'name', 'promptAudio', 'promptText', 'text']);
  await rm(dir, { recursive: true, force: true });
});

test('tts-distill validate honours ttsDistill.taskFiles.labelKeys from .vscode/settings.json', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'labels-cli-'));
  await writeFile(path.join(dir, 'x.tasks.jsonl'), line + '\n');
  const before = await runCli(['validate', 'x.tasks.jsonl'], dir);
  assert.match(before.out, /Unknown key "speaker"/);
  await import('node:fs/promises').then((fs) => fs.mkdir(path.join(dir, '.vscode')));
  await writeFile(path.join(dir, '.vscode', 'settings.json'), '{ "ttsDistill.taskFiles.labelKeys": ["speaker", "emotion"] }');
  const after = await runCli(['validate', 'x.tasks.jsonl'], dir);
  assert.doesNotMatch(after.out, /Unknown key "speaker"|Unknown key "emotion"/);
  assert.match(after.out, /Unknown key "mood"/);
  assert.ok((await readFile(path.join(dir, 'x.tasks.jsonl'), 'utf8')).includes('"speaker"'));
  await rm(dir, { recursive: true, force: true });
});
