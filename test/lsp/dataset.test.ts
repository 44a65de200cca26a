import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { encodeWav } from '../../server/src/core/audio/wav';
import {
  type CorpusSuggestion,
  type CoverageResult,
  DatasetCoverageRequest,
  DatasetExportRequest,
  DatasetSetVoiceLabelsRequest,
  DatasetSuggestRequest,
  DatasetVoicesRequest,
  type ExportDatasetResult,
  type VoicesResult,
} from '../../protocol/lsp/dataset';
import { LspTestClient } from './lspClient';

const line = (i: number, text: string, audio: string, extra: Record<string, string> = {}) =>
  JSON.stringify({ prompt_audio: audio, prompt_text: '你好。', input_text: text, output_name: `u${i}`, ...extra });

void describe('dataset authoring over JSON-RPC: coverage, voices, labels, export', () => {
  let client: LspTestClient;
  let root: string;
  const write = (rel: string, data: Uint8Array | string) => {
    mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    writeFileSync(path.join(root, rel), data);
  };

  before(async () => {
    root = mkdtempSync(path.join(tmpdir(), 'tts-lsp-dataset-'));
    write(
      'voices/anna/a.wav',
      encodeWav(
        Float32Array.from({ length: 16000 }, (_, i) => 0.3 * Math.sin((2 * Math.PI * 200 * i) / 16000)),
        16000,
      ),
    );
    write(
      'voices/bo/b.wav',
      encodeWav(
        Float32Array.from({ length: 16000 }, (_, i) => 0.3 * Math.sin((2 * Math.PI * 120 * i) / 16000)),
        16000,
      ),
    );
    write(
      'demo.tasks.jsonl',
      [line(0, '他在银行工作。', 'voices/anna/a.wav', { emotion: 'happy' }), line(1, '我们去步行。', 'voices/bo/b.wav')].join('\n') + '\n',
    );
    // A teacher run of those two lines.
    const wav = encodeWav(new Float32Array(2400).fill(0.1), 24000);
    write('teacher-out/u0.wav', wav);
    const rec = {
      line: 0,
      name: 'u0',
      taskHash: 'h',
      text: '他在银行工作。',
      readings: ['ta1', 'zai4', 'yin2', 'hang2', 'gong1', 'zuo4', null],
      phonemes: '他在银<|H|><|ANG2|>工作。',
      audio: 'u0.wav',
      durationSeconds: 0.1,
      sampleRate: 24000,
      backend: 'embedded',
      seed: 42,
      wavSha256: createHash('sha256').update(wav).digest('hex'),
      clonedVoice: false,
      promptAudio: path.join(root, 'voices/anna/a.wav'),
      labels: { emotion: 'happy' },
    };
    write('teacher-out/manifest.jsonl', JSON.stringify(rec) + '\n');
    client = await LspTestClient.start({
      rootDir: root,
      settings: { voices: { speakerPattern: 'voices/{speaker}/*.wav' }, coverage: { minExamples: 2 } },
    });
  });
  after(async () => {
    await client.stop();
    rmSync(root, { recursive: true, force: true });
  });

  void it("coverage counts the open editor's unsaved text", async () => {
    const before = await client.request<CoverageResult>(DatasetCoverageRequest.method, {});
    assert.equal(before.report.lines, 2);
    const hang = before.report.polyphones.find((p) => p.char === '行')!;
    assert.deepEqual(
      hang.readings.filter((r) => r.lines).map((r) => [r.reading, r.lines, r.thin]),
      [
        ['hang2', 1, true],
        ['xing2', 1, true],
      ],
    );
    await client.open(
      path.join(root, 'demo.tasks.jsonl'),
      [
        line(0, '他在银行工作。', 'voices/anna/a.wav'),
        line(1, '我们去步行。', 'voices/bo/b.wav'),
        line(2, '行不行？', 'voices/bo/b.wav'),
      ].join('\n') + '\n',
    );
    const after = await client.request<CoverageResult>(DatasetCoverageRequest.method, {});
    assert.equal(after.report.lines, 3);
    assert.equal(after.report.minExamples, 2);
    assert.ok(after.report.polyphones.find((p) => p.char === '行')!.readings.find((r) => r.reading === 'xing2')!.lines >= 2);
  });

  void it('suggestions from a corpus: ranked, best first, from the corpus', async () => {
    write('corpus.txt', '今天天气很好。\n银行行长来了。\n他很长寿，长大了。\n');
    const res = await client.request<{ suggestions: CorpusSuggestion[] }>(DatasetSuggestRequest.method, {
      corpus: path.join(root, 'corpus.txt'),
      limit: 2,
    });
    const corpus = ['今天天气很好。', '银行行长来了。', '他很长寿，长大了。'];
    assert.equal(res.suggestions.length, 2);
    for (const x of res.suggestions) assert.equal(x.text, corpus[x.line]);
    assert.ok(res.suggestions[0]!.gain >= res.suggestions[1]!.gain);
    // The best sentence brings thin readings or tokens the workspace lacks.
    assert.ok(res.suggestions[0]!.adds.length + res.suggestions[0]!.newPhonemes.length > 0, JSON.stringify(res.suggestions[0]));
  });

  void it('voices: measured, labelled by the pattern, and labels written to the sidecar', async () => {
    const res = await client.request<VoicesResult>(DatasetVoicesRequest.method, {});
    assert.equal(res.labelsFile, path.join(root, 'voices.jsonl'));
    const anna = res.pool.voices.find((v) => v.relative === 'voices/anna/a.wav')!;
    assert.equal(anna.labels.speaker, 'anna');
    assert.ok(Math.abs(anna.measures!.medianF0Hz! - 200) < 3);
    await client.request(DatasetSetVoiceLabelsRequest.method, {
      audio: path.join(root, 'voices/anna/a.wav'),
      labels: { gender: 'female' },
    });
    assert.equal(readFileSync(path.join(root, 'voices.jsonl'), 'utf8'), '{"audio":"voices/anna/a.wav","gender":"female"}\n');
    const again = await client.request<VoicesResult>(DatasetVoicesRequest.method, {});
    assert.deepEqual(again.pool.voices.find((v) => v.relative === 'voices/anna/a.wav')!.labels, { speaker: 'anna', gender: 'female' });
    assert.ok(again.pool.imbalance.includes('gender: no voice in use is labelled male'));
  });

  void it('export: writes the Kaldi folder; a second export into it is refused with the reason', async () => {
    const out = path.join(root, 'export', 'kaldi');
    const res = await client.request<ExportDatasetResult>(DatasetExportRequest.method, {
      run: path.join(root, 'teacher-out'),
      format: 'kaldi',
      out,
      text: 'tokens',
    });
    assert.equal(res.summary.utterances, 1);
    assert.equal(readFileSync(path.join(out, 'train', 'utt2spk'), 'utf8'), 'anna-u0 anna\n');
    assert.equal(readFileSync(path.join(out, 'train', 'text'), 'utf8'), 'anna-u0 他在银<|H|><|ANG2|>工作。\n');
    await assert.rejects(
      client.request(DatasetExportRequest.method, { run: path.join(root, 'teacher-out'), format: 'kaldi', out }),
      /not empty/,
    );
  });
});
