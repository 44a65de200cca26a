import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { runCli } from './runCli';
import { encodeWav } from '../../server/src/core/audio/wav';

const CPP = path.join(__dirname, '..', '..', 'data', 'cpp');

void test('tts-distill train → predict → eval', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'student-cli-'));
  try {
    const sent = readFileSync(path.join(CPP, 'dev.sent'), 'utf8').split('\n').slice(0, 3000);
    const lb = readFileSync(path.join(CPP, 'dev.lb'), 'utf8').split('\n').slice(0, 3000);
    writeFileSync(path.join(dir, 'train.sent'), sent.join('\n') + '\n');
    writeFileSync(path.join(dir, 'train.lb'), lb.join('\n') + '\n');

    const t = await runCli(['train', 'train.sent', '--out', 'models/g2p.json', '--seed', '3', '--epochs', '4'], dir);
    assert.equal(t.code, 0, t.err);
    assert.match(t.err, /epoch 4\/4/);
    assert.match(t.out, /labels  train\.sent  \(cpp\): 3000 polyphone examples/);
    assert.match(t.out, /examples {10}2400 train \/ 600 held out/);
    const held = Number(/held-out accuracy (\d+\.\d+) %/.exec(t.out)![1]);
    const pp = Number(/pinyin-pro alone: (\d+\.\d+) %/.exec(t.out)![1]);
    assert.ok(held > pp, t.out);
    const model = JSON.parse(readFileSync(path.join(dir, 'models', 'g2p.json'), 'utf8'));
    assert.equal(model.seed, 3);
    assert.equal(model.epochs, 4);

    // predict prints X.lb's format: u: for ü, one line per sentence.
    writeFileSync(path.join(dir, 'q.sent'), '我们去银▁行▁办事\n一条绿▁绿▁的小路\nno mark here\n');
    const p = await runCli(['predict', '--model', 'models/g2p.json', 'q.sent'], dir);
    assert.equal(p.code, 0);
    assert.equal(p.out, 'hang2\nlu:4\n\n');
    assert.match(p.err, /q\.sent:3: no target marked/);

    const bad = await runCli(['train', 'nothing.sent', '--out', 'x.json'], dir);
    assert.equal(bad.code, 65);
    assert.match(bad.err, /nothing\.lb are not beside it/);
    assert.equal((await runCli(['train', 'train.sent'], dir)).code, 64);

    // eval against a small teacher run with audio for one task.
    const teacher = path.join(dir, 'teacher-out'),
      studentAudio = path.join(dir, 'student-out');
    mkdirSync(teacher);
    mkdirSync(studentAudio);
    writeFileSync(
      path.join(teacher, 'manifest.jsonl'),
      [
        { line: 0, name: 'u1', text: '我们去银行', readings: ['wo3', 'men5', 'qu4', 'yin2', 'hang2'], audio: 'u1.wav' },
        { line: 1, name: 'u2', text: '他长大了', readings: ['ta1', 'zhang3', 'da4', 'le5'], audio: 'u2.wav' },
      ]
        .map((r) => JSON.stringify({ taskHash: 'h', wavSha256: 'w', ...r }))
        .join('\n') + '\n',
    );
    const tone = Float32Array.from({ length: 8000 }, (_, i) => 0.3 * Math.sin((2 * Math.PI * 180 * i) / 16000));
    writeFileSync(path.join(teacher, 'u1.wav'), encodeWav(tone, 16000));
    writeFileSync(path.join(studentAudio, 'u1.wav'), encodeWav(tone, 16000));
    const e = await runCli(
      ['eval', '--model', 'models/g2p.json', '--teacher', 'teacher-out', '--student-audio', 'student-out', '--out', 'report'],
      dir,
    );
    assert.equal(e.code, 0, e.err);
    assert.match(e.out, /tasks {14}2/);
    assert.match(e.out, /audio compared {5}1 items: duration ratio 1\.000, MCD 0\.00 dB/);
    assert.match(e.out, /wrote {14}report\/eval\.json, report\/eval\.html/);
    const report = JSON.parse(readFileSync(path.join(dir, 'report', 'eval.json'), 'utf8'));
    assert.equal(report.items.length, 2);
    assert.equal(report.summary.characters.total, 9);
    const missing = await runCli(['eval', '--model', 'models/g2p.json', '--teacher', 'nope', '--out', 'r2'], dir);
    assert.equal(missing.code, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
