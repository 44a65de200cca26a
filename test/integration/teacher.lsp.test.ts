// The batch through the built language server (dist/server.js) over real JSON-RPC, as VS Code runs it:
// preflight, submit with progress notifications, code lenses on finished lines, trust check.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { LspTestClient } from '../lsp/lspClient';
import { webuiLines, writePromptWav } from '../unit/teacherHelpers';
import type { BatchPreflight, BatchProgressParams, BatchSummary } from '../../protocol/lsp/teacher';

let dir: string;
let client: LspTestClient;

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'teacher-lsp-'));
  await writePromptWav(path.join(dir, 'prompt.wav'));
  client = await LspTestClient.start({
    rootDir: dir,
    settings: { batch: { outputDir: 'out', testOutputDir: 'out-test', concurrency: 2 } },
  });
});

after(async () => {
  await client.stop();
  await rm(dir, { recursive: true, force: true });
});

test('teacher over LSP: preflight finds the bad line, the valid lines run in the server, finished lines get lenses', async () => {
  const file = path.join(dir, 'a.tasks.jsonl');
  const text = webuiLines(4) + '{"prompt_audio": "prompt.wav", "input_text": "缺", "output_name": 5}\n';
  await writeFile(file, text);
  const uri = await client.open(file, text);
  const pre = await client.request<BatchPreflight>('ttsDistill/batchPreflight', { uri });
  assert.equal(pre.lines, 5);
  assert.deepEqual(
    pre.invalid.map((x) => x.line),
    [4],
  );
  assert.equal(pre.backend, 'embedded');
  assert.equal(pre.outputDir, path.join(dir, 'out'));
  assert.equal(pre.runsExternalProgram, false);

  const summary = await client.request<BatchSummary>('ttsDistill/submitBatch', {
    uri,
    batchId: 'b1',
    outDir: pre.outputDir,
    validOnly: true,
    workspaceTrusted: false,
  });
  assert.deepEqual([summary.total, summary.done, summary.failed, summary.invalid], [4, 4, 0, 1]);
  const progress = client.notifications.filter((n) => n.method === 'ttsDistill/batchProgress').map((n) => n.params as BatchProgressParams);
  assert.ok(progress.length >= 1 && progress.every((p) => p.batchId === 'b1'));
  assert.equal(progress.at(-1)!.done, 4);

  const lenses = (await client.codeLenses(uri)) ?? [];
  // Only this feature's lenses (the audio preview adds its own "$(play) …" ones).
  const titles = lenses.filter((l) => !l.command?.title.startsWith('$(')).map((l) => `${l.range.start.line}:${l.command?.title}`);
  for (let i = 0; i < 4; i++) {
    assert.ok(titles.includes(`${i}:▶ play`), titles.join(', '));
    assert.ok(
      titles.some((t) => new RegExp(`^${i}:✓ \\d+\\.\\d s · voice not cloned$`).test(t)),
      titles.join(', '),
    );
  }
  assert.ok(!titles.some((t) => t.startsWith('4:')));
  // The preview's own Teacher lens opens the same thing as ▶ play: the server shows it once.
  const teacherOpeners = lenses.filter(
    (l) =>
      l.range.start.line === 0 &&
      l.command?.command === 'ttsDistill.previewAudio' &&
      (l.command.arguments?.[0] as { source?: string }).source === 'teacher',
  );
  assert.deepEqual(
    teacherOpeners.map((l) => l.command?.title),
    ['▶ play'],
  );
  assert.ok(
    lenses.some((l) => l.range.start.line === 0 && l.command?.title === '$(play) Prompt'),
    'the preview still offers the prompt',
  );
  const play = lenses.find((l) => l.command?.title === '▶ play')!;
  assert.equal(play.command!.command, 'ttsDistill.previewAudio');
});

test('teacher over LSP: a line left out by QA shows why in a code lens; including it writes qa-overrides.json', async () => {
  const uri = pathToFileURL(path.join(dir, 'a.tasks.jsonl')).href;
  const out = path.join(dir, 'out');
  await writeFile(path.join(out, 'qa-overrides.json'), '{ "utt0001": "exclude" }\n');
  const excludedLens = async () => ((await client.codeLenses(uri)) ?? []).find((l) => l.command?.command === 'ttsDistill.qaOverride');
  let lens = await excludedLens();
  assert.equal(lens?.range.start.line, 1);
  assert.match(lens!.command!.title, /^⊘ excluded · excluded by hand/);
  assert.deepEqual(lens!.command!.arguments, [{ runDir: out, name: 'utt0001', override: 'include' }]);
  await client.request('ttsDistill/qaOverride', lens!.command!.arguments![0]);
  assert.deepEqual(JSON.parse(await readFile(path.join(out, 'qa-overrides.json'), 'utf8')), { utt0001: 'include' });
  lens = await excludedLens();
  assert.equal(lens, undefined);
  // After `tts-distill qa`: the ✓ lens names the SNR, its tooltip the measures.
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
  await writeFile(
    path.join(out, 'qa.jsonl'),
    JSON.stringify({
      name: 'utt0000',
      line: 0,
      audio: 'utt0000.wav',
      measures,
      syllables: 7,
      secondsPerSyllable: 0.276,
      verdict: 'ok',
      reasons: [],
    }) + '\n',
  );
  const done = ((await client.codeLenses(uri)) ?? []).find((l) => l.range.start.line === 0 && l.command?.title.startsWith('✓'));
  assert.match(done!.command!.title, /^✓ \d+\.\d s · voice not cloned · SNR 32 dB$/);
  assert.match(String(done!.command!.tooltip), /QA: SNR 32 dB · -18\.8 LUFS · band 9\.8 kHz · 0\.28 s\/syllable · silence 25 %/);
  // Only an output folder of an open task file, with a manifest, takes a decision.
  await assert.rejects(
    client.request('ttsDistill/qaOverride', { runDir: dir, name: 'utt0001', override: 'exclude' }),
    /not a teacher output folder/,
  );
});

test('teacher over LSP: a teacher that runs programs is refused in an untrusted workspace', async () => {
  await client.setSettings({ teacher: { backend: 'glmtts-cli', glmttsPath: dir }, batch: { outputDir: 'out' } });
  const file = path.join(dir, 'b.tasks.jsonl');
  await writeFile(file, webuiLines(1));
  const uri = await client.open(file, webuiLines(1));
  const pre = await client.request<BatchPreflight>('ttsDistill/batchPreflight', { uri });
  assert.equal(pre.runsExternalProgram, true);
  await assert.rejects(
    client.request('ttsDistill/submitBatch', {
      uri,
      batchId: 'b2',
      outDir: path.join(dir, 'o2'),
      validOnly: false,
      workspaceTrusted: false,
    }),
    /untrusted workspace/,
  );
});

test('teacher over LSP: lines the editor shows errors on (prompt audio) are in the preflight and left out with validOnly', async () => {
  await client.setSettings({ batch: { outputDir: 'out' } });
  const file = path.join(dir, 'c.tasks.jsonl');
  // Line 1's prompt does not exist: only the editor's prompt-audio check says so, not the runner's parse.
  const text = webuiLines(3)
    .split('\n')
    .map((l, i) => (i === 1 ? l.replace('prompt.wav', 'missing.wav') : l))
    .join('\n');
  await writeFile(file, text);
  const uri = await client.open(file, text);
  await client.waitForDiagnostics(uri, (d) => d.some((x) => x.severity === 1 && x.range.start.line === 1));
  const pre = await client.request<BatchPreflight>('ttsDistill/batchPreflight', { uri });
  assert.deepEqual(
    pre.invalid.map((x) => x.line),
    [1],
  );
  assert.match(pre.invalid[0]!.reason, /missing\.wav/);
  const out = path.join(dir, 'out-skip');
  const summary = await client.request<BatchSummary>('ttsDistill/submitBatch', {
    uri,
    batchId: 'b3',
    outDir: out,
    validOnly: true,
    workspaceTrusted: true,
  });
  assert.deepEqual([summary.total, summary.done, summary.invalid], [2, 2, 1]);
});
