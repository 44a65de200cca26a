import { chmod, mkdir, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { shellQuote } from '../../server/src/core/util/shell';

// No `vscode` import: the launchers are tested in plain Node.

/**
 * Writes `tts-distill` (POSIX shell) and `tts-distill.cmd` (Windows) into `binDir`: each runs
 * `cli` (the bundled dist/cli.js) with `runtime.execPath`; inside desktop VS Code that is the
 * Electron binary, which runs as plain Node with ELECTRON_RUN_AS_NODE=1.
 */
export async function writeLaunchers(binDir: string, runtime: { execPath: string; electron: boolean }, cli: string): Promise<void> {
  await mkdir(binDir, { recursive: true });
  const sh = [
    '#!/bin/sh',
    '# Written by TTS Distill Studio: the CLI bundled with the extension.',
    ...(runtime.electron ? ['ELECTRON_RUN_AS_NODE=1', 'export ELECTRON_RUN_AS_NODE'] : []),
    `exec ${shellQuote(runtime.execPath)} ${shellQuote(cli)} "$@"`,
    '',
  ].join('\n');
  await writeFile(path.join(binDir, 'tts-distill'), sh);
  await chmod(path.join(binDir, 'tts-distill'), 0o755);
  const cmd = [
    '@echo off',
    'setlocal',
    ...(runtime.electron ? ['set ELECTRON_RUN_AS_NODE=1'] : []),
    `"${runtime.execPath}" "${cli}" %*`,
    '',
  ].join('\r\n');
  await writeFile(path.join(binDir, 'tts-distill.cmd'), cmd);
}
