import { existsSync } from 'node:fs';
import * as path from 'node:path';
import type { Step } from '../harness';

export default {
  name: 'Go to Symbol lists task lines by output name',
  async run(h) {
    await h.openFile('demo.tasks.jsonl');
    // Go to Symbol in Editor: "@" in the Quick Input (Ctrl+Shift+O).
    await h.withQuickInput('Control+Shift+O', '@weigh', () =>
      h.pickQuickInputRow('the symbol weigh_again', (label) => label.includes('weigh_again'), true),
    );
    const ln = await h.statusBarItem(/^Ln 2, Col \d+/);
    h.log('cursor after Go to Symbol:', ln.text);
    await h.screenshot('editor-symbol');

    // Workspace symbols (output names across task files) are checked through the API in test/suite/30-vscode.test.ts.
    h.expect(existsSync(path.join(h.workspace, 'demo.tasks.jsonl')), 'the workspace has the task file');
  },
} satisfies Step;
