import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Diagnostic, InlayHint, InlayHintLabelPart, MarkupContent } from 'vscode-languageserver-protocol';
import { LspTestClient, REPO } from './lspClient';
import { makeWav } from '../unit/helpers';

const task = (text: string, name: string) =>
  JSON.stringify({ prompt_audio: 'p.wav', prompt_text: '你好', input_text: text, output_name: name });
const parts = (h: InlayHint): InlayHintLabelPart[] => (typeof h.label === 'string' ? [{ value: h.label }] : h.label);
const labelOf = (h: InlayHint) =>
  parts(h)
    .map((p) => p.value)
    .join('');
const tooltipOf = (p: InlayHintLabelPart) =>
  typeof p.tooltip === 'string' ? p.tooltip : ((p.tooltip as MarkupContent | undefined)?.value ?? '');
const lineRange = (from: number, to: number) => ({ start: { line: from, character: 0 }, end: { line: to, character: 0 } });

describe('language server over JSON-RPC: readings as inlay hints', () => {
  let client: LspTestClient;
  let root: string;

  const hints = (uri: string, from: number, to: number) =>
    client
      .request<InlayHint[] | null>('textDocument/inlayHint', { textDocument: { uri }, range: lineRange(from, to) })
      .then((h) => h ?? []);

  before(async () => {
    root = mkdtempSync(path.join(tmpdir(), 'tts-hints-'));
    writeFileSync(path.join(root, 'p.wav'), makeWav({ seconds: 4 }));
    client = await LspTestClient.start({ rootDir: root, settings: {} });
    assert.deepEqual(client.initializeResult.capabilities.inlayHintProvider, { resolveProvider: true });
  });
  after(async () => {
    await client.stop();
  });

  it('puts the reading after each polyphone of the requested lines, with its candidates in the tooltip', async () => {
    const lines = [task('他在银行工作', 'a'), task('重新开始', 'b'), task('他在银行工作，重新开始', 'c')];
    const uri = await client.open(path.join(root, 'a.tasks.jsonl'), lines.join('\n') + '\n');
    const h = await hints(uri, 1, 1);
    // Only line 1 was asked for: 重 (a polyphone); 新, 开, 始 have one reading each.
    assert.deepEqual(
      h.map((x) => [x.position.line, x.position.character, labelOf(x)]),
      [[1, lines[1]!.indexOf('重') + 1, 'chong2']],
    );
    assert.match(tooltipOf(parts(h[0]!)[0]!), /\*\*重\*\* `chong2`/);
    assert.match(tooltipOf(parts(h[0]!)[0]!), /candidates: `zhong4` · \*\*`chong2`\*\*/);
    // Lines 0–2: 行 and 作 on line 0, then 行, 作, 重 on line 2, in order; nothing on 他, 在, 银, 工.
    // 作 is in GLM-TTS's able list (its language model reads it, no G2P tokens): marked ≈.
    const all = await hints(uri, 0, 2);
    assert.deepEqual(
      all.map((x) => `${x.position.line}:${labelOf(x)}`),
      ['0:hang2', '0:zuo4≈', '1:chong2', '2:hang2', '2:zuo4≈', '2:chong2'],
    );
    assert.equal(all[0]!.position.character, lines[0]!.indexOf('行') + 1);
  });

  it('Problems holds the warnings only: the per-polyphone information diagnostic is off by default, a setting brings it back', async () => {
    const uri = await client.open(path.join(root, 'b.tasks.jsonl'), `${task('他在银行工作，重新开始，长大以后还要还钱', 'a')}\n`);
    // Whatever the second opinion raises is a warning; nothing is published per polyphone.
    const d = await client.waitForDiagnostics(uri);
    assert.ok(
      d.every((x) => x.code === 'pronunciation/ambiguous' && x.severity === 2),
      JSON.stringify(d),
    );
    client.settings = { polyphones: { informationDiagnostics: true } };
    await client.connection.sendNotification('workspace/didChangeConfiguration', { settings: {} });
    // Back with the setting: one per polyphone (行, 作, 重, 长, 还…), information unless raised.
    const d2 = await client.waitForDiagnostics(uri, (x) => x.some((y) => y.code === 'pronunciation/polyphone'));
    assert.ok(d2.filter((x) => String(x.code).startsWith('pronunciation/')).length >= 5, JSON.stringify(d2));
    assert.ok(
      d2.some((x) => x.code === 'pronunciation/polyphone' && x.severity === 3 && /^行: teacher reads hang2/.test(String(x.message))),
      JSON.stringify(d2),
    );
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

  it('a client that resolves hints (VS Code) gets them without tooltips, and each tooltip on inlayHint/resolve, as the others get it', async () => {
    const dictFile = path.join(root, 'G2P_replace_dict.jsonl');
    writeFileSync(dictFile, '{"银行": "银<|H|><|ANG2|>"}\n');
    await client.request('ttsDistill/revalidate', {});
    const line = task('长大以后去银行，重新开始', 'a');
    const file = path.join(root, 'e.tasks.jsonl');
    writeFileSync(file, `${line}\n`);
    const uri = await client.open(file, `${line}\n`);
    let full: InlayHint[] = [];
    for (let k = 0; k < 100 && !full.some((x) => labelOf(x) === 'hang2📌'); k++) {
      full = await hints(uri, 0, 0);
      if (!full.some((x) => labelOf(x) === 'hang2📌')) await client.waitForDiagnostics(uri, () => true, 200).catch(() => undefined);
    }
    assert.deepEqual(full.map(labelOf), ['zhang3', 'da4≈', 'hang2📌', 'chong2']);

    const vsc = await LspTestClient.start({ rootDir: root, settings: {}, inlayHintResolve: true });
    try {
      await vsc.open(file, `${line}\n`);
      const ask = () => vsc.request<InlayHint[]>('textDocument/inlayHint', { textDocument: { uri }, range: lineRange(0, 0) });
      let lazy: InlayHint[] = [];
      for (let k = 0; k < 100 && !lazy.some((x) => labelOf(x) === 'hang2📌'); k++) {
        lazy = await ask();
        if (!lazy.some((x) => labelOf(x) === 'hang2📌')) await vsc.waitForDiagnostics(uri, () => true, 200).catch(() => undefined);
      }
      // The same hints, where they were, without a tooltip; the pin keeps its link (a click needs no resolve).
      assert.deepEqual(lazy.map(labelOf), full.map(labelOf));
      assert.deepEqual(
        lazy.map((x) => x.position),
        full.map((x) => x.position),
      );
      assert.ok(
        lazy.every((x) => parts(x).every((p) => p.tooltip === undefined) && x.data !== undefined),
        JSON.stringify(lazy),
      );
      assert.deepEqual(parts(lazy[2]!)[1]!.location, parts(full[2]!)[1]!.location);
      assert.ok(JSON.stringify(lazy).length * 2 < JSON.stringify(full).length, 'less than half the JSON');
      // Resolved: what the client that does not resolve got at once.
      for (let k = 0; k < lazy.length; k++) {
        const resolved = await vsc.request<InlayHint>('inlayHint/resolve', lazy[k]);
        assert.deepEqual(resolved.label, full[k]!.label, labelOf(full[k]!));
      }
      // The line changed since (重 is gone): the hint comes back as it was, no stale tooltip.
      const edited = task('长大以后去银行，开始', 'a');
      await vsc.change(uri, [{ range: { start: { line: 0, character: 0 }, end: { line: 0, character: line.length } }, text: edited }]);
      const stale = await vsc.request<InlayHint>('inlayHint/resolve', lazy[3]);
      assert.deepEqual(stale.label, lazy[3]!.label);
      // Past the end of the line now: returned as it is.
      const [n] = lazy[0]!.data as number[];
      const beyond = { ...lazy[0]!, data: [n, 0, 9999] };
      assert.deepEqual(await vsc.request<InlayHint>('inlayHint/resolve', beyond), beyond);
      // Not one of ours: returned as it is.
      const foreign = { position: { line: 0, character: 1 }, label: 'x', data: { other: true } };
      assert.deepEqual(await vsc.request<InlayHint>('inlayHint/resolve', foreign), foreign);
    } finally {
      await vsc.stop();
      writeFileSync(dictFile, '');
      await client.request('ttsDistill/revalidate', {});
    }
  });
});

/** The CPP corpus's sentences (data/cpp/dev.sent), without its word separators. */
function cppSentences(): string[] {
  return readFileSync(path.join(REPO, 'data', 'cpp', 'dev.sent'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((s) => s.replace(/\u2581/g, ''));
}

describe('language server over JSON-RPC: a big task file is published progressively, edits re-diagnose only their lines', () => {
  let client: LspTestClient;
  let root: string;
  // Real sentences (the CPP corpus), each line distinct: nothing comes from the cache.
  const sentences = cppSentences();
  const N = 3000;
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

  it('first the structural findings and the lines in view, then the rest as the workers deliver; each line ends as it reads alone', async () => {
    const seen: Diagnostic[][] = [];
    client.connection.onNotification(
      'textDocument/publishDiagnostics',
      (p: { uri: string; version?: number; diagnostics: Diagnostic[] }) => {
        client.diagnostics.set(p.uri, p as never);
        seen.push(p.diagnostics);
      },
    );
    const uri = await client.open(path.join(root, 'big.tasks.jsonl'), text);
    const key = (d: Diagnostic, line = d.range.start.line) =>
      `${line}:${d.range.start.character}:${d.code}:${typeof d.message === 'string' ? d.message : d.message.value}`;
    // A fresh server loads its G2P and student first (several seconds on a loaded machine).
    const first = await client.waitForDiagnostics(uri, () => true, 60000);
    // The first publication came before the workers: only the first 100 lines (the default view) have polyphone findings.
    assert.ok(
      polyOf(first).every((d) => d.range.start.line < 100),
      JSON.stringify(polyOf(first).slice(-1)),
    );
    assert.equal(first.filter((d) => d.severity === 1).length, 0, 'no errors in this file');

    // What a line says when it is the only line of a file (the server computes it at once): the big
    // file must end with exactly that on the line, for lines far beyond the first screen.
    const alone = async (line: string, name: string) => {
      const u = await client.open(path.join(root, `${name}.tasks.jsonl`), `${line}\n`);
      // Published with its verdict (the workers may be busy with the big file a moment).
      await client.waitForNotification<{ uri: string; pendingLines?: number }>(
        'ttsDistill/documentInfo',
        (p) => p.uri === u && p.pendingLines === 0,
        60000,
      );
      const d = client.diagnostics.get(u)!.diagnostics;
      await client.close(u);
      return polyOf(d);
    };
    let checked = 0;
    for (let at = 150; at < N && checked < 12; at += 37) {
      const own = await alone(lines[at]!, `alone${at}`);
      if (!own.length) continue;
      const want = own
        .map((d) => key(d, at))
        .sort()
        .join('\n');
      const got = await client.waitForDiagnostics(
        uri,
        (d) =>
          polyOf(d)
            .filter((x) => x.range.start.line === at)
            .map((x) => key(x))
            .sort()
            .join('\n') === want,
        60000,
      );
      assert.ok(got.length <= 5001);
      checked++;
    }
    assert.ok(checked >= 5, `lines with warnings checked: ${checked}`);
    assert.ok(seen.length >= 2, `published ${seen.length} times`);

    // A one-line edit: the line ends as the new text reads alone, nothing else moves.
    const at = N - 7;
    const next = task('他在银行工作了很多年，长大以后还要还钱，重新开始', `u${at}`);
    const own = await alone(next, 'alone-edit');
    const others = (d: Diagnostic[]) =>
      d
        .filter((x) => x.range.start.line !== at)
        .map((x) => key(x))
        .sort();
    const before = others(client.diagnostics.get(uri)!.diagnostics);
    const version = await client.replaceLine(uri, at, next, lines[at]!.length);
    const after = await client.waitForDiagnostics(uri, () => client.diagnostics.get(uri)?.version === version);
    assert.deepEqual(
      polyOf(after)
        .filter((d) => d.range.start.line === at)
        .map((d) => key(d))
        .sort(),
      own.map((d) => key(d, at)).sort(),
    );
    assert.ok(
      others(after).length >= before.length - 0 &&
        others(after)
          .filter((k) => !before.includes(k))
          .every((k) => !k.startsWith(`${at}:`)),
    );
  });
});

describe('language server over JSON-RPC: the first pass over a big file publishes what it found so far', () => {
  let client: LspTestClient;
  let root: string;
  before(async () => {
    root = mkdtempSync(path.join(tmpdir(), 'tts-partial-'));
    writeFileSync(path.join(root, 'p.wav'), makeWav({ seconds: 4 }));
    // A file of 30,000 lines: its first screen is published once checked, on a fast machine and a slow one.
    // The trace says when the server learnt of what (the first lines of a didOpen still arriving).
    process.env.TTS_DISTILL_TRACE = '1';
    try {
      client = await LspTestClient.start({ rootDir: root, settings: {} });
    } finally {
      delete process.env.TTS_DISTILL_TRACE;
    }
  });
  after(async () => {
    await client.stop();
  });

  it('errors of the first lines first, then the whole file; a later complete pass publishes once, at its end', async () => {
    const N = 30_000;
    const lines = Array.from({ length: N }, (_, i) => task(`今天天气很好${i}`, `u${i}`));
    lines[3] = '{"broken": ';
    lines[N - 5] = '{"broken": ';
    const seen: Array<{ version?: number; errors: number[] }> = [];
    client.connection.onNotification(
      'textDocument/publishDiagnostics',
      (p: { uri: string; version?: number; diagnostics: Diagnostic[] }) => {
        client.diagnostics.set(p.uri, p as never);
        seen.push({ version: p.version, errors: p.diagnostics.filter((d) => d.severity === 1).map((d) => d.range.start.line) });
      },
    );
    const uri = await client.open(path.join(root, 'big.tasks.jsonl'), lines.join('\n') + '\n');
    await client.waitForDiagnostics(uri, (d) => d.some((x) => x.severity === 1 && x.range.start.line === N - 5), 60000);
    assert.deepEqual(seen[0]!.errors, [3], 'the first publication: the error of line 4, before the pass reached the end');
    assert.deepEqual(seen[seen.length - 1]!.errors, [3, N - 5]);

    // Settings or files changed: the complete pass keeps the last publication until it is done.
    const from = seen.length;
    await client.request('ttsDistill/revalidate', {});
    const deadline = Date.now() + 30000;
    while (seen.length === from && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.ok(seen.length > from, 'published again');
    for (const p of seen.slice(from)) assert.deepEqual(p.errors, [3, N - 5], 'no partial list after the first pass');
  });

  it("its first screen's readings are asked for from the first bytes of its didOpen, before the rest has arrived", async () => {
    const lines = Array.from({ length: 30_000 }, (_, i) => task(`银行行长${i}重新出发`, `v${i}`));
    const uri = await client.open(path.join(root, 'second.tasks.jsonl'), lines.join('\n') + '\n');
    const asked = `opening ${uri}: the first screen's 100 texts asked for`;
    const opened = `didOpen ${uri}`;
    const deadline = Date.now() + 30000;
    const log = () => client.stderr.join('');
    while (!(log().includes(asked) && log().includes(opened)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.ok(log().includes(asked), 'the 100 texts of lines 1–100 asked for');
    const early = log().indexOf(`opening ${uri}: 200 first lines (tasks)`);
    assert.ok(early >= 0 && early < log().indexOf(opened), 'the first 200 lines known before the didOpen arrived');
    await client.waitForDiagnostics(uri, () => true, 60000);
  });
});

describe('language server over JSON-RPC: inlay hints of lines no one has read yet, with a client that can refresh', () => {
  let client: LspTestClient;
  let root: string;
  before(async () => {
    root = mkdtempSync(path.join(tmpdir(), 'tts-hints-refresh-'));
    writeFileSync(path.join(root, 'p.wav'), makeWav({ seconds: 4 }));
    // No time on the server's thread for unread lines: every one goes to the workers.
    process.env.TTS_DISTILL_HINT_BUDGET_MS = '0';
    try {
      // A long debounce: the edit below is a whole-text change, which waits for it (no pass reads the line first).
      client = await LspTestClient.start({ rootDir: root, settings: { diagnostics: { debounceMs: 10000 } }, inlayHintRefresh: true });
    } finally {
      delete process.env.TTS_DISTILL_HINT_BUDGET_MS;
    }
  });
  after(async () => {
    await client.stop();
  });

  it('answers with the lines already read, leaves the others to the workers and asks the client to refresh; then all of them', async () => {
    const lines = [task('他在银行工作', 'a'), task('今天天气很好', 'b')];
    const uri = await client.open(path.join(root, 'r.tasks.jsonl'), lines.join('\n') + '\n');
    const range = { textDocument: { uri }, range: lineRange(0, 1) };
    const done = () =>
      client.notifications.some(
        (n) => n.method === 'ttsDistill/documentInfo' && (n.params as { uri: string; pendingLines?: number }).pendingLines === 0,
      );
    const deadline = Date.now() + 30000;
    while (!done() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.ok(done(), 'every line read');
    const before = (await client.request<InlayHint[]>('textDocument/inlayHint', range)).map((h) => `${h.position.line}:${labelOf(h)}`);
    assert.deepEqual(before, ['0:hang2', '0:zuo4≈', '1:hao3'], 'both lines, read by the workers');

    // Line 1 becomes a text no one has read: its hints are left to the workers, then a refresh.
    const refreshes = client.inlayHintRefreshes;
    const edited = task('重新开始', 'b');
    await client.change(uri, [{ text: [lines[0], edited].join('\n') + '\n' }]);
    const first = (await client.request<InlayHint[]>('textDocument/inlayHint', range)).map((h) => `${h.position.line}:${labelOf(h)}`);
    assert.deepEqual(first, ['0:hang2', '0:zuo4≈'], 'line 1 not read yet: left out, not computed on the server’s thread');
    while (client.inlayHintRefreshes === refreshes && Date.now() < deadline + 30000) await new Promise((r) => setTimeout(r, 20));
    assert.equal(client.inlayHintRefreshes, refreshes + 1, 'one refresh asked for');
    const again = (await client.request<InlayHint[]>('textDocument/inlayHint', range)).map((h) => `${h.position.line}:${labelOf(h)}`);
    assert.deepEqual(again, ['0:hang2', '0:zuo4≈', '1:chong2']);
  });
});

describe('language server over JSON-RPC: over the cap, the count of problems not shown follows the workers at most once a second', () => {
  let client: LspTestClient;
  let root: string;
  const sentences = cppSentences();
  const N = 4000;
  const lines = Array.from({ length: N }, (_, i) => task(`${sentences[(i * 7) % sentences.length]!.slice(0, 30)}${i}`, `c${i}`));

  before(async () => {
    root = mkdtempSync(path.join(tmpdir(), 'tts-cap-'));
    writeFileSync(path.join(root, 'p.wav'), makeWav({ seconds: 4 }));
    client = await LspTestClient.start({ rootDir: root, settings: { diagnostics: { maxPerFile: 5 } } });
  });
  after(async () => {
    await client.stop();
  });

  it('publications that only change the count are a second apart while lines are pending; the last one has the final count', async () => {
    const seen: Array<{ at: number; diagnostics: Diagnostic[] }> = [];
    client.connection.onNotification(
      'textDocument/publishDiagnostics',
      (p: { uri: string; version?: number; diagnostics: Diagnostic[] }) => {
        client.diagnostics.set(p.uri, p as never);
        seen.push({ at: performance.now(), diagnostics: p.diagnostics });
      },
    );
    const uri = await client.open(path.join(root, 'cap.tasks.jsonl'), lines.join('\n') + '\n');
    const info = await client.waitForNotification<{ uri: string; pendingLines?: number; errors: number; warnings: number }>(
      'ttsDistill/documentInfo',
      (p) => p.uri === uri && p.pendingLines === 0,
      120000,
    );
    const notice = (d: Diagnostic[]) => d.find((x) => x.code === 'limit/too-many-findings');
    const shown = (d: Diagnostic[]) => JSON.stringify(d.filter((x) => x.code !== 'limit/too-many-findings'));
    // The final count arrives (the pass that found no line pending publishes whatever changed).
    const last = await client.waitForDiagnostics(uri, (d) => !!notice(d), 60000);
    const count = (d: Diagnostic[]) => Number(/^(\d+) more problems/.exec(String(notice(d)?.message))?.[1] ?? 0);
    assert.ok(count(last) > 100, String(notice(last)?.message));
    // The status bar's counts are the file's: the warnings shown and those the notice counts.
    const leftWarnings = Number(/(\d+) warning/.exec(String(notice(last)?.message))?.[1] ?? 0);
    const shownWarnings = last.filter((d) => d.severity === 2).length;
    assert.ok(leftWarnings > 0, String(notice(last)?.message));
    assert.equal(info.warnings, shownWarnings + leftWarnings);
    // The same count as a complete pass of the same text (a dictionary-free revalidation).
    await client.connection.sendRequest('ttsDistill/revalidate', { uris: [uri] });
    const again = await client.waitForDiagnostics(uri, (d) => d !== last && !!notice(d), 60000);
    assert.equal(count(again), count(last));
    // While lines were pending (the count not final yet): two publications that show the same
    // findings are at least a second apart.
    for (let k = 1; k < seen.length; k++) {
      const [a, b] = [seen[k - 1]!, seen[k]!];
      const onlyCount = notice(a.diagnostics) && notice(b.diagnostics) && shown(a.diagnostics) === shown(b.diagnostics);
      if (onlyCount && count(b.diagnostics) !== count(last))
        assert.ok(b.at - a.at >= 900, `publications ${k - 1} and ${k}: ${(b.at - a.at).toFixed(0)} ms apart, only the count changed`);
    }
    assert.ok(seen.length >= 2, `${seen.length} publications`);
  });
});

describe('language server over JSON-RPC: the readings workers’ priority', () => {
  let client: LspTestClient;
  let root: string;
  const sentences = cppSentences();
  const texts = Array.from({ length: 300 }, (_, i) => `${sentences[(i * 11) % sentences.length]!.slice(0, 24)}${i}`);

  before(async () => {
    root = mkdtempSync(path.join(tmpdir(), 'tts-nice-'));
    writeFileSync(path.join(root, 'p.wav'), makeWav({ seconds: 4 }));
    client = await LspTestClient.start({ rootDir: root });
  });
  after(async () => {
    await client.stop();
  });

  it('on Linux: the server’s own priority for the lines in view, nice 10 from the first lines read in the background on', async (t) => {
    if (process.platform !== 'linux') return t.skip('thread nice values are Linux’s');
    const pid = client.child.pid!;
    const niceOf = (tid: string) => {
      // /proc/<pid>/task/<tid>/stat: the nice value is field 19 (after the command in parentheses).
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
    };
    const main = niceOf(String(pid));
    const nicedThreads = () => readdirSync(`/proc/${pid}/task`).filter((tid) => niceOf(tid) === Math.min(19, main + 10));
    const read = async (name: string, text: string) => {
      const u = await client.open(path.join(root, name), text);
      await client.waitForNotification<{ uri: string; pendingLines?: number }>(
        'ttsDistill/documentInfo',
        (p) => p.uri === u && p.pendingLines === 0,
        120000,
      );
    };
    // 60 lines: all in view (the first 100 until the client says otherwise), read first.
    await read(
      'view.tasks.jsonl',
      texts
        .slice(0, 60)
        .map((x, i) => task(x, `v${i}`))
        .join('\n') + '\n',
    );
    assert.deepEqual(nicedThreads(), [], 'no thread below the server’s after the lines in view');
    // 300 more: 200 of them past the view, read in the background.
    await read('more.tasks.jsonl', texts.map((x, i) => task(x, `m${i}`)).join('\n') + '\n');
    const niced = nicedThreads();
    // The workers (one per core, at most 4), not the server's thread.
    assert.ok(niced.length >= 1 && niced.length <= 4, `threads at nice ${main + 10}: ${niced.length}`);
    assert.ok(!niced.includes(String(pid)));
  });
});

describe('language server over JSON-RPC: the polyphone verdicts kept from one session to the next', () => {
  const sentences = cppSentences();
  const text =
    Array.from({ length: 400 }, (_, i) => task(`${sentences[(i * 13) % sentences.length]!.slice(0, 30)}${i}`, `k${i}`)).join('\n') + '\n';
  const readBack = (c: LspTestClient) =>
    c.notifications
      .filter((n) => n.method === 'ttsDistill/log')
      .map((n) => (n.params as { message: string }).message)
      .find((m) => /read back from the cache of an earlier session/.test(m));
  /** A new server on the workspace (with a folder for its caches, or none) opens the file: its diagnostics once no line is pending, and what it read back. */
  const session = async (root: string, storage: string | undefined, settings: Record<string, unknown> = {}) => {
    const client = await LspTestClient.start({
      rootDir: root,
      settings,
      ...(storage ? { initializationOptions: { cacheDir: storage } } : {}),
    });
    try {
      const uri = await client.open(path.join(root, 'keep.tasks.jsonl'), text);
      await client.waitForNotification<{ uri: string; pendingLines?: number }>(
        'ttsDistill/documentInfo',
        (p) => p.uri === uri && p.pendingLines === 0,
        120000,
      );
      return { diagnostics: client.diagnostics.get(uri)!.diagnostics, readBack: readBack(client) };
    } finally {
      await client.stop();
    }
  };

  it('a second server reads back what the first one computed (the same diagnostics); nothing is kept or read with the setting off', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'tts-keep-'));
    const storage = path.join(mkdtempSync(path.join(tmpdir(), 'tts-storage-')), 'workspace-storage');
    writeFileSync(path.join(root, 'p.wav'), makeWav({ seconds: 4 }));
    const first = await session(root, storage);
    assert.equal(first.readBack, undefined, 'nothing kept before');
    const warnings = first.diagnostics.filter((d) => d.code === 'pronunciation/ambiguous');
    assert.ok(warnings.length > 5, `${warnings.length} warnings`);
    const files = readdirSync(path.join(storage, 'readings'));
    assert.equal(files.length, 1, files.join(', '));
    assert.match(files[0]!, /^readings-[0-9a-f]{16}\.jsonl$/);

    const second = await session(root, storage);
    assert.match(second.readBack ?? '', /^readings of 400 lines read back/);
    assert.deepEqual(second.diagnostics, first.diagnostics);

    // The setting off: nothing read back (the verdicts are computed again: the same).
    const off = await session(root, storage, { polyphones: { keepAcrossSessions: false } });
    assert.equal(off.readBack, undefined);
    assert.deepEqual(off.diagnostics, first.diagnostics);
  });

  it('without a folder from the client, nothing is kept, and nothing is written in the workspace', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'tts-nokeep-'));
    writeFileSync(path.join(root, 'p.wav'), makeWav({ seconds: 4 }));
    assert.equal((await session(root, undefined)).readBack, undefined);
    assert.equal((await session(root, undefined)).readBack, undefined);
    assert.deepEqual(readdirSync(root).sort(), ['p.wav']);
  });
});
