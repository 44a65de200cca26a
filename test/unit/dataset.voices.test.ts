import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { encodeWav } from '../../server/src/core/audio/wav';
import {
  estimateSnrDb,
  labelsFromPattern,
  measureWavBytes,
  parseVoiceLabels,
  readVoiceLabels,
  setVoiceLabels,
  voicePool,
} from '../../server/src/core/dataset/voices';
import { runCli } from './runCli';

/** Deterministic noise. */
function noise(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a * 1103515245 + 12345) >>> 0;
    return a / 4294967296 - 0.5;
  };
}

/** A 2 s "utterance": 0.5 s of noise only, 1 s of a harmonic tone at f0 plus the same noise, 0.5 s of noise. */
function voice(f0: number, noiseAmp: number, sampleRate = 16000): Float32Array {
  const n = 2 * sampleRate;
  const rnd = noise(f0);
  return Float32Array.from({ length: n }, (_, i) => {
    const t = i / sampleRate;
    const on = t >= 0.5 && t < 1.5;
    const s = on ? 0.3 * Math.sin(2 * Math.PI * f0 * t) + 0.15 * Math.sin(2 * Math.PI * 2 * f0 * t) : 0;
    return s + noiseAmp * rnd();
  });
}

test('voices: median F0, levels and the SNR estimate of a synthetic voice; more noise, lower SNR', () => {
  const m = measureWavBytes(encodeWav(voice(180, 0.01), 16000));
  assert.equal(m.sampleRate, 16000);
  assert.equal(m.channels, 1);
  assert.equal(m.durationSeconds, 2);
  assert.ok(m.medianF0Hz !== null && Math.abs(m.medianF0Hz - 180) < 3, `F0 ${m.medianF0Hz}`);
  // Speech power ≈ (0.3² + 0.15²)/2, noise ≈ 0.01²/12: about 32 dB.
  assert.ok(m.snrDb! > 25 && m.snrDb! < 40, `SNR ${m.snrDb}`);
  const noisy = measureWavBytes(encodeWav(voice(180, 0.2), 16000));
  assert.ok(noisy.snrDb! < m.snrDb! - 15, `noisy ${noisy.snrDb} vs ${m.snrDb}`);
  assert.equal(estimateSnrDb(new Float32Array(1600), 16000).snrDb, null, 'silence has no SNR');
  const low = measureWavBytes(encodeWav(voice(110, 0.01), 16000));
  assert.ok(Math.abs(low.medianF0Hz! - 110) < 3, `F0 ${low.medianF0Hz}`);
});

test('voices: labels from a path pattern', () => {
  assert.deepEqual(labelsFromPattern('voices/{speaker}/*.wav', 'voices/anna/001.wav'), { speaker: 'anna' });
  assert.deepEqual(labelsFromPattern('{accent}/{gender}/{speaker}_{emotion}.wav', 'beijing/female/li_happy.wav'), {
    accent: 'beijing',
    gender: 'female',
    speaker: 'li',
    emotion: 'happy',
  });
  assert.deepEqual(labelsFromPattern('**/{speaker}.wav', 'a/b/c/zhao.wav'), { speaker: 'zhao' });
  assert.equal(labelsFromPattern('voices/{speaker}/*.wav', 'prompts/a.wav'), undefined);
  assert.equal(labelsFromPattern('voices/{speaker}/*.wav', 'voices/a/b/c.wav'), undefined, '* stays inside a folder');
  assert.equal(labelsFromPattern('', 'x.wav'), undefined);
});

test('voices: the sidecar is edited in place — one record per voice, other lines kept, a blank value removes a label', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'voices-'));
  const file = path.join(dir, 'voices.jsonl');
  await writeFile(
    file,
    '{"audio": "p/a.wav", "speaker": "a"}\n# a comment the user wrote\n{"audio": "p/b.wav", "gender": "male", "note": "kept"}\n',
  );
  await setVoiceLabels(file, path.join(dir, 'p', 'b.wav'), { gender: 'female', age: 'adult' });
  await setVoiceLabels(file, path.join(dir, 'p', 'c.wav'), { speaker: 'c' });
  await setVoiceLabels(file, path.join(dir, 'p', 'a.wav'), { speaker: '' });
  const text = await readFile(file, 'utf8');
  assert.equal(
    text,
    '{"audio":"p/a.wav"}\n# a comment the user wrote\n{"audio":"p/b.wav","gender":"female","note":"kept","age":"adult"}\n{"audio":"p/c.wav","speaker":"c"}\n',
  );
  const labels = await readVoiceLabels(file);
  assert.deepEqual(labels.get(path.join(dir, 'p', 'b.wav')), { gender: 'female', age: 'adult' });
  assert.deepEqual((await readVoiceLabels(path.join(dir, 'missing.jsonl'))).size, 0);
  await rm(dir, { recursive: true, force: true });
});

test('voice pool: lines per voice, labels sidecar > pattern > task line, imbalance (one voice in most lines, a label value no voice has), unreadable voices reported', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'voices-'));
  await mkdir(path.join(dir, 'voices', 'anna'), { recursive: true });
  await mkdir(path.join(dir, 'voices', 'bo'), { recursive: true });
  const a = path.join(dir, 'voices', 'anna', '1.wav'),
    b = path.join(dir, 'voices', 'bo', '1.wav');
  await writeFile(a, encodeWav(voice(200, 0.01), 16000));
  await writeFile(b, encodeWav(voice(120, 0.01), 16000));
  const sidecar = parseVoiceLabels(
    '{"audio": "voices/anna/1.wav", "gender": "female", "speaker": "Anna"}\n{"audio": "voices/old.wav", "accent": "sichuan"}\n',
    dir,
  );
  const uses = [
    ...Array.from({ length: 7 }, () => ({ audio: a, file: 't.tasks.jsonl', labels: { emotion: 'happy' } })),
    { audio: b, file: 't.tasks.jsonl', labels: { speaker: 'ignored-by-pattern', emotion: 'sad' } },
    { audio: path.join(dir, 'missing.wav'), file: 'u.tasks.jsonl' },
  ];
  const pool = await voicePool(uses, { workspaceFolder: dir, sidecar, speakerPattern: 'voices/{speaker}/*.wav' });
  assert.equal(pool.totalLines, 9);
  assert.deepEqual(
    pool.voices.map((v) => [v.relative, v.lines]),
    [
      ['voices/anna/1.wav', 7],
      ['missing.wav', 1],
      ['voices/bo/1.wav', 1],
    ],
  );
  const [anna, missing, bo] = pool.voices;
  assert.deepEqual(anna!.labels, { speaker: 'Anna', gender: 'female', emotion: 'happy' });
  assert.deepEqual(anna!.labelSources, { speaker: 'sidecar', gender: 'sidecar', emotion: 'task' });
  assert.deepEqual(bo!.labels, { speaker: 'bo', emotion: 'sad' });
  assert.equal(bo!.labelSources.speaker, 'pattern');
  assert.ok(Math.abs(anna!.measures!.medianF0Hz! - 200) < 3);
  assert.equal(missing!.problem, 'not found');
  assert.ok(pool.imbalance.includes('voices/anna/1.wav is used by 7 of 9 lines (78 %)'), pool.imbalance.join('\n'));
  assert.ok(pool.imbalance.includes('gender: no voice in use is labelled male'));
  assert.ok(pool.imbalance.includes('accent: no voice in use is labelled sichuan'));
  assert.ok(pool.imbalance.includes('gender: 2 of 3 voices have no label'));
  assert.deepEqual(pool.labelValues.emotion, { happy: 1, sad: 1 });
  await rm(dir, { recursive: true, force: true });
});

test('tts-distill voices: the table, --set writes the sidecar, --format json', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'voices-cli-'));
  await mkdir(path.join(dir, 'prompts'));
  await writeFile(path.join(dir, 'prompts', 'a.wav'), encodeWav(voice(150, 0.01), 16000));
  const task = (i: number) =>
    JSON.stringify({ prompt_audio: 'prompts/a.wav', prompt_text: '好。', input_text: '你好。', output_name: `u${i}` });
  await writeFile(path.join(dir, 'a.tasks.jsonl'), [0, 1, 2, 3].map(task).join('\n') + '\n');
  const set = await runCli(['voices', '--set', 'prompts/a.wav', '--label', 'gender=male', '--label', 'speaker=zhang'], dir);
  assert.equal(set.code, 0, set.err);
  assert.equal(await readFile(path.join(dir, 'voices.jsonl'), 'utf8'), '{"audio":"prompts/a.wav","speaker":"zhang","gender":"male"}\n');
  const table = await runCli(['voices'], dir);
  assert.equal(table.code, 0, table.err);
  assert.match(table.out, /prompts\/a\.wav +4 +2\.00 +16000 +1 +150 .* speaker=zhang gender=male/);
  assert.match(table.out, /imbalance: every line uses one voice \(prompts\/a\.wav\)/);
  const json = JSON.parse((await runCli(['voices', '--format', 'json'], dir)).out) as { voices: Array<{ lines: number }> };
  assert.equal(json.voices[0]!.lines, 4);
  assert.equal((await runCli(['voices', '--set', 'prompts/a.wav', '--label', 'colour=red'], dir)).code, 64);
  await rm(dir, { recursive: true, force: true });
});
