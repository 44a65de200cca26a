import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { Diagnostic } from 'vscode-languageserver-protocol/node';
import { decodeWav, encodeWav, resample } from '../../server/src/core/audio/wav';
import { RevalidateRequest } from '../../protocol/lsp/base';
import { LspTestClient, REPO } from './lspClient';

const task = (prompt: string, name: string) =>
  JSON.stringify({ prompt_audio: prompt, prompt_text: '你好，今天天气很好。', input_text: '今天我们去公园散步。', output_name: name });
const TASKS =
  [task('prompts/noise.wav', 'a'), task('prompts/clean.wav', 'b'), task('prompts/noise.wav', 'c'), task('prompts/phone.wav', 'd')].join(
    '\n',
  ) + '\n';
const qaOf = (d: Diagnostic[], line: number) => d.filter((x) => x.code === 'task/prompt-audio-qa' && x.range.start.line === line);

void describe('prompt-audio QA diagnostics over JSON-RPC', () => {
  let client: LspTestClient;
  let root: string;
  let uri: string;
  const measuredLogs = (file: string) =>
    client.notifications.filter(
      (n) =>
        n.method === 'ttsDistill/log' &&
        (n.params as { message: string }).message.startsWith(`prompt QA: measured ${path.join(root, 'prompts', file)} `),
    ).length;

  before(async () => {
    root = mkdtempSync(path.join(tmpdir(), 'tts-lsp-qa-'));
    mkdirSync(path.join(root, 'prompts'));
    // White noise (seeded), a clean recording, and that recording through an 8 kHz telephone band, upsampled to 24 kHz.
    let seed = 11;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    const gauss = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
    writeFileSync(
      path.join(root, 'prompts', 'noise.wav'),
      encodeWav(
        Float32Array.from({ length: 16000 * 5 }, () => 0.1 * gauss()),
        16000,
      ),
    );
    copyFileSync(path.join(REPO, 'sample-workspace', 'prompts', 'speaker_b.wav'), path.join(root, 'prompts', 'clean.wav'));
    const speech = decodeWav(readFileSync(path.join(REPO, 'sample-workspace', 'prompts', 'speaker_a.wav')));
    writeFileSync(
      path.join(root, 'prompts', 'phone.wav'),
      encodeWav(resample(resample(speech.channels[0]!, speech.sampleRate, 8000), 8000, 24000), 24000),
    );
    writeFileSync(path.join(root, 'demo.tasks.jsonl'), TASKS);
    client = await LspTestClient.start({ rootDir: root });
    uri = await client.open(path.join(root, 'demo.tasks.jsonl'), TASKS);
  });
  after(async () => {
    await client.stop();
    rmSync(root, { recursive: true, force: true });
  });

  void it('a white-noise prompt gets a warning naming its SNR, on the prompt path, on every line that uses it', async () => {
    const d = await client.waitForDiagnostics(
      uri,
      (x) => qaOf(x, 0).length === 1 && qaOf(x, 2).length === 1 && qaOf(x, 3).length === 1,
      30_000,
    );
    const w = qaOf(d, 0)[0]!;
    assert.equal(w.severity, 2, 'a warning');
    assert.match(String(w.message), /^Prompt audio quality: WADA-SNR -?\d+\.\d dB, below 15 dB \(noise\)/);
    const line = TASKS.split('\n')[0]!;
    assert.equal(line.slice(w.range.start.character, w.range.end.character), '"prompts/noise.wav"');
    assert.equal(qaOf(d, 2)[0]!.message, w.message);
    assert.match(String(qaOf(d, 3)[0]!.message), /content only up to \d+ Hz, below 5000 Hz \(band-limited or upsampled\)/);
    assert.deepEqual(qaOf(d, 1), [], 'the clean recording passes');
  });

  void it('each prompt file is measured once: edits, threshold changes and the same path on two lines do not measure again', async () => {
    assert.equal(measuredLogs('noise.wav'), 1);
    assert.equal(measuredLogs('clean.wav'), 1);
    const line1 = TASKS.split('\n')[1]!;
    await client.replaceLine(uri, 1, line1.replace('散步', '跑步'), line1.length);
    const d = await client.waitForDiagnostics(uri, (x) => qaOf(x, 0).length === 1);
    assert.equal(qaOf(d, 2).length, 1);
    await client.setSettings({ qa: { minSnrDb: -30 } });
    const relaxed = await client.waitForDiagnostics(uri, (x) => qaOf(x, 0).length === 0 && qaOf(x, 3).length === 1);
    assert.equal(qaOf(relaxed, 2).length, 0);
    assert.equal(measuredLogs('noise.wav'), 1, 'thresholds apply to the cached measures');
  });

  void it('ttsDistill.qa.promptChecks false turns the checks off; a changed file is measured again', async () => {
    await client.setSettings({ qa: { promptChecks: false } });
    await client.waitForDiagnostics(uri, (x) => !x.some((y) => y.code === 'task/prompt-audio-qa'));
    await client.setSettings({});
    await client.waitForDiagnostics(uri, (x) => qaOf(x, 0).length === 1);
    // The noisy prompt is replaced by the clean recording: new mtime and size, one more measurement, no warning.
    copyFileSync(path.join(root, 'prompts', 'clean.wav'), path.join(root, 'prompts', 'noise.wav'));
    // As the client does when its file watcher sees a WAV change.
    await client.connection.sendRequest(RevalidateRequest.type, {});
    // Other passes (the readings workers delivering) may publish while the new version is measured
    // (no QA finding yet): wait for its measurement, then for the diagnostics it gives.
    await client.waitForNotification<{ message: string }>('ttsDistill/log', () => measuredLogs('noise.wav') >= 2, 30_000);
    await client.waitForDiagnostics(uri, (x) => qaOf(x, 0).length === 0 && qaOf(x, 3).length === 1, 30_000);
    assert.equal(measuredLogs('noise.wav'), 2);
  });
});

void describe('the prompt QA worker thread', () => {
  it('ends when idle and starts again for the next file, the measures unchanged', async () => {
    const { PromptQaMeasurer } = await import('../../server/src/features/promptQa');
    const dir = mkdtempSync(path.join(tmpdir(), 'tts-qa-idle-'));
    try {
      const tone = (hz: number) =>
        encodeWav(
          Float32Array.from({ length: 16000 }, (_, i) => 0.3 * Math.sin((2 * Math.PI * hz * i) / 16000)),
          16000,
        );
      writeFileSync(path.join(dir, 'a.wav'), tone(220));
      writeFileSync(path.join(dir, 'b.wav'), tone(330));
      const qa = new PromptQaMeasurer(path.join(REPO, 'dist', 'qaWorker.js'), () => undefined, 50);
      const a = await qa.measure(path.join(dir, 'a.wav'), 'v1', 1 << 20);
      assert.ok(qa.running, 'measured in a worker thread');
      const deadline = Date.now() + 10_000;
      while (qa.running && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      assert.equal(qa.running, false, 'the idle worker ended');
      // A new worker for the next file; the same file measured again (a new version) gives the same measures.
      const b = await qa.measure(path.join(dir, 'b.wav'), 'v1', 1 << 20);
      assert.ok(qa.running);
      assert.ok(Math.abs(b.durationSeconds - 1) < 1e-9);
      assert.deepEqual(await qa.measure(path.join(dir, 'a.wav'), 'v2', 1 << 20), a);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
