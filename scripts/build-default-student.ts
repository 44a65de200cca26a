// `npm run build:student-model`: trains the default G2P student — the second opinion of the
// polyphone diagnostics until a workspace trains its own — on ALL of data/cpp (CPP dev,
// Apache-2.0) with a fixed seed, and writes server/src/core/student/data/default-student.json.gz.
// The same data and seed give the same bytes (canonical JSON, gzip without a timestamp), so the
// committed file can be checked by rebuilding it: `npm run build:student-model -- --check`.
//   node --import tsx scripts/build-default-student.ts [--check] [--sent FILE] [--out FILE]
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { readCpp } from '../server/src/core/student/labels';
import { serializeModel } from '../server/src/core/student/model';
import { trainStudent } from '../server/src/core/student/trainer';

export const DEFAULT_STUDENT_SEED = 42;
export const DEFAULT_STUDENT_FILE = join(__dirname, '..', 'server', 'src', 'core', 'student', 'data', 'default-student.json.gz');

/** The default student's bytes from a CPP-style X.sent (+ X.lb). */
export async function buildDefaultStudent(sentFile: string): Promise<Buffer> {
  const { examples } = await readCpp(sentFile);
  const model = trainStudent(examples, { seed: DEFAULT_STUDENT_SEED, heldOutFraction: 0, sources: [basename(sentFile)] });
  // level 9 and no file name or time in the header: the bytes depend on the model only.
  return gzipSync(Buffer.from(serializeModel(model)), { level: 9 });
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const opt = (name: string) => {
    const k = args.indexOf(name);
    return k >= 0 ? args[k + 1] : undefined;
  };
  const sent = opt('--sent') ?? join(__dirname, '..', 'data', 'cpp', 'dev.sent');
  const out = opt('--out') ?? DEFAULT_STUDENT_FILE;
  const t0 = performance.now();
  const bytes = await buildDefaultStudent(sent);
  const seconds = ((performance.now() - t0) / 1000).toFixed(1);
  if (args.includes('--check')) {
    let old: Buffer | undefined;
    try {
      old = readFileSync(out);
    } catch {
      /* missing */
    }
    const same = old?.equals(bytes) ?? false;
    process.stdout.write(
      `${out}: ${same ? 'identical to a fresh build' : 'DIFFERS from a fresh build'} (${bytes.length} bytes, ${seconds} s)\n`,
    );
    if (!same) process.exitCode = 1;
    return;
  }
  writeFileSync(out, bytes);
  process.stdout.write(`${out}: ${bytes.length} bytes gzipped (${seconds} s)\n`);
}

if (require.main === module) {
  main().catch((err) => {
    process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
    process.exitCode = 1;
  });
}
