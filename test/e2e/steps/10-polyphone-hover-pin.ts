import type { Step } from '../harness';

export default {
  name: 'hovering a polyphone shows the teacher’s readings; a quick fix pins one in the dictionary',
  timeoutMs: 120_000,
  async run(h) {
    // The per-polyphone information diagnostics are off by default (readings are inlay hints): this step reads them.
    // Inlay hints move the characters on screen; the hover below aims at a character by its place in the text.
    const settings = JSON.parse(h.readFile('.vscode/settings.json')) as Record<string, unknown>;
    h.writeFile(
      '.vscode/settings.json',
      JSON.stringify(
        {
          ...settings,
          'ttsDistill.polyphones.informationDiagnostics': true,
          'ttsDistill.inlayHints.readings': 'none',
        },
        null,
        2,
      ),
    );
    try {
      await h.openFile('demo.tasks.jsonl');
      const flag = await h.waitForProblem(/^重: teacher reads zhong4/, 'demo.tasks');
      h.log(`${flag.severity} ${flag.line}:${flag.column} ${flag.message}`);
      // The hover shows the whole line, characters over readings; 重 of 重新 is pinned by the workspace rule.
      const hover = await h.hover('重量', /Teacher readings[\s\S]*rule "重新"/);
      h.log('hover:', hover.replace(/\s+/g, ' ').slice(0, 300));
      h.expect(/chong2/.test(hover) && hover.includes('📌') && /rule "重新"/.test(hover), `hover names the rule that fired: ${hover}`);
      // The cursor on 重 (walking from the line start: Go to Line counts CJK characters twice).
      await h.page.keyboard.press('Escape');
      await h.gotoLine(flag.line ?? 2, flag.column ?? 1);
      await h.quickFix(/Pin 重 as zhong4 in 重量/);
      // The edit is applied to the dictionary (unsaved, undoable); the server reads the open buffer at once.
      const pinned = await h.waitForProblem(/^重: teacher reads zhong4 .*decided by the dictionary rule "重量"/, 'demo.tasks');
      h.log(`${pinned.severity} ${pinned.line}:${pinned.column} ${pinned.message}`);
      await h.openFile('G2P_replace_dict.jsonl');
      await h.save();
      await h.until('the rule saved in the dictionary', () =>
        h.readFile('G2P_replace_dict.jsonl').includes('{"word": "重", "context": "重量", "phoneme": "zhong4"}'),
      );
    } finally {
      // Back to the settings the other steps expect, whatever happened above.
      h.writeFile('.vscode/settings.json', JSON.stringify(settings, null, 2));
    }
  },
} satisfies Step;
