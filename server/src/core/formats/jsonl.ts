import { parseTree, printParseErrorCode, type Node, type ParseError } from 'jsonc-parser';

/** Line breaks as LSP counts them, so that line numbers here and in the editor agree. */
export const LINE_BREAK = /\r\n|\r|\n/;

export function splitLines(text: string): string[] {
  // A plain '\n' split is several times faster than the regex; most files have no '\r'.
  return text.includes('\r') ? text.split(LINE_BREAK) : text.split('\n');
}

export const BOM = '\uFEFF';

/** The JSON object on a line, or undefined when the line is not one (blank, broken, an array…). */
export function parseJsonObject(line: string): Record<string, unknown> | undefined {
  if (line.trim() === '') return undefined;
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return undefined;
  }
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

/** Deepest nesting of arrays/objects a line may have (a task or dictionary line needs 1–2); deeper lines are refused with a diagnostic. */
export const MAX_JSON_DEPTH = 64;
/** Most keys an object line may have (a task has 4–6): more is an error, not a quadratic check. */
export const MAX_JSON_KEYS = 1000;

/** Whether arrays/objects in `text` nest deeper than `max` (strings skipped); one pass, no recursion. */
export function jsonDepthExceeds(text: string, max = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92 /* \\ */) i++;
      else if (c === 34 /* " */) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 /* { */ || c === 91 /* [ */) {
      if (++depth > max) return true;
    } else if (c === 125 /* } */ || c === 93 /* ] */) depth--;
  }
  return false;
}

/**
 * What makes a parsed object line too costly to check (and the tools that walk it recursively
 * overflow their stack): nesting deeper than MAX_JSON_DEPTH or more than MAX_JSON_KEYS keys.
 * Typical lines (string values only) cost one pass over their keys.
 */
export function jsonLimitProblem(
  obj: Record<string, unknown>,
  text: string,
): { code: 'too-deep' | 'too-many-keys'; message: string } | undefined {
  let keys = 0;
  let nested = false;
  for (const k in obj) {
    if (++keys > MAX_JSON_KEYS)
      return { code: 'too-many-keys', message: `The line has more than ${MAX_JSON_KEYS} keys: it is not checked or run (a task has 4–6).` };
    const v = obj[k];
    if (typeof v === 'object' && v !== null) nested = true;
  }
  if (nested && jsonDepthExceeds(text))
    return {
      code: 'too-deep',
      message: `The line nests arrays/objects more than ${MAX_JSON_DEPTH} levels deep: it is not checked or run.`,
    };
  return undefined;
}

/** One top-level member of a JSON object line, with offsets into the line. */
export interface JsonMember {
  key: string;
  keyStart: number;
  keyEnd: number;
  valueStart: number;
  valueEnd: number;
  valueType: Node['type'];
}

export interface JsonSyntaxError {
  message: string;
  start: number;
  end: number;
}

/**
 * Where the JSON in `line` is broken. Only called for lines that JSON.parse rejected, so it
 * may be slower than JSON.parse; it gives an offset and a readable reason.
 */
export function findSyntaxError(line: string): JsonSyntaxError {
  // jsonc-parser recurses per level: a line nested 5,000 deep would overflow the stack.
  if (jsonDepthExceeds(line)) return { message: `invalid JSON nested more than ${MAX_JSON_DEPTH} levels deep`, start: 0, end: line.length };
  const errors: ParseError[] = [];
  parseTree(line, errors, { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false });
  const e = errors[0];
  if (!e) {
    // jsonc-parser accepts a few things JSON.parse does not (e.g. lone surrogates are fine in both; control characters).
    const m = /position (\d+)/.exec(safeParseMessage(line));
    const at = m ? Math.min(Number(m[1]), line.length) : 0;
    return { message: `invalid JSON: ${safeParseMessage(line)}`, start: at, end: Math.min(line.length, at + 1) };
  }
  const friendly: Record<string, string> = {
    InvalidSymbol: 'unexpected character',
    InvalidNumberFormat: 'invalid number',
    PropertyNameExpected: 'a key in double quotes is expected',
    ValueExpected: 'a value is expected',
    ColonExpected: "':' is expected after the key",
    CommaExpected: "',' is expected between members",
    CloseBraceExpected: "'}' is expected: the object is not closed",
    CloseBracketExpected: "']' is expected: the array is not closed",
    EndOfFileExpected: 'text after the end of the JSON value',
    InvalidCommentToken: 'comments are not allowed in JSON',
    UnexpectedEndOfComment: 'comments are not allowed in JSON',
    UnexpectedEndOfString: 'the string is not closed',
    UnexpectedEndOfNumber: 'the number is not complete',
    InvalidUnicode: 'invalid \\u escape',
    InvalidEscapeCharacter: 'invalid escape character',
    InvalidCharacter: 'a control character must be escaped inside a string',
  };
  const code = printParseErrorCode(e.error);
  const start = Math.min(e.offset, line.length);
  const end = Math.min(line.length, Math.max(start + Math.max(e.length, 1), start));
  return { message: `invalid JSON: ${friendly[code] ?? code}`, start, end: end === start && start > 0 ? start : end };
}

function safeParseMessage(line: string): string {
  try {
    JSON.parse(line);
    return 'unknown error';
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

/** Top-level members of a JSON object line with their offsets (undefined if the line is not an object). */
export function scanMembers(line: string): JsonMember[] | undefined {
  let root: Node | undefined;
  try {
    root = parseTree(line, [], { disallowComments: true });
  } catch (err) {
    if (err instanceof RangeError) return undefined; // nested too deep for jsonc-parser's recursion: callers refuse such lines first
    throw err;
  }
  if (!root || root.type !== 'object') return undefined;
  const out: JsonMember[] = [];
  for (const prop of root.children ?? []) {
    const [k, v] = prop.children ?? [];
    if (!k) continue;
    out.push({
      key: String(k.value),
      keyStart: k.offset,
      keyEnd: k.offset + k.length,
      valueStart: v ? v.offset : k.offset + k.length,
      valueEnd: v ? v.offset + v.length : k.offset + k.length,
      valueType: v ? v.type : 'null',
    });
  }
  return out;
}

/**
 * Maps an index in the decoded value of the JSON string literal `line.slice(start, end)` (quotes
 * included) to an offset in the line. Escapes (`\n`, `\u884c`) make the two differ.
 */
export function stringOffsetMapper(line: string, start: number, end: number): (decodedIndex: number) => number {
  const body = line.slice(start + 1, end - 1);
  if (!body.includes('\\')) return (i) => start + 1 + Math.min(i, body.length);
  const map: number[] = [];
  for (let r = 0; r < body.length;) {
    map.push(start + 1 + r);
    if (body[r] === '\\') r += body[r + 1] === 'u' ? 6 : 2;
    else r += 1;
  }
  map.push(start + 1 + body.length);
  return (i) => map[Math.min(Math.max(i, 0), map.length - 1)]!;
}

/** Calls `onLine` with each non-blank line of a child's stdout or stderr as it arrives (a last line without a newline too). */
export function streamLines(stream: NodeJS.ReadableStream, onLine: (line: string) => void): void {
  let buf = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    buf += chunk;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const l = buf.slice(0, i).replace(/\r$/, '');
      buf = buf.slice(i + 1);
      if (l.trim()) onLine(l);
    }
  });
  stream.on('end', () => {
    if (buf.trim()) onLine(buf);
  });
}
