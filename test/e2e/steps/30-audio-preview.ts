import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Step } from '../harness';
import { encodeWav } from '../../../server/src/core/audio/wav';

/* eslint-disable @typescript-eslint/no-explicit-any */
/** Pixels of a canvas that are not transparent (runs in the webview). */
const inkedPixels = (c: any): number => {
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let n = 0;
  for (let i = 3; i < d.length; i += 4) if (d[i]) n++;
  return n;
};

export default {
  name: 'the audio preview draws, plays and A/B-switches prompt, teacher and student of a task line',
  timeoutMs: 120_000,
  async run(h) {
    // The first task (bank_walk): a teacher output of 2.5 s at 24 kHz peaking at −6 dBFS, and a
    // student output that is not a WAV at all.
    const tone = Float32Array.from({ length: 60000 }, (_, i) => 0.5 * Math.sin((2 * Math.PI * 220 * i) / 24000));
    const write = (rel: string, data: Uint8Array | string) => {
      mkdirSync(path.dirname(path.join(h.workspace, rel)), { recursive: true });
      writeFileSync(path.join(h.workspace, rel), data);
    };
    write('teacher-out/bank_walk.wav', encodeWav(tone, 24000));
    write('student-out/bank_walk.wav', 'this is not audio');

    await h.openFile('demo.tasks.jsonl');
    await h.gotoLine(1);
    const opened = Date.now();
    await h.runCommand('TTS Distill: Preview Audio of This Line');
    const view = h.webview();
    const stage = view.locator('.stage');
    await h.until('the teacher output drawn in the preview', async () => (await stage.getAttribute('data-rendered', { timeout: 500 })) === 'teacher', 30_000);
    h.log(`preview drawn ${Date.now() - opened} ms after the command`);
    const meta = await view.locator('.meta').innerText();
    h.log('metadata:', meta.replace(/\s+/g, ' '));
    for (const want of ['0:02.50', '24000 Hz', 'mono', '16-bit PCM', '-6.0 dBFS', '-9.0 dBFS']) h.expect(meta.includes(want), `metadata shows ${want}: ${JSON.stringify(meta)}`);
    const waveInk = await view.locator('canvas.wave').evaluate(inkedPixels);
    const specInk = await view.locator('canvas.spec').evaluate(inkedPixels);
    h.expect(waveInk > 1000 && specInk > 1000, `waveform and spectrogram are drawn (${waveInk}, ${specInk} pixels)`);
    const text = await view.locator('.text').innerText();
    h.expect(/银\s*yin2/.test(text) && /行\s*hang2/.test(text), `the text shows the teacher's readings: ${JSON.stringify(text)}`);
    await h.screenshot('teacher');

    // Keyboard: → seeks one second.
    await view.locator('h1').click();
    await h.press('ArrowRight');
    await h.until('the position moved to 0:01.00', async () => (await view.locator('.time').innerText()).startsWith('0:01.00'));

    // A/B: the prompt keeps the position.
    await view.locator('.tab[data-key="prompt"]').click();
    await h.until('the prompt drawn', async () => (await stage.getAttribute('data-rendered', { timeout: 500 })) === 'prompt');
    const promptMeta = await view.locator('.meta').innerText();
    h.expect(promptMeta.includes('16000 Hz') && promptMeta.includes('0:04.00'), `prompt metadata: ${JSON.stringify(promptMeta)}`);
    await h.until('the position kept across the switch', async () => (await view.locator('.time').innerText()).startsWith('0:01.00'));

    // A broken file says so in the panel.
    await view.locator('.tab[data-key="student"]').click();
    const message = await h.until('a message about the broken student file', async () => {
      const m = view.locator('.message');
      return (await m.isVisible()) && /not a WAV file/i.test(await m.innerText()) ? m.innerText() : undefined;
    });
    h.log('student:', message);
    await h.screenshot('broken-file');

    // Clicking a WAV opens it in the preview (custom editor), a 10-minute one included.
    const long = new Float32Array(24000 * 600);
    for (let i = 0; i < long.length; i++) long[i] = 0.3 * Math.sin(i * 0.0577) * Math.max(0, Math.sin(i * 0.00065));
    write('long/ten-minutes.wav', encodeWav(long, 24000));
    await h.runCommand('View: Close All Editors');
    await h.until('no webview left', async () => (await h.page.locator('iframe.webview').count()) === 0);
    const row = (name: string) => h.page.locator('.explorer-folders-view .monaco-list-row', { hasText: name }).first();
    await h.until('the "long" folder in the explorer', () => row('long').count());
    await row('long').click();
    await h.until('ten-minutes.wav in the explorer', () => row('ten-minutes.wav').count());
    await row('ten-minutes.wav').click();
    const clicked = Date.now();
    const longStage = h.webview().locator('.stage');
    await h.until('the 10-minute WAV drawn in the WAV editor', async () => (await longStage.getAttribute('data-rendered', { timeout: 500 })) === 'file', 30_000);
    const inPanel = await longStage.getAttribute('data-render-ms');
    h.log(`10-minute WAV drawn ${Date.now() - clicked} ms after clicking it in the explorer (${inPanel} ms after the webview got its view)`);
    const longMeta = await h.webview().locator('.meta').innerText();
    h.expect(longMeta.includes('10:00.00') && longMeta.includes('24000 Hz'), `10-minute metadata: ${JSON.stringify(longMeta)}`);
    await h.screenshot('ten-minutes');
  },
} satisfies Step;
