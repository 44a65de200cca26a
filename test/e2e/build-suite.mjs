// Bundles the extension-host API suite (test/suite/*.test.ts + its runner) into one CommonJS
// file that VS Code loads as `extensionTestsPath` — under code-server (test/e2e/run.sh) and
// under @vscode/test-electron (test/electron/run.js) alike.
//   node test/e2e/build-suite.mjs <outfile>
import * as esbuild from 'esbuild';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const suiteDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../suite');
const outfile = path.resolve(process.argv[2] ?? 'out/test/suite.js');
// Every *.test.ts registers its tests on import; index.ts runs them in file-name order.
const files = readdirSync(suiteDir)
  .filter((f) => /\.test\.ts$/.test(f))
  .sort();
await esbuild.build({
  stdin: {
    contents: files.map((f) => `import './${f}';`).join('\n') + `\nexport { run } from './index';\n`,
    resolveDir: suiteDir,
    sourcefile: 'suite-entry.ts',
    loader: 'ts',
  },
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  outfile,
  sourcemap: 'inline',
  mainFields: ['module', 'main'],
  external: ['vscode'],
  logLevel: 'warning',
});
