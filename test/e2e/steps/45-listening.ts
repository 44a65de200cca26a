import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Step } from '../harness';
import { encodeWav } from '../../../server/src/core/audio/wav';
import { evaluate, writeReport } from '../../../server/src/core/evaluation/evaluate';

const LINES = 6;

/**
 * An evaluation run with student audio (step 40 evaluates readings only): a teacher run of 6 lines
 * in listen-teacher/, the student's takes in listen-student/, eval.json + eval.html in listen-eval/,
 * written by the same core as `tts-distill eval --student-audio`.
 */
async function evaluationRun(root: string): Promise<void> {
  const write = (rel: string, data: string | Uint8Array) => {
    mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    writeFileSync(path.join(root, rel), data);
  };
  const tone = (hz: number) => Float32Array.from({ length: 12000 }, (_, i) => 0.3 * Math.sin((2 * Math.PI * hz * i) / 24000));
  const records: string[] = [];
  for (let n = 0; n < LINES; n++) {
    const text = `我们去银行办事${n}`;
    records.push(
      JSON.stringify({
        line: n,
        name: `listen_${n}`,
        taskHash: 'h',
        text,
        readings: new Array(text.length).fill(null),
        audio: `listen_${n}.wav`,
        durationSeconds: 0.5,
        sampleRate: 24000,
        backend: 'embedded',
        seed: 42,
        wavSha256: 'w',
        clonedVoice: false,
      }),
    );
    write(`listen-teacher/listen_${n}.wav`, encodeWav(tone(220), 24000));
    write(`listen-student/listen_${n}.wav`, encodeWav(tone(330), 24000));
  }
  write('listen-teacher/manifest.jsonl', records.join('\n') + '\n');
  const report = await evaluate({
    teacherDir: path.join(root, 'listen-teacher'),
    studentAudioDir: path.join(root, 'listen-student'),
    student: { version: 'stub', predict: () => undefined },
  });
  await writeReport(report, path.join(root, 'listen-eval'));
}

export default {
  name: 'a blind A/B listening test answered with the keyboard only, resumed where it stopped',
  timeoutMs: 240_000,
  async run(h) {
    await evaluationRun(h.workspace);
    const answers = () => {
      try {
        return h
          .readFile('listen-eval/listening/test-1.jsonl')
          .split('\n')
          .filter((l) => l.trim())
          .map((l) => JSON.parse(l) as { kind: string; choice: string; preferred: string });
      } catch {
        return [];
      }
    };

    // Run alone (E2E_STEPS=45) on a loaded machine, the extension may still be activating, and the palette
    // entry shows once its ttsDistill.active context key is set; an open palette does not refresh: ask again.
    await h.until(
      'extensions activated',
      async () => !(await h.page.locator('.statusbar').innerText()).includes('Activating Extensions'),
      120_000,
    );
    for (let attempt = 1; ; attempt++) {
      try {
        // The only evaluation with student audio, and no test yet: the panel opens on test-1 without a question.
        await h.runCommand('TTS Distill: Start Listening Test');
        break;
      } catch (err) {
        if (attempt === 4) throw err;
        h.log(`palette attempt ${attempt}: ${(err as Error).message}`);
      }
    }
    const view = h.webview();
    const total = LINES * 3; // 6 A/B items, then 12 MOS takes
    const progress = async () => (await view.locator('.progress').innerText({ timeout: 1000 })).trim();
    await h.until('the listening panel on item 1', async () => (await progress()) === `1 / ${total}`, 30_000);
    h.expect(/Listening test test-1/.test(await view.locator('h1').innerText()), 'the panel names the test');
    const keys = await view.locator('.keys').innerText();
    h.expect(/Space/.test(keys) && /Shift\+Space/.test(keys) && /prefer A\/B/.test(keys), `the keys are shown: ${keys}`);
    h.expect(!/teacher|student/i.test(await view.locator('.players').innerText()), 'the players say A and B, not who is who');

    // Both clips load in the webview (its resource roots hold the run's folders): 0.5 s each.
    await h.until(
      'A and B loaded',
      async () =>
        (await view.locator('button.play').evaluateAll((bs) => bs.map((b) => b.getAttribute('data-seconds')))).join() === '0.50,0.50',
    );

    // Keyboard only: the panel has the focus. Space plays A, Shift+Space B; 2 prefers B, N saves and goes on.
    await h.press('Space');
    await h.press('Shift+Space');
    await h.press('2');
    await h.until('B selected', async () => (await view.locator('button.choice.selected').innerText()).includes('prefer B'));
    await h.press('n');
    await h.until('item 2', async () => (await progress()) === `2 / ${total}`);
    await h.press('1');
    await h.press('n');
    await h.until('item 3', async () => (await progress()) === `3 / ${total}`);
    await h.until('two answers in listen-eval/listening/test-1.jsonl', () => answers().length === 2);
    const [first, second] = answers();
    h.expect(first!.kind === 'ab' && first!.choice === 'B' && second!.choice === 'A', `the answers as given: ${JSON.stringify(answers())}`);
    h.expect(['teacher', 'student'].includes(first!.preferred), 'each answer records the system preferred');
    await h.screenshot('item-3');

    // N with nothing chosen does not skip the item.
    await h.press('n');
    await h.until('a hint to choose first', async () => /Choose first/.test(await view.locator('.status').innerText()));
    h.expect((await progress()) === `3 / ${total}` && answers().length === 2, 'still item 3, still two answers');

    // Closed and started again: the test is offered for resuming and goes on at item 3.
    await h.runCommand('View: Close Editor');
    await h.runCommand('TTS Distill: Start Listening Test');
    await h.pickQuickInputRow('test-1 to resume', (label) => label.startsWith('test-1'));
    await h.until('resumed on item 3', async () => (await progress()) === `3 / ${total}`, 30_000);
    h.expect(answers().length === 2, 'resuming wrote nothing');

    // To the end: A/B items 3–6 prefer A, then the 12 MOS takes rated 4; the summary lands in the report.
    for (let k = 3; k <= total; k++) {
      const mos = k > LINES;
      if (mos && k === LINES + 1)
        h.expect(/How good is this take/.test(await view.locator('.question').innerText()), 'MOS items follow the A/B items');
      await h.press(mos ? '4' : '1');
      await h.press('Enter');
      if (k < total) await h.until(`item ${k + 1}`, async () => (await progress()) === `${k + 1} / ${total}`);
    }
    await h.until('the finished test', async () => /finished/.test(await view.locator('h1').innerText({ timeout: 1000 })));
    const summary = await view.locator('table').innerText();
    h.log('summary:', summary.replace(/\s+/g, ' '));
    h.expect(/MOS teacher\s+4\.00/.test(summary) && /MOS student\s+4\.00/.test(summary), `MOS 4.00 for both systems: ${summary}`);
    h.expect(answers().length === total, `${total} answers in the jsonl`);
    const report = JSON.parse(h.readFile('listen-eval/eval.json')) as {
      listening?: Array<{ test: string; answered: number; preference: { n: number } }>;
    };
    h.expect(
      report.listening?.[0]?.test === 'test-1' && report.listening[0].answered === total && report.listening[0].preference.n === LINES,
      `eval.json carries the summary: ${JSON.stringify(report.listening)}`,
    );
    h.expect(h.readFile('listen-eval/eval.html').includes('Listening tests (blind)'), 'eval.html has the listening section');
    await h.screenshot('finished');
  },
} satisfies Step;
