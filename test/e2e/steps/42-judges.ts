import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Step } from '../harness';
import { encodeWav } from '../../../server/src/core/audio/wav';
import { emo, standIn } from '../../unit/rewardStandIn';

const REPO = path.join(__dirname, '..', '..', '..');
const RUN = 'judge-run';

export default {
  name: 'Open Evaluation Diff with the GLM-TTS reward server as judge: the report shows CER and speaker similarity',
  timeoutMs: 180_000,
  async run(h) {
    // A teacher run of two lines whose prompt is the sample's speaker_a.wav, as a batch records it.
    const run = path.join(h.workspace, RUN);
    mkdirSync(run, { recursive: true });
    const prompt = path.join(h.workspace, 'prompts', 'speaker_a.wav');
    const lines = [
      ['judge_bank', '我去银行。'],
      ['judge_walk', '他在行走。'],
    ] as const;
    const records = lines.map(([name, text], line) => {
      writeFileSync(
        path.join(run, `${name}.wav`),
        encodeWav(
          Float32Array.from({ length: 12000 }, (_, i) => 0.3 * Math.sin(i / 8)),
          24000,
        ),
      );
      return JSON.stringify({
        line,
        name,
        taskHash: 'h',
        text,
        readings: [...text].map(() => null),
        phonemes: text,
        audio: `${name}.wav`,
        durationSeconds: 0.5,
        sampleRate: 24000,
        backend: 'embedded',
        seed: 42,
        wavSha256: `sha-${name}`,
        clonedVoice: true,
        promptAudio: prompt,
      });
    });
    writeFileSync(path.join(run, 'manifest.jsonl'), records.join('\n') + '\n');
    copyFileSync(path.join(REPO, 'server/src/core/student/data/default-student.json.gz'), path.join(run, 'student.json.gz'));
    // The stand-in speaks reward_server.py's exact protocol; these are what its ASR and speaker model "measure".
    const server = await standIn(
      {
        [path.join(run, 'judge_bank.wav')]: { cos: 0.84, cer: 0.08, emo: emo(0.6) },
        [path.join(run, 'judge_walk.wav')]: { cos: 0.5, cer: 0.4, emo: emo(0.3) },
      },
      undefined,
      true,
    );
    const settingsFile = path.join(h.workspace, '.vscode', 'settings.json');
    const saved = readFileSync(settingsFile, 'utf8');
    try {
      writeFileSync(
        settingsFile,
        JSON.stringify(
          {
            ...(JSON.parse(saved) as object),
            'ttsDistill.batch.testOutputDir': RUN,
            'ttsDistill.student.modelPath': `${RUN}/student.json.gz`,
            'ttsDistill.judges.backend': 'reward',
            'ttsDistill.judges.rewardUrls': [server.url],
          },
          null,
          2,
        ),
      );
      // The run is offered once the workbench has read the new settings: runCommandUntil opens the
      // command again until it is, and again if a pick's Enter was lost.
      await h.runCommandUntil(
        'TTS Distill: Open Evaluation Diff',
        [
          { what: `the ${RUN} run`, match: (label) => label.startsWith(RUN) },
          { what: 'readings only', match: (label) => label.startsWith('Readings only') },
        ],
        'the report panel',
        async () => /Student vs teacher/.test(await h.webview().locator('h1').innerText({ timeout: 1000 })),
        { retryMs: 60_000, timeoutMs: 150_000, failure: /Evaluation failed/ },
      );
      const report = h.webview();
      const judges = report.locator('h2', { hasText: 'Judges' });
      await h.until('the Judges section of the report', () => judges.count(), 30_000);
      h.expect(/GLM-TTS reward server/.test(await judges.innerText()), 'the section names the reward server');
      const table = await report.locator('h2:has-text("Judges") + table').innerText();
      h.log('judges:', table.replace(/\s+/g, ' '));
      // Means over the two lines: CER (0.08 + 0.4) / 2, similarity (0.84 + 0.5) / 2, from the rewards inverted.
      h.expect(/teacher\s+2\s+0\.240\s+0\.670/.test(table), `teacher: 2 WAVs judged, mean CER 0.240, similarity 0.670: ${table}`);
      h.expect(
        server.bodies.length === 2 && server.bodies.every((b) => b.target_audio === prompt),
        `one request per WAV, the prompt as target: ${JSON.stringify(server.bodies)}`,
      );
      const item = await report
        .locator('.item .head', { hasText: 'judge_walk' })
        .first()
        .innerText()
        .catch(() => '');
      if (item) h.log('item:', item);
      await h.screenshot('judges');
    } finally {
      writeFileSync(settingsFile, saved);
      await server.close();
    }
  },
} satisfies Step;
