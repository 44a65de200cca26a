// Drives code-server (started by run.sh) through headless Chromium:
//  1. the extension-host API suite (test/suite, loaded as extensionTestsPath) on one workspace copy;
//  2. the UI steps test/e2e/steps/NN-name.ts, in order, on one workbench with another copy.
// A failing step is reported and screenshotted, and the next steps still run.
import { readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { makeWorkspace } from './fixtures';
import { Harness, type Step } from './harness';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const env = (name: string) =>
  process.env[name] ??
  (() => {
    throw new Error(`${name} is not set (run through test/e2e/run.sh)`);
  })();
const CS_URL = env('CS_URL');
const RUN = env('E2E_RUN');
const RESULTS = env('E2E_RESULTS');
const BROWSER_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];
const T0 = Date.now();
const since = () => `${((Date.now() - T0) / 1000).toFixed(1)}s`;

interface Result {
  name: string;
  ok: boolean;
  ms: number;
  error?: string;
  screenshot?: string;
}
const results: Result[] = [];

// The workbench ignores the dev/test payload unless its smoke-test driver is on, and code-server
// rejects the flag that turns it on: switch it on in the configuration the page reads.
const ENABLE_TEST_DRIVER = () => {
  const orig = Element.prototype.getAttribute;
  Element.prototype.getAttribute = function (this: Element, name: string) {
    const v = orig.call(this, name);
    if (this.id === 'vscode-workbench-web-configuration' && name === 'data-settings' && v) {
      const c = JSON.parse(v);
      c.developmentOptions = { ...(c.developmentOptions || {}), enableSmokeTestDriver: true };
      return JSON.stringify(c);
    }
    return v;
  };
};
declare const Element: { prototype: { getAttribute(this: Element, name: string): string | null } };
interface Element {
  id: string;
}

async function newPage(browser: BrowserContext): Promise<Page> {
  return browser.newPage();
}

const workbenchUrl = (folder: string, payload?: [string, string][]) =>
  `${CS_URL}/?folder=${encodeURIComponent(folder)}${payload ? `&payload=${encodeURIComponent(JSON.stringify(payload))}` : ''}`;

/** The API suite inside the extension host: the installed extension is also the development extension. */
async function runApiSuite(browser: BrowserContext): Promise<void> {
  const started = Date.now();
  const name = 'extension-host API suite (test/suite)';
  console.log(`[${since()}] ${name}`);
  const page = await newPage(browser);
  const workspace = makeWorkspace(path.join(RUN, 'ws-api'));
  const host = new URL(CS_URL).host;
  let done!: (code: unknown) => void;
  const exited = new Promise((resolve) => (done = resolve));
  const lines: string[] = [];
  await page.exposeFunction('codeAutomationLog', (_type: string, args: unknown[]) => {
    const text = args.map(String).join(' ');
    if (/^(ok|not ok) - |^\d+ passed, /.test(text)) {
      lines.push(text);
      console.log(`    ${text}`);
    }
  });
  await page.exposeFunction('codeAutomationExit', (code: unknown) => done(code));
  await page.addInitScript(ENABLE_TEST_DRIVER);
  await page.goto(
    workbenchUrl(workspace, [
      ['extensionDevelopmentPath', `vscode-remote://${host}${env('E2E_EXT_DIR')}`],
      ['extensionTestsPath', `vscode-remote://${host}${env('E2E_SUITE')}`],
    ]),
  );
  const timeoutMs = 180_000;
  const code = await Promise.race([exited, new Promise((r) => setTimeout(() => r('timeout'), timeoutMs))]);
  const failed = lines.filter((l) => l.startsWith('not ok'));
  const ok = code === 0 && failed.length === 0 && lines.some((l) => l.startsWith('ok - '));
  const screenshot = path.join(RESULTS, '00-extension-api.png');
  await page.screenshot({ path: screenshot }).catch(() => undefined);
  results.push({
    name,
    ok,
    ms: Date.now() - started,
    screenshot,
    error: ok
      ? undefined
      : code === 'timeout'
        ? `no result within ${timeoutMs / 1000} s`
        : failed.join('\n') || `extension host exit code ${String(code)}`,
  });
  await page.close();
}

/** What `code-server --install-extension` unpacked from the .vsix: the bundles and assets, nothing else. */
function checkInstalledPackage(): void {
  const started = Date.now();
  const root = env('E2E_EXT_DIR');
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const rel = path.relative(root, path.join(dir, e.name));
      if (e.isDirectory()) walk(path.join(dir, e.name));
      else files.push(rel.split(path.sep).join('/'));
    }
  };
  walk(root);
  const problems: string[] = [];
  for (const needed of ['package.json', 'dist/extension.js', 'dist/server.js'])
    if (!files.includes(needed)) problems.push(`missing ${needed}`);
  if (!files.some((f) => /^LICENSE/i.test(f))) problems.push('missing LICENSE');
  const unwanted = files.filter((f) => /(^|\/)node_modules\/|\.map$|\.tsx?$|^(client|server|protocol|test|scripts|bench)\//.test(f));
  if (unwanted.length) problems.push(`should not be packaged: ${unwanted.slice(0, 10).join(', ')}${unwanted.length > 10 ? ', …' : ''}`);
  console.log(`[${since()}] installed package: ${files.length} files`);
  results.push({
    name: 'the installed .vsix holds the bundles and assets only',
    ok: problems.length === 0,
    ms: Date.now() - started,
    error: problems.join('; ') || undefined,
  });
}

async function loadSteps(): Promise<{ file: string; step: Step }[]> {
  const filter = process.env.E2E_STEPS ? new RegExp(process.env.E2E_STEPS) : undefined;
  const files = readdirSync(path.join(HERE, 'steps'))
    .filter((f) => /^\d+-.*\.(ts|js)$/.test(f) && (!filter || filter.test(f)))
    .sort();
  const steps = [];
  for (const file of files) {
    const mod = await import(pathToFileURL(path.join(HERE, 'steps', file)).href);
    const step = (mod.default?.run ? mod.default : (mod.default?.default ?? mod)) as Step;
    if (typeof step.run !== 'function') throw new Error(`${file} does not export a step ({ name, run(h) })`);
    steps.push({ file: file.replace(/\.(ts|js)$/, ''), step });
  }
  return steps;
}

async function runUiSteps(browser: BrowserContext): Promise<void> {
  const steps = await loadSteps();
  const page = await newPage(browser);
  const consoleErrors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
  const workspace = makeWorkspace(path.join(RUN, 'ws-ui'));
  const h = new Harness(page, workspace, RESULTS, T0);
  const loadStart = Date.now();
  try {
    await page.goto(workbenchUrl(workspace));
    await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
    await page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'demo.tasks.jsonl' }).waitFor({ timeout: 60_000 });
    console.log(`[${since()}] workbench loaded in ${((Date.now() - loadStart) / 1000).toFixed(1)} s`);
  } catch (e) {
    await page.screenshot({ path: path.join(RESULTS, 'workbench.png') }).catch(() => undefined);
    results.push({ name: 'workbench loads', ok: false, ms: Date.now() - loadStart, error: (e as Error).message.split('\n')[0] });
    return;
  }
  for (const [i, { file, step }] of steps.entries()) {
    h.step = file;
    if (i > 0)
      await h.resetWorkbench().catch((e: Error) => console.log(`    (could not reset the workbench: ${e.message.split('\n')[0]})`));
    const started = Date.now();
    const timeoutMs = step.timeoutMs ?? 90_000;
    console.log(`[${since()}] ${file}: ${step.name}`);
    let error: string | undefined;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        step.run(h),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`step took longer than ${timeoutMs / 1000} s`)), timeoutMs);
        }),
      ]);
    } catch (e) {
      error = e instanceof Error ? e.message.split('\n').slice(0, 4).join('\n') : String(e);
    } finally {
      clearTimeout(timer);
    }
    const screenshot = await h.screenshot().catch(() => undefined);
    results.push({ name: `${file}: ${step.name}`, ok: !error, ms: Date.now() - started, error, screenshot });
    console.log(`    ${error ? 'FAIL' : 'PASS'} (${((Date.now() - started) / 1000).toFixed(1)} s)${error ? ': ' + error : ''}`);
    // Leave the workbench usable for the next step whatever this one left open.
    await h.closeQuickInput().catch(() => undefined);
    for (let i = 0; i < 2; i++) await page.keyboard.press('Escape').catch(() => undefined);
  }
  if (consoleErrors.length) writeFileSync(path.join(RESULTS, 'console-errors.txt'), consoleErrors.join('\n'));
  await page.close();
}

async function main(): Promise<number> {
  // A fresh profile inside the run's folder: run.sh finds a Chromium this process left behind by it.
  const browser = await chromium.launchPersistentContext(path.join(RUN, 'chromium-profile'), {
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: BROWSER_ARGS,
    viewport: { width: 1400, height: 900 },
  });
  try {
    checkInstalledPackage();
    if (!process.env.E2E_SKIP_API) await runApiSuite(browser);
    await runUiSteps(browser);
  } finally {
    await browser.close().catch(() => undefined);
  }
  console.log('\nend-to-end results:');
  for (const r of results) {
    console.log(`  ${r.ok ? 'PASS' : 'FAIL'}  ${r.name}  (${(r.ms / 1000).toFixed(1)} s)`);
    if (r.error)
      console.log(
        r.error
          .split('\n')
          .map((l) => `        ${l}`)
          .join('\n'),
      );
  }
  writeFileSync(path.join(RESULTS, 'summary.json'), JSON.stringify({ results, totalMs: Date.now() - T0 }, null, 2));
  const failed = results.filter((r) => !r.ok).length;
  console.log(`${results.length - failed} passed, ${failed} failed`);
  return failed || results.length === 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error('e2e runner failed:', e);
    process.exit(1);
  },
);
