import type { Step } from '../harness';

export default {
  name: 'a task file shows its language mode and dialect in the status bar',
  async run(h) {
    await h.openFile('demo.tasks.jsonl');
    const mode = await h.statusBarItem(/^TTS Batch Tasks$/);
    h.log('language mode:', mode.text);
    const dialect = await h.statusBarItem(/Tasks: webui/);
    h.log('document status:', dialect.text, '|', dialect.label);
    h.expect(/errors?/.test(dialect.label), `the status item says how many errors: ${JSON.stringify(dialect.label)}`);

    await h.openFile('examples/demo_upstream.jsonl');
    const upstream = await h.statusBarItem(/Tasks: upstream/);
    h.log('upstream file:', upstream.text);
    await h.statusBarItem(/^TTS Batch Tasks$/);
  },
} satisfies Step;
