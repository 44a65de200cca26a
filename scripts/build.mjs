// Bundles the extension, the language server, the CLI and the webview scripts with esbuild.
// `node scripts/build.mjs [--watch] [--minify]`
import * as esbuild from 'esbuild';
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';

const watch = process.argv.includes('--watch');
const minify = process.argv.includes('--minify');

/** Node-side bundles: [entry, outfile]. Add an entry here when a feature needs its own process or worker. */
const nodeEntries = [
  ['client/src/extension.ts', 'dist/extension.js'],
  ['server/src/main.ts', 'dist/server.js'],
  ['server/src/cli.ts', 'dist/cli.js'],
  ['server/src/core/student/trainWorker.ts', 'dist/trainWorker.js'],
  ['server/src/core/audio/analysisWorker.ts', 'dist/audioWorker.js'],
  ['server/src/core/qa/measureWorker.ts', 'dist/qaWorker.js'],
  ['server/src/core/teacher/synthWorker.ts', 'dist/synthWorker.js'],
  ['server/src/core/pronunciation/readingsWorker.ts', 'dist/readingsWorker.js'],
];

/** Browser-side bundles for webviews: [entry, outfile]. */
const webEntries = [
  ['media/src/preview.ts', 'dist/media/preview.js'],
  ['media/src/report.ts', 'dist/media/report.js'],
  ['media/src/listening.ts', 'dist/media/listening.js'],
];
// A moved or renamed entry must fail the build, not drop its bundle silently.
for (const [entry] of [...nodeEntries, ...webEntries]) {
  if (!existsSync(entry)) throw new Error(`build: entry ${entry} is missing (moved? update scripts/build.mjs)`);
}

/** G2P data files (server/src/core/pronunciation/g2p/data/*.gz: jieba, pypinyin) go to dist/data/, where the bundles look for them. */
const g2pDataDir = 'server/src/core/pronunciation/g2p/data';
const g2pRequired = ['jieba.bin.gz', 'pypinyin.txt.gz'];
for (const name of g2pRequired) {
  if (!existsSync(`${g2pDataDir}/${name}`))
    throw new Error(`build: ${g2pDataDir}/${name} is missing (see its generator in scripts/g2p-data/)`);
}
rmSync('dist/data', { recursive: true, force: true }); // no stale data file from an earlier layout
mkdirSync('dist/data', { recursive: true });
for (const name of readdirSync(g2pDataDir).filter((f) => f.endsWith('.gz'))) copyFileSync(`${g2pDataDir}/${name}`, `dist/data/${name}`);
// The data files' licences ship beside them (jieba's dictionary and HMM tables are MIT, (c) Sun Junyi).
copyFileSync('third_party/jieba-0.42.1/LICENSE', 'dist/data/jieba-0.42.1.LICENSE.txt');
// The default G2P student (npm run build:student-model writes it), found by the bundles in dist/data/ as well.
const defaultStudent = 'server/src/core/student/data/default-student.json.gz';
if (existsSync(defaultStudent)) copyFileSync(defaultStudent, 'dist/data/default-student.json.gz');

const common = { bundle: true, sourcemap: true, minify, logLevel: 'warning', legalComments: 'linked' };
const contexts = [];
for (const [entry, outfile] of nodeEntries) {
  contexts.push(
    await esbuild.context({
      ...common,
      entryPoints: [entry],
      outfile,
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      // jsonc-parser's UMD build hides its requires from bundlers; its ESM build does not.
      mainFields: ['module', 'main'],
      // vscode is provided by the host; the GPL espeak-ng build stays an optional, separately installed module.
      external: ['vscode', '@echogarden/espeak-ng-emscripten', 'tsx/cjs'],
    }),
  );
}
for (const [entry, outfile] of webEntries) {
  contexts.push(await esbuild.context({ ...common, entryPoints: [entry], outfile, platform: 'browser', target: 'es2022', format: 'iife' }));
}
if (watch) {
  await Promise.all(contexts.map((c) => c.watch()));
  console.log('watching…');
} else {
  await Promise.all(contexts.map((c) => c.rebuild()));
  await Promise.all(contexts.map((c) => c.dispose()));
}
