// The server's connection over standard input/output (VS Code, neovim, Helix, Emacs, `tts-distill lsp
// --stdio`, the bench), with an encoder that spends little on what a big file sends again and again:
// its diagnostics. Other transports (--node-ipc, --socket, --pipe) stay vscode-languageserver's own.
import { randomUUID } from 'node:crypto';
import { visit } from 'jsonc-parser';
import {
  AbstractMessageReader,
  type Connection,
  type ContentTypeEncoder,
  type ContentTypeEncoderOptions,
  createConnection,
  type DataCallback,
  Disposable,
  type Message,
  type MessageReader,
  ProposedFeatures,
  StreamMessageWriter,
} from 'vscode-languageserver/node';

const PUBLISH = 'textDocument/publishDiagnostics';
/** Below this many diagnostics a publication is encoded as any message is. */
const CACHED_FROM = 32;

/**
 * JSON-RPC messages as vscode-jsonrpc encodes them (`JSON.stringify`, in the charset asked for),
 * byte for byte, except that a publication's diagnostics are encoded once each: a 100,000-line
 * file publishes the same ~1,000 diagnostics (0.3 MB) after every edit and every batch of
 * background results, and the server hands out the same objects each time (server.ts keeps one per
 * finding). Encoding one edit's publication whole took 3–6 ms of the server's thread; with the
 * diagnostics already encoded, under 1 ms. Diagnostics must not be changed once sent (they aren't).
 */
export function cachingJsonEncoder(): ContentTypeEncoder {
  const encoded = new WeakMap<object, Buffer>();
  const comma = Buffer.from(',');
  // No text of a message can hold it by chance.
  const placeholder = `diagnostics-${randomUUID()}`;
  const placeholderJson = JSON.stringify(placeholder);
  const encode = (msg: Message, options: ContentTypeEncoderOptions): Buffer => {
    const params =
      (msg as { method?: string; params?: { diagnostics?: unknown } }).method === PUBLISH
        ? (msg as { params?: { diagnostics?: unknown } }).params
        : undefined;
    const diagnostics = params?.diagnostics;
    if (!Array.isArray(diagnostics) || diagnostics.length < CACHED_FROM || !isUtf8(options.charset))
      return Buffer.from(JSON.stringify(msg, undefined, 0), options.charset);
    // The message with a placeholder for its diagnostics (where they stand among params' members,
    // as JSON.stringify would put them): the diagnostics go in its place.
    const json = JSON.stringify({ ...msg, params: { ...params, diagnostics: placeholder } }, undefined, 0);
    const at = json.indexOf(placeholderJson);
    if (at < 0) return Buffer.from(JSON.stringify(msg, undefined, 0), options.charset);
    const parts: Buffer[] = [Buffer.from(json.slice(0, at) + '[', 'utf8')];
    for (let k = 0; k < diagnostics.length; k++) {
      const d: unknown = diagnostics[k];
      let b = d !== null && typeof d === 'object' ? encoded.get(d) : undefined;
      if (!b) {
        b = Buffer.from(JSON.stringify(d) ?? 'null', 'utf8');
        if (d !== null && typeof d === 'object') encoded.set(d, b);
      }
      if (k) parts.push(comma);
      parts.push(b);
    }
    parts.push(Buffer.from(']' + json.slice(at + placeholderJson.length), 'utf8'));
    return Buffer.concat(parts);
  };
  return {
    name: 'application/json',
    encode: (msg, options) => {
      try {
        return Promise.resolve(encode(msg, options));
      } catch (err) {
        return Promise.reject(err as Error);
      }
    },
  };
}

function isUtf8(charset: string): boolean {
  return charset === 'utf-8' || charset === 'utf8';
}

const HEADER_END = Buffer.from('\r\n\r\n', 'ascii');
/** A body this long takes a while to arrive (a 100,000-line file's didOpen is 24 MB, ~0.3 s): its beginning is shown early. */
const BIG_BODY = 1 << 20;
/** How much of it: a first screen of lines (100 task lines are ~25 KB). */
const PEEK_BYTES = 64 << 10;

/**
 * JSON-RPC messages read from a stream (`Content-Length` headers, UTF-8 JSON bodies) as
 * vscode-jsonrpc's StreamMessageReader reads them, except that a body longer than the chunk it
 * starts in is copied into a buffer of its own size as its chunks arrive. vscode-jsonrpc keeps the
 * chunks and copies them into a fresh buffer once the last one is in, holding both: a big file's
 * didOpen (24 MB in ~400 chunks) then waited ~100 ms for that copy after the transfer — most of it
 * the first touch of the fresh buffer's pages, slow on this machine — where here the copy goes on
 * while the chunks arrive (npm run bench -- lsp: first diagnostics ~50 ms sooner). Messages are
 * delivered in order, each as soon as it is complete.
 */
export class StreamingMessageReader extends AbstractMessageReader implements MessageReader {
  /** Header bytes of the next message, when its header started in an earlier chunk. */
  private pending: Buffer | undefined;
  /** The body being filled, and how much of it is. */
  private body: Buffer | undefined;
  private filled = 0;
  private callback: DataCallback | undefined;

  /** Whether `begins` was told of the body being filled. */
  private peeked = false;

  /**
   * `seen`: told of every message before it is delivered. `begins`: told once of the first
   * PEEK_BYTES of a body of BIG_BODY bytes or more, while the rest is still on its way.
   */
  constructor(
    private readonly readable: NodeJS.ReadableStream,
    private readonly seen?: (message: Message) => void,
    private readonly begins?: (head: Buffer) => void,
  ) {
    super();
  }

  listen(callback: DataCallback): Disposable {
    this.callback = callback;
    const onData = (chunk: Buffer | string) => this.onData(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk);
    const onError = (err: Error) => this.fireError(err);
    const onClose = () => this.fireClose();
    this.readable.on('data', onData);
    this.readable.on('error', onError);
    this.readable.on('close', onClose);
    return Disposable.create(() => {
      this.callback = undefined;
      this.readable.off('data', onData);
      this.readable.off('error', onError);
      this.readable.off('close', onClose);
    });
  }

  /** One chunk of the stream: however the bytes are split, the same messages come out. */
  onData(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length) {
      if (this.body) {
        const n = Math.min(this.body.length - this.filled, chunk.length - at);
        chunk.copy(this.body, this.filled, at, at + n);
        this.filled += n;
        at += n;
        if (!this.peeked && this.begins && this.body.length >= BIG_BODY && this.filled >= PEEK_BYTES) {
          this.peeked = true;
          this.begins(this.body.subarray(0, this.filled));
        }
        if (this.filled === this.body.length) {
          const body = this.body;
          this.body = undefined;
          this.deliver(body);
        }
        continue;
      }
      // A header: in this chunk, or begun in an earlier one (then joined: headers are short).
      if (this.pending) {
        chunk = Buffer.concat([this.pending, chunk.subarray(at)]);
        at = 0;
        this.pending = undefined;
      }
      const end = chunk.indexOf(HEADER_END, at);
      if (end < 0) {
        this.pending = Buffer.from(chunk.subarray(at));
        return;
      }
      const length = this.contentLength(chunk.toString('ascii', at, end));
      at = end + HEADER_END.length;
      if (length === undefined) continue;
      if (chunk.length - at >= length) {
        // The whole body is in this chunk: read where it is.
        this.deliver(chunk.subarray(at, at + length));
        at += length;
      } else {
        this.body = Buffer.allocUnsafe(length);
        this.filled = 0;
        this.peeked = false;
      }
    }
  }

  /** The header's Content-Length (keys in any case, as vscode-jsonrpc reads them); undefined after an error is reported. */
  private contentLength(header: string): number | undefined {
    const headers = new Map<string, string>();
    for (const line of header.split('\r\n')) {
      const colon = line.indexOf(':');
      if (colon < 0) {
        this.fireError(new Error(`Message header must separate key and value using ':'\n${line}`));
        return undefined;
      }
      headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
    }
    const value = headers.get('content-length');
    if (!value) {
      this.fireError(new Error(`Header must provide a Content-Length property.\n${JSON.stringify(Object.fromEntries(headers))}`));
      return undefined;
    }
    const length = parseInt(value);
    if (isNaN(length)) {
      this.fireError(new Error(`Content-Length value must be a number. Got ${value}`));
      return undefined;
    }
    return length;
  }

  private deliver(body: Buffer): void {
    let message: Message;
    try {
      message = JSON.parse(body.toString('utf8')) as Message;
    } catch (err) {
      this.fireError(err);
      return;
    }
    this.seen?.(message);
    this.callback?.(message);
  }
}

/**
 * The connection on standard input/output: stdin read by `StreamingMessageReader` (the server exits
 * when it ends, as vscode-languageserver's own stdio connection does: status 0 after a shutdown
 * request, else 1), replies written with `cachingJsonEncoder`. Standard output is the protocol's:
 * anything logged with console.log goes to standard error instead.
 */
export function createStdioConnection(): StdioConnection {
  console.log = console.info = console.debug = (...args: unknown[]) => console.error(...args);
  const writer = new StreamMessageWriter(process.stdout, { charset: 'utf-8', contentTypeEncoder: cachingJsonEncoder() });
  let shutdown = false;
  let opening: ((doc: OpeningDocument) => void) | undefined;
  const reader = new StreamingMessageReader(
    process.stdin,
    (m) => {
      if ((m as { method?: string }).method === 'shutdown') shutdown = true;
    },
    (head) => {
      const doc = opening && openingDocument(head);
      try {
        if (doc) opening!(doc);
      } catch (err) {
        // Only a hint: reading goes on whatever happens to it.
        console.error(`opening ${doc!.uri}: ${err instanceof Error ? err.message : String(err)}`);
      }
    },
  );
  const connection = createConnection(ProposedFeatures.all, reader, writer);
  const exit = () => process.exit(shutdown ? 0 : 1);
  process.stdin.on('end', exit);
  process.stdin.on('close', exit);
  return Object.assign(connection, {
    onDocumentOpening(listener: (doc: OpeningDocument) => void) {
      opening = listener;
    },
  });
}

/** The stdio connection, which also tells of a big document's first lines before its didOpen has arrived. */
export type StdioConnection = Connection & {
  /** `listener`: told of the first lines of a document whose didOpen is big, while the rest arrives (hints; the didOpen decides). */
  onDocumentOpening(listener: (doc: OpeningDocument) => void): void;
};

/** The beginning of a document being opened: its URI, language and first complete lines. */
export interface OpeningDocument {
  uri: string;
  languageId: string;
  lines: string[];
}

/**
 * The document of a textDocument/didOpen notification from the first bytes of its body (a UTF-8
 * JSON prefix): its uri, languageId and the complete lines of its text found there (at most
 * `maxLines`). Undefined when the prefix is not that of a didOpen (`method` before `params`, as
 * vscode-jsonrpc writes it), or ends before the text begins.
 */
export function openingDocument(head: Buffer, maxLines = 200): OpeningDocument | undefined {
  try {
    return scanOpening(head.toString('utf8'), maxLines);
  } catch {
    // Not JSON after all (a bad escape): the message itself will say so when it is complete.
    return undefined;
  }
}

function scanOpening(s: string, maxLines: number): OpeningDocument | undefined {
  // The members before the text, by jsonc-parser's visitor: the prefix is cut off in the text (or
  // after it), so only what comes before the text counts, and any error there refuses the prefix.
  const found: { method?: string; uri?: string; languageId?: string; textAt?: number } = {};
  const errors: number[] = [];
  visit(
    s,
    {
      onLiteralValue(value, offset, _length, _line, _character, pathOf) {
        if (found.textAt !== undefined || typeof value !== 'string') return;
        const at = JSON.stringify(pathOf());
        if (at === '["params","textDocument","text"]') found.textAt = offset + 1;
        else if (at === '["method"]') found.method = value;
        else if (at === '["params","textDocument","uri"]') found.uri = value;
        else if (at === '["params","textDocument","languageId"]') found.languageId = value;
      },
      onError: (_error, offset) => void errors.push(offset),
    },
    { disallowComments: true },
  );
  if (found.textAt === undefined || errors.some((offset) => offset < found.textAt! - 1)) return undefined;
  if (found.method !== 'textDocument/didOpen' || found.uri === undefined || found.languageId === undefined) return undefined;
  const lines: string[] = [];
  let start = found.textAt;
  for (let i = start; i < s.length && lines.length < maxLines; i++) {
    const c = s.charCodeAt(i);
    // An escape: `\n` ends a line; any other (`\uXXXX` too) cannot hold a quote or a backslash after its second character.
    if (c === 0x5c) {
      if (s.charCodeAt(i + 1) === 0x6e) {
        lines.push(unescapeLine(s.slice(start, i)));
        start = i + 2;
      }
      i++;
    } else if (c === 0x22) {
      lines.push(unescapeLine(s.slice(start, i)));
      break;
    }
  }
  return { uri: found.uri, languageId: found.languageId, lines };
}

function unescapeLine(escaped: string): string {
  const line = JSON.parse(`"${escaped}"`) as string;
  return line.endsWith('\r') ? line.slice(0, -1) : line;
}
