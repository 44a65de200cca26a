import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { type Message, StreamMessageReader } from 'vscode-languageserver/node';
import { cachingJsonEncoder, openingDocument, StreamingMessageReader } from '../../server/src/stdioConnection';

// The stdio encoder must write exactly what vscode-jsonrpc's own JSON encoder writes, whatever the
// message, and encode a diagnostic that comes back in the next publication from its cache.

function publication(diagnostics: object[], version?: number): Message {
  const params: Record<string, unknown> = { uri: 'file:///tmp/a%20b/big.tasks.jsonl', diagnostics };
  if (version !== undefined) params.version = version;
  return { jsonrpc: '2.0', method: 'textDocument/publishDiagnostics', params } as Message;
}

function diagnostic(i: number): object {
  return {
    range: { start: { line: i, character: 3 }, end: { line: i, character: 4 } },
    severity: 2,
    code: 'polyphone/likely-misread',
    source: 'tts-distill',
    message: `行 → hang2 "quoted" \\ \u2028 ${i}; the default student reads xing2`,
    ...(i % 3 ? {} : { data: { readings: ['xing2', 'hang2'], unset: undefined } }),
  };
}

const opts = { charset: 'utf-8' as const };
const reference = (msg: Message) => Buffer.from(JSON.stringify(msg, undefined, 0), 'utf-8');

describe('cachingJsonEncoder', () => {
  it('writes a big publication byte for byte as JSON.stringify does, version or not, diagnostics first or last', async () => {
    const enc = cachingJsonEncoder();
    const ds = Array.from({ length: 100 }, (_, i) => diagnostic(i));
    for (const msg of [publication(ds, 7), publication(ds)]) assert.deepEqual(Buffer.from(await enc.encode(msg, opts)), reference(msg));
    // params with diagnostics first (as a client or another library might build them).
    const first = {
      jsonrpc: '2.0',
      method: 'textDocument/publishDiagnostics',
      params: { diagnostics: ds, uri: 'file:///x', version: 2 },
    } as Message;
    assert.deepEqual(
      JSON.parse(Buffer.from(await enc.encode(first, opts)).toString('utf8')),
      JSON.parse(reference(first).toString('utf8')),
    );
  });

  it('reuses the encoding of a diagnostic sent before, and leaves other messages and small publications to JSON.stringify', async () => {
    const enc = cachingJsonEncoder();
    const ds = Array.from({ length: 64 }, (_, i) => diagnostic(i));
    await enc.encode(publication(ds, 1), opts);
    // The same objects again, one replaced and one moved: the output is still exact.
    const next = [diagnostic(1000), ...ds.slice(2), ds[1]!];
    assert.deepEqual(Buffer.from(await enc.encode(publication(next, 2), opts)), reference(publication(next, 2)));
    for (const msg of [
      publication(ds.slice(0, 3), 3),
      publication([], 4),
      { jsonrpc: '2.0', id: 4, result: { contents: '重 zhong4' } } as Message,
      { jsonrpc: '2.0', method: 'window/logMessage', params: { type: 3, message: 'x' } } as Message,
    ])
      assert.deepEqual(Buffer.from(await enc.encode(msg, opts)), reference(msg));
  });
});

/** What a reader makes of these chunks: its messages and errors, in order. */
async function readAll(make: (s: PassThrough) => StreamMessageReader | StreamingMessageReader, chunks: Buffer[]): Promise<string[]> {
  const stream = new PassThrough();
  const reader = make(stream);
  const out: string[] = [];
  reader.onError((e) => out.push(`error: ${e.message}`));
  reader.listen((m) => out.push(JSON.stringify(m)));
  for (const c of chunks) stream.write(c);
  // vscode-jsonrpc delivers after a few promise turns; both have delivered once the stream is drained.
  await new Promise((r) => setImmediate(r));
  for (let k = 0; k < 10; k++) await Promise.resolve();
  return out;
}

function frame(msg: unknown, header = 'Content-Length'): Buffer {
  const body = Buffer.from(JSON.stringify(msg), 'utf8');
  return Buffer.concat([Buffer.from(`${header}: ${body.length}\r\n\r\n`, 'ascii'), body]);
}

/** The bytes cut at these sizes, over and over. */
function cut(bytes: Buffer, sizes: number[]): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0, k = 0; at < bytes.length; k++) {
    const n = sizes[k % sizes.length]!;
    out.push(bytes.subarray(at, at + n));
    at += n;
  }
  return out;
}

describe('StreamingMessageReader', () => {
  const text = '重要的银行行长，重新出发。'.repeat(400);
  const bytes = Buffer.concat([
    frame({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { processId: null } }),
    frame({ jsonrpc: '2.0', method: 'textDocument/didOpen', params: { textDocument: { uri: 'file:///a', text } } }),
    Buffer.from('content-type: application/vscode-jsonrpc; charset=utf-8\r\n'),
    frame({ jsonrpc: '2.0', id: 2, method: 'x', params: ['é', '𠀀', ''] }, 'content-length'),
    frame({ jsonrpc: '2.0', id: 3, result: null }),
  ]);

  it("reads what vscode-jsonrpc's reader reads, however the bytes are cut: inside a header, a body, a UTF-8 sequence", async () => {
    const reference = await readAll((s) => new StreamMessageReader(s), [bytes]);
    assert.equal(reference.length, 4);
    assert.ok(reference[1]!.includes(text));
    for (const sizes of [[bytes.length], [1], [2, 3], [7], [64], [1000, 1], [65536], [17, 4096, 5]]) {
      const chunks = cut(bytes, sizes);
      assert.deepEqual(await readAll((s) => new StreamingMessageReader(s), chunks), reference, `chunks of ${sizes.join(', ')} bytes`);
    }
  });

  it('reports a header without a Content-Length, or with a bad one, and goes on with the next message', async () => {
    const bad = Buffer.concat([
      Buffer.from('Content-Type: application/json\r\n\r\n'),
      Buffer.from('Content-Length: many\r\n\r\n'),
      frame({ jsonrpc: '2.0', id: 9, result: 'ok' }),
    ]);
    for (const sizes of [[bad.length], [3]])
      assert.deepEqual(await readAll((s) => new StreamingMessageReader(s), cut(bad, sizes)), [
        'error: Header must provide a Content-Length property.\n{"content-type":"application/json"}',
        'error: Content-Length value must be a number. Got many',
        '{"jsonrpc":"2.0","id":9,"result":"ok"}',
      ]);
    const notJson = Buffer.concat([Buffer.from('Content-Length: 3\r\n\r\n{x}'), frame({ jsonrpc: '2.0', id: 10, result: 1 })]);
    const out = await readAll((s) => new StreamingMessageReader(s), [notJson]);
    assert.match(out[0]!, /^error: .*JSON/);
    assert.equal(out[1], '{"jsonrpc":"2.0","id":10,"result":1}');
  });
});

describe("openingDocument (a big didOpen's first lines, before the rest has arrived)", () => {
  // Task lines with what JSON escapes inside them: quotes, a backslash, an escaped line break, control
  // characters, a character outside the BMP; CRLF and LF line ends.
  const lines = [
    '{"prompt_speech": "p.wav", "syn_text": "银行行长说\\"重\\"要", "uttid": "a1"}',
    '{"syn_text": "a\\\\nb \\\\ c\u0001\t𠀀", "uttid": "a2"}',
    '',
    '{"syn_text": "重新", "uttid": "a3"}',
    '  {"syn_text": "行", "uttid": "a4"}  ',
  ];
  const text = lines.slice(0, 2).join('\r\n') + '\r\n' + lines.slice(2).join('\n') + '\n';
  const message = {
    jsonrpc: '2.0',
    method: 'textDocument/didOpen',
    params: { textDocument: { uri: 'file:///w/a%20b.tasks.jsonl', languageId: 'tts-tasks', version: 1, text } },
  };
  const body = Buffer.from(JSON.stringify(message), 'utf8');
  const textAt = body.indexOf('"text":"') + '"text":"'.length;

  it('gives the uri, the language and every line complete in the prefix, cut anywhere (inside an escape, a UTF-8 sequence)', () => {
    const ends: number[] = [];
    for (let k = 0, at = 0; k < lines.length; k++) {
      at = text.indexOf('\n', at) + 1;
      ends.push(Buffer.byteLength(JSON.stringify(text.slice(0, at)), 'utf8') - 1);
    }
    // The document's last line (empty: the text ends with a line break) is complete with the closing quote.
    ends.push(Buffer.byteLength(JSON.stringify(text), 'utf8'));
    const docLines = [...lines, ''];
    for (let n = 0; n <= body.length; n++) {
      const got = openingDocument(body.subarray(0, n));
      if (n < textAt) {
        assert.equal(got, undefined, `${n} bytes: the text has not begun`);
        continue;
      }
      const complete = ends.filter((e) => textAt + e - 1 <= n).length;
      assert.deepEqual(
        got,
        { uri: message.params.textDocument.uri, languageId: 'tts-tasks', lines: docLines.slice(0, complete) },
        `${n} bytes`,
      );
    }
    assert.deepEqual(openingDocument(body, 3)!.lines, lines.slice(0, 3), 'at most maxLines');
  });

  it('nothing for another message, members in another order, or bytes that are not JSON', () => {
    const other = (m: unknown) => openingDocument(Buffer.from(JSON.stringify(m)));
    assert.equal(other({ ...message, method: 'textDocument/didChange' }), undefined);
    assert.equal(other({ jsonrpc: '2.0', params: message.params, method: 'textDocument/didOpen' }), undefined, 'params before method');
    assert.equal(
      other({ ...message, params: { textDocument: { text, uri: 'file:///x', languageId: 'tts-tasks' } } }),
      undefined,
      'text before uri',
    );
    assert.deepEqual(
      other({
        ...message,
        params: { extra: { a: [1, { b: '}' }], c: null }, textDocument: { ...message.params.textDocument, more: [true, 2.5e3] } },
      })?.lines,
      [...lines, ''],
      'other members skipped, whatever they hold',
    );
    const badEscape =
      '{"jsonrpc":"2.0","method":"textDocument/didOpen","params":{"textDocument":{"uri":"a","languageId":"b","text":"ok\\q\\nnext\\n';
    assert.equal(openingDocument(Buffer.from(badEscape)), undefined, 'a bad escape: nothing, and no exception');
    assert.deepEqual(openingDocument(Buffer.from(badEscape.replace('\\q', '\\t')))?.lines, ['ok\t', 'next']);
    for (const junk of ['', 'x', '{"method":', '[1,2]', '{"method": "textDocument/didOpen", "params": {"textDocument": {"uri": 3'])
      assert.equal(openingDocument(Buffer.from(junk)), undefined);
  });

  it('the reader tells of a big body once, while it arrives, and delivers it as before', async () => {
    const big = { ...message, params: { textDocument: { ...message.params.textDocument, text: text.repeat(20_000) } } };
    const bytes = frame(big);
    assert.ok(bytes.length > 1 << 20);
    const stream = new PassThrough();
    const heads: Array<{ at: number; lines: number }> = [];
    const delivered: number[] = [];
    let written = 0;
    const reader = new StreamingMessageReader(stream, undefined, (head) =>
      heads.push({ at: written, lines: openingDocument(head)?.lines.length ?? -1 }),
    );
    reader.listen((m) => delivered.push(JSON.stringify(m).length));
    for (const c of cut(bytes, [65536])) {
      written += c.length;
      stream.write(c);
      await new Promise((r) => setImmediate(r));
    }
    assert.deepEqual(heads, [{ at: 2 * 65536, lines: 200 }], 'once, after the first 64 KiB of the body, with 200 lines');
    assert.deepEqual(delivered, [JSON.stringify(big).length]);
  });
});

describe('startWorker', () => {
  it("sends what a worker thread prints to the process's standard error, never to its standard output (the protocol's)", () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tts-worker-'));
    const file = path.join(dir, 'w.js');
    writeFileSync(file, "console.log('printed by the worker'); process.stdout.write('written by the worker\\n');\n");
    const helper = path.resolve(__dirname, '..', '..', 'server', 'src', 'core', 'util', 'worker.ts');
    const r = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        '-e',
        `require(${JSON.stringify(helper)}).startWorker(${JSON.stringify(file)}).on('exit', () => process.exit(0));`,
      ],
      { encoding: 'utf8', timeout: 60_000 },
    );
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /printed by the worker\nwritten by the worker\n/);
  });
});
