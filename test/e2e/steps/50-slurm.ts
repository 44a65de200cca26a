import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Step } from '../harness';
import { encodeWav } from '../../../server/src/core/audio/wav';

const REPO = path.join(__dirname, '..', '..', '..');

export default {
  name: 'submit a task file to a real single-node Slurm: progress notification, Slurm Jobs view, merged outputs',
  timeoutMs: 150_000,
  async run(h) {
    // A cluster of its own (test/slurm/up.sh), reached through the command prefix setting: the
    // workbench was started without SLURM_CONF, and `env` is a command prefix like `ssh login01 --`.
    const P = mkdtempSync(path.join(tmpdir(), 'tts-e2e-slurm-'));
    const env = { ...process.env, P };
    try {
      execFileSync('bash', [path.join(REPO, 'test', 'slurm', 'up.sh')], { env, stdio: 'pipe', timeout: 120_000 });
      const settingsFile = '.vscode/settings.json';
      const settings = JSON.parse(h.readFile(settingsFile)) as Record<string, unknown>;
      h.writeFile(
        settingsFile,
        JSON.stringify(
          {
            ...settings,
            'ttsDistill.slurm.commandPrefix': ['env', `SLURM_CONF=${P}/etc/slurm.conf`],
            'ttsDistill.slurm.shards': 3,
            'ttsDistill.slurm.pollSeconds': 0.5,
            'ttsDistill.batch.testOutputDir': 'slurm-test-out',
          },
          null,
          2,
        ),
      );
      const tone = Float32Array.from({ length: 16000 * 4 }, (_, i) => 0.2 * Math.sin((2 * Math.PI * 220 * i) / 16000));
      mkdirSync(path.join(h.workspace, 'slurm'), { recursive: true });
      writeFileSync(path.join(h.workspace, 'slurm', 'voice.wav'), encodeWav(tone, 16000));
      h.writeFile(
        'slurm/cluster.tasks.jsonl',
        Array.from({ length: 12 }, (_, i) =>
          JSON.stringify({
            prompt_audio: 'voice.wav',
            prompt_text: '你好，欢迎使用。',
            input_text: `银行行长第${i}次来重庆。`,
            output_name: `cluster_${i}`,
          }),
        ).join('\n') + '\n',
      );

      await h.openFile('slurm/cluster.tasks.jsonl');
      await h.runCommand('TTS Distill: Submit Batch to Slurm Cluster');
      await h.pickQuickInputRow('the test run', (label) => label.startsWith('Test run'));
      const pane = h.page.locator('.pane', { has: h.page.locator('.pane-header', { hasText: 'Slurm Jobs' }) });
      await h.until(
        'the Slurm Jobs view lists the three shards',
        async () => {
          const text = await pane.locator('.pane-body').innerText({ timeout: 1000 });
          return ['shard 0', 'shard 1', 'shard 2'].every((s) => text.includes(s)) ? text : undefined;
        },
        60_000,
      );
      const done = await h.notification(/Slurm batch slurm\/cluster\.tasks\.jsonl: 12\/12 done, 0 failed/, 90_000);
      h.log(done);
      const view = await h.until('every shard COMPLETED on localhost in the view', async () => {
        const text = await pane.locator('.pane-body').innerText({ timeout: 1000 });
        return (text.match(/COMPLETED · localhost/g) ?? []).length === 3 ? text : undefined;
      });
      h.log(view.replace(/\n+/g, ' | '));
      h.expect(
        /\d+_0 · COMPLETED · localhost · [\d:]+ · 4\/4/.test(view),
        `a shard row shows job id, state, node, elapsed and lines: ${view}`,
      );
      await h.screenshot('jobs-view');
      const manifest = readFileSync(path.join(h.workspace, 'slurm-test-out', 'manifest.jsonl'), 'utf8')
        .trim()
        .split('\n');
      h.expect(manifest.length === 12, `12 merged records, got ${manifest.length}`);
      h.expect(
        manifest.every((l, i) => (JSON.parse(l) as { line: number }).line === i),
        'the merged manifest is in task order',
      );
    } finally {
      execFileSync('bash', [path.join(REPO, 'test', 'slurm', 'down.sh')], { env: { ...env, WIPE: '1' }, stdio: 'pipe' });
      rmSync(P, { recursive: true, force: true });
    }
  },
} satisfies Step;
