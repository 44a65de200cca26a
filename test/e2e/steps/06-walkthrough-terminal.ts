import type { Step } from '../harness';

export default {
  name: 'the walkthrough opens; tts-distill runs in the integrated terminal',
  timeoutMs: 120_000,
  async run(h) {
    await h.runCommand('Welcome: Open Walkthrough...');
    await h.pickQuickInputRow('our walkthrough', (label) => label.includes('Get started with TTS Distill Studio'));
    const text = await h.until('the walkthrough steps', async () => {
      const t = await h.page.locator('.gettingStartedContainer').innerText().catch(() => '');
      return t.includes('Open the sample workspace') && t.includes('Use the CLI in the terminal') ? t : undefined;
    });
    h.log('walkthrough:', text.replace(/\s+/g, ' ').slice(0, 160));
    await h.screenshot('walkthrough');

    await h.runCommand('Terminal: Create New Terminal');
    await h.until('the terminal', async () => h.page.locator('.terminal-wrapper.active, .terminal.xterm').first().isVisible().catch(() => false));
    const out = 'term-validate.txt';
    await h.type(`tts-distill validate dicts/broken.g2p.jsonl > ${out} 2>&1; echo "exit $?" >> ${out}`);
    await h.press('Enter');
    const result = await h.until('tts-distill output in the workspace', () => {
      try {
        const t = h.readFile(out);
        return /exit \d+/.test(t) ? t : undefined;
      } catch {
        return undefined;
      }
    }, 60_000);
    h.log('terminal:', result.trim().split('\n').slice(-2).join(' | '));
    h.expect(/^dicts\/broken\.g2p\.jsonl:2:\d+: error: /m.test(result), `validate ran from the PATH: ${result}`);
    h.expect(/exit 1/.test(result), `exit code 1 for a file with errors: ${result}`);
  },
} satisfies Step;
