import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CodeAction, Diagnostic, MarkupContent, TextDocumentEdit, WorkspaceEdit } from 'vscode-languageserver-protocol';
import { LspTestClient } from './lspClient';

const task = (text: string, name: string) =>
  JSON.stringify({ prompt_audio: 'p.wav', prompt_text: '你好', input_text: text, output_name: name });
const msg = (d: Diagnostic | undefined): string => (d === undefined ? '' : typeof d.message === 'string' ? d.message : d.message.value);
const polyOf = (d: Diagnostic[], char: string, line = 0) =>
  d.find(
    (x) =>
      x.range.start.line === line &&
      (x.code === 'pronunciation/polyphone' || x.code === 'pronunciation/ambiguous') &&
      msg(x).startsWith(`${char}:`),
  );

/** Applies a WorkspaceEdit the way an editor would, to files on disk (create + text edits). */
function applyToDisk(edit: WorkspaceEdit): string[] {
  const touched: string[] = [];
  for (const change of edit.documentChanges ?? []) {
    if ('kind' in change) {
      assert.equal(change.kind, 'create');
      const file = fileURLToPath(change.uri);
      if (!existsSync(file)) writeFileSync(file, '');
      continue;
    }
    const te = change as TextDocumentEdit;
    const file = fileURLToPath(te.textDocument.uri);
    let text = existsSync(file) ? readFileSync(file, 'utf8') : '';
    for (const e of te.edits) {
      const lines = text.split('\n');
      const offset = (p: { line: number; character: number }) => lines.slice(0, p.line).reduce((n, l) => n + l.length + 1, 0) + p.character;
      text = text.slice(0, offset(e.range.start)) + ('newText' in e ? e.newText : '') + text.slice(offset(e.range.end));
    }
    writeFileSync(file, text);
    touched.push(file);
  }
  return touched;
}

describe('language server over JSON-RPC: pronunciation', () => {
  let client: LspTestClient;
  let root: string;
  let dictFile: string;

  before(async () => {
    root = mkdtempSync(path.join(tmpdir(), 'tts-pron-'));
    dictFile = path.join(root, 'G2P_replace_dict.jsonl');
    // These tests read the per-polyphone information diagnostic (off by default: the readings are inlay hints then).
    client = await LspTestClient.start({ rootDir: root, settings: { polyphones: { informationDiagnostics: true } } });
  });
  after(async () => {
    await client.stop();
  });

  it('flags polyphones with the teacher’s reading; a quick fix creates the dictionary, the rule then decides', async () => {
    const uri = await client.open(path.join(root, 'a.tasks.jsonl'), `${task('他在银行工作', 'a')}\n`);
    // A fresh server's workers load the G2P and the student first (several seconds on a loaded machine).
    const diags = await client.waitForDiagnostics(uri, (d) => !!polyOf(d, '行'), 60000);
    const hang = polyOf(diags, '行')!;
    // The default student reads 银行 as the teacher does: no second opinion against it, the information only.
    // (No verdict is published before the student's: the workers load it before they judge a line.)
    assert.equal(msg(hang), '行: teacher reads hang2 (also xing2, hang4, heng2)');
    assert.equal(hang.severity, 3);
    const line = task('他在银行工作', 'a');
    assert.equal(hang.range.start.character, line.indexOf('行'));
    assert.equal(hang.range.end.character, line.indexOf('行') + 1);
    // 作 zuo4/zuo1 is a polyphone too, at the configured severity (information).
    assert.equal(polyOf(diags, '作')?.severity, 3);

    const actions = (await client.codeActions(uri, hang.range, [hang]))!.filter(
      (a): a is CodeAction => 'title' in a && !!(a as CodeAction).edit,
    );
    assert.deepEqual(
      actions.map((a) => a.title),
      [
        'Pin 行 as xing2 in 银行',
        'Pin 行 as hang2 in 银行 (the teacher’s reading now)',
        'Pin 行 as hang4 in 银行',
        'Pin 行 as heng2 in 银行',
      ],
    );
    const pin = actions[1]!;
    const changes = pin.edit!.documentChanges!;
    assert.deepEqual(changes[0], { kind: 'create', uri: new URL(`file://${dictFile}`).href, options: { ignoreIfExists: true } });
    applyToDisk(pin.edit!);
    // A new dictionary is written in the dialect the teacher reads.
    assert.equal(readFileSync(dictFile, 'utf8'), '{"银行": "银<|H|><|ANG2|>"}\n');
    // The client tells the server that a .jsonl changed on disk; the rule now decides.
    await client.request('ttsDistill/revalidate', {});
    const after = await client.waitForDiagnostics(uri, (d) => /decided by the dictionary rule/.test(msg(polyOf(d, '行'))));
    const pinned = polyOf(after, '行')!;
    assert.match(
      msg(pinned),
      /^行: teacher reads hang2 \(also xing2, hang4, heng2\), decided by the dictionary rule "银行" \(G2P_replace_dict.jsonl:1\)$/,
    );
    assert.equal(pinned.severity, 3);
    assert.equal(fileURLToPath(pinned.relatedInformation![0]!.location.uri), dictFile);
    assert.deepEqual(pinned.relatedInformation![0]!.location.range, { start: { line: 0, character: 1 }, end: { line: 0, character: 5 } });
  });

  it('pins in the dialect of an existing dictionary, with the shortest context that decides the character', async () => {
    const existing = '{"word": "长", "context": "长城", "phoneme": "chang2"}';
    writeFileSync(dictFile, existing);
    const line = task('银行行长来了', 'r');
    const uri = await client.open(path.join(root, 'r.tasks.jsonl'), `${line}\n`);
    await client.request('ttsDistill/revalidate', {});
    // Until the server has read the new file, diagnostics may still come from the previous dictionary (银行 pinned).
    const diags = await client.waitForDiagnostics(
      uri,
      (d) => d.filter((x) => msg(x).startsWith('行:')).length === 2 && !d.some((x) => msg(x).includes('rule "银行"')),
    );
    const second = diags.filter((x) => msg(x).startsWith('行:')).sort((a, b) => a.range.start.character - b.range.start.character)[1]!;
    assert.equal(second.range.start.character, line.indexOf('行行') + 1);
    const actions = (await client.codeActions(uri, second.range, [second]))!.filter(
      (a): a is CodeAction => 'title' in a && !!(a as CodeAction).edit,
    );
    // 行行 holds the character twice, so 行长 is the shortest context around the second 行; the file's dialect is kept.
    const hang = actions.find((a) => a.title.startsWith('Pin 行 as hang2'))!;
    assert.match(hang.title, /^Pin 行 as hang2 in 行长/);
    const edit = hang.edit!.documentChanges![0] as TextDocumentEdit;
    assert.equal(edit.edits.length, 1);
    assert.deepEqual(edit.edits[0]!.range.start, { line: 0, character: existing.length });
    assert.equal((edit.edits[0] as { newText: string }).newText, '\n{"word": "行", "context": "行长", "phoneme": "hang2"}\n');
  });

  it('an unsaved edit of the open dictionary re-checks the task files at once', async () => {
    writeFileSync(dictFile, '{"银行": "银<|H|><|ANG2|>"}\n');
    const tasks = await client.open(path.join(root, 'b.tasks.jsonl'), `${task('长大以后', 'b')}\n`);
    await client.waitForDiagnostics(tasks, (d) => /teacher reads zhang3/.test(msg(polyOf(d, '长'))));
    const dictUri = await client.open(dictFile, '{"银行": "银<|H|><|ANG2|>"}\n');
    await client.waitForDiagnostics(dictUri);
    await client.change(dictUri, [{ text: '{"银行": "银<|H|><|ANG2|>"}\n{"长大": "<|CH|><|ANG2|>大"}\n' }]);
    const d = await client.waitForDiagnostics(tasks, (x) =>
      /teacher reads chang2.*decided by the dictionary rule "长大" \(G2P_replace_dict.jsonl:2\)/.test(msg(polyOf(x, '长'))),
    );
    assert.ok(polyOf(d, '长'));
    // The dictionary itself: the new rule contradicts nothing, but 长大 → chang2 is a reading worth a look only if invalid; here it is valid.
    const dd = await client.waitForDiagnostics(dictUri);
    assert.ok(!dd.some((x) => x.severity === 1), JSON.stringify(dd));
    // Closed without saving: the file on disk applies again.
    await client.close(dictUri);
    await client.waitForDiagnostics(tasks, (x) => /teacher reads zhang3/.test(msg(polyOf(x, '长'))), 10000);
  });

  it('hover on a text field shows the line as characters over readings and the rule that fired', async () => {
    writeFileSync(dictFile, '{"银行": "银<|H|><|ANG2|>"}\n');
    const line = task('他在银行工作，重新开始', 'c');
    const uri = await client.open(path.join(root, 'c.tasks.jsonl'), `${line}\n`);
    await client.request('ttsDistill/revalidate', {});
    await client.waitForDiagnostics(uri, (d) => /decided by the dictionary rule/.test(msg(polyOf(d, '行'))));
    const h = await client.hover(uri, { line: 0, character: line.indexOf('重') });
    const md = (h!.contents as MarkupContent).value;
    assert.match(md, /\| 他 \| 在 \| 银 \| 行 \| 工 \| 作 \| ， \| ▸重 \| 新 \| 开 \| 始 \|/);
    // 作 is in GLM-TTS's able list: its language model reads it, the reading in brackets is the G2P's hint.
    assert.match(
      md,
      /\| ta1 \| zai4 \| yin2 \| \*\*hang2\*\*📌 \| gong1 \| \(\*\*zuo4\*\*\) \|  \| \*\*chong2\*\* \| xin1 \| kai1 \| shi3 \|/,
    );
    assert.match(md, /rule "银行" \(G2P_replace_dict.jsonl:1\): 行 hang2/);
    assert.match(
      md,
      /\*\*重\*\*: teacher reads `chong2` · all readings: `zhong4`, `chong2` · alone: `zhong4` · tokens: `<\|CH\|><\|ONG2\|>`/,
    );
    assert.equal(await client.hover(uri, { line: 0, character: 2 }), null);
  });

  it('an able-list polyphone: the flag and the hover say GLM-TTS leaves it to its language model; the quick fix offers every reading', async () => {
    const line = task('我们开会讨论', 'm');
    const uri = await client.open(path.join(root, 'm.tasks.jsonl'), `${line}\n`);
    const diags = await client.waitForDiagnostics(uri, (d) => !!polyOf(d, '会'));
    const hui = polyOf(diags, '会')!;
    assert.match(
      msg(hui),
      /^会: GLM-TTS leaves 会 to its language model; its G2P would read hui4 \(also kuai4\), only a hint; a dictionary rule is the only way to decide it/,
    );
    assert.equal(hui.data, undefined, 'polyphone data stays on the server');
    const h = await client.hover(uri, { line: 0, character: line.indexOf('会') });
    const md = (h!.contents as MarkupContent).value;
    assert.match(md, /GLM-TTS leaves 会 to its language model/);
    // The pin is offered: a dictionary rule is the only way to decide it.
    const actions = (await client.codeActions(uri, hui.range, [hui]))!.filter((a): a is CodeAction => 'title' in a);
    assert.ok(
      actions.some((a) => /^Pin 会 as kuai4 in /.test(a.title)),
      actions.map((a) => a.title).join('; '),
    );
  });

  it('checks dictionaries: hover, completion in the file’s notation, and fixes', async () => {
    const text = [
      '{"word": "行", "context": "银行", "phoneme": "hang2"}',
      '{"word": "行", "context": "银行", "phoneme": "hang2"}',
      '{"好人": "hao3人"}',
      '{"word": "重", "context": "重庆", "phoneme": ""}',
    ].join('\n');
    const uri = await client.open(path.join(root, 'rules.g2p.jsonl'), text);
    const diags = await client.waitForDiagnostics(
      uri,
      (d) => d.some((x) => x.code === 'dict/duplicate-key') && d.some((x) => x.code === 'dict/pinyin-in-value'),
    );
    const dup = diags.find((x) => x.code === 'dict/duplicate-key' && x.range.start.line === 0)!;
    assert.equal(dup.severity, 2);
    assert.equal(dup.relatedInformation?.[0]?.location.range.start.line, 1);
    const remove = (await client.codeActions(uri, dup.range, [dup]))!.find(
      (a) => 'title' in a && a.title.startsWith('Remove duplicate rule'),
    ) as CodeAction;
    assert.deepEqual(remove.edit!.changes![uri], [
      { range: { start: { line: 0, character: 0 }, end: { line: 1, character: 0 } }, newText: '' },
    ]);
    const typed = diags.find((x) => x.code === 'dict/pinyin-in-value')!;
    const toTokens = (await client.codeActions(uri, typed.range, [typed]))!.find(
      (a) => 'title' in a && a.title === 'Use token notation',
    ) as CodeAction;
    assert.equal(toTokens.edit!.changes![uri]![0]!.newText, '"<|H|><|AO3|>人"');
    // Rewrite a rule's reading in token notation (refactor at the cursor).
    const rewrite = (await client.codeActions(uri, { start: { line: 0, character: 46 }, end: { line: 0, character: 46 } }, []))!.find(
      (a) => 'title' in a && a.title === 'Use token notation',
    ) as CodeAction;
    assert.equal(rewrite.edit!.changes![uri]![0]!.newText, '"<|H|><|ANG2|>"');
    // Hover: all readings of the word with their token form.
    const h = await client.hover(uri, { line: 0, character: 10 });
    const md = (h!.contents as MarkupContent).value;
    assert.match(
      md,
      /\*\*行\*\*: `xing2` `<\|X\|><\|ING2\|>` · `hang2` `<\|H\|><\|ANG2\|>` · `hang4` `<\|H\|><\|ANG4\|>` · `heng2` `<\|H\|><\|ENG2\|>` — pinyin-pro alone: `xing2`/,
    );
    assert.match(md, /token form: `银<\|H\|><\|ANG2\|>`/);
    // Completion inside an empty "phoneme": the candidate readings of 重, in pinyin.
    const line3 = text.split('\n')[3]!;
    const items = await client.completion(uri, { line: 3, character: line3.lastIndexOf('"') });
    assert.deepEqual(
      items.map((i) => i.label),
      ['zhong4', 'chong2'],
    );
    assert.match(items[1]!.detail ?? '', /teacher’s reading in "重庆"/);
  });

  it('completes upstream values in token notation', async () => {
    const line = '{"银行": "银"}';
    const uri = await client.open(path.join(root, 'up.g2p.jsonl'), line);
    await client.waitForDiagnostics(uri);
    const items = await client.completion(uri, { line: 0, character: line.length - 2 });
    const bank = items.find((i) => i.label === '行 hang2')!;
    assert.equal(bank.textEdit && 'range' in bank.textEdit ? bank.textEdit.newText : '', '银<|H|><|ANG2|>');
    assert.deepEqual(bank.textEdit && 'range' in bank.textEdit ? bank.textEdit.range : undefined, {
      start: { line: 0, character: 8 },
      end: { line: 0, character: 9 },
    });
  });

  it('converts the open dictionary to the other dialect', async () => {
    const uri = await client.open(path.join(root, 'conv.g2p.jsonl'), '{"银行": "银<|H|><|ANG2|>"}\n{"噢": "哦"}');
    const res = await client.request<{ to: string; text: string; notes: unknown[] }>('ttsDistill/convertDictionary', { uri });
    assert.equal(res.to, 'rule');
    assert.equal(res.text, '{"word": "行", "context": "银行", "phoneme": "hang2"}\n{"噢": "哦"}');
    assert.equal(res.notes.length, 1);
  });
});
