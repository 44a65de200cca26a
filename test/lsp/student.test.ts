import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { CancellationTokenSource } from 'vscode-languageserver-protocol/node';
import {
  EvaluateStudentRequest,
  type EvaluateStudentResult,
  type StudentTrainProgress,
  StudentTrainProgressNotification,
  TrainStudentRequest,
  type TrainStudentResult,
} from '../../protocol/lsp/student';
import { fileUri, LspTestClient, REPO } from './lspClient';

const CPP = path.join(REPO, 'data', 'cpp');
const TRAINER = path.join(REPO, 'test', 'fixtures', 'trainer', 'trainer.mjs');

/** A teacher run whose readings are CPP's gold labels on the marked characters. */
function teacherRun(dir: string, lines: number): void {
  mkdirSync(dir, { recursive: true });
  const sent = readFileSync(path.join(CPP, 'dev.sent'), 'utf8').split('\n');
  const lb = readFileSync(path.join(CPP, 'dev.lb'), 'utf8').split('\n');
  const records: string[] = [];
  // Every 4th line: all 623 characters are represented while the file stays small.
  for (let k = 0, n = 0; n < lines; k += 4, n++) {
    const a = sent[k]!.indexOf('\u2581');
    const text = sent[k]!.replace(/\u2581/g, '');
    const readings: (string | null)[] = new Array<string | null>(text.length).fill(null);
    readings[a] = lb[k]!.replace('u:', 'v');
    // The label stands for a reading the teacher wrote as tokens (source g2p): the student learns only those.
    const sources: (string | null)[] = new Array<string | null>(text.length).fill(null);
    sources[a] = 'g2p';
    records.push(
      JSON.stringify({
        line: n,
        name: `utt_${n}`,
        taskHash: 'h',
        text,
        readings,
        sources,
        phonemes: text,
        audio: `utt_${n}.wav`,
        durationSeconds: 1,
        sampleRate: 24000,
        backend: 'embedded',
        seed: 42,
        wavSha256: 'w',
        clonedVoice: false,
      }),
    );
  }
  writeFileSync(path.join(dir, 'manifest.jsonl'), records.join('\n') + '\n');
}

void describe('student over JSON-RPC: train, evaluate, diff documents', () => {
  let client: LspTestClient;
  let root: string;
  const teacherDir = () => path.join(root, 'teacher-out');

  before(async () => {
    root = mkdtempSync(path.join(tmpdir(), 'tts-lsp-student-'));
    teacherRun(teacherDir(), 2400);
    // The task file the run came from: its lines name the tasks (another file does not).
    const task = (n: number) => JSON.stringify({ prompt_audio: 'p.wav', prompt_text: '你好', input_text: '好', output_name: `utt_${n}` });
    writeFileSync(path.join(root, 'other.tasks.jsonl'), [0, 1, 2].map((n) => task(n + 1)).join('\n') + '\n');
    writeFileSync(path.join(root, 'run.tasks.jsonl'), [0, 1, 2, 3, 4, 5].map(task).join('\n') + '\n');
    client = await LspTestClient.start({
      rootDir: root,
      settings: {
        student: {
          modelPath: 'student/g2p.json',
          trainCommand: [process.execPath, TRAINER, '${manifest}', '${out}', '--steps', '6', '--delay-ms', '1'],
        },
      },
    });
  });
  after(async () => {
    await client.stop();
    rmSync(root, { recursive: true, force: true });
  });

  void it('trains the G2P student in a worker, with a progress notification per epoch', async () => {
    const res = (await client.connection.sendRequest(TrainStudentRequest.type, {
      teacherDir: teacherDir(),
      runId: 'r1',
      kind: 'g2p',
      workspaceTrusted: true,
      uri: fileUri(root),
    })) as TrainStudentResult;
    assert.equal(res.status, 'done');
    assert.ok(res.kind === 'g2p' && res.status === 'done');
    assert.equal(res.model, path.join(root, 'student', 'g2p.json'));
    assert.ok(existsSync(res.model));
    // Only characters pinyin-pro knows more than one reading of are examples (most CPP targets).
    assert.ok(res.result.examples > 2000 && res.result.examples <= 2400, String(res.result.examples));
    assert.ok(res.result.metrics.heldOutAccuracy! > res.result.metrics.heldOutPinyinProAccuracy!, JSON.stringify(res.result.metrics));
    const epochs = client.notifications
      .filter((n) => n.method === StudentTrainProgressNotification.method)
      .map((n) => n.params as StudentTrainProgress)
      .filter((p) => p.runId === 'r1' && p.total);
    assert.deepEqual(
      epochs.map((p) => p.step),
      [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
    );
    assert.ok(epochs.every((p) => typeof p.loss === 'number'));
  });

  void it('opens the evaluation: one aligned line per task on each side, differing exactly where the report says', async () => {
    const res = await client.request<EvaluateStudentResult>(EvaluateStudentRequest.method, {
      teacherDir: teacherDir(),
      uri: fileUri(root),
    });
    const teacher = res.teacherDocument.split('\n').slice(0, -1),
      student = res.studentDocument.split('\n').slice(0, -1);
    assert.equal(teacher.length, 2400);
    assert.equal(student.length, 2400);
    const item = res.report.items[0]!;
    assert.equal(teacher[0]!.split(' | ')[0], `line 1 · ${item.name}`);
    for (let k = 0; k < teacher.length; k++) {
      const it = res.report.items[k]!;
      assert.equal(teacher[k]!.split(' | ')[0], student[k]!.split(' | ')[0], 'same prefix on both sides');
      const differs = teacher[k] !== student[k];
      const tokens = (l: string) => l.split(' | ')[1]!.split(' ').filter(Boolean);
      assert.equal(tokens(teacher[k]!).length, tokens(student[k]!).length, 'the same characters on both sides');
      const diffTokens = tokens(teacher[k]!).filter((t, j) => t !== tokens(student[k]!)[j]).length;
      assert.equal(diffTokens, it.disagreements.length, `line ${k + 1}: ${teacher[k]} / ${student[k]}`);
      if (!differs) assert.equal(it.disagreements.length, 0);
    }
    const wrong = res.report.items.find((i) => i.disagreements.length)!;
    const d = wrong.disagreements[0]!;
    const k = res.report.items.indexOf(wrong);
    assert.ok(teacher[k]!.includes(`${d.char}${d.teacher}`) && student[k]!.includes(`${d.char}${d.student}`));
    assert.ok(res.report.summary.polyphones.rate! > 0.9);
    assert.ok(existsSync(res.files.json) && existsSync(res.files.html));
    assert.equal(path.dirname(res.files.json), path.join(root, 'student', 'eval'));
    assert.equal(res.taskFile, path.join(root, 'run.tasks.jsonl'));
  });

  void it('runs the external trainer: progress with losses, then the model it reported', async () => {
    const res = (await client.connection.sendRequest(TrainStudentRequest.type, {
      teacherDir: teacherDir(),
      runId: 'x1',
      kind: 'external',
      workspaceTrusted: true,
      uri: fileUri(root),
    })) as TrainStudentResult;
    assert.ok(res.kind === 'external' && res.status === 'done', JSON.stringify(res));
    assert.equal(res.result.model, path.join(root, 'student', 'acoustic', 'model.json'));
    const steps = client.notifications
      .filter((n) => n.method === StudentTrainProgressNotification.method)
      .map((n) => n.params as StudentTrainProgress)
      .filter((p) => p.runId === 'x1' && p.step > 0);
    assert.deepEqual(
      steps.map((p) => p.step),
      [1, 2, 3, 4, 5, 6],
    );
    await assert.rejects(
      client.connection.sendRequest(TrainStudentRequest.type, {
        teacherDir: teacherDir(),
        runId: 'x2',
        kind: 'external',
        workspaceTrusted: false,
      }),
      /untrusted workspace/,
    );
  });

  void it('cancelling the request stops the external trainer', async () => {
    rmSync(path.join(root, 'student', 'acoustic'), { recursive: true, force: true });
    await client.setSettings({
      student: {
        modelPath: 'student/g2p.json',
        trainCommand: [process.execPath, TRAINER, '${manifest}', '${out}', '--steps', '100000', '--delay-ms', '5'],
      },
    });
    const cts = new CancellationTokenSource();
    const pending = client.connection.sendRequest(
      TrainStudentRequest.type,
      { teacherDir: teacherDir(), runId: 'x3', kind: 'external', workspaceTrusted: true },
      cts.token,
    );
    await client.waitForNotification<StudentTrainProgress>(StudentTrainProgressNotification.method, (p) => p.runId === 'x3' && p.step >= 3);
    cts.cancel();
    const res: TrainStudentResult | Error = await pending.then(
      (r) => r as TrainStudentResult,
      (err: unknown) => err as Error,
    );
    // The server answers "cancelled"; jsonrpc may also surface the cancellation as an error.
    if (res instanceof Error) assert.match(res.message, /cancel/i);
    else assert.equal(res.status, 'cancelled');
    assert.equal(existsSync(path.join(root, 'student', 'acoustic', 'model.json')), false);
  });
});
