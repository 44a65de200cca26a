import { cpSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Step } from '../harness';
import { encodeWav } from '../../../server/src/core/audio/wav';

const STAND_IN = path.join(__dirname, '..', '..', 'fixtures', 'glmtts');

export default {
  name: "an able-list polyphone is left to the model (hover says so); pinning it reaches a glmtts-cli batch through the checkout's dictionary",
  timeoutMs: 180_000,
  async run(h) {
    // A GLM-TTS checkout (the stand-in reads configs/G2P_replace_dict.jsonl as GLM-TTS does) and the settings that use it.
    cpSync(STAND_IN, path.join(h.workspace, 'GLM-TTS'), { recursive: true });
    const original = h.readFile('GLM-TTS/configs/G2P_replace_dict.jsonl');
    const settings = JSON.parse(h.readFile('.vscode/settings.json')) as Record<string, unknown>;
    h.writeFile(
      '.vscode/settings.json',
      JSON.stringify(
        {
          ...settings,
          'ttsDistill.teacher.backend': 'glmtts-cli',
          'ttsDistill.teacher.glmttsPath': 'GLM-TTS',
          'ttsDistill.teacher.glmttsPython': 'python3',
          'ttsDistill.polyphones.informationDiagnostics': true,
          'ttsDistill.batch.testOutputDir': 'glmtts-out',
          // Inlay hints move the characters on screen; the hover below aims at a character by its place in the text.
          'ttsDistill.inlayHints.readings': 'none',
        },
        null,
        2,
      ),
    );
    try {
      mkdirSync(path.join(h.workspace, 'able'), { recursive: true });
      const tone = Float32Array.from({ length: 16000 * 3 }, (_, i) => 0.2 * Math.sin((2 * Math.PI * 200 * i) / 16000));
      writeFileSync(path.join(h.workspace, 'able', 'voice.wav'), encodeWav(tone, 16000));
      h.writeFile(
        'able/meeting.tasks.jsonl',
        JSON.stringify({ prompt_audio: 'voice.wav', prompt_text: '你好。', input_text: '我们开会。', output_name: 'acc' }) + '\n',
      );

      await h.openFile('able/meeting.tasks.jsonl');
      // 会 is in G2P_able_1word.json: GLM-TTS writes no tokens for it, its language model reads it.
      const flag = await h.waitForProblem(/^会: GLM-TTS leaves 会 to its language model/, 'meeting.tasks');
      h.log(`${flag.severity} ${flag.line}:${flag.column} ${flag.message}`);
      // Hover on 会: it is left to the model, its G2P reading is a hint only.
      const hover = await h.hover('会', /language model/);
      h.log('hover:', hover.replace(/\s+/g, ' ').slice(0, 300));
      h.expect(/hui4/.test(hover) && /language model/.test(hover), `the hover says the model decides, hui4 only a hint: ${hover}`);
      await h.page.keyboard.press('Escape');
      // Pin it: the only way to control it.
      await h.gotoLine(flag.line ?? 1, flag.column ?? 1);
      await h.quickFix(/Pin 会 as kuai4 in/);
      const pinned = await h.waitForProblem(/^会: teacher reads kuai4 .*decided by the dictionary rule/, 'meeting.tasks');
      h.log(`${pinned.severity} ${pinned.line}:${pinned.column} ${pinned.message}`);
      await h.openFile('G2P_replace_dict.jsonl');
      await h.save();
      await h.until('the rule saved in the dictionary', () => /"会"[^\n]*"kuai4"/.test(h.readFile('G2P_replace_dict.jsonl')));

      // A glmtts-cli batch: the checkout's own dictionary differs and was not written by us, so VS Code asks.
      await h.openFile('able/meeting.tasks.jsonl');
      await h.runCommand('TTS Distill: Submit Batch to Teacher');
      await h.pickQuickInputRow('the test run', (label) => label.startsWith('Test run'));
      await h.notification(/was not written by tts-distill/, 60_000);
      await h.until(
        'the Replace button of the question',
        async () => {
          const button = h.page
            .locator('.notification-list-item', { hasText: 'was not written by tts-distill' })
            .locator('.monaco-button', { hasText: 'Replace' })
            .first();
          if (!(await button.count())) {
            await h.runCommand('Notifications: Show Notifications').catch(() => undefined);
            return undefined;
          }
          await button.click();
          return true;
        },
        30_000,
      );
      const done = await h.notification(/Teacher batch finished: done 1, skipped 0, failed 0 of 1/, 90_000);
      h.log(done);
      const installed = h.readFile('GLM-TTS/configs/G2P_replace_dict.jsonl');
      h.log('installed:', installed.trim());
      h.expect(/<\|K\|><\|UAI4\|>/.test(installed), `the pin is in the checkout's dictionary, upstream dialect: ${installed}`);
      const backups = readdirSync(path.join(h.workspace, 'GLM-TTS', 'configs')).filter((n) => n.endsWith('.bak'));
      h.expect(
        backups.length === 1 && h.readFile(`GLM-TTS/configs/${backups[0]}`) === original,
        `the checkout's own dictionary is kept as a backup: ${backups.join(', ')}`,
      );
      const rec = JSON.parse(
        readFileSync(path.join(h.workspace, 'glmtts-out', 'manifest.jsonl'), 'utf8')
          .trim()
          .split('\n')[0]!,
      ) as { phonemes: string; readings: Array<string | null>; sources: Array<string | null>; dictionarySha256: string };
      h.log('record:', rec.phonemes, JSON.stringify(rec.sources), rec.dictionarySha256);
      h.expect(rec.phonemes.includes('<|K|><|UAI4|>'), `the teacher's phonemes carry the pin: ${rec.phonemes}`);
      h.expect(
        rec.readings[3] === 'kuai4' && rec.sources[3] === 'dictionary',
        `会 of 开会 read kuai4 by the dictionary: ${JSON.stringify(rec.readings)} ${JSON.stringify(rec.sources)}`,
      );
      h.expect(/^[0-9a-f]{64}$/.test(rec.dictionarySha256), 'the record names the dictionary the teacher used');
    } finally {
      // Back to the settings the other steps expect, whatever happened above.
      h.writeFile('.vscode/settings.json', JSON.stringify(settings, null, 2));
    }
  },
} satisfies Step;
