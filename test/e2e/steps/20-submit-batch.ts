import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Step } from '../harness';
import { encodeWav } from '../../../server/src/core/audio/wav';

export default {
  name: 'submit a task file to the embedded teacher: quick pick, progress, outputs on disk, code lenses',
  timeoutMs: 150_000,
  async run(h) {
    const tone = Float32Array.from({ length: 16000 * 4 }, (_, i) => 0.2 * Math.sin((2 * Math.PI * 220 * i) / 16000));
    mkdirSync(path.join(h.workspace, 'batch'), { recursive: true });
    writeFileSync(path.join(h.workspace, 'batch', 'voice.wav'), encodeWav(tone, 16000));
    const texts = ['他在银行工作。', '我们重新开始吧。', '这个箱子很重。', '长大以后当老师。', '步行去学校。', '今天天气晴朗。'];
    h.writeFile(
      'batch/run.tasks.jsonl',
      texts
        .map((t, i) =>
          JSON.stringify({
            prompt_audio: 'voice.wav',
            prompt_text: '你好，欢迎使用。',
            input_text: t,
            output_name: `take_${i}`,
          }),
        )
        .join('\n') + '\n',
    );

    await h.openFile('batch/run.tasks.jsonl');
    await h.runCommand('TTS Distill: Submit Batch to Teacher');
    await h.pickQuickInputRow('the test run', (label) => label.startsWith('Test run'));
    const done = await h.notification(/Teacher batch finished: done 6, skipped 0, failed 0 of 6/, 120_000);
    h.log(done);
    const outDir = JSON.parse(h.readFile('.vscode/settings.json'))['ttsDistill.batch.testOutputDir'] ?? 'teacher-out-test';
    const manifest = readFileSync(path.join(h.workspace, outDir, 'manifest.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { name: string; readings: Array<string | null>; clonedVoice: boolean });
    h.expect(manifest.length === 6, `6 manifest records, got ${manifest.length}`);
    const bank = manifest.find((r) => r.name === 'take_0');
    h.expect(bank?.readings[3] === 'hang2', `the teacher read 行 in 银行 as hang2: ${JSON.stringify(bank?.readings)}`);
    h.expect(
      manifest.every((r) => r.clonedVoice === false),
      'the embedded teacher says it did not clone the voice',
    );
    const wav = readFileSync(path.join(h.workspace, outDir, 'take_0.wav'));
    h.expect(wav.subarray(0, 4).toString('ascii') === 'RIFF' && wav.length > 1000, 'take_0.wav is a real WAV');
    // Finished lines get their code lenses in the editor.
    await h.until(
      'the ✓ code lens on finished lines',
      async () => {
        const lenses = await h.page.locator('.contentWidgets .codelens-decoration, .codelens-decoration').allInnerTexts();
        const text = lenses.join(' | ');
        return /✓ \d+\.\d s/.test(text) && text.includes('▶') ? text : undefined;
      },
      30_000,
    );
    await h.screenshot('code-lenses');
  },
} satisfies Step;
