import { copyFileSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import type { Step } from '../harness';

const SAMPLE = path.resolve(__dirname, '..', '..', '..', 'sample-workspace');

export default {
  name: 'the sample workspace: readings are inlay hints in the editor, and Problems holds only real problems',
  timeoutMs: 120_000,
  async run(h) {
    const began = Date.now();
    // The 120-line sample task file, with its prompt WAVs, in a folder of the workspace (under another name:
    // Quick Open in later steps must not confuse it with the workspace's own demo.tasks.jsonl).
    mkdirSync(path.join(h.workspace, 'sample', 'prompts'), { recursive: true });
    for (const f of readdirSync(path.join(SAMPLE, 'prompts')))
      copyFileSync(path.join(SAMPLE, 'prompts', f), path.join(h.workspace, 'sample', 'prompts', f));
    h.writeFile('sample/sample.tasks.jsonl', readFileSync(path.join(SAMPLE, 'demo.tasks.jsonl'), 'utf8'));
    await h.openFile('sample/sample.tasks.jsonl');

    // Line 1 reads "他在银行工作，每天步行上班，重新规划了行程。": the readings of its polyphones follow them.
    const hint = (label: RegExp) => h.editor.locator('.view-lines span').filter({ hasText: label });
    await h.until('the reading of 行 as an inlay hint', () => hint(/^\s*hang2\s*$/).count());
    await h.until('the reading of 重 as an inlay hint', () => hint(/^\s*chong2\s*$/).count());
    // The other lines' hints follow as the server reads them (it asks the editor to refresh its hints).
    let shown = 0;
    await h
      .until('several reading hints in view', async () => {
        shown = await h.editor
          .locator('.view-lines span')
          .evaluateAll((spans) => spans.map((s) => s.textContent ?? '').filter((t) => /^\s*[a-z]+[1-5]\s*$/.test(t)).length);
        return shown >= 10;
      })
      .catch(() => undefined);
    h.log(`${shown} reading hints in view`);
    h.expect(shown >= 10, `several reading hints in view: ${shown}`);
    await h.screenshot('inlay-hints');

    // A hint's tooltip (who decides the reading, the candidates): VS Code gets hints without it and
    // asks the server for it (inlayHint/resolve) when the mouse rests on one.
    const hoverBox = h.page.locator('.monaco-editor .monaco-hover:not(.hidden)').first();
    const tooltip = await h.until('the tooltip of the hang2 hint on hovering it', async () => {
      await h.page.mouse.move(5, 5);
      await hint(/^\s*hang2\s*$/)
        .first()
        .hover();
      await hoverBox.waitFor({ state: 'visible', timeout: 3000 }).catch(() => undefined);
      const shown = (await hoverBox.isVisible()) ? await hoverBox.innerText() : '';
      return /candidates/.test(shown) ? shown : undefined;
    });
    h.log(`the hang2 hint's tooltip: ${tooltip.replace(/\s+/g, ' ').slice(0, 200)}`);
    h.expect(/行/.test(tooltip) && /hang2/.test(tooltip) && /xing2/.test(tooltip), `the tooltip names 行 and its readings: ${tooltip}`);
    await h.page.mouse.move(5, 5);

    // Problems: no entry per polyphone any more (the issue counted 812 information entries), only real problems.
    // The warnings come with the student's verdicts (the readings workers load it first): wait for them.
    let rows: Awaited<ReturnType<typeof h.problems>> = [];
    await h.until(
      "the sample file's problems, with the student's warnings",
      async () => {
        rows = (await h.problems()).filter((p) => p.file?.includes('sample'));
        return rows.some((p) => p.severity === 'warning' && /ambiguous/.test(p.message));
      },
      60_000,
    );
    const by = (s: string) => rows.filter((p) => p.severity === s).length;
    h.log(
      `Problems for sample/sample.tasks.jsonl after opening: ${rows.length} (${by('error')} errors, ${by('warning')} warnings, ${by('info')} information, ${by('hint')} hints)`,
    );
    for (const p of rows.slice(0, 12)) h.log(`  ${p.severity} ${p.line}:${p.column} ${p.message}`);
    const perPolyphone = rows.filter(
      (p) => p.severity === 'info' && /: teacher reads|leaves .* to its language model/.test(p.message) && !/ambiguous/.test(p.message),
    );
    h.expect(perPolyphone.length === 0, `no information entry per polyphone: ${JSON.stringify(perPolyphone.slice(0, 3))}`);
    h.expect(rows.length > 0 && rows.length < 812 / 4, `a short list: ${rows.length}`);
    const warnings = rows.filter((p) => p.severity === 'warning');
    h.expect(
      warnings.every((p) => /ambiguous|Unknown key|prompt|belongs to|Blank line|collide|differs/.test(p.message)),
      `every warning is a real one: ${JSON.stringify(warnings.filter((p) => !/ambiguous/.test(p.message)).slice(0, 3))}`,
    );

    // The verdicts are kept in the extension's storage for this workspace (ttsDistill.polyphones.keepAcrossSessions):
    // after a window reload the server reads them back instead of computing them again, and Problems is the same.
    const userData = path.join(process.env.E2E_RUN ?? '', 'ud');
    // The sample's file (other steps' configurations have files of their own): written since this step began, holding its first line.
    const kept = await h.until(
      "the sample's verdicts kept in the workspace storage",
      () =>
        filesUnder(path.join(userData, 'User', 'workspaceStorage')).find(
          (f) =>
            /[/\\]readings[/\\]readings-[0-9a-f]{16}\.jsonl$/.test(f) &&
            statSync(f).mtimeMs >= began &&
            readFileSync(f, 'utf8').includes('他在银行工作，每天步行上班'),
        ),
      30_000,
    );
    h.log(`kept: ${path.relative(userData, kept)}`);
    // The server's lines in the Output channel's log files that say it read this file back.
    const readBack = () =>
      filesUnder(path.join(userData, 'logs'))
        .filter((f) => /TTS Distill\.log$/.test(f))
        .flatMap((f) => readFileSync(f, 'utf8').split('\n'))
        .filter((l) => /read back from the cache of an earlier session/.test(l) && l.includes(path.basename(kept)));
    const before = readBack().length;
    await h.runCommand('Developer: Reload Window');
    await h.page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
    const message = await h.until("the server's log: the sample's verdicts read back", () => readBack()[before], 60_000);
    h.log(message.replace(/^.*?(readings of)/, '$1'));
    const lines = Number(/readings of ([\d,]+) lines/.exec(message)?.[1]?.replace(/,/g, ''));
    h.expect(lines >= 100, `most of the sample's 120 lines read back: ${lines}`);
    let again: typeof rows = [];
    await h.until(
      'the same Problems after the reload',
      async () => {
        again = (await h.problems()).filter((p) => p.file?.includes('sample'));
        return again.length === rows.length && again.filter((p) => p.severity === 'warning').length === warnings.length;
      },
      60_000,
    );
    h.log(`Problems for sample/sample.tasks.jsonl after the reload: ${again.length}`);
  },
} satisfies Step;

/** Every file under `dir` (none when it is missing). */
function filesUnder(dir: string): string[] {
  try {
    return readdirSync(dir, { recursive: true, encoding: 'utf8' })
      .map((f) => path.join(dir, f))
      .filter((f) => statSync(f, { throwIfNoEntry: false })?.isFile());
  } catch {
    return [];
  }
}
