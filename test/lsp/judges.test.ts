import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { encodeWav } from '../../server/src/core/audio/wav';
import { taskHash } from '../../server/src/core/batch/manifest';
import { parseTaskText } from '../../server/src/core/batch/runner';
import { EvaluateStudentRequest, type EvaluateStudentResult } from '../../protocol/lsp/student';
import { emo, standIn } from '../unit/rewardStandIn';
import { fileUri, LspTestClient, REPO } from './lspClient';

const TASKS =
  [
    '{"prompt_audio": "prompts/a.wav", "prompt_text": "你好。", "input_text": "我去银行。", "output_name": "bank", "emotion": "happy"}',
    '{"prompt_audio": "prompts/a.wav", "prompt_text": "你好。", "input_text": "他在行走。", "output_name": "walk"}',
  ].join('\n') + '\n';

void describe('judges over JSON-RPC: Open Evaluation Diff asks the reward server; the ✓ lens shows the scores', () => {
  let client: LspTestClient;
  let root: string;
  let bodies: Record<string, unknown>[];
  let closeServer: () => Promise<void>;

  before(async () => {
    root = mkdtempSync(path.join(tmpdir(), 'tts-lsp-judges-'));
    const teacher = path.join(root, 'teacher-out');
    mkdirSync(path.join(root, 'prompts'), { recursive: true });
    mkdirSync(teacher);
    mkdirSync(path.join(root, 'student'));
    writeFileSync(path.join(root, 'prompts', 'a.wav'), encodeWav(new Float32Array(16000), 16000));
    writeFileSync(path.join(root, 'demo.tasks.jsonl'), TASKS);
    copyFileSync(path.join(REPO, 'server/src/core/student/data/default-student.json.gz'), path.join(root, 'student', 'g2p.json.gz'));
    const { tasks } = parseTaskText(TASKS);
    const records = tasks.map((t, line) => {
      writeFileSync(path.join(teacher, `${t.name}.wav`), encodeWav(new Float32Array(8000), 16000));
      return JSON.stringify({
        line,
        name: t.name,
        taskHash: taskHash(t),
        text: t.text,
        readings: [...t.text].map(() => null),
        phonemes: t.text,
        audio: `${t.name}.wav`,
        durationSeconds: 0.5,
        sampleRate: 16000,
        backend: 'embedded',
        seed: 42,
        wavSha256: `sha-${t.name}`,
        clonedVoice: true,
        promptAudio: path.join(root, 'prompts', 'a.wav'),
        ...(t.labels ? { labels: t.labels } : {}),
      });
    });
    writeFileSync(path.join(teacher, 'manifest.jsonl'), records.join('\n') + '\n');
    const server = await standIn(
      {
        [path.join(teacher, 'bank.wav')]: { cos: 0.84, cer: 0.08, emo: emo(0.6) },
        [path.join(teacher, 'walk.wav')]: { cos: 0.5, cer: 0.4, emo: emo(0.3) },
      },
      undefined,
      true,
    );
    bodies = server.bodies;
    closeServer = server.close;
    client = await LspTestClient.start({
      rootDir: root,
      settings: {
        taskFiles: { labelKeys: ['emotion'] },
        student: { modelPath: 'student/g2p.json.gz' },
        judges: { backend: 'reward', rewardUrls: [server.url] },
      },
    });
  });
  after(async () => {
    await client.stop();
    await closeServer();
    rmSync(root, { recursive: true, force: true });
  });

  void it("evaluates with the judge and writes the run's judges.jsonl", async () => {
    const res = await client.request<EvaluateStudentResult>(EvaluateStudentRequest.method, {
      teacherDir: path.join(root, 'teacher-out'),
      uri: fileUri(root),
    });
    assert.equal(bodies.length, 2, JSON.stringify(res.report.summary.judges));
    assert.deepEqual(
      bodies.find((b) => b.uttid === 'bank'),
      {
        audio_path: path.join(root, 'teacher-out', 'bank.wav'),
        uttid: 'bank',
        target_audio: path.join(root, 'prompts', 'a.wav'),
        ref_text: '我去银行。',
        emotion: 3,
      },
    );
    const j = res.report.summary.judges!;
    assert.equal(j.error, undefined);
    assert.ok(Math.abs(j.teacher!.meanCer! - 0.24) < 1e-9);
    assert.ok(Math.abs(res.report.items[0]!.judges!.teacher!.similarity! - 0.84) < 1e-9);
    assert.ok(existsSync(path.join(root, 'teacher-out', 'judges.jsonl')));
    assert.match(readFileSync(res.files.html, 'utf8'), /<th>CER \(teacher · student\)<\/th>/);
  });

  void it('the ✓ lens of a judged line carries CER and similarity; not once the WAV changed', async () => {
    const uri = await client.open(path.join(root, 'demo.tasks.jsonl'), TASKS);
    const titles = async () =>
      ((await client.codeLenses(uri)) ?? []).map((l) => `${l.range.start.line}:${l.command!.title}`).filter((t) => t.includes('✓'));
    assert.deepEqual(await titles(), ['0:✓ 0.5 s · CER 0.08 · sim 0.84 · emotion 0.60', '1:✓ 0.5 s · CER 0.40 · sim 0.50 · emotion 0.60']);
    // A new take of "walk" (another wavSha256): its old judgement no longer shows.
    const manifest = path.join(root, 'teacher-out', 'manifest.jsonl');
    writeFileSync(manifest, readFileSync(manifest, 'utf8').replace('sha-walk', 'sha-walk-2'));
    assert.deepEqual(await titles(), ['0:✓ 0.5 s · CER 0.08 · sim 0.84 · emotion 0.60', '1:✓ 0.5 s']);
  });
});
