/**
 * Validation of a 100,000-line task file: the language server's cost against two references
 * measured in the same run on the same lines — the floor (JSON.parse + the compiled ajv
 * validator) and vscode-json-languageservice validating each line with the same schema.
 */
import Ajv from 'ajv';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { getLanguageService, TextDocument as JsonTextDocument } from 'vscode-json-languageservice';
import webuiSchema from '../schemas/task-webui.schema.json';
import { ParsedTaskLine, TaskFileModel } from '../server/src/core/formats/taskFile';
import { LspTestClient } from '../test/lsp/lspClient';
import { generateTaskLines } from './generate';
import { makeWav } from '../test/unit/helpers';
import { fastest, paired, row, time, peakMb } from './report';

const N = Number(process.env.BENCH_LINES ?? 100_000);

export async function run(): Promise<void> {
  const lines = generateTaskLines(N);
  const text = lines.join('\n') + '\n';
  console.log(`\n## Task-file validation: ${N.toLocaleString()} lines, ${(Buffer.byteLength(text) / 1e6).toFixed(1)} MB`);
  const opts = {
    maxPerFile: 5000,
    promptAudio: { minSeconds: 3, maxSeconds: 10 },
    promptAudioStatus: () => ({ state: 'ok' as const, path: 'p', channels: 1, sampleRate: 16000, durationSeconds: 5, truncated: false }),
  };

  // Floor: parse + compiled schema check, nothing else — run alternately with ours, fastest of 7 each.
  const ajv = new Ajv({ allErrors: true, strict: true });
  const validate = ajv.compile(webuiSchema);
  const floorRun = () => {
    let bad = 0;
    for (const l of text.split('\n')) {
      if (!l) continue;
      try {
        if (!validate(JSON.parse(l))) bad++;
      } catch {
        bad++;
      }
    }
    return bad;
  };
  const [floorMs, fullMs] = await paired(7, floorRun, async () => {
    const model = new TaskFileModel(text);
    return (await model.validate(opts)).length;
  });
  const floor = { ms: floorMs };
  const full = { ms: fullMs };
  // The per-line validation alone (parse, schema, the teacher's own checks), without the
  // incremental model's caches and cross-line indexes, against the same floor.
  const [floor2Ms, perLineMs] = await paired(7, floorRun, () => {
    let n = 0;
    const ls = text.split('\n');
    for (let i = 0; i < ls.length; i++) n += new ParsedTaskLine(ls[i]!, 'webui', i === ls.length - 1).findings.length;
    return n;
  });

  // One edited line in an already validated file (what typing costs).
  const model = new TaskFileModel(text);
  await model.validate(opts);
  const line = Math.floor(N / 2);
  const old = model.lineText(line);
  const at = old.indexOf('utt_') + 4;
  const edits: number[] = [];
  for (let k = 0; k < 20; k++) {
    const t0 = performance.now();
    model.applyChanges([{ range: { start: { line, character: at }, end: { line, character: at + 1 } }, text: String(k % 10) }]);
    await model.validate(opts);
    edits.push(performance.now() - t0);
  }
  edits.sort((a, b) => a - b);
  const edit = edits[Math.floor(edits.length / 2)]!;

  // What VS Code's own JSON support costs for the same lines and schema.
  const ls = getLanguageService({});
  ls.configure({ validate: true, schemas: [{ uri: 'tts://task-webui', fileMatch: ['*'], schema: webuiSchema }] });
  const jsonLs = await fastest(3, async () => {
    let count = 0;
    for (let i = 0; i < lines.length; i++) {
      const doc = JsonTextDocument.create(`file:///l${i}.json`, 'json', 1, lines[i]!);
      const diags = await ls.doValidation(doc, ls.parseJSONDocument(doc));
      count += diags.length;
    }
    return count;
  });

  // End to end through the real server: didOpen → publishDiagnostics, then one edit.
  const dir = mkdtempSync(path.join(tmpdir(), 'tts-bench-'));
  const file = path.join(dir, 'big.tasks.jsonl');
  writeFileSync(file, text);
  mkdirSync(path.join(dir, 'prompts'));
  for (let i = 0; i < 20; i++) writeFileSync(path.join(dir, 'prompts', `speaker${i}.wav`), makeWav({ seconds: 4 }));
  const client = await LspTestClient.start({ rootDir: dir, settings: { polyphones: { enabled: false }, diagnostics: { debounceMs: 0 } } });
  const e2e = await time(async () => {
    const uri = await client.open(file, text);
    await client.waitForDiagnostics(uri, () => true, 60000);
    return uri;
  });
  const uri = e2e.result;
  const e2eEdit = await time(async () => {
    const old2 = lines[line + 1]!;
    const at2 = old2.indexOf('utt_') + 4;
    await client.change(uri, [
      { range: { start: { line: line + 1, character: at2 }, end: { line: line + 1, character: at2 + 1 } }, text: 'x' },
    ]);
    await client.waitForDiagnostics(uri, () => true, 60000);
  });
  await client.stop();

  row('floor: JSON.parse + compiled ajv (fastest of 7)', floor.ms);
  row(
    'per-line validation: parse + schema + checks',
    perLineMs,
    `${(perLineMs / floor2Ms).toFixed(2)}× floor of the same pairing (${floor2Ms.toFixed(0)} ms; target ≤ 1.5×)`,
  );
  row('full model: + per-line cache, duplicate-name index', full.ms, `${(full.ms / floor.ms).toFixed(2)}× floor`);
  row(
    'vscode-json-languageservice, same schema (fastest of 3)',
    jsonLs.ms,
    `${(jsonLs.ms / perLineMs).toFixed(1)}× the per-line validation, ${(jsonLs.ms / full.ms).toFixed(1)}× the full model (target ≥ 3.5× faster)`,
  );
  row('one edited line, re-diagnosed (median of 20)', edit, 'target ≤ 10 ms');
  row(
    'language server, polyphone flags OFF: open → diagnostics',
    e2e.ms,
    'target ≤ 1000 ms; debounce 0; with the defaults: see "Language server, DEFAULT settings"',
  );
  row('language server, polyphone flags OFF: one edit → diagnostics', e2eEdit.ms, 'includes JSON-RPC and publishing');
  row('peak RSS of the benchmark process', peakMb(), 'MB', true);
}

if (require.main === module) void run();
