import type { Step } from '../harness';

export default {
  name: 'a G2P dictionary with a broken line shows its diagnostic',
  async run(h) {
    await h.openFile('dicts/broken.g2p.jsonl');
    await h.statusBarItem(/^G2P Dictionary$/);
    const status = await h.statusBarItem(/G2P dict: upstream/);
    h.log('document status:', status.text, '|', status.label);
    const column = h.readFile('dicts/broken.g2p.jsonl').split('\n')[1]!.length + 1;
    const p = await h.waitForProblem(/fails to load the dictionary/, 'broken.g2p');
    h.log(`${p.severity} ${p.line}:${p.column} ${p.message}`);
    h.expect(
      p.severity === 'error' && p.line === 2 && p.message.includes(`column ${column}`),
      `error on line 2 naming column ${column}: ${JSON.stringify(p)}`,
    );
  },
} satisfies Step;
