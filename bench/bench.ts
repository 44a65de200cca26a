/** `npm run bench`: runs every bench/*.bench.ts in turn, each printing its figures beside its reference. */
import { readdirSync } from 'node:fs';
import * as path from 'node:path';

async function main() {
  const only = process.argv.slice(2);
  const files = readdirSync(__dirname)
    .filter((f) => f.endsWith('.bench.ts') && (!only.length || only.some((o) => f.includes(o))))
    .sort();
  console.log(
    `# TTS Distill Studio benchmarks — ${new Date().toISOString()}, Node ${process.version}, ${require('node:os').cpus().length} cores`,
  );
  for (const f of files) {
    const mod = await import(path.join(__dirname, f));
    if (typeof mod.run === 'function') await mod.run();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
