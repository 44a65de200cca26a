import type { Step } from '../harness';

export default {
  name: 'the tts-distill validate task puts its problems in Problems through $tts-distill',
  timeoutMs: 150_000,
  async run(h) {
    // The task types are listed once the extensions are active: open a task file and wait for our status item.
    await h.openFile('demo.tasks.jsonl');
    await h.statusBarItem(/Teacher/);
    // As a user: Run Task…, the tts-distill group, its validate task.
    await h.runCommand('Tasks: Run Task');
    await h.pickQuickInputRow('the tts-distill task type', (label) => /tts-distill tasks/.test(label));
    await h.pickQuickInputRow('the validate task', (label) => /validate/.test(label));
    // dicts/broken.g2p.jsonl is never opened in this step: a problem for it comes from the task's output,
    // through the matcher (the Problems row names its source, "tts-distill task").
    const found = await h.until('a problem from the task in Problems', async () => {
      const rows = await h.problems('broken.g2p', true);
      return rows.find((p) => /tts-distill task/.test(p.label));
    }, 90_000);
    h.log('task problem:', found.label);
    h.expect(found.file?.endsWith('broken.g2p.jsonl') === true, `the problem is filed under the dictionary: ${found.file}`);
    h.expect(found.severity === 'error', `the syntax error is an error: ${found.severity}`);
    await h.screenshot('task-problems');
  },
} satisfies Step;
