/**
 * The teacher's per-line readings, cached by line text and dictionary version. Everything that
 * needs a line's readings (polyphone flags, inlay hints, hovers) goes through `linePredict`, so a
 * line is predicted once, whoever asks first: the worker threads ahead of time (`ReadingsPool`),
 * or the caller itself when nothing has been computed yet.
 */
import { type ReplaceDict } from './dictionary';
import { type LineReadings, predictReadings } from './teacherReadings';

/** At most this many lines are kept (about 100 bytes each beside the text, which task files hold anyway). */
const MAX_LINES = 400_000;

/** dictionary version → text → readings. Only the newest two dictionary versions are kept. */
const byVersion = new Map<string, Map<string, LineReadings>>();
let size = 0;
let hits = 0,
  misses = 0;

function table(version: string, create: boolean): Map<string, LineReadings> | undefined {
  let t = byVersion.get(version);
  if (t) {
    if (create && byVersion.size > 1) {
      // Newest version last: the oldest goes when a third appears.
      byVersion.delete(version);
      byVersion.set(version, t);
    }
    return t;
  }
  if (!create) return undefined;
  t = new Map();
  byVersion.set(version, t);
  while (byVersion.size > 2) {
    const [oldest, old] = byVersion.entries().next().value!;
    size -= old.size;
    byVersion.delete(oldest);
  }
  return t;
}

/** Pinyin syllables repeat across lines: keep one copy of each. */
const syllables = new Map<string, string>();
function intern(s: string): string {
  const hit = syllables.get(s);
  if (hit !== undefined) return hit;
  if (syllables.size < 20_000) syllables.set(s, s);
  return s;
}

/** Stores readings computed elsewhere (a worker thread) for `text` under the dictionary version. */
export function storeReadings(version: string, text: string, r: LineReadings): void {
  const t = table(version, true)!;
  if (t.has(text)) return;
  const readings = r.readings;
  for (let i = 0; i < readings.length; i++) {
    const s = readings[i];
    if (s != null) readings[i] = intern(s);
  }
  if (size >= MAX_LINES) {
    // Drop the oldest tenth: lines stored first were read first and are the least likely to be asked again.
    let drop = Math.ceil(MAX_LINES / 10);
    for (const key of t.keys()) {
      if (drop-- <= 0) break;
      t.delete(key);
      size--;
    }
  }
  t.set(text, r);
  size++;
}

/** The cached readings of `text`, or undefined when no one has computed them yet. */
export function cachedReadings(text: string, dict: ReplaceDict): LineReadings | undefined {
  return byVersion.get(dict.version)?.get(text);
}

/** The teacher's readings of `text` (see `predictReadings`): from the cache, else computed now and cached. */
export function linePredict(text: string, dict: ReplaceDict): LineReadings {
  const hit = byVersion.get(dict.version)?.get(text);
  if (hit) {
    hits++;
    return hit;
  }
  misses++;
  const r = predictReadings(text, dict);
  storeReadings(dict.version, text, r);
  return r;
}

/** Cache figures (for tests and the bench). */
export function readingsCacheStats(): { lines: number; hits: number; misses: number } {
  return { lines: size, hits, misses };
}

/** Empties the cache (tests, or when the G2P itself changes). */
export function clearReadingsCache(): void {
  byVersion.clear();
  size = 0;
  hits = misses = 0;
}
