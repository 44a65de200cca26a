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
    // The dictionaries are never opened in this step: a problem for one of them comes from the task's
    // output, through the matcher (its Problems row names the source, "tts-distill task").
    const found = await h.until('a problem from the task in Problems', async () =>
      (await h.problems('', true)).find((p) => /tts-distill task/.test(p.label)), 90_000);
    h.log('task problem:', found.file, found.label);
    const printed = ['G2P_replace_dict.jsonl', 'dicts/broken.g2p.jsonl', 'demo.tasks.jsonl'];
    h.expect(printed.some((f) => found.file?.endsWith(f)), `filed under a file tts-distill validate reports: ${found.file}`);
    h.expect(found.line !== undefined && found.line >= 1, `with its line: ${found.line}`);
    await h.screenshot('task-problems');
  },
} satisfies Step;
