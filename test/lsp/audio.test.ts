import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { CodeLensRefreshRequest } from 'vscode-languageserver-protocol/node';
import { encodeWav } from '../../server/src/core/audio/wav';
import { AnalyseAudioRequest, AudioFilesChangedNotification, type PreviewAudioArgs, PreviewLineRequest } from '../../protocol/lsp/audio';
import { LspTestClient } from './lspClient';

const TASKS = [
  '{"prompt_audio": "prompts/a.wav", "prompt_text": "你好。", "input_text": "我去银行取钱。", "output_name": "bank"}',
  '{"prompt_audio": "prompts/missing.wav", "prompt_text": "你好。", "input_text": "他在行走。", "output_name": "walk"}',
  '{"prompt_audio": ',
].join('\n');

void describe('audio preview over JSON-RPC: code lenses, preview lines, analyses', () => {
  let client: LspTestClient;
  let root: string;
  let uri: string;
  let refreshes = 0;
  const write = (rel: string, data: Uint8Array | string) => {
    mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    writeFileSync(path.join(root, rel), data);
  };
  const lensTitles = async () => {
    const lenses = (await client.codeLenses(uri)) ?? [];
    return lenses.map((l) => `${l.range.start.line}:${l.command!.title}:${(l.command!.arguments![0] as PreviewAudioArgs).source}`);
  };

  before(async () => {
    root = mkdtempSync(path.join(tmpdir(), 'tts-lsp-audio-'));
    write(
      'prompts/a.wav',
      encodeWav(
        Float32Array.from({ length: 16000 }, (_, i) => 0.5 * Math.sin(i / 10)),
        16000,
      ),
    );
    write('teacher-out/bank.wav', encodeWav(new Float32Array(24000), 24000));
    // The teacher's run read 行 as xing2 (the dictionary changed since), then a later record supersedes an older one.
    const record = (readings: (string | null)[], seed: number) =>
      JSON.stringify({
        line: 0,
        name: 'bank',
        taskHash: 'h',
        text: '我去银行取钱。',
        readings,
        phonemes: '',
        audio: 'bank.wav',
        durationSeconds: 1,
        sampleRate: 24000,
        backend: 'embedded',
        seed,
        wavSha256: 'w',
        clonedVoice: false,
        note: 'no cloning offline',
      });
    write(
      'teacher-out/manifest.jsonl',
      `${record(['wo3', 'qu4', 'yin2', 'hang2', 'qu3', 'qian2', null], 1)}\n${record(['wo3', 'qu4', 'yin2', 'xing2', 'qu3', 'qian2', null], 42)}\n`,
    );
    write('demo.tasks.jsonl', TASKS);
    client = await LspTestClient.start({ rootDir: root });
    client.connection.onRequest(CodeLensRefreshRequest.type, () => void refreshes++);
    uri = await client.open(path.join(root, 'demo.tasks.jsonl'), TASKS);
  });
  after(async () => {
    await client.stop();
    rmSync(root, { recursive: true, force: true });
  });

  void it('puts a prompt lens on every task and teacher/student lenses where their WAVs exist', async () => {
    assert.deepEqual(await lensTitles(), ['0:$(play) Prompt:prompt', '0:$(play) Teacher:teacher', '1:$(play) Prompt:prompt']);
  });

  void it('a hover on the prompt audio links each existing audio to the preview; other places of the line get none from it', async () => {
    const col = TASKS.split('\n')[0]!.indexOf('prompts/a.wav') + 3;
    const h = await client.hover(uri, { line: 0, character: col });
    const value = (h?.contents as { kind: string; value: string }).value;
    assert.match(value, /^\*\*Audio preview:\*\* \[\$\(play\) Prompt\]\(command:ttsDistill\.previewAudio\?/);
    const args = JSON.parse(decodeURIComponent(value.match(/previewAudio\?([^ )]+)/)![1]!)) as PreviewAudioArgs[];
    assert.deepEqual(args, [{ uri, line: 0, source: 'prompt' }]);
    assert.match(value, /\[\$\(play\) Teacher\]/);
    assert.match(value, /Student \(not written yet\)/);
    // The range is the JSON string value, quotes included.
    assert.deepEqual(h?.range?.start, { line: 0, character: TASKS.split('\n')[0]!.indexOf('"prompts/a.wav"') });
    const missing = await client.hover(uri, { line: 1, character: TASKS.split('\n')[1]!.indexOf('missing.wav') });
    assert.match((missing?.contents as { value: string }).value, /Prompt \(missing\)/);
    assert.equal(await client.hover(uri, { line: 0, character: 1 }), null);
  });

  void it('a WAV written later: the client says so, the server asks for new lenses and lists it', async () => {
    write('student-out/bank.wav', 'not even audio');
    await client.connection.sendNotification(AudioFilesChangedNotification.type, { paths: [path.join(root, 'student-out/bank.wav')] });
    const deadline = Date.now() + 10_000;
    while (refreshes === 0 && Date.now() < deadline) await new Promise((r) => setImmediate(r));
    assert.equal(refreshes, 1);
    assert.ok((await lensTitles()).includes('0:$(play) Student:student'));
  });

  void it('describes a task line: text, teacher readings, sources, the teacher take, where the prompt value is', async () => {
    const line = await client.connection.sendRequest(PreviewLineRequest.type, { uri, line: 0 });
    assert.ok(line);
    assert.equal(line.name, 'bank');
    assert.equal(line.text, '我去银行取钱。');
    assert.equal(line.readingsSource, 'teacher-g2p');
    assert.deepEqual(
      line.readings.map((r) => r.reading),
      ['wo3', 'qu4', 'yin2', 'hang2', 'qu3', 'qian2', null],
    );
    assert.deepEqual(
      line.sources.map((s) => [s.kind, path.relative(root, s.path), s.exists]),
      [
        ['prompt', path.join('prompts', 'a.wav'), true],
        ['teacher', path.join('teacher-out', 'bank.wav'), true],
        ['student', path.join('student-out', 'bank.wav'), true],
      ],
    );
    assert.deepEqual(line.teacherTake, {
      text: '我去银行取钱。',
      readings: ['wo3', 'qu4', 'yin2', 'xing2', 'qu3', 'qian2', null],
      backend: 'embedded',
      seed: 42,
      clonedVoice: false,
      note: 'no cloning offline',
    });
    // Left out by hand (qa-overrides.json): the preview's take says so.
    write('teacher-out/qa-overrides.json', '{"bank": "exclude"}\n');
    const excluded = await client.connection.sendRequest(PreviewLineRequest.type, { uri, line: 0 });
    assert.equal(excluded?.teacherTake?.excluded, 'excluded by hand (qa-overrides.json)');
    rmSync(path.join(root, 'teacher-out/qa-overrides.json'));
    // After `tts-distill qa`: the take line carries the measures a listener checks first.
    const measures = {
      durationSeconds: 1,
      sampleRate: 24000,
      channels: 1,
      snrDb: 31.6,
      clipRatio: 0,
      dcOffset: 0,
      peakDbfs: -3,
      leadingSilenceSeconds: 0.1,
      trailingSilenceSeconds: 0.1,
      longestPauseSeconds: 0.2,
      silenceRatio: 0.25,
      bandwidthHz: 9800,
      loudnessLufs: -18.84,
    };
    write(
      'teacher-out/qa.jsonl',
      JSON.stringify({
        name: 'bank',
        line: 0,
        audio: 'bank.wav',
        measures,
        syllables: 7,
        secondsPerSyllable: 0.276,
        verdict: 'ok',
        reasons: [],
      }) + '\n',
    );
    const measured = await client.connection.sendRequest(PreviewLineRequest.type, { uri, line: 0 });
    assert.equal(measured?.teacherTake?.qa, 'SNR 32 dB · -18.8 LUFS · band 9.8 kHz · 0.28 s/syllable · silence 25 %');
    assert.equal(measured?.teacherTake?.excluded, undefined);
    rmSync(path.join(root, 'teacher-out/qa.jsonl'));
    const [start, end] = line.promptAudioColumns!;
    assert.equal(TASKS.split('\n')[0]!.slice(start, end), '"prompts/a.wav"');
    const second = await client.connection.sendRequest(PreviewLineRequest.type, { uri, line: 1, withReadings: false });
    assert.deepEqual(second?.readings, []);
    assert.deepEqual(
      second?.sources.map((s) => s.exists),
      [false, false, false],
    );
    assert.equal(await client.connection.sendRequest(PreviewLineRequest.type, { uri, line: 2 }), null);
  });

  void it('analyses a WAV once, answers from the cache after, and explains files it cannot read', async () => {
    const file = path.join(root, 'prompts', 'a.wav');
    const first = await client.connection.sendRequest(AnalyseAudioRequest.type, { path: file });
    assert.ok(first.ok && !first.cached);
    assert.equal(first.analysis.sampleRate, 16000);
    assert.equal(first.analysis.durationSeconds, 1);
    assert.ok(Math.abs(first.analysis.peakDbfs! + 6.02) < 0.05);
    const again = await client.connection.sendRequest(AnalyseAudioRequest.type, { path: file });
    assert.ok(again.ok && again.cached);
    const missing = await client.connection.sendRequest(AnalyseAudioRequest.type, { path: path.join(root, 'prompts', 'missing.wav') });
    assert.ok(!missing.ok && missing.problem.kind === 'missing');
    const broken = await client.connection.sendRequest(AnalyseAudioRequest.type, { path: path.join(root, 'student-out', 'bank.wav') });
    assert.ok(!broken.ok && broken.problem.kind === 'not-wav', JSON.stringify(broken));
  });
});
