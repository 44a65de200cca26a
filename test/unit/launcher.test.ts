import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { writeLaunchers } from '../../client/src/launcher';

const REPO = path.join(__dirname, '..', '..');

void test('the terminal launcher runs the CLI with the extension host’s runtime, arguments intact', async () => {
  const root = mkdtempSync(path.join(tmpdir(), 'launcher-'));
  // Quotes and spaces in every path: the launcher must quote them for the shell.
  const dir = path.join(root, "it's a dir");
  mkdirSync(dir);
  const cli = path.join(dir, 'cli.js');
  writeFileSync(
    cli,
    'process.stdout.write(JSON.stringify({ args: process.argv.slice(2), electron: process.env.ELECTRON_RUN_AS_NODE ?? null }))',
  );
  const bin = path.join(dir, 'bin');
  await writeLaunchers(bin, { execPath: process.execPath, electron: true }, cli);
  const env = { ...process.env, PATH: `${bin}${path.delimiter}${process.env.PATH}` };
  const r = spawnSync('tts-distill', ['a b', "c'd", '$HOME'], { env, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { args: ['a b', "c'd", '$HOME'], electron: '1' });
  const cmd = readFileSync(path.join(bin, 'tts-distill.cmd'), 'utf8');
  assert.match(cmd, /set ELECTRON_RUN_AS_NODE=1\r\n/);
  assert.ok(cmd.includes(`"${process.execPath}" "${cli}" %*`));

  await writeLaunchers(bin, { execPath: process.execPath, electron: false }, cli);
  assert.equal(
    JSON.parse(spawnSync('tts-distill', [], { env: { ...env, ELECTRON_RUN_AS_NODE: '' }, encoding: 'utf8' }).stdout).electron,
    '',
  );

  // With the real bundle (npm run build writes dist/cli.js; pretest builds it).
  const dist = path.join(REPO, 'dist', 'cli.js');
  if (existsSync(dist)) {
    await writeLaunchers(bin, { execPath: process.execPath, electron: false }, dist);
    const v = spawnSync('tts-distill', ['--version'], { env, encoding: 'utf8' });
    assert.match(v.stdout, /^\d+\.\d+\.\d+/, v.stderr);
  }
});
