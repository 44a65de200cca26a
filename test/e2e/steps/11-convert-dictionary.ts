import type { Step } from '../harness';

export default {
  name: 'the open G2P dictionary converts to the other dialect in a new editor',
  timeoutMs: 90_000,
  async run(h) {
    await h.openFile('G2P_replace_dict.jsonl');
    await h.runCommand('TTS Distill: Convert G2P Dictionary to the Other Dialect');
    const lines = h.page.locator('.editor-group-container.active .monaco-editor .view-lines');
    const text = await h.until('the converted rules', async () => {
      const t = (await lines.innerText()).replace(/\u00a0/g, ' ');
      return t.includes('{"银行": "银<|H|><|ANG2|>"}') && t.includes('{"重新": "<|CH|><|ONG2|>新"}') ? t : undefined;
    });
    h.log('converted:', text.replace(/\s+/g, ' ').slice(0, 200));
    h.expect(!text.includes('"word"'), `every rule has an upstream form: ${text}`);
  },
} satisfies Step;
