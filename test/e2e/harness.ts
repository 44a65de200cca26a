// What an end-to-end step can do in the workbench, as a user would: palette, Quick Open,
// Problems panel, hovers, quick fixes, notifications, status bar, webviews, screenshots.
// Everything waits by polling against a deadline; nothing sleeps for a fixed time.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { FrameLocator, Locator, Page } from 'playwright-core';

// Functions given to page.evaluate run in the browser; the project is type-checked without
// the DOM library (it would hide DOM use in Node code), so the little they touch is declared here.
declare function requestAnimationFrame(callback: () => void): number;
type InPageElement = { innerText: string; offsetParent: unknown };
type InPageNode = { tagName: string; classList: Iterable<string>; textContent: string | null; getAttribute(name: string): string | null };
declare const document: {
  elementFromPoint(x: number, y: number): InPageNode | null;
  querySelector(selector: string): InPageNode | null;
  querySelectorAll(selector: string): Iterable<InPageNode>;
  activeElement: InPageNode | null;
};

/** One end-to-end step: a module `test/e2e/steps/NN-name.ts` whose default export is this. */
export interface Step {
  name: string;
  /** Deadline of the whole step; default 90 s. */
  timeoutMs?: number;
  run(h: Harness): Promise<void>;
}

export interface Problem {
  severity: 'error' | 'warning' | 'info' | 'hint' | 'unknown';
  message: string;
  /** 1-based, as the Problems panel shows them. */
  line?: number;
  column?: number;
  /** The file the problem is listed under. */
  file?: string;
  /** The row as the panel's accessibility label reads it. */
  label: string;
}

export interface StatusBarItem {
  id: string;
  text: string;
  label: string;
}

export class StepFailure extends Error {}
class QuickInputClosed extends StepFailure {}

const DEFAULT_WAIT_MS = 20_000;

export class Harness {
  /** Name of the running step, used for screenshot files. */
  step = 'harness';

  constructor(
    readonly page: Page,
    /** Root of the (copied, writable) workspace opened in the workbench. */
    readonly workspace: string,
    /** Folder of screenshots and logs: `test-results/`. */
    readonly resultsDir: string,
    private readonly t0 = Date.now(),
  ) {}

  log(...args: unknown[]): void {
    console.log(`    [${((Date.now() - this.t0) / 1000).toFixed(1)}s]`, ...args);
  }

  /** Polls `probe` until it returns a truthy value; fails with `what` and the last value seen after the deadline. */
  async until<T>(what: string, probe: () => Promise<T> | T, timeoutMs = DEFAULT_WAIT_MS, intervalMs = 100): Promise<NonNullable<T>> {
    const deadline = Date.now() + timeoutMs;
    let last: unknown;
    for (;;) {
      try {
        const v = await probe();
        if (v) return v as NonNullable<T>;
        last = v;
      } catch (e) {
        last = e instanceof Error ? e.message.split('\n')[0] : e;
      }
      if (Date.now() > deadline)
        throw new StepFailure(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${JSON.stringify(last)?.slice(0, 400)})`);
      await this.page.waitForTimeout(intervalMs);
    }
  }

  /** Fails the step with `message` unless `condition` holds. */
  expect(condition: unknown, message: string): void {
    if (!condition) throw new StepFailure(message);
  }

  // ---- keyboard & palette -------------------------------------------------------------

  /** The Quick Input's text box (visible while a quick pick or the palette is open). */
  get quickInput(): Locator {
    return this.page.locator('.quick-input-widget input.input');
  }

  /** Runs a command from the palette (F1, type the title, pick it), e.g. `TTS Distill: Show Output`. */
  async runCommand(title: string): Promise<void> {
    // A row named exactly so (or with its keybinding after a comma) wins over one that merely contains the title.
    const exact = (label: string) => label === title || label.startsWith(title + ', ');
    await this.withQuickInput('F1', '>' + title, () =>
      this.pickQuickInputRow(`command "${title}" in the palette`, (label) => label.includes(title), true, exact),
    );
  }

  /**
   * Runs a command whose quick pick should offer a row, and picks it; when the row is not there
   * (settings not read yet, a webview took the focus and closed the pick) the command is run again.
   */
  async runCommandAndPick(title: string, what: string, match: (label: string) => boolean, timeoutMs = 90_000): Promise<void> {
    await this.until(
      `${what} offered by ${title}`,
      async () => {
        await this.runCommand(title);
        try {
          await this.pickQuickInputRow(what, match);
          return true;
        } catch {
          await this.closeQuickInput();
          return false;
        }
      },
      timeoutMs,
      1000,
    );
  }

  /**
   * Runs a command, answers its quick picks in turn (`picks`, the first one offered as
   * `runCommandAndPick` waits for it), then waits for `done`. An Enter that lands just after its
   * Quick Input closed (a webview or a notification took the focus) ends the command silently,
   * and nothing would ever come: when `done` has not come within `retryMs`, the command is run
   * again (running it twice does no harm where this is used). A notification matching `failure`
   * fails the step at once with its text.
   */
  async runCommandUntil<T>(
    title: string,
    picks: ReadonlyArray<{ what: string; match: (label: string) => boolean }>,
    what: string,
    done: () => Promise<T> | T,
    opts: { timeoutMs?: number; retryMs?: number; failure?: RegExp } = {},
  ): Promise<NonNullable<T>> {
    const deadline = Date.now() + (opts.timeoutMs ?? 120_000);
    const retryMs = opts.retryMs ?? 30_000;
    const [first, ...rest] = picks;
    let why = '';
    for (let attempt = 1; ; attempt++) {
      if (attempt > 1) this.log(`${why}: running ${title} again (attempt ${attempt})`);
      if (first) await this.runCommandAndPick(title, first.what, first.match);
      else await this.runCommand(title);
      try {
        for (const p of rest) await this.pickQuickInputRow(p.what, p.match);
      } catch (e) {
        if (!(e instanceof StepFailure) || Date.now() > deadline) throw e;
        why = `a pick never came (${(e as Error).message.split('\n')[0]}; ${await this.quickInputState()})`;
        await this.closeQuickInput();
        continue; // the pick never came: the command ended before it
      }
      const outcome = await this.until(
        what,
        async () => {
          const value = await done();
          if (value) return { value };
          const failed = opts.failure && (await this.toasts()).find((m) => opts.failure!.test(m));
          return failed ? { failed } : undefined;
        },
        Math.max(0, Math.min(deadline - Date.now(), retryMs)),
        250,
      ).catch((e: unknown) => {
        if (e instanceof StepFailure) return undefined; // not within retryMs: run the command again
        throw e;
      });
      if (outcome?.failed) throw new StepFailure(`${title} failed: ${outcome.failed}`);
      if (outcome) return outcome.value as NonNullable<T>;
      if (Date.now() > deadline) throw new StepFailure(`timed out waiting for ${what} after ${attempt} run(s) of ${title}`);
      why = `${what}: not there after ${retryMs} ms`;
    }
  }

  /** What the Quick Input shows now and where the focus is: for a log line when a pick never came. */
  async quickInputState(): Promise<string> {
    const state = await this.page.evaluate(() => {
      const widget = document.querySelector('.quick-input-widget');
      const shown = !!widget && (widget as unknown as InPageElement).offsetParent !== null;
      const title = (document.querySelector('.quick-input-widget .quick-input-title') as unknown as InPageElement | null)?.innerText ?? '';
      const rows = [...document.querySelectorAll('.quick-input-list .monaco-list-row')].map((r) => r.getAttribute('aria-label') ?? '');
      const a = document.activeElement;
      const focus = a ? `${a.tagName.toLowerCase()}.${[...a.classList].join('.')}` : 'none';
      return { shown, title, rows, focus };
    });
    return state.shown
      ? `the Quick Input shows "${state.title}": ${JSON.stringify(state.rows.slice(0, 5))}; focus on ${state.focus}`
      : `no Quick Input; focus on ${state.focus}`;
  }

  /** The messages of the notification toasts showing now. */
  async toasts(): Promise<string[]> {
    return (await this.notificationItems('.notification-toast')).map((i) => i.message);
  }

  /** The notifications in `scope` (toasts or the center): each one's message and its whole text (source, buttons). */
  private notificationItems(scope: string): Promise<Array<{ all: string; message: string }>> {
    return this.page.locator(`${scope} .notification-list-item`).evaluateAll((els) =>
      els.map((e) => ({
        all: (e as unknown as InPageElement).innerText,
        message: ((e.querySelector('.notification-list-item-message') as unknown as InPageElement | null)?.innerText ?? '').trim(),
      })),
    );
  }

  /**
   * Opens the Quick Input with `keys`, types `value` and runs `accept`. A webview or a
   * notification that takes the focus closes the Quick Input: then it is opened again.
   */
  async withQuickInput(keys: string, value: string, accept: () => Promise<void>): Promise<void> {
    const deadline = Date.now() + DEFAULT_WAIT_MS;
    for (;;) {
      try {
        await this.closeQuickInput();
        await this.page.keyboard.press(keys);
        await this.quickInput.waitFor({ state: 'visible', timeout: 3000 });
        await this.quickInput.fill(value, { timeout: 3000 });
        await accept();
        return;
      } catch (e) {
        if (e instanceof StepFailure && !(e instanceof QuickInputClosed)) throw e;
        if (Date.now() > deadline)
          throw new StepFailure(`the Quick Input (${keys}, "${value}") kept closing: ${(e as Error).message.split('\n')[0]}`);
      }
    }
  }

  /**
   * Picks the first Quick Input row whose label matches, by keyboard (a click can be intercepted
   * by row buttons or hovers). Waits for the Quick Input to show (a command's own quick pick may
   * come a moment later); with `openedHere`, a Quick Input that closes fails at once so that
   * `withQuickInput` opens it again.
   */
  async pickQuickInputRow(
    what: string,
    match: (label: string) => boolean,
    openedHere = false,
    prefer?: (label: string) => boolean,
  ): Promise<void> {
    const rows = this.page.locator('.quick-input-list .monaco-list-row');
    const read = () =>
      rows.evaluateAll((els) =>
        els.map((e) => ({
          index: Number(e.getAttribute('data-index')),
          label: e.getAttribute('aria-label') ?? '',
          focused: e.classList.contains('focused'),
        })),
      );
    // The list filters as it likes; move to the row, and press Enter only once the focused row is the one.
    // A list filtered by a typed value (the palette, Quick Open) may re-filter late: act only on one
    // that reads the same on two polls in a row, or Enter may land on a row moved under the focus.
    let previous = openedHere ? '' : undefined;
    const outcome = await this.until(what, async () => {
      if (!(await this.quickInput.isVisible())) return openedHere ? 'closed' : false;
      const all = await read();
      if (previous !== undefined) {
        const seen = JSON.stringify(all.map((r) => r.label));
        if (seen !== previous) {
          previous = seen;
          return false;
        }
      }
      const hits = all.filter((r) => match(r.label)).sort((a, b) => a.index - b.index);
      const hit = hits.find((r) => prefer?.(r.label)) ?? hits[0];
      if (!hit) return false;
      const focused = all.find((r) => r.focused)?.index ?? 0;
      const key = hit.index > focused ? 'ArrowDown' : 'ArrowUp';
      for (let i = 0; i < Math.abs(hit.index - focused); i++) await this.page.keyboard.press(key);
      const now = (await read()).find((r) => r.focused);
      return now !== undefined && now.label === hit.label && 'focused';
    });
    if (outcome === 'closed') throw new QuickInputClosed('the Quick Input closed');
    // No wait for the Quick Input to hide: the command may open a quick pick of its own in it.
    await this.page.keyboard.press('Enter');
  }

  async closeQuickInput(): Promise<void> {
    for (let i = 0; i < 3 && (await this.quickInput.isVisible().catch(() => false)); i++) await this.page.keyboard.press('Escape');
  }

  async press(keys: string): Promise<void> {
    await this.page.keyboard.press(keys);
  }

  /** Types into the focused editor, character by character like a user. */
  async type(text: string): Promise<void> {
    await this.page.keyboard.type(text);
  }

  /**
   * Between steps: closes every editor (unsaved changes are discarded — a step saves what it
   * wants kept), dialogs, quick inputs and notifications, so each step starts from the same
   * workbench whatever the previous one left open.
   */
  async resetWorkbench(): Promise<void> {
    await this.closeQuickInput();
    const dialog = this.page.locator('.monaco-dialog-box');
    const dismissDialog = async () => {
      if (!(await dialog.isVisible().catch(() => false))) return;
      const dontSave = dialog.locator('.monaco-button', { hasText: /Don.t Save/ });
      await ((await dontSave.count()) ? dontSave.first() : dialog.locator('.monaco-button', { hasText: 'Cancel' }).first()).click();
    };
    await dismissDialog();
    await this.runCommand('Notifications: Clear All Notifications');
    await this.runCommand('View: Close All Editor Groups');
    await this.until('all editors closed', async () => {
      await dismissDialog();
      return (await this.page.locator('.editor-group-container .tab').count()) === 0;
    });
  }

  // ---- editors --------------------------------------------------------------------------

  /** The editor of the active editor group. */
  get editor(): Locator {
    return this.page.locator('.editor-group-container.active .monaco-editor').first();
  }

  /** Opens a workspace file by Quick Open (Ctrl+P) and waits until its tab is active and its text shows. */
  async openFile(relPath: string): Promise<void> {
    const base = path.basename(relPath);
    // Quick Open labels a file "name, folder"; the folder tells files of the same name apart.
    const dir = path.dirname(relPath);
    await this.withQuickInput('Control+P', relPath, () =>
      this.pickQuickInputRow(
        `"${relPath}" in Quick Open`,
        (label) => label.includes(base) && (dir === '.' || label.replace(/\\/g, '/').includes(dir)),
        true,
      ),
    );
    await this.until(`tab "${base}" active`, () => this.page.locator('.tab.active', { hasText: base }).count());
    await this.until(`text of ${base} shown`, async () => (await this.editor.locator('.view-lines').innerText()).trim().length > 0);
  }

  /** The file name of the active editor tab. */
  async activeTab(): Promise<string> {
    return (await this.page.locator('.editor-group-container.active .tab.active .label-name').first().innerText()).trim();
  }

  /** Moves the cursor with Go to Line (Ctrl+G); line and column are 1-based, the column in UTF-16 units. */
  async gotoLine(line: number, column = 1): Promise<void> {
    // Focus by command: a click could land on a code lens.
    await this.runCommand('View: Focus Active Editor Group');
    // Go to Line reads a column as a visual column (a CJK character counts twice), so walk the
    // characters from the start of the line instead.
    await this.withQuickInput('Control+G', `:${line}`, async () => {
      await this.page.keyboard.press('Enter');
      await this.quickInput.waitFor({ state: 'hidden', timeout: DEFAULT_WAIT_MS });
    });
    await this.page.keyboard.press('Home');
    for (let i = 1; i < column; i++) await this.page.keyboard.press('ArrowRight');
    await this.until(
      `cursor at ${line}:${column}`,
      async () => {
        const pos = await this.statusBarItem(/^Ln \d+, Col \d+/, 2000).catch(() => undefined);
        return pos?.text.startsWith(`Ln ${line}, Col ${column}`);
      },
      5000,
    );
  }

  /** Saves the active editor (Ctrl+S) and waits until its tab is no longer dirty. */
  async save(): Promise<void> {
    await this.page.keyboard.press('Control+S');
    await this.until(
      'active tab saved',
      async () => (await this.page.locator('.editor-group-container.active .tab.active.dirty').count()) === 0,
    );
  }

  /**
   * Selects the `occurrence`-th (0-based, in document order) `text` in the active editor with the
   * Find widget, which also scrolls it into view (long JSONL lines reach far to the right), and
   * returns the screen position of the middle of the selection — or, with `firstCharacter`, of
   * its first character (then only that character stays selected).
   */
  async locateText(text: string, occurrence = 0, firstCharacter = false): Promise<{ x: number; y: number }> {
    const group = this.page.locator('.editor-group-container.active');
    await this.runCommand('View: Focus Active Editor Group');
    await this.page.keyboard.press('Control+Home');
    await this.page.keyboard.press('Control+F');
    const input = group.locator('.find-widget.visible .find-part textarea, .find-widget.visible .find-part input').first();
    await input.waitFor({ state: 'visible', timeout: DEFAULT_WAIT_MS });
    await input.fill(text);
    const count = group.locator('.find-widget.visible .matchesCount');
    await this.until(
      `match ${occurrence + 1} of "${text}" selected`,
      async () => {
        const m = /^(\d+) of (\d+)/.exec((await count.innerText()).trim());
        if (!m || +m[2]! <= occurrence) return false;
        if (+m[1]! === occurrence + 1) return true;
        await this.page.keyboard.press('Enter');
        return false;
      },
      10_000,
      200,
    );
    await this.page.keyboard.press('Escape');
    if (firstCharacter && text.length > 1) {
      await this.page.keyboard.press('ArrowLeft');
      await this.page.keyboard.press('Shift+ArrowRight');
      await this.until(
        'one character selected',
        async () => /\(1 selected\)/.test((await this.statusBarItem(/^Ln \d+, Col \d+/, 2000)).text),
        5000,
      );
    }
    const selection = group.locator('.monaco-editor .selected-text').first();
    const box = await this.until(`the selection of "${text}" on screen`, () => selection.boundingBox({ timeout: 1000 }));
    return { x: box.x + box.width / 2, y: box.y + box.height / 2 };
  }

  /** Clicks on `text` in the active editor, which puts the cursor there. */
  async clickText(text: string, occurrence = 0): Promise<void> {
    const { x, y } = await this.locateText(text, occurrence);
    await this.page.mouse.click(x, y);
  }

  /**
   * Hovers the mouse over the first character of `text` in the active editor (the middle of a
   * two-character word would be the border between them) and returns the hover's text once it
   * shows `expect` (any text when absent).
   */
  async hover(text: string, expect?: RegExp, occurrence = 0): Promise<string> {
    let at: { x: number; y: number } | undefined;
    const hoverBox = this.page.locator('.monaco-editor .monaco-hover:not(.hidden)').first();
    let lastShown = '';
    let misses = 0;
    return this.until(`hover over "${text}"${expect ? ` matching ${expect}` : ''}`, async () => {
      // The first time always (a hover shown before is not this one's), then whenever none is shown.
      if (!at || !(await hoverBox.isVisible())) {
        // The text is found again after a miss: the layout may have moved since (a panel, a toast,
        // inlay hints coming or going), and the mouse would then rest on another character.
        if (!at || misses > 0) at = await this.locateText(text, occurrence, true);
        // Leaving and coming back triggers the hover again if it was dismissed or not ready.
        await this.page.mouse.move(at.x, at.y + 400);
        await this.page.mouse.move(at.x, at.y, { steps: 3 });
        await hoverBox.waitFor({ state: 'visible', timeout: 3000 }).catch(() => undefined);
      }
      const shown = (await hoverBox.isVisible()) ? await hoverBox.innerText() : '';
      if (shown) lastShown = shown;
      else {
        misses++;
        const { x, y } = at;
        const under = await this.page.evaluate(
          ([px, py]) => {
            const el = document.elementFromPoint(px!, py!);
            return el ? `${el.tagName.toLowerCase()}.${[...el.classList].join('.')} "${(el.textContent ?? '').slice(0, 40)}"` : 'nothing';
          },
          [x, y],
        );
        this.log(`no hover over "${text}" at (${Math.round(x)}, ${Math.round(y)}) after ${misses} tries; under the mouse: ${under}`);
      }
      return shown && (!expect || expect.test(shown)) ? shown : undefined;
    }).catch((err: unknown) => {
      throw new StepFailure(
        `${err instanceof Error ? err.message : String(err)}; the hover showed: ${JSON.stringify(lastShown.slice(0, 400))}`,
      );
    });
  }

  /** Opens the quick fixes at the cursor (Ctrl+.) and applies the one whose title matches. */
  async quickFix(title: string | RegExp): Promise<void> {
    const rows = this.page.locator('.action-widget .monaco-list-row');
    await this.until('quick fix menu', async () => {
      if (
        !(await rows
          .first()
          .isVisible()
          .catch(() => false))
      )
        await this.page.keyboard.press('Control+.');
      return rows
        .first()
        .waitFor({ state: 'visible', timeout: 2000 })
        .then(
          () => true,
          () => false,
        );
    });
    const titles = await rows.allInnerTexts();
    const index = titles.findIndex((t) => (typeof title === 'string' ? t.includes(title) : title.test(t)));
    if (index < 0) {
      await this.page.keyboard.press('Escape');
      throw new StepFailure(`no quick fix ${title}; offered: ${JSON.stringify(titles)}`);
    }
    await rows.nth(index).click();
    await rows
      .first()
      .waitFor({ state: 'hidden', timeout: DEFAULT_WAIT_MS })
      .catch(() => undefined);
  }

  // ---- Problems panel ------------------------------------------------------------------

  /** When the Problems filter was last typed (problems()). */
  private filterTypedAt = 0;

  /**
   * Opens the Problems panel and returns its marker rows (file and related-information rows left
   * out), optionally filtered by the panel's own filter box; all rows, scrolling through the list,
   * unless `scrollThrough` is false (then only the rows in view, and `file` may be unknown).
   */
  async problems(filter = '', scrollThrough = true): Promise<Problem[]> {
    const panel = this.page.locator('.markers-panel');
    if (!(await panel.isVisible().catch(() => false))) await this.runCommand('View: Focus Problems');
    await panel.waitFor({ state: 'visible', timeout: DEFAULT_WAIT_MS });
    const filterBox = this.page.locator('.markers-panel-action-filter .monaco-inputbox input, .viewpane-filter input').first();
    if (await filterBox.count()) {
      const value = await filterBox.inputValue();
      if (value !== filter) {
        await filterBox.fill(filter);
        this.filterTypedAt = Date.now();
      } else if (filter && Date.now() - this.filterTypedAt > 10_000) {
        // A filter in effect shows "Showing N of M" in the panel's title (unless every problem
        // matches it). A CI run once had the text in the box and the list unfiltered for 90 s: VS Code
        // had not taken the input. Then it is typed again (at most every 10 s: when every problem
        // matches, there is no badge either, and typing it again changes nothing).
        const badge = this.page.locator('.viewpane-filter-badge:not(.hidden):visible').first();
        if (!(await badge.isVisible().catch(() => false))) {
          this.log(`Problems: the filter "${filter}" shows no "Showing N of M": typed again`);
          await filterBox.fill('');
          await filterBox.fill(filter);
        }
        this.filterTypedAt = Date.now();
      }
    }
    const labels = await this.allListRows(panel.locator('.monaco-list').first(), scrollThrough);
    const problems: Problem[] = [];
    let file: string | undefined;
    for (const label of labels) {
      // File rows read "N problems in file F [of folder D]"; related-information rows have no severity.
      const fileRow = /problems? in file (.+?)(?: of folder (.+))?$/.exec(label);
      if (fileRow) {
        file = fileRow[2] && fileRow[2] !== '.' ? `${fileRow[2]}/${fileRow[1]}` : fileRow[1];
        continue;
      }
      const m =
        /^(Error|Warning|Info|Hint)[^:]*: (.*?)(?: at line (\d+) and character (\d+)\.)?(?: This problem has .*?\.)?(?: generated by .*)?$/s.exec(
          label,
        );
      if (!m) continue;
      problems.push({
        severity: ({ Error: 'error', Warning: 'warning', Info: 'info', Hint: 'hint' } as const)[m[1] as 'Error'] ?? 'unknown',
        message: m[2]!,
        line: m[3] ? +m[3] : undefined,
        column: m[4] ? +m[4] : undefined,
        file,
        label,
      });
    }
    return problems;
  }

  /**
   * The accessibility labels of every row of a list, in order. Lists render only the rows in
   * view, so this scrolls through with the mouse wheel from the top, collecting rows by index.
   */
  async allListRows(list: Locator, scrollThrough = true): Promise<string[]> {
    const rows = new Map<number, string>();
    const collect = async () => {
      for (const r of await list.locator('.monaco-list-rows > .monaco-list-row').evaluateAll((els) =>
        els.map((e) => ({
          index: Number(e.getAttribute('data-index')),
          label: e.getAttribute('aria-label') ?? (e as unknown as InPageElement).innerText,
        })),
      ))
        rows.set(r.index, r.label);
    };
    const nextFrame = () =>
      this.page.evaluate(() => new Promise<void>((r) => requestAnimationFrame(() => requestAnimationFrame(() => r()))));
    const box = await list.boundingBox();
    if (!box) return [];
    if (!scrollThrough) {
      await collect();
      return [...rows.entries()].sort((a, b) => a[0] - b[0]).map(([, label]) => label);
    }
    // The panel scrolls to the active editor's file on its own: start from the top. The wheel is
    // turned over the list's scrollbar, at its right edge: over a row, a truncated message soon
    // shows its hover there, which then takes the wheel events and the list stops scrolling (a CI
    // run's screenshot had one over Problems, whose rows below it were never read).
    await this.page.mouse.move(box.x + box.width - 5, box.y + box.height / 2);
    const firstRendered = async () =>
      Math.min(
        ...(await list
          .locator('.monaco-list-rows > .monaco-list-row')
          .evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-index'))))),
      );
    // A wheel event scrolls a few rows at most, whatever its delta. (Sticky header rows of a
    // tree sit outside `.monaco-list-rows` and are left out.)
    for (let i = 0, first = await firstRendered(); i < 500 && first > 0; i++) {
      await this.page.mouse.wheel(0, -box.height);
      await nextFrame();
      const now = await firstRendered();
      if (now === first) break;
      first = now;
    }
    await collect();
    const lastRendered = async () =>
      Math.max(
        ...(await list
          .locator('.monaco-list-rows > .monaco-list-row')
          .evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-index'))))),
      );
    for (let i = 0, last = await lastRendered(); i < 500; i++) {
      await this.page.mouse.wheel(0, box.height);
      await nextFrame();
      await collect();
      const now = await lastRendered();
      if (now === last) break;
      last = now;
    }
    return [...rows.entries()].sort((a, b) => a[0] - b[0]).map(([, label]) => label);
  }

  /** Waits until the Problems panel lists a problem whose message matches. */
  async waitForProblem(message: RegExp, filter = '', timeoutMs = DEFAULT_WAIT_MS): Promise<Problem> {
    // The rows in view first (quick), then all of them (scrolling through takes a few seconds).
    return this.until(
      `a problem matching ${message}`,
      async () =>
        (await this.problems(filter, false)).find((p) => message.test(p.message)) ??
        (await this.problems(filter)).find((p) => message.test(p.message)),
      timeoutMs,
      250,
    );
  }

  /** Waits until no problem in the Problems panel matches. */
  async waitForNoProblem(message: RegExp, filter = '', timeoutMs = DEFAULT_WAIT_MS): Promise<void> {
    await this.until(
      `no problem matching ${message}`,
      async () => !(await this.problems(filter)).some((p) => message.test(p.message)),
      timeoutMs,
      250,
    );
  }

  // ---- notifications, status bar, webviews ---------------------------------------------------

  /** Waits for a notification containing `text` (toast, or the Notification Center) and returns its message. */
  async notification(text: string | RegExp, timeoutMs = DEFAULT_WAIT_MS): Promise<string> {
    const match = (s: string) => (typeof text === 'string' ? s.includes(text) : text.test(s));
    const find = async (scope: string) => (await this.notificationItems(scope)).find((i) => match(i.message) || match(i.all))?.message;
    const center = this.page.locator('.notifications-center.visible');
    const started = Date.now();
    try {
      return await this.until(
        `notification ${text}`,
        async () => {
          const toast = await find('.notification-toast');
          if (toast) return toast;
          // Toasts hide after a while (and never show in smoke-test mode): look in the center too.
          if (Date.now() - started < 3000) return undefined;
          if (!(await center.count())) await this.runCommand('Notifications: Show Notifications');
          return find('.notifications-center');
        },
        timeoutMs,
        250,
      );
    } finally {
      if (await center.count()) await this.runCommand('Notifications: Hide Notifications').catch(() => undefined);
    }
  }

  /** All visible status bar items: element id, visible text, accessibility label. */
  async statusBar(): Promise<StatusBarItem[]> {
    return this.page.locator('#workbench\\.parts\\.statusbar .statusbar-item').evaluateAll((items) =>
      items
        .filter((e) => (e as unknown as InPageElement).offsetParent !== null)
        .map((e) => ({
          id: e.id,
          text: (e as unknown as InPageElement).innerText.replace(/\s+/g, ' ').trim(),
          label: e.querySelector('[aria-label]')?.getAttribute('aria-label') ?? e.getAttribute('aria-label') ?? '',
        })),
    );
  }

  /** Waits for a status bar item whose text, label or id matches. */
  async statusBarItem(match: RegExp, timeoutMs = DEFAULT_WAIT_MS): Promise<StatusBarItem> {
    return this.until(
      `status bar item ${match}`,
      async () => (await this.statusBar()).find((i) => match.test(i.text) || match.test(i.label) || match.test(i.id)),
      timeoutMs,
      200,
    );
  }

  /** The content frame of the active webview (it sits two iframes deep). */
  webview(): FrameLocator {
    return this.page.frameLocator('iframe.webview.ready').last().frameLocator('iframe#active-frame');
  }

  // ---- files & artifacts -------------------------------------------------------------

  readFile(relPath: string): string {
    return readFileSync(path.join(this.workspace, relPath), 'utf8');
  }

  writeFile(relPath: string, text: string): void {
    mkdirSync(path.dirname(path.join(this.workspace, relPath)), { recursive: true });
    writeFileSync(path.join(this.workspace, relPath), text);
  }

  /** Saves a screenshot as `test-results/<step>[-<suffix>].png` and returns its path. */
  async screenshot(suffix = ''): Promise<string> {
    mkdirSync(this.resultsDir, { recursive: true });
    const file = path.join(this.resultsDir, `${this.step}${suffix ? '-' + suffix : ''}.png`);
    await this.page.screenshot({ path: file });
    return file;
  }
}
