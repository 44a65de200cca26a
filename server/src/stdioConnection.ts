// The server's connection over standard input/output (VS Code, neovim, Helix, Emacs, `tts-distill lsp
// --stdio`, the bench), with an encoder that spends little on what a big file sends again and again:
// its diagnostics. Other transports (--node-ipc, --socket, --pipe) stay vscode-languageserver's own.
import { randomUUID } from 'node:crypto';
import {
  type Connection,
  type ContentTypeEncoder,
  type ContentTypeEncoderOptions,
  createConnection,
  type Message,
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

/**
 * The connection on standard input/output: stdin read as vscode-languageserver reads it (the
 * server exits when it closes), replies written with `cachingJsonEncoder`. Standard output is
 * the protocol's: anything logged with console.log goes to standard error instead.
 */
export function createStdioConnection(): Connection {
  console.log = console.info = console.debug = (...args: unknown[]) => console.error(...args);
  const writer = new StreamMessageWriter(process.stdout, { charset: 'utf-8', contentTypeEncoder: cachingJsonEncoder() });
  // vscode-languageserver accepts a stream and a writer alike (it wraps a stream in a reader and
  // exits when it ends); its typings pair streams with streams and readers with writers.
  return (
    createConnection as unknown as (f: typeof ProposedFeatures.all, input: NodeJS.ReadableStream, output: StreamMessageWriter) => Connection
  )(ProposedFeatures.all, process.stdin, writer);
}
