import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TextDocument, type TextDocumentContentChangeEvent } from 'vscode-languageserver-textdocument';
import { LineDocument } from '../../server/src/core/formats/lineDocument';
import { seededRandom } from '../../server/src/core/student/prng';

// LineDocument stands in for the library's TextDocument on task files: over the same edits it must
// give the same text, line count, offsets and positions.

const PIECES = ['{"a": 1}', '重', '行', '', 'x', '\n', '\r\n', '\r', '\n\n', '银行\n长大', 'é'];

function check(lib: TextDocument, mine: LineDocument, rnd: () => number, what: string) {
  assert.equal(mine.getText(), lib.getText(), what);
  assert.equal(mine.lineCount, lib.lineCount, what);
  assert.equal(mine.version, lib.version, what);
  const len = lib.getText().length;
  for (let k = 0; k < 12; k++) {
    const offset = Math.floor(rnd() * (len + 4)) - 2;
    assert.deepEqual(mine.positionAt(offset), lib.positionAt(offset), `${what}: positionAt(${offset})`);
    const pos = { line: Math.floor(rnd() * (lib.lineCount + 2)) - 1, character: Math.floor(rnd() * 12) - 1 };
    assert.equal(mine.offsetAt(pos), lib.offsetAt(pos), `${what}: offsetAt(${JSON.stringify(pos)})`);
    assert.deepEqual(mine.getLineRange(pos.line), lib.getLineRange(pos.line), `${what}: getLineRange(${pos.line})`);
    assert.equal(mine.getEOLCharacters(pos.line), lib.getEOLCharacters(pos.line), `${what}: getEOLCharacters(${pos.line})`);
    const end = { line: pos.line + Math.floor(rnd() * 3), character: Math.floor(rnd() * 12) };
    assert.equal(mine.getText({ start: pos, end }), lib.getText({ start: pos, end }), `${what}: getText(range)`);
  }
}

describe('LineDocument', () => {
  for (const start of ['', '{"a": 1}\n{"b": 2}\n', 'one\r\ntwo\r\nthree', 'a\rb\nc\r\n']) {
    it(`matches the library's TextDocument over 300 random edits of ${JSON.stringify(start)}`, () => {
      const rnd = seededRandom(start.length + 7);
      const lib = TextDocument.create('file:///t.jsonl', 'jsonl', 1, start);
      const mine = new LineDocument('file:///t.jsonl', 'jsonl', 1, start);
      check(lib, mine, rnd, 'created');
      let applied = 0;
      for (let v = 2; v < 300; v++) {
        const lines = lib.lineCount;
        const at = () => ({ line: Math.floor(rnd() * (lines + 1)), character: Math.floor(rnd() * 10) });
        let change: TextDocumentContentChangeEvent;
        if (rnd() < 0.03) change = { text: PIECES[Math.floor(rnd() * PIECES.length)]!.repeat(3) };
        else {
          let [a, b] = [at(), at()];
          // Positions inside a line only: the client never sends one between '\r' and '\n'.
          for (const p of [a, b])
            p.character = Math.min(
              p.character,
              lib.getText({ start: { line: p.line, character: 0 }, end: { line: p.line, character: 1e9 } }).replace(/[\r\n]+$/, '').length,
            );
          if (a.line > b.line || (a.line === b.line && a.character > b.character)) [a, b] = [b, a];
          let text = '';
          for (let n = Math.floor(rnd() * 3); n > 0; n--) text += PIECES[Math.floor(rnd() * PIECES.length)];
          change = { range: { start: a, end: b }, text };
        }
        // A change that would join '\r' and '\n' into one break differs between the two on purpose
        // (VS Code keeps one kind of line break per document): skip those.
        const probe = TextDocument.create('file:///p', 'jsonl', 1, lib.getText());
        TextDocument.update(probe, [change], v);
        const joined = probe.getText();
        if (
          'range' in change &&
          /\r$/.test(lib.getText({ start: { line: 0, character: 0 }, end: change.range.start }) + change.text) &&
          joined.length > 0
        ) {
          const startOffset = lib.offsetAt(change.range.start) + change.text.length;
          if (joined[startOffset] === '\n') continue;
        }
        if (
          'range' in change &&
          change.text.startsWith('\n') &&
          lib.getText({ start: { line: 0, character: 0 }, end: change.range.start }).endsWith('\r')
        )
          continue;
        TextDocument.update(lib, [change], v);
        mine.update([change], v);
        check(lib, mine, rnd, `after edit ${v}: ${JSON.stringify(change)}`);
        applied++;
      }
      assert.ok(applied > 250, `${applied} edits applied`);
    });
  }

  it('replaces a pasted file of 200,000 lines in one change', () => {
    const mine = new LineDocument('file:///t.jsonl', 'jsonl', 1, 'a\nb');
    const pasted = Array.from({ length: 200_000 }, (_, i) => `{"n": ${i}}`).join('\n');
    mine.update([{ range: { start: { line: 0, character: 1 }, end: { line: 1, character: 0 } }, text: pasted }], 2);
    assert.equal(mine.lineCount, 200_000);
    assert.equal(mine.lineAt(0), 'a{"n": 0}');
    assert.equal(mine.lineAt(199_999), '{"n": 199999}b');
  });
});
