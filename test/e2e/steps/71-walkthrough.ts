import type { Step } from '../harness';

export default {
  name: 'the walkthrough opens with its steps',
  timeoutMs: 120_000,
  async run(h) {
    await h.runCommand('Welcome: Open Walkthrough...');
    await h.pickQuickInputRow('our walkthrough', (label) => label.includes('Get started with TTS Distill Studio'));
    const text = await h.until('the walkthrough steps', async () => {
      const t = await h.page
        .locator('.gettingStartedContainer')
        .innerText()
        .catch(() => '');
      return t.includes('Open the sample workspace') && t.includes('Use the CLI in the terminal') ? t : undefined;
    });
    h.log('walkthrough:', text.replace(/\s+/g, ' ').slice(0, 160));
    await h.screenshot('walkthrough');

    // tts-distill on the integrated terminal's PATH is checked in a real terminal by test/suite/30-vscode.test.ts.
  },
} satisfies Step;
