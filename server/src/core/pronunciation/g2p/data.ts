import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';

/**
 * The G2P data files (jieba's dictionary and HMM tables, pypinyin's dictionaries) live in
 * server/src/core/pronunciation/g2p/data/ and are copied by scripts/build.mjs to dist/data/. This module finds
 * them both ways: from source (tsx: __dirname is server/src/core/pronunciation/g2p) and from any esbuild bundle
 * in dist/ (__dirname is dist/).
 */
function candidates(name: string): string[] {
  return [join(__dirname, 'data', name), join(__dirname, 'g2p', 'data', name), join(__dirname, '..', 'data', name)];
}

/** Absolute path of a G2P data file; throws with the places looked at when it is missing. */
export function g2pDataPath(name: string): string {
  const tried = candidates(name);
  const hit = tried.find((p) => existsSync(p));
  if (!hit) throw new Error(`G2P data file ${name} not found (looked in ${tried.join(', ')}); run npm run build or check the install`);
  return hit;
}

/** The bytes of a G2P data file, gunzipped when its name ends in .gz. */
export function readG2PData(name: string): Buffer {
  const raw = readFileSync(g2pDataPath(name));
  return name.endsWith('.gz') ? gunzipSync(raw) : raw;
}

/** The same as UTF-8 text. */
export function readG2PText(name: string): string {
  return readG2PData(name).toString('utf8');
}
