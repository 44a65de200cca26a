/**
 * GLM-TTS's able list (`configs/G2P_able_1word.json`): with `--use_phoneme`, `frontend.py`
 * (`_align_and_replace`) writes phoneme tokens only for Han characters NOT in this list; the
 * characters in it stay text and the language model decides how to read them. The list is
 * applied after the dictionary: characters inside a dictionary match are emitted as the
 * dictionary value says, whatever the list says.
 *
 * The copy in data/glmtts is bundled; a checkout's own `configs/` list is read when
 * `teacher.glmttsPath` is set (GLM-TTS reads it only from there).
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import bundledChars from '../../../../../data/glmtts/G2P_able_1word.json';

export class AbleList {
  private readonly set: Set<string>;
  /** Changes whenever the contents change (caches key on it). */
  readonly version: string;

  /** Its characters (for a worker thread to build the same list). */
  chars(): string[] {
    return [...this.set];
  }

  constructor(
    chars: readonly string[],
    readonly origin: string,
  ) {
    this.set = new Set(chars);
    this.version = createHash('sha256')
      .update([...this.set].sort().join('\n'))
      .digest('hex')
      .slice(0, 16);
  }

  /** The character is left as text for the language model. */
  has(char: string): boolean {
    return this.set.has(char);
  }

  get size(): number {
    return this.set.size;
  }

  /** The copy shipped with the product (GLM-TTS main, commit c5dc7aec). */
  static readonly bundled = new AbleList(bundledChars as string[], 'bundled G2P_able_1word.json (GLM-TTS c5dc7aec)');

  /** Parses the upstream file: a JSON array of single characters. */
  static fromText(text: string, origin: string): AbleList {
    const v = JSON.parse(text.replace(/^\uFEFF/, '')) as unknown;
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw new Error(`${origin}: not a JSON array of characters`);
    return new AbleList(v as string[], origin);
  }
}

/** `<checkout>/configs/G2P_able_1word.json`. */
export function checkoutAbleListPath(checkout: string): string {
  return path.join(checkout, 'configs', 'G2P_able_1word.json');
}

const cache = new Map<string, { mtimeMs: number; size: number; list: AbleList }>();

/**
 * The able list GLM-TTS will use: the checkout's when `glmttsPath` is set and its file is
 * readable, otherwise the bundled one. `problem` says why a checkout's file was not used.
 */
export async function loadAbleList(glmttsPath?: string, base?: string): Promise<{ list: AbleList; problem?: string }> {
  if (!glmttsPath) return { list: AbleList.bundled };
  const file = checkoutAbleListPath(path.resolve(base ?? process.cwd(), glmttsPath));
  try {
    const st = await fs.stat(file);
    const hit = cache.get(file);
    if (hit && hit.mtimeMs === st.mtimeMs && hit.size === st.size) return { list: hit.list };
    const list = AbleList.fromText(await fs.readFile(file, 'utf8'), file);
    cache.set(file, { mtimeMs: st.mtimeMs, size: st.size, list });
    return { list };
  } catch (err) {
    cache.delete(file);
    const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? `${file} does not exist` : (err as Error).message;
    return { list: AbleList.bundled, problem: `${why}; using the bundled able list` };
  }
}
