import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Step } from '../harness';
import { encodeWav } from '../../../server/src/core/audio/wav';

const CPP = path.join(__dirname, '..', '..', '..', 'data', 'cpp');

/** A teacher run in teacher-out/: CPP sentences read with CPP's gold labels on the marked characters. */
function teacherRun(write: (rel: string, data: string | Uint8Array) => void, count: number): void {
  const sent = readFileSync(path.join(CPP, 'dev.sent'), 'utf8').split('\n');
  const lb = readFileSync(path.join(CPP, 'dev.lb'), 'utf8').split('\n');
  const records: string[] = [];
  for (let n = 0; n < count; n++) {
    const k = n * 2;
    const at = sent[k]!.indexOf('\u2581');
    const text = sent[k]!.replace(/\u2581/g, '');
    const readings: (string | null)[] = new Array<string | null>(text.length).fill(null);
    readings[at] = lb[k]!.replace('u:', 'v');
    // The teacher's G2P decided them (a label the student may learn), as a real manifest records it.
    const sources: (string | null)[] = new Array<string | null>(text.length).fill(null);
    sources[at] = 'g2p';
    records.push(
      JSON.stringify({
        line: n,
        name: `utt_${n}`,
        taskHash: 'h',
        text,
        readings,
        sources,
        phonemes: text,
        audio: `utt_${n}.wav`,
        durationSeconds: 1,
        sampleRate: 24000,
        backend: 'embedded',
        seed: 42,
        wavSha256: 'w',
        clonedVoice: false,
      }),
    );
  }
  write('teacher-out/manifest.jsonl', records.join('\n') + '\n');
  const tone = Float32Array.from({ length: 24000 }, (_, i) => 0.3 * Math.sin((2 * Math.PI * 200 * i) / 24000));
  for (let n = 0; n < count; n++) write(`teacher-out/utt_${n}.wav`, encodeWav(tone, 24000));
}

export default {
  name: 'train the G2P student from a teacher run (loss curve), then open the evaluation diff and report',
  timeoutMs: 180_000,
  async run(h) {
    teacherRun((rel, data) => {
      mkdirSync(path.dirname(path.join(h.workspace, rel)), { recursive: true });
      writeFileSync(path.join(h.workspace, rel), data);
    }, 1200);

    await h.runCommand('TTS Distill: Train Student');
    await h.pickQuickInputRow('the teacher-out run', (label) => label.startsWith('teacher-out'));
    const view = h.webview();
    await h.until('the training panel', async () => /Training the G2P student/.test(await view.locator('h1').innerText({ timeout: 1000 })));
    const done = await h.notification(/G2P student trained on \d+ polyphones/, 90_000);
    h.log(done);
    const [, student, pinyinPro] = /held-out accuracy (\d+\.\d+) % \(pinyin-pro (\d+\.\d+) %\)/.exec(done) ?? [];
    h.expect(
      student && pinyinPro && Number(student) > Number(pinyinPro),
      `the notification gives the accuracy, above pinyin-pro's: ${done}`,
    );
    const status = await view.locator('.status').innerText();
    h.expect(/G2P student trained/.test(status), `the panel says it finished: ${status}`);
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const ink = await view.locator('canvas.chart').evaluate((c: any) => {
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 3; i < d.length; i += 4) if (d[i]) n++;
      return n;
    });
    h.expect(ink > 500, `the loss curve is drawn (${ink} pixels)`);
    h.expect(/epoch 10\/10/.test(await view.locator('pre.log').innerText()), 'the log lists the epochs');
    await h.screenshot('training');
    const model = JSON.parse(h.readFile('student/g2p-student.json')) as { format: string; metrics: { heldOutAccuracy: number } };
    h.expect(model.format === 'tts-distill-g2p-student', 'the model file is written where ttsDistill.student.modelPath says');

    // The training panel may take the focus back while a quick pick opens (which closes it, or
    // swallows its Enter): runCommandUntil asks again then.
    const diffTab = h.page.locator('.tab', { hasText: 'Readings: teacher ↔ student' });
    await h.runCommandUntil(
      'TTS Distill: Open Evaluation Diff',
      [
        { what: 'the teacher-out run', match: (label) => label.startsWith('teacher-out') },
        { what: 'readings only', match: (label) => label.startsWith('Readings only') },
      ],
      'the diff editor of teacher and student readings',
      () => diffTab.count(),
      { failure: /Evaluation failed/ },
    );
    await h.until('the report panel', async () => /Student vs teacher/.test(await h.webview().locator('h1').innerText({ timeout: 1000 })));
    const report = h.webview();
    const summary = await report.locator('table').first().innerText();
    h.log('summary:', summary.replace(/\s+/g, ' '));
    h.expect(/characters/.test(summary) && /polyphones/.test(summary), 'the metrics table');
    const items = report.locator('.item');
    await h.until('tasks where the student disagrees', () => items.count());
    const first = items.first();
    const head = await first.locator('.head').innerText();
    h.expect(/#\d+ utt_\d+/.test(head), `an item names its task: ${head}`);
    h.expect((await first.locator('audio').count()) >= 1, 'the item plays the teacher audio');
    const line = Number(/#(\d+)/.exec(head)![1]);
    await first.locator('.text').click();
    // The diff shows the item's line (task line n is document line n here): the student side's line numbers include it.
    await h.until(`line ${line} visible in the diff`, async () =>
      (await h.page.locator('.editor.modified .line-numbers').allInnerTexts()).some((t) => t.trim() === String(line)),
    );
    await h.screenshot('evaluation');
  },
} satisfies Step;
