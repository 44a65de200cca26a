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
  name: 'the audio preview: command, cursor, code lens, hover link, keys, A/B, broken file, reload, a 10-minute WAV',
  timeoutMs: 180_000,
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
    // The take's manifest record says 行 in 银行 was read xing2: the dictionary has changed since.
    write(
      'teacher-out/manifest.jsonl',
      JSON.stringify({
        line: 0,
        name: 'bank_walk',
        taskHash: 'h',
        text: '我去银行取钱，然后行走回家。',
        readings: ['wo3', 'qu4', 'yin2', 'xing2', 'qu3', 'qian2', null, 'ran2', 'hou4', 'xing2', 'zou3', 'hui2', 'jia1', null],
        phonemes: '',
        audio: 'bank_walk.wav',
        durationSeconds: 2.5,
        sampleRate: 24000,
        backend: 'embedded',
        seed: 42,
        wavSha256: 'w',
        clonedVoice: false,
      }) + '\n',
    );

    // From the command palette, on line 1: the teacher's take is shown first.
    await h.openFile('demo.tasks.jsonl');
    await h.gotoLine(1);
    const opened = Date.now();
    await h.runCommand('TTS Distill: Preview Audio of This Line');
    const view = h.webview();
    const stage = view.locator('.stage');
    const rendered = (key: string, what: string, timeoutMs = 20_000) =>
      h.until(
        what,
        async () => (await stage.getAttribute('data-rendered', { timeout: 500 })) === key && (await stage.isVisible()),
        timeoutMs,
      );
    await rendered('teacher', 'the teacher output drawn in the preview', 30_000);
    h.log(`preview drawn ${Date.now() - opened} ms after the command`);
    const meta = await view.locator('.meta').innerText();
    h.log('metadata:', meta.replace(/\s+/g, ' '));
    for (const want of ['0:02.50', '24000 Hz', 'mono', '16-bit PCM', '-6.0 dBFS', '-9.0 dBFS', 'F0 median', '220 Hz'])
      h.expect(meta.includes(want), `metadata shows ${want}: ${JSON.stringify(meta)}`);
    const waveInk = await view.locator('canvas.wave').evaluate(inkedPixels);
    const specInk = await view.locator('canvas.spec').evaluate(inkedPixels);
    h.expect(waveInk > 1000 && specInk > 1000, `waveform and spectrogram are drawn (${waveInk}, ${specInk} pixels)`);
    const text = await view.locator('.text').innerText();
    h.expect(/银\s*yin2/.test(text) && /行\s*hang2/.test(text), `the text shows the teacher's readings: ${JSON.stringify(text)}`);
    const take = await view.locator('.take').innerText();
    h.log('take:', take);
    h.expect(/seed 42/.test(take) && /1 reading changed/.test(take), `the take line says one reading changed: ${JSON.stringify(take)}`);
    h.expect((await view.locator('ruby.changed').count()) === 1, 'one character is marked as read differently in the take');
    await h.screenshot('teacher');

    // The panel follows the cursor: line 2 has only its prompt; back on line 1 the teacher again.
    await h.gotoLine(2);
    await h.until('the preview on line 2', async () => /weigh_again · line 2/.test(await view.locator('h1').innerText()));
    await rendered('prompt', 'the prompt of line 2 drawn');
    // A teacher output written meanwhile (a batch running) shows up in the open panel by itself.
    write('teacher-out/weigh_again.wav', encodeWav(tone.subarray(0, 36000), 24000));
    await rendered('teacher', 'the new teacher output of line 2 drawn without asking');
    h.expect((await view.locator('.meta').innerText()).includes('0:01.50'), 'the new output is 1.5 s long');
    // …and its code lens too (lines 1 and 3 are both bank_walk; line 2 joins them).
    const teacherLenses = h.page.locator('.monaco-editor .codelens-decoration a', { hasText: 'Teacher' });
    await h.until('a Teacher code lens on line 2 as well', async () => (await teacherLenses.count()) === 3);
    await h.gotoLine(1);
    await h.until('the preview back on line 1', async () => /bank_walk · line 1/.test(await view.locator('h1').innerText()));
    await rendered('teacher', 'the teacher output of line 1 drawn again');

    // The code lens of the student output: the file is broken, and the panel says so.
    await h.page.locator('.monaco-editor .codelens-decoration a', { hasText: 'Student' }).first().click();
    const message = await h.until('a message about the broken student file', async () => {
      const m = view.locator('.message');
      return (await m.isVisible()) && /not a WAV file/i.test(await m.innerText()) ? m.innerText() : undefined;
    });
    h.log('student:', message);
    h.expect(!(await stage.isVisible()), 'no empty canvases under the message');
    await h.screenshot('broken-file');

    // Keys inside the panel: 1 = prompt, → = +1 s, 2 = teacher at the same position (A/B).
    await view.locator('h1').click();
    await h.press('1');
    await rendered('prompt', 'the prompt drawn after key 1');
    const promptMeta = await view.locator('.meta').innerText();
    h.expect(promptMeta.includes('16000 Hz') && promptMeta.includes('0:04.00'), `prompt metadata: ${JSON.stringify(promptMeta)}`);
    await h.press('ArrowRight');
    await h.until('the position moved to 0:01.00', async () => (await view.locator('.time').innerText()).startsWith('0:01.00'));
    await h.press('2');
    await rendered('teacher', 'the teacher drawn after key 2');
    await h.until('the position kept across the A/B switch', async () => (await view.locator('.time').innerText()).startsWith('0:01.00'));

    // A hover link on the prompt audio opens the preview on the prompt.
    await h.runCommand('View: Focus First Editor Group');
    // Exactly the link titled Prompt: the prompt's QA warning in the same hover links its code,
    // task/prompt-audio-qa. That warning can arrive while the hover is shown, and the hover is then
    // laid out again under the pointer: a click that lands meanwhile is lost, so the hover is shown
    // again and the link clicked again (each miss is logged).
    for (let attempt = 1; ; attempt++) {
      const hover = await h.hover('prompts/speaker_a.wav', /Audio preview/);
      if (attempt === 1) h.log('hover:', hover.replace(/\s+/g, ' '));
      await h.page
        .locator('.monaco-hover:not(.hidden) a', { hasText: /^\s*Prompt\s*$/ })
        .first()
        .click();
      try {
        await rendered('prompt', 'the prompt drawn from the hover link', 8000);
        break;
      } catch (err) {
        if (attempt === 3) throw err;
        h.log(`the hover link's click #${attempt} opened nothing in 8 s; hovering again`);
        await h.screenshot(`hover-miss-${attempt}`);
        await h.press('Escape');
      }
    }

    // The panel comes back after a window reload, on the same line and source.
    // Reload Window (not a browser reload) lets the workbench save the webview's state first.
    await h.press('Escape');
    await h.runCommand('Developer: Reload Window');
    await h.page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
    await rendered('prompt', 'the preview restored after the reload', 60_000);
    h.expect(/bank_walk · line 1/.test(await view.locator('h1').innerText()), 'the restored preview shows line 1');

    // A WAV opened with "Reopen Editor With… → TTS Distill Audio Preview" (the custom editor is an
    // option, not a forced association), a 10-minute one included.
    const long = new Float32Array(24000 * 600);
    for (let i = 0; i < long.length; i++) long[i] = 0.3 * Math.sin(i * 0.0577) * Math.max(0, Math.sin(i * 0.00065));
    write('long/ten-minutes.wav', encodeWav(long, 24000));
    await h.runCommand('View: Close All Editors');
    await h.until('no webview left', async () => (await h.page.locator('iframe.webview').count()) === 0);
    const row = (name: string) => h.page.locator('.explorer-folders-view .monaco-list-row', { hasText: name }).first();
    await h.until('the "long" folder in the explorer', () => row('long').count());
    await row('long').click();
    // A click that lands while the explorer refreshes (the folder was just written) may only select
    // the row (seen in a rehearsal: "long" selected, collapsed, for 20 s): clicked again, at most
    // every 2 s, while it stays collapsed.
    let expandedAt = Date.now();
    await h.until('ten-minutes.wav in the explorer', async () => {
      if (await row('ten-minutes.wav').count()) return true;
      if ((await row('long').getAttribute('aria-expanded')) === 'false' && Date.now() - expandedAt > 2000) {
        h.log('the "long" folder is still collapsed: clicking it again');
        expandedAt = Date.now();
        await row('long').click();
      }
      return false;
    });
    // The explorer's "Open With..." lists the WAV editor (an option, not a forced association).
    // A click on the context menu while it is still being laid out is sometimes lost (seen in a
    // rehearsal: the menu stayed open with "Open With..." highlighted), so it is clicked until the
    // editor picker is there.
    await row('ten-minutes.wav').click({ button: 'right' });
    const openWith = h.page.locator('.context-view .action-label', { hasText: 'Open With...' }).first();
    await h.until('the editor picker of "Open With..."', async () => {
      if (await h.quickInput.isVisible()) return true;
      if (await openWith.isVisible()) await openWith.click({ timeout: 2000 });
      else await row('ten-minutes.wav').click({ button: 'right' });
      return h.quickInput.waitFor({ state: 'visible', timeout: 2000 }).then(
        () => true,
        () => false,
      );
    });
    await h.pickQuickInputRow('TTS Distill Audio Preview among the editors', (label) => label.includes('TTS Distill Audio Preview'));
    const clicked = Date.now();
    await rendered('file', 'the 10-minute WAV drawn in the WAV editor', 30_000);
    const inPanel = await stage.getAttribute('data-render-ms');
    h.log(`10-minute WAV drawn ${Date.now() - clicked} ms after choosing the editor (${inPanel} ms after the webview got its view)`);
    const longMeta = await view.locator('.meta').innerText();
    h.expect(longMeta.includes('10:00.00') && longMeta.includes('24000 Hz'), `10-minute metadata: ${JSON.stringify(longMeta)}`);
    await h.screenshot('ten-minutes');

    // Zoom in 8× by key (each halves the window, around the playhead at 0): the panel asks for a
    // detailed analysis of that part and draws it; 0 shows the whole file again.
    await view.locator('h1').click();
    for (let i = 0; i < 8; i++) await h.press('+');
    await h.until(
      'a detailed analysis of the zoomed part drawn',
      async () => (await stage.getAttribute('data-detail', { timeout: 500 })) === 'true',
    );
    const zoomed = (await stage.getAttribute('data-window'))!.split('-').map(Number);
    h.log(`zoomed window ${zoomed.join('–')} s`);
    h.expect(zoomed[0] === 0 && Math.abs(zoomed[1]! - 600 / 256) < 0.01, `the window is the first 600/256 s: ${zoomed.join('-')}`);
    h.expect((await view.locator('canvas.spec').evaluate(inkedPixels)) > 1000, 'the zoomed spectrogram is drawn');
    await h.screenshot('zoomed');
    await h.press('0');
    await h.until('the whole file again', async () => (await stage.getAttribute('data-window', { timeout: 500 })) === '0.000-600.000');

    // The explorer's context menu opens a WAV in the preview panel too.
    await h.runCommand('View: Close All Editors');
    await h.until('no webview left', async () => (await h.page.locator('iframe.webview').count()) === 0);
    await row('ten-minutes.wav').click({ button: 'right' });
    const item = h.page.locator('.context-view .action-label', { hasText: 'Open in Audio Preview' }).first();
    await item.click();
    await h.until('the context menu closed', async () => {
      // A click that lands while the menu is still animating in is ignored: Enter on the focused item then.
      if (await item.isVisible()) await h.press('Enter');
      return !(await item.isVisible());
    });
    await rendered('file', 'the WAV drawn in the preview panel from the context menu', 30_000);
    await h.until('the panel tab names the file', () => h.page.locator('.tab', { hasText: 'Audio: ten-minutes.wav' }).count());
  },
} satisfies Step;
