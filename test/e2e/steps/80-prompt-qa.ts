import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Step } from '../harness';
import { encodeWav } from '../../../server/src/core/audio/wav';
import { seededRandom } from '../../../server/src/core/student/prng';

/** Gaussian white noise (a fan, a busy room: WADA-SNR reads it as noise). Seeded, so every run hears the same. */
function noise(seconds: number, rate: number): Float32Array {
  const rand = seededRandom(12345);
  return Float32Array.from({ length: seconds * rate }, () => 0.1 * Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand()));
}

export default {
  name: 'a noisy prompt recording: the task file shows a quality warning on its path, naming the SNR',
  timeoutMs: 120_000,
  async run(h) {
    mkdirSync(path.join(h.workspace, 'qa'), { recursive: true });
    writeFileSync(path.join(h.workspace, 'qa', 'fan.wav'), encodeWav(noise(3, 24000), 24000));
    h.writeFile(
      'qa/noisy.tasks.jsonl',
      JSON.stringify({ prompt_audio: 'fan.wav', prompt_text: '今天天气很好。', input_text: '我们出发吧。', output_name: 'noisy_prompt' }) +
        '\n',
    );
    await h.openFile('qa/noisy.tasks.jsonl');
    const warning = await h.waitForProblem(/Prompt audio quality: WADA-SNR/, 'noisy.tasks');
    h.log(`${warning.severity} ${warning.line}:${warning.column} ${warning.message}`);
    h.expect(warning.severity === 'warning', `a warning, not an error: ${warning.severity}`);
    h.expect(/below 15 dB \(noise\)/.test(warning.message), `the message names the threshold: ${warning.message}`);
    const column = h.readFile('qa/noisy.tasks.jsonl').indexOf('"fan.wav"') + 1;
    h.expect(warning.line === 1 && warning.column === column, `on the prompt path (1:${column}): ${warning.line}:${warning.column}`);
    await h.until('a warning squiggle in the editor', () => h.editor.locator('.squiggly-warning').count());
  },
} satisfies Step;
