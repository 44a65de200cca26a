// Issue 17, items 5 and 7 (keys): a line nested 5,000 deep or with 100,000 keys costs a diagnostic on that line, not the tools.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { readFailures, readManifest } from '../../server/src/core/batch/manifest';
import { LspTestClient, SERVER } from '../lsp/lspClient';
import { runCliBounded, tempDir } from './helpers';

const line = (name: string, text: string, extra = '') =>
  `{"prompt_audio":"p.wav","prompt_text":"提示","input_text":"${text}","output_name":"${name}"${extra}}`;
const DEEP = ',"x":' + '['.repeat(5000) + ']'.repeat(5000);
const DEEP_BROKEN = ',"x":' + '['.repeat(5000);
const MANY_KEYS = Array.from({ length: 100_000 }, (_, i) => `,"k${i}":1`).join('');
const TEXT =
  [
    line('a', '你好。'),
    line('deep', '深。', DEEP),
    line('broken', '坏。', DEEP_BROKEN),
    line('keys', '多。', MANY_KEYS),
    line('b', '再见。'),
  ].join('\n') + '\n';

test('validate: one error on each hostile line, the other lines checked, in bounded time and memory', { timeout: 90_000 }, async (t) => {
  const dir = await tempDir(t);
  await writeFile(path.join(dir, 'h.tasks.jsonl'), TEXT);
  const r = await runCliBounded(['validate', '--format', 'json', 'h.tasks.jsonl'], { cwd: dir, timeoutMs: 60_000, maxOldSpaceMb: 384 });
  assert.equal(r.timedOut, false);
  assert.equal(r.code, 1, r.err);
  assert.doesNotMatch(r.err, /Maximum call stack/);
  const findings = JSON.parse(r.out) as Array<{ code: string; range: { start: { line: number } } }>;
  const at = (l: number) => findings.filter((f) => f.range.start.line === l).map((f) => f.code);
  assert.ok(at(1).includes('task/too-deep'), JSON.stringify(at(1)));
  assert.ok(
    at(2).some((c) => c === 'task/json-syntax'),
    JSON.stringify(at(2)),
  );
  assert.ok(at(3).includes('task/too-many-keys'), JSON.stringify(at(3)));
  assert.ok(at(4).includes('task/prompt-audio-missing'), 'the line after them is checked');
});

test('submit: the hostile lines fail, the others are synthesized', { timeout: 90_000 }, async (t) => {
  const dir = await tempDir(t);
  await writeFile(path.join(dir, 'h.tasks.jsonl'), TEXT);
  const r = await runCliBounded(['submit', 'h.tasks.jsonl', '--out', 'out', '--quiet'], {
    cwd: dir,
    timeoutMs: 60_000,
    maxOldSpaceMb: 384,
  });
  assert.equal(r.timedOut, false);
  assert.equal(r.code, 2, r.err);
  assert.deepEqual(
    (await readManifest(path.join(dir, 'out', 'manifest.jsonl'))).map((m) => m.name),
    ['a', 'b'],
  );
  assert.deepEqual(
    (await readFailures(path.join(dir, 'out', 'failures.jsonl'))).map((f) => f.line),
    [1, 2, 3],
  );
});

test('a dictionary line nested 5,000 deep is one error, not a crash', { timeout: 60_000 }, async (t) => {
  const dir = await tempDir(t);
  await writeFile(
    path.join(dir, 'G2P_replace_dict.jsonl'),
    `{"银行": "银<|H|><|ANG2|>"}\n{"a": ${'['.repeat(5000)}${']'.repeat(5000)}}\n{"b": ${'['.repeat(5000)}}\n`,
  );
  const r = await runCliBounded(['validate', 'G2P_replace_dict.jsonl'], { cwd: dir, timeoutMs: 45_000 });
  assert.equal(r.timedOut, false);
  assert.doesNotMatch(r.err, /Maximum call stack/);
  assert.match(r.out, /G2P_replace_dict\.jsonl:2:\d+: error: .*levels deep/);
  assert.match(r.out, /G2P_replace_dict\.jsonl:3:\d+: error: .*levels deep/);
});

test(
  'the language server publishes diagnostics for such a file',
  { timeout: 90_000, skip: !existsSync(SERVER) && 'npm run build first' },
  async (t) => {
    const dir = await tempDir(t);
    const client = await LspTestClient.start({ rootDir: dir, settings: { polyphones: { enabled: false } } });
    t.after(() => client.stop());
    const uri = await client.open(path.join(dir, 'h.tasks.jsonl'), TEXT);
    // The last line's missing prompt audio shows once the (asynchronous) prompt check settles: the whole file is checked.
    const d = await client.waitForDiagnostics(
      uri,
      (ds) =>
        ds.some((x) => x.code === 'task/too-deep') &&
        ds.some((x) => x.code === 'task/too-many-keys') &&
        ds.some((x) => x.range.start.line === 4),
    );
    assert.deepEqual(
      d.filter((x) => x.code === 'task/too-deep').map((x) => x.range.start.line),
      [1],
    );
  },
);
