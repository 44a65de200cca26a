// npm run test:electron — the extension-host API suite (test/suite) in a desktop VS Code through
// @vscode/test-electron, the usual way VS Code extensions are tested.
//   VSCODE_EXECUTABLE=/path/to/code npm run test:electron    use that VS Code build
//   npm run test:electron                                     download one (needs update.code.visualstudio.com)
// Machines without that download (like the CI here) use `npm run test:e2e`, which runs the same
// suite in code-server.
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const https = require('node:https');
const os = require('node:os');
const path = require('node:path');

const REPO = path.resolve(__dirname, '../..');
const DOWNLOAD_HOST = 'update.code.visualstudio.com';

/** Whether VS Code builds can be downloaded from here; answers within a few seconds. */
function canDownload() {
  return new Promise((resolve) => {
    const req = https.request({ host: DOWNLOAD_HOST, path: '/api/releases/stable', method: 'HEAD', timeout: 5000 }, (res) => {
      res.resume();
      resolve(res.statusCode !== undefined && res.statusCode < 500);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(false));
    req.end();
  });
}

async function main() {
  const vscodeExecutablePath = process.env.VSCODE_EXECUTABLE;
  if (vscodeExecutablePath && !fs.existsSync(vscodeExecutablePath)) {
    console.error(`test:electron: VSCODE_EXECUTABLE=${vscodeExecutablePath} does not exist.`);
    return 1;
  }
  if (!vscodeExecutablePath && !(await canDownload())) {
    console.error(
      [
        `test:electron: no VS Code build given and ${DOWNLOAD_HOST} is not reachable, so none can be downloaded.`,
        'Set VSCODE_EXECUTABLE to a VS Code binary (e.g. /usr/share/code/code), or run the same suite in',
        'code-server with `npm run test:e2e` (works offline with the npm registry and Debian packages only).',
      ].join('\n'),
    );
    return 1;
  }
  const { runTests } = require('@vscode/test-electron');

  execFileSync('npm', ['run', '--silent', 'build'], { cwd: REPO, stdio: 'inherit' });
  const suite = path.join(REPO, 'out/test/suite.js');
  execFileSync(process.execPath, [path.join(REPO, 'test/e2e/build-suite.mjs'), suite], { cwd: REPO, stdio: 'inherit' });

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tts-distill-electron-'));
  try {
    const workspace = path.join(tmp, 'workspace');
    execFileSync(process.execPath, ['--import', 'tsx', path.join(REPO, 'test/e2e/fixtures.ts'), workspace], {
      cwd: REPO,
      stdio: 'inherit',
    });
    await runTests({
      ...(vscodeExecutablePath ? { vscodeExecutablePath } : { timeout: 60_000 }),
      extensionDevelopmentPath: REPO,
      extensionTestsPath: suite,
      launchArgs: [
        workspace,
        '--disable-extensions',
        '--disable-workspace-trust',
        '--skip-welcome',
        '--skip-release-notes',
        `--user-data-dir=${path.join(tmp, 'user-data')}`,
        `--extensions-dir=${path.join(tmp, 'extensions')}`,
      ],
    });
    return 0;
  } catch (e) {
    console.error('test:electron failed:', e instanceof Error ? e.message : e);
    return 1;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
