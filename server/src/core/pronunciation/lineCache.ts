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

/**
 * A line's readings as the cache keeps them: one UTF-16 unit per unit of the text, the id of its
 * syllable (0: none). An array of strings per line took ~360 bytes for a 43-character line, this
 * ~100 (100,000 lines: some 25 MB less).
 */
class Packed {
  constructor(
    readonly ids: string,
    readonly pinned: LineReadings['pinned'],
    readonly kept: LineReadings['kept'],
  ) {}
}

/** dictionary version → text → readings. Only the newest two dictionary versions are kept. */
const byVersion = new Map<string, Map<string, Packed | LineReadings>>();
let size = 0;
let hits = 0,
  misses = 0;

function table(version: string, create: boolean): Map<string, Packed | LineReadings> | undefined {
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

/** Syllable ids (0 is "no reading"); below the surrogates, so that TextDecoder keeps every unit. */
const syllableId = new Map<string, number>();
const syllableOf: Array<string | null> = [null];
const MAX_SYLLABLES = 0xd7ff;
const utf16 = new TextDecoder('utf-16le');

/** The readings packed, or undefined when a syllable has no id (more distinct ones than ids). */
function pack(r: LineReadings): Packed | undefined {
  const readings = r.readings;
  const ids = new Uint16Array(readings.length);
  for (let i = 0; i < readings.length; i++) {
    const s = readings[i];
    if (s == null) continue;
    let id = syllableId.get(s);
    if (id === undefined) {
      if (syllableOf.length > MAX_SYLLABLES) return undefined;
      id = syllableOf.length;
      syllableOf.push(s);
      syllableId.set(s, id);
    }
    ids[i] = id;
  }
  return new Packed(utf16.decode(ids), r.pinned, r.kept);
}

function unpack(p: Packed | LineReadings): LineReadings {
  if (!(p instanceof Packed)) return p;
  const ids = p.ids;
  const readings = new Array<string | null>(ids.length);
  for (let i = 0; i < ids.length; i++) readings[i] = syllableOf[ids.charCodeAt(i)]!;
  const out: LineReadings = { readings };
  if (p.pinned) out.pinned = p.pinned;
  if (p.kept) out.kept = p.kept;
  return out;
}

/** Stores readings computed elsewhere (a worker thread) for `text` under the dictionary version. */
export function storeReadings(version: string, text: string, r: LineReadings): void {
  const t = table(version, true)!;
  if (t.has(text)) return;
  if (size >= MAX_LINES) {
    // Drop the oldest tenth: lines stored first were read first and are the least likely to be asked again.
    let drop = Math.ceil(MAX_LINES / 10);
    for (const key of t.keys()) {
      if (drop-- <= 0) break;
      t.delete(key);
      size--;
    }
  }
  t.set(text, pack(r) ?? r);
  size++;
}

/** The cached readings of `text`, or undefined when no one has computed them yet. */
export function cachedReadings(text: string, dict: ReplaceDict): LineReadings | undefined {
  const hit = byVersion.get(dict.version)?.get(text);
  return hit && unpack(hit);
}

/** The teacher's readings of `text` (see `predictReadings`): from the cache, else computed now and cached. */
export function linePredict(text: string, dict: ReplaceDict): LineReadings {
  const hit = byVersion.get(dict.version)?.get(text);
  if (hit) {
    hits++;
    return unpack(hit);
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
