// The extension-host API suite: runs INSIDE VS Code's extension host as `extensionTestsPath`
// (bundled by test/e2e/build-suite.mjs), under code-server (npm run test:e2e) or a desktop
// VS Code (npm run test:electron). No test framework: `test(name, fn)` in *.test.ts files,
// TAP-like lines on the console that both runners read.
import * as vscode from 'vscode';
import type { ExtensionApi } from '../../client/src/extension';

export const EXTENSION_ID = 'tts-distill.tts-distill-studio';

const tests: { name: string; fn: () => Promise<void> }[] = [];

/** Registers a test; tests run in the order their files and calls appear. */
export function test(name: string, fn: () => Promise<void>): void {
  tests.push({ name, fn });
}

/** Polls `probe` until it returns a truthy value; fails with `what` after the deadline. */
export async function waitFor<T>(what: string, probe: () => T | Promise<T>, timeoutMs = 20_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    last = await probe();
    if (last) return last as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The activated extension's API (what `activate` returns). */
export async function extensionApi(): Promise<ExtensionApi> {
  const ext = vscode.extensions.getExtension<ExtensionApi>(EXTENSION_ID);
  if (!ext) throw new Error(`extension ${EXTENSION_ID} is not installed`);
  const api = ext.isActive ? ext.exports : await ext.activate();
  // A failed activation leaves no exports; say so rather than fail later on `undefined`.
  if (!api || typeof api.documentInfo !== 'function')
    throw new Error(`${EXTENSION_ID} activated without its API (did activate() throw? see the extension host log)`);
  return api;
}

export function workspaceUri(relPath: string): vscode.Uri {
  const folder = vscode.workspace.workspaceFolders?.[0];
  if (!folder) throw new Error('no workspace folder is open');
  return vscode.Uri.joinPath(folder.uri, ...relPath.split('/'));
}

/** Opens a workspace file in an editor and returns its document once its language is settled to `languageId`. */
export async function openFile(relPath: string, languageId: string): Promise<vscode.TextDocument> {
  const uri = workspaceUri(relPath);
  await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri));
  // Sniffed .jsonl files change language after opening, which replaces the document object.
  return waitFor(`${relPath} in language ${languageId}`, () =>
    vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString() && d.languageId === languageId),
  );
}

export function codeOf(d: vscode.Diagnostic): string {
  return typeof d.code === 'object' ? String(d.code.value) : String(d.code ?? '');
}

/** Waits until the diagnostics of `uri` satisfy `ok`, and returns them. */
export async function diagnosticsWhere(
  uri: vscode.Uri,
  what: string,
  ok: (d: readonly vscode.Diagnostic[]) => boolean,
  timeoutMs = 20_000,
): Promise<readonly vscode.Diagnostic[]> {
  try {
    return await waitFor(
      what,
      () => {
        const d = vscode.languages.getDiagnostics(uri);
        return ok(d) ? d : undefined;
      },
      timeoutMs,
    );
  } catch (e) {
    const seen = vscode.languages
      .getDiagnostics(uri)
      .map((d) => `${d.range.start.line + 1}:${d.range.start.character + 1} ${codeOf(d)} ${d.message}`);
    throw new Error(`${(e as Error).message}; diagnostics now: ${JSON.stringify(seen)}`);
  }
}

export async function run(): Promise<void> {
  let passed = 0;
  const failed: string[] = [];
  for (const t of tests) {
    const t0 = Date.now();
    try {
      await t.fn();
      passed++;
      console.log(`ok - ${t.name} (${Date.now() - t0} ms)`);
    } catch (e) {
      failed.push(t.name);
      console.log(`not ok - ${t.name}: ${(e instanceof Error ? e.message : String(e)).replace(/\s+/g, ' ')}`);
    }
  }
  console.log(`${passed} passed, ${failed.length} failed`);
  if (failed.length) throw new Error(`${failed.length} test(s) failed: ${failed.join('; ')}`);
}
