import type { Step } from '../harness';

export default {
  name: "the Problems panel lists the task file's duplicate name, unknown key and JSON syntax error",
  async run(h) {
    await h.openFile('demo.tasks.jsonl');
    const duplicate = await h.waitForProblem(/Duplicate output_name "bank_walk"/);
    const unknown = await h.waitForProblem(/Unknown key "speaker"/);
    const syntax = await h.waitForProblem(/column \d+/, 'demo.tasks');
    for (const p of [duplicate, unknown, syntax]) h.log(`${p.severity} ${p.line ?? '?'}:${p.column ?? '?'} ${p.message}`);
    const rows = await h.problems('demo.tasks');
    const duplicates = rows.filter((p) => /Duplicate output_name "bank_walk"/.test(p.message));
    h.expect(
      duplicates.length === 2 && duplicates.every((p) => p.severity === 'error'),
      `two duplicate errors (lines 1 and 3): ${JSON.stringify(duplicates)}`,
    );
    h.expect(unknown.severity === 'warning' && unknown.line === 4, `unknown key: warning on line 4: ${JSON.stringify(unknown)}`);
    const column = h.readFile('demo.tasks.jsonl').split('\n')[4]!.indexOf('"output_name"') + 1;
    h.expect(
      syntax.severity === 'error' && syntax.line === 5 && syntax.message.includes(`column ${column}`),
      `JSON syntax error on line 5 naming column ${column}: ${JSON.stringify(syntax)}`,
    );
    // The problem is shown where it is: a squiggle in the editor.
    await h.until('an error squiggle in the editor', () => h.editor.locator('.squiggly-error').count());
  },
} satisfies Step;
