import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Diagnostic, InlayHint, InlayHintLabelPart, MarkupContent } from 'vscode-languageserver-protocol';
import { LspTestClient, REPO } from './lspClient';
import { makeWav } from '../unit/helpers';
import { TaskFileModel } from '../../server/src/core/taskFile';
import { createPolyphoneAnalyzer } from '../../server/src/core/polyphones';
import { ReplaceDict } from '../../server/src/core/dictEngine';
import { defaultSettings } from '../../server/src/core/settings';

const task = (text: string, name: string) => JSON.stringify({ prompt_audio: 'p.wav', prompt_text: '你好', input_text: text, output_name: name });
const parts = (h: InlayHint): InlayHintLabelPart[] => (typeof h.label === 'string' ? [{ value: h.label }] : h.label);
const labelOf = (h: InlayHint) => parts(h).map((p) => p.value).join('');
const tooltipOf = (p: InlayHintLabelPart) => (typeof p.tooltip === 'string' ? p.tooltip : (p.tooltip as MarkupContent | undefined)?.value ?? '');
const lineRange = (from: number, to: number) => ({ start: { line: from, character: 0 }, end: { line: to, character: 0 } });

describe('language server over JSON-RPC: readings as inlay hints', () => {
  let client: LspTestClient;
  let root: string;

  const hints = (uri: string, from: number, to: number) =>
    client.request<InlayHint[] | null>('textDocument/inlayHint', { textDocument: { uri }, range: lineRange(from, to) }).then((h) => h ?? []);

  before(async () => {
    root = mkdtempSync(path.join(tmpdir(), 'tts-hints-'));
    writeFileSync(path.join(root, 'p.wav'), makeWav({ seconds: 4 }));
    client = await LspTestClient.start({ rootDir: root, settings: {} });
    assert.equal(client.initializeResult.capabilities.inlayHintProvider, true);
  });
  after(async () => {
    await client.stop();
  });

  it('puts the reading after each polyphone of the requested lines, with its candidates in the tooltip', async () => {
    const lines = [task('他在银行工作', 'a'), task('重新开始', 'b'), task('他在银行工作，重新开始', 'c')];
    const uri = await client.open(path.join(root, 'a.tasks.jsonl'), lines.join('\n') + '\n');
    const h = await hints(uri, 1, 1);
    // Only line 1 was asked for: 重 (a polyphone); 新, 开, 始 have one reading each.
    assert.deepEqual(h.map((x) => [x.position.line, x.position.character, labelOf(x)]), [[1, lines[1]!.indexOf('重') + 1, 'chong2']]);
    assert.match(tooltipOf(parts(h[0]!)[0]!), /\*\*重\*\* `chong2`/);
    assert.match(tooltipOf(parts(h[0]!)[0]!), /candidates: `zhong4` · \*\*`chong2`\*\*/);
    // Lines 0–2: 行 and 作 on line 0, then 行, 作, 重 on line 2, in order; nothing on 他, 在, 银, 工.
    // 作 is in GLM-TTS's able list (its language model reads it, no G2P tokens): marked ≈.
    const all = await hints(uri, 0, 2);
    assert.deepEqual(all.map((x) => `${x.position.line}:${labelOf(x)}`), ['0:hang2', '0:zuo4≈', '1:chong2', '2:hang2', '2:zuo4≈', '2:chong2']);
    assert.equal(all[0]!.position.character, lines[0]!.indexOf('行') + 1);
  });

  it('Problems holds the warnings only: the per-polyphone information diagnostic is off by default, a setting brings it back', async () => {
    const uri = await client.open(path.join(root, 'b.tasks.jsonl'), `${task('他在银行工作', 'a')}\n`);
    const d = await client.waitForDiagnostics(uri, (x) => x.some((y) => y.code === 'pronunciation/ambiguous'));
    // 行 hang2 where pinyin-pro alone says xing2: a warning; 作 zuo4 agrees with itself: nothing.
    assert.deepEqual(d.map((x) => [x.code, x.severity]), [['pronunciation/ambiguous', 2]]);
    client.settings = { polyphones: { informationDiagnostics: true } };
    await client.connection.sendNotification('workspace/didChangeConfiguration', { settings: {} });
    const d2 = await client.waitForDiagnostics(uri, (x) => x.some((y) => y.code === 'pronunciation/polyphone'));
    assert.deepEqual(d2.map((x) => [x.code, x.severity]).sort(), [['pronunciation/ambiguous', 2], ['pronunciation/polyphone', 3]]);
    client.settings = {};
    await client.connection.sendNotification('workspace/didChangeConfiguration', { settings: {} });
    await client.waitForDiagnostics(uri, (x) => !x.some((y) => y.code === 'pronunciation/polyphone'));
  });

  it('settings: every Han character, or none', async () => {
    const uri = await client.open(path.join(root, 'c.tasks.jsonl'), `${task('他在银行', 'a')}\n`);
    client.settings = { inlayHints: { readings: 'all' } };
    await client.connection.sendNotification('workspace/didChangeConfiguration', { settings: {} });
    assert.deepEqual((await hints(uri, 0, 0)).map(labelOf), ['ta1≈', 'zai4≈', 'yin2≈', 'hang2']);
    client.settings = { inlayHints: { readings: 'none' } };
    await client.connection.sendNotification('workspace/didChangeConfiguration', { settings: {} });
    assert.deepEqual(await hints(uri, 0, 0), []);
    client.settings = {};
    await client.connection.sendNotification('workspace/didChangeConfiguration', { settings: {} });
    assert.deepEqual((await hints(uri, 0, 0)).map(labelOf), ['hang2']);
  });

  it('marks a reading pinned by the dictionary (a link to the rule) and one left to the language model', async () => {
    const dictFile = path.join(root, 'G2P_replace_dict.jsonl');
    writeFileSync(dictFile, '{"重庆": "重<|Q|><|ING4|>"}\n{"银行": "银<|H|><|ANG2|>"}\n');
    await client.request('ttsDistill/revalidate', {});
    const line = task('长大以后去银行', 'a');
    const uri = await client.open(path.join(root, 'd.tasks.jsonl'), `${line}\n`);
    // The server reads the dictionary in the background: ask until the rule shows.
    let h: InlayHint[] = [];
    for (let k = 0; k < 100 && !h.some((x) => labelOf(x) === 'hang2📌'); k++) {
      h = await hints(uri, 0, 0);
      if (!h.some((x) => labelOf(x) === 'hang2📌')) await client.waitForDiagnostics(uri, () => true, 200).catch(() => undefined);
    }
    assert.deepEqual(h.map(labelOf), ['zhang3', 'da4≈', 'hang2📌']);
    const pin = parts(h[2]!)[1]!;
    assert.equal(fileURLToPath(pin.location!.uri), dictFile);
    // The key "银行" on the dictionary's second line.
    assert.deepEqual(pin.location!.range, { start: { line: 1, character: 1 }, end: { line: 1, character: 5 } });
    assert.match(tooltipOf(parts(h[2]!)[0]!), /pinned by the dictionary rule "银行" \(G2P_replace_dict.jsonl:2\)/);
    // 大 is in GLM-TTS's able list: its language model reads it, the G2P's reading is a hint.
    assert.match(tooltipOf(parts(h[1]!)[0]!), /language model/);
    writeFileSync(dictFile, '');
    await client.request('ttsDistill/revalidate', {});
  });
});

describe('language server over JSON-RPC: a big task file is published progressively, edits re-diagnose only their lines', () => {
  let client: LspTestClient;
  let root: string;
  // Real sentences (the CPP corpus), each line distinct: nothing comes from the cache.
  const sentences = readFileSync(path.join(REPO, 'data', 'cpp', 'dev.sent'), 'utf8').split('\n').filter(Boolean).map((s) => s.replace(/\u2581/g, ''));
  const N = 4000;
  const lines = Array.from({ length: N }, (_, i) => task(`${sentences[i % sentences.length]!.slice(0, 30)}${i}`, `u${i}`));
  const text = lines.join('\n') + '\n';
  const polyOf = (d: Diagnostic[]) => d.filter((x) => String(x.code).startsWith('pronunciation/'));

  before(async () => {
    root = mkdtempSync(path.join(tmpdir(), 'tts-progress-'));
    writeFileSync(path.join(root, 'p.wav'), makeWav({ seconds: 4 }));
    client = await LspTestClient.start({ rootDir: root, settings: {} });
  });
  after(async () => {
    await client.stop();
  });

  it('first the structural findings and the lines in view, then the rest as the workers deliver, ending where a full check ends', async () => {
    // What a one-shot check (no workers, no progress) finds with the default settings.
    const flags = createPolyphoneAnalyzer({ dict: ReplaceDict.empty, severity: defaultSettings.polyphones.severity, ignore: defaultSettings.polyphones.ignore });
    const warningsOnly = { version: flags.version, analyze: (p: Parameters<typeof flags.analyze>[0]) => flags.analyze(p).filter((f) => f.code !== 'pronunciation/polyphone') };
    const expected = (await new TaskFileModel(text).validate({ maxPerFile: 5000, promptAudio: defaultSettings.promptAudio, analyzers: [warningsOnly] }))
      .map((f) => `${f.range.start.line}:${f.range.start.character}:${f.code}`);
    assert.ok(expected.filter((e) => Number(e.split(':')[0]) >= 100).length > 100, 'the file has warnings beyond the first screen');

    const seen: Diagnostic[][] = [];
    client.connection.onNotification('textDocument/publishDiagnostics', (p: { uri: string; diagnostics: Diagnostic[] }) => {
      client.diagnostics.set(p.uri, p as never);
      seen.push(p.diagnostics);
    });
    const uri = await client.open(path.join(root, 'big.tasks.jsonl'), text);
    const key = (d: Diagnostic) => `${d.range.start.line}:${d.range.start.character}:${d.code}`;
    const want = [...expected].sort().join('\n');
    const final = await client.waitForDiagnostics(uri, (d) => d.map(key).sort().join('\n') === want, 60000).catch(() => client.diagnostics.get(uri)!.diagnostics);
    assert.deepEqual(final.map(key).sort(), [...expected].sort());
    // The first publication came before the workers: only the first 100 lines (the default view) have polyphone findings.
    assert.ok(seen.length >= 2, `published ${seen.length} times`);
    assert.ok(polyOf(seen[0]!).length > 0);
    assert.ok(polyOf(seen[0]!).every((d) => d.range.start.line < 100), JSON.stringify(polyOf(seen[0]!).slice(-1)));

    // A one-line edit: the new text's warning appears, the old one's goes, nothing else moves.
    const at = 3000;
    const before = final.filter((d) => d.range.start.line === at).map(key);
    const next = task('他在银行工作了很多年', `u${at}`);
    const version = await client.replaceLine(uri, at, next, lines[at]!.length);
    const after = await client.waitForDiagnostics(uri, (d) => client.diagnostics.get(uri)?.version === version && d.some((x) => x.range.start.line === at && x.code === 'pronunciation/ambiguous'));
    const col = next.indexOf('行');
    assert.deepEqual(after.filter((d) => d.range.start.line === at).map(key), [`${at}:${col}:pronunciation/ambiguous`], `before: ${before.join(', ')}`);
    assert.deepEqual(after.filter((d) => d.range.start.line !== at).map(key).sort(), final.filter((d) => d.range.start.line !== at).map(key).sort());
  });
});
