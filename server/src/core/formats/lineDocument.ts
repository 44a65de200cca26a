import type { Position, Range, TextDocument, TextDocumentContentChangeEvent } from 'vscode-languageserver-textdocument';

/**
 * A text document kept as an array of lines, for big task files.
 *
 * The library's TextDocument keeps one string: an edit builds `before + text + after` and then reads
 * characters of it, which flattens the whole file into a fresh copy (48 MB for a 100,000-line file of
 * Chinese text, and about 28 ms) on every keystroke. Here an edit replaces only the lines it touches.
 * Positions, offsets and texts are those of the library's document over the same content (the unit
 * test drives both with random edits).
 */
export class LineDocument implements TextDocument {
  private lines: string[];
  /** The line break after each line ('' after the last one); undefined while every break is '\n'. */
  private eols: string[] | undefined;
  /** Offsets of line starts and the joined text, computed when first asked after a change. */
  private starts: number[] | undefined;
  private text: string | undefined;

  constructor(
    readonly uri: string,
    readonly languageId: string,
    private _version: number,
    content: string,
  ) {
    const { lines, eols } = split(content);
    this.lines = lines;
    this.eols = eols;
    this.text = content;
  }

  get version(): number {
    return this._version;
  }

  get lineCount(): number {
    return this.lines.length;
  }

  /** The text of one line without its line break ('' beyond the last line). */
  lineAt(line: number): string {
    return this.lines[line] ?? '';
  }

  getLineRange(line: number): Range {
    if (line < 0) return { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } };
    const l = Math.min(line, this.lines.length - 1);
    return { start: { line: l, character: 0 }, end: { line: l, character: this.lines[l]!.length } };
  }

  getEOLCharacters(line: number): string {
    return line < 0 ? '' : this.eol(line);
  }

  getText(range?: Range): string {
    if (!range) return (this.text ??= this.join(0, this.lines.length));
    const a = this.clamp(range.start);
    const b = this.clamp(range.end);
    const [s, e] = a.line < b.line || (a.line === b.line && a.character <= b.character) ? [a, b] : [b, a];
    if (s.line === e.line) return this.lines[s.line]!.slice(s.character, e.character);
    let out = this.lines[s.line]!.slice(s.character) + this.eol(s.line);
    for (let l = s.line + 1; l < e.line; l++) out += this.lines[l]! + this.eol(l);
    return out + this.lines[e.line]!.slice(0, e.character);
  }

  offsetAt(position: Position): number {
    const p = this.clamp(position);
    return this.lineStarts()[p.line]! + p.character;
  }

  positionAt(offset: number): Position {
    const starts = this.lineStarts();
    const end = starts[starts.length - 1]! + this.lines[this.lines.length - 1]!.length;
    offset = Math.max(0, Math.min(offset, end));
    let low = 0,
      high = starts.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (starts[mid]! > offset) high = mid;
      else low = mid + 1;
    }
    const line = low - 1;
    return { line, character: Math.min(offset - starts[line]!, this.lines[line]!.length) };
  }

  /** Applies the client's changes (LSP incremental or full sync) and takes the new version. */
  update(changes: readonly TextDocumentContentChangeEvent[], version: number): void {
    for (const c of changes) {
      if (!('range' in c) || !c.range) {
        const { lines, eols } = split(c.text);
        this.lines = lines;
        this.eols = eols;
        this.text = c.text;
        this.starts = undefined;
        continue;
      }
      const a = this.clamp(c.range.start);
      const b = this.clamp(c.range.end);
      const [s, e] = a.line < b.line || (a.line === b.line && a.character <= b.character) ? [a, b] : [b, a];
      const tailEol = this.eol(e.line);
      const replaced = split(this.lines[s.line]!.slice(0, s.character) + c.text + this.lines[e.line]!.slice(e.character));
      if (replaced.eols || this.eols) {
        this.eols ??= this.lines.map((_, l) => this.eol(l));
        const eols = replaced.eols ?? replaced.lines.map(() => '\n');
        eols[eols.length - 1] = tailEol;
        this.eols = spliceIn(this.eols, s.line, e.line - s.line + 1, eols);
      }
      this.lines = spliceIn(this.lines, s.line, e.line - s.line + 1, replaced.lines);
      this.text = undefined;
      this.starts = undefined;
    }
    this._version = version;
  }

  private eol(line: number): string {
    if (line >= this.lines.length - 1) return '';
    return this.eols ? this.eols[line]! : '\n';
  }

  /** A position inside the text: lines beyond the end go to the end, characters beyond a line to its end. */
  private clamp(p: Position): Position {
    if (p.line < 0) return { line: 0, character: 0 };
    if (p.line >= this.lines.length) {
      const last = this.lines.length - 1;
      return { line: last, character: this.lines[last]!.length };
    }
    return { line: p.line, character: Math.max(0, Math.min(p.character, this.lines[p.line]!.length)) };
  }

  private lineStarts(): number[] {
    if (this.starts) return this.starts;
    const starts = new Array<number>(this.lines.length);
    let at = 0;
    for (let l = 0; l < this.lines.length; l++) {
      starts[l] = at;
      at += this.lines[l]!.length + this.eol(l).length;
    }
    return (this.starts = starts);
  }

  private join(from: number, to: number): string {
    if (!this.eols) return this.lines.slice(from, to).join('\n');
    let out = '';
    for (let l = from; l < to; l++) out += this.lines[l]! + this.eol(l);
    return out;
  }
}

/** Lines and their breaks ('\r\n', '\r' or '\n'; eols undefined when every break is '\n'). */
function split(text: string): { lines: string[]; eols: string[] | undefined } {
  if (!text.includes('\r')) return { lines: text.split('\n'), eols: undefined };
  const parts = text.split(/(\r\n|\r|\n)/);
  const lines: string[] = [];
  const eols: string[] = [];
  for (let i = 0; i < parts.length; i += 2) {
    lines.push(parts[i]!);
    eols.push(parts[i + 1] ?? '');
  }
  return { lines, eols };
}

/** `array.splice(start, count, ...items)`, without passing a pasted file's lines as arguments (the stack limit). */
function spliceIn<T>(array: T[], start: number, count: number, items: T[]): T[] {
  if (items.length < 10_000) {
    array.splice(start, count, ...items);
    return array;
  }
  return array.slice(0, start).concat(items, array.slice(start + count));
}
