import type { Step } from '../harness';

export default {
  name: 'typing the missing comma makes the JSON syntax error go away',
  async run(h) {
    await h.openFile('demo.tasks.jsonl');
    await h.waitForProblem(/column \d+/, 'demo.tasks');
    const line = h.readFile('demo.tasks.jsonl').split('\n')[4]!;
    // Right after the closing quote of input_text's value.
    await h.gotoLine(5, line.indexOf(' "output_name"') + 1);
    await h.type(',');
    await h.waitForNoProblem(/invalid JSON/, 'demo.tasks');
    // The other problems stay.
    await h.waitForProblem(/Duplicate output_name "bank_walk"/, 'demo.tasks');
    await h.save();
    h.expect(h.readFile('demo.tasks.jsonl').split('\n')[4]!.includes('重要。", "output_name"'), 'the fix is saved to disk');
    const status = await h.statusBarItem(/Tasks: webui/);
    h.log('document status after the fix:', status.label);
  },
} satisfies Step;
