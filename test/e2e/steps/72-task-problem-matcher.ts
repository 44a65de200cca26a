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
    // dicts/broken.g2p.jsonl is never opened in this step: its syntax error comes from the task's output,
    // through the matcher (its Problems row names the source, "tts-distill task"). With fileLocation
    // autoDetect, VS Code resolved paths asynchronously and dropped most problems of a full run: the
    // matcher uses relative paths (the CLI prints them relative to the task's cwd, the folder).
    // Problems is filtered to that file: by now the workspace holds earlier steps' task files, whose
    // hundreds of warnings made each look through the whole list take tens of seconds (a CI run
    // timed out after 90 s, its last look still unfinished).
    const found = await h.until(
      'a problem from the task in Problems',
      async () =>
        (await h.problems('broken.g2p.jsonl', true)).find(
          (p) => /tts-distill task/.test(p.label) && p.file?.endsWith('broken.g2p.jsonl') === true && p.severity === 'error',
        ),
      90_000,
    );
    h.log('task problem:', found.file, found.label);
    h.expect(
      found.line === 2 && found.column === 25,
      `at the broken line 2, column 25, as the CLI prints it: ${found.line}:${found.column}`,
    );
    await h.screenshot('task-problems');
  },
} satisfies Step;
