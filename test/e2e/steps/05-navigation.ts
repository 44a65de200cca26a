import { existsSync } from 'node:fs';
import * as path from 'node:path';
import type { Step } from '../harness';

export default {
  name: 'Go to Symbol lists task lines by output name; workspace symbols find them',
  async run(h) {
    await h.openFile('demo.tasks.jsonl');
    // Go to Symbol in Editor: "@" in the Quick Input (Ctrl+Shift+O).
    await h.withQuickInput('Control+Shift+O', '@weigh', () => h.pickQuickInputRow('the symbol weigh_again', (label) => label.includes('weigh_again'), true));
    const ln = await h.statusBarItem(/^Ln 2, Col \d+/);
    h.log('cursor after Go to Symbol:', ln.text);
    await h.screenshot('editor-symbol');

    // Go to Symbol in Workspace: "#" in the Quick Input (Ctrl+T is the browser's in code-server).
    await h.openFile('G2P_replace_dict.jsonl');
    await h.withQuickInput('F1', '#weigh_again', () => h.pickQuickInputRow('the workspace symbol weigh_again', (label) => label.includes('weigh_again'), true));
    await h.until('demo.tasks.jsonl active', async () => /demo\.tasks\.jsonl/.test(await h.activeTab()));
    await h.statusBarItem(/^Ln 2, Col \d+/);
    h.expect(existsSync(path.join(h.workspace, 'demo.tasks.jsonl')), 'the workspace has the task file');
  },
} satisfies Step;
