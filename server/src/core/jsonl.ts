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
  const root = parseTree(line, [], { disallowComments: true });
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
  for (let r = 0; r < body.length; ) {
    map.push(start + 1 + r);
    if (body[r] === '\\') r += body[r + 1] === 'u' ? 6 : 2;
    else r += 1;
  }
  map.push(start + 1 + body.length);
  return (i) => map[Math.min(Math.max(i, 0), map.length - 1)]!;
}
