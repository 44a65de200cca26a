import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { JsonlAppender, outputWavPath, parseTextCompare, readManifest, taskHash } from '../../server/src/core/batch/manifest';

test('manifest: text_compare.jsonl records pretty-printed over several lines are read, a torn last one ignored', () => {
  const rec = (uttid: string, text: string, phoneme: string) =>
    JSON.stringify({ uttid, syn_text: text, syn_text_tn: [text], syn_text_phoneme: [phoneme] }, null, 2);
  const text = [
    rec('0', '去银行{"}', '去银<|H|><|ANG2|>{"}'),
    rec('1', '行长', '<|H|><|ANG2|>长'),
    '{\n  "uttid": "2",\n  "syn_text": "断',
  ].join('\n');
  const r = parseTextCompare(text);
  assert.deepEqual(
    r.map((x) => x.uttid),
    ['0', '1'],
  );
  assert.equal(r[0]!.syn_text, '去银行{"}');
  assert.deepEqual(r[0]!.syn_text_phoneme, ['去银<|H|><|ANG2|>{"}']);
  // Upstream without --use_phoneme writes an empty phoneme list.
  assert.deepEqual(parseTextCompare('{"uttid": 7, "syn_text": "好", "syn_text_tn": ["好"], "syn_text_phoneme": []}')[0], {
    uttid: '7',
    syn_text: '好',
    syn_text_tn: ['好'],
    syn_text_phoneme: [],
  });
});

test('manifest: the appender cuts a torn last line before appending, so every record stays on its own line', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'manifest-'));
  const file = path.join(dir, 'manifest.jsonl');
  const good = {
    line: 0,
    name: 'a',
    taskHash: 'h',
    text: 't',
    readings: [null],
    phonemes: 't',
    audio: 'a.wav',
    durationSeconds: 1,
    sampleRate: 24000,
    backend: 'embedded',
    seed: 42,
    wavSha256: 's',
    clonedVoice: false,
  };
  await writeFile(file, JSON.stringify(good) + '\n{"line":1,"name":"b","taskH');
  const app = await JsonlAppender.open(file);
  await Promise.all([app.append({ ...good, line: 2, name: 'c' }), app.append({ ...good, line: 3, name: 'd' })]);
  await app.close();
  const lines = (await readFile(file, 'utf8')).split('\n');
  assert.equal(lines.length, 4);
  assert.deepEqual(
    (await readManifest(file)).map((r) => r.name),
    ['a', 'c', 'd'],
  );
  await rm(dir, { recursive: true, force: true });
});

test('manifest: output names never leave the output folder', () => {
  const out = '/data/out';
  assert.deepEqual(outputWavPath(out, 'utt_001'), { file: '/data/out/utt_001.wav', audio: 'utt_001.wav' });
  assert.deepEqual(outputWavPath(out, 'spk1/utt1'), { file: '/data/out/spk1/utt1.wav', audio: 'spk1/utt1.wav' });
  for (const bad of ['', '  ', '../x', 'a/../../x', '/etc/passwd', 'C:\\x', 'a//b', './a', '.hidden', 'a\u0000b', 'a\\..\\..\\x']) {
    assert.ok('error' in outputWavPath(out, bad), `accepted ${JSON.stringify(bad)}`);
  }
});

test('manifest: the task hash depends on the content, not on the line or the key order', () => {
  const a = taskHash({ name: 'x', text: '你好', promptText: 'p', promptAudio: 'a.wav' });
  assert.equal(a, taskHash({ promptAudio: 'a.wav', promptText: 'p', text: '你好', name: 'x' }));
  assert.notEqual(a, taskHash({ name: 'x', text: '你好!', promptText: 'p', promptAudio: 'a.wav' }));
  assert.notEqual(a, taskHash({ name: 'x', text: '你好', promptAudio: 'a.wav' }));
  assert.match(a, /^[0-9a-f]{64}$/);
});
