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

/** A line's readings as syllable ids (see SyllableTable), with its pins: how the workers send them. */
export interface PackedReadings {
  /** One UTF-16 unit per unit of the text: the id of its syllable (0: none). */
  ids: string;
  pinned?: LineReadings['pinned'];
  kept?: LineReadings['kept'];
}

/** Ids stay below the surrogates, so that TextDecoder keeps every unit. */
const MAX_SYLLABLES = 0xd7ff;
const utf16 = new TextDecoder('utf-16le');

/**
 * Syllable ids (0 is "no reading"), given in the order syllables are first seen; append-only.
 * A worker packs its readings with its own table and sends the syllables it added since its
 * last reply; the server keeps a copy per worker (`extend`) and the readings stay packed.
 */
export class SyllableTable {
  readonly syllables: Array<string | null> = [null];
  private readonly ids = new Map<string, number>();

  get size(): number {
    return this.syllables.length;
  }

  /** The readings packed, or undefined when a syllable has no id (more distinct ones than ids). */
  pack(r: LineReadings): PackedReadings | undefined {
    const readings = r.readings;
    const ids = new Uint16Array(readings.length);
    for (let i = 0; i < readings.length; i++) {
      const s = readings[i];
      if (s == null) continue;
      const id = this.idOf(s);
      if (id === undefined) return undefined;
      ids[i] = id;
    }
    const p: PackedReadings = { ids: utf16.decode(ids) };
    if (r.pinned) p.pinned = r.pinned;
    if (r.kept) p.kept = r.kept;
    return p;
  }

  unpack(p: PackedReadings): LineReadings {
    const ids = p.ids;
    const readings = new Array<string | null>(ids.length);
    for (let i = 0; i < ids.length; i++) readings[i] = this.syllables[ids.charCodeAt(i)] ?? null;
    const out: LineReadings = { readings };
    if (p.pinned) out.pinned = p.pinned;
    if (p.kept) out.kept = p.kept;
    return out;
  }

  /** The id of `s`, added when new; undefined when the table is full. */
  idOf(s: string): number | undefined {
    const id = this.ids.get(s);
    if (id !== undefined) return id;
    return this.syllables.length > MAX_SYLLABLES ? undefined : this.add(s);
  }

  /** A copy's side: the syllables another table added from id `from` on (false when they do not follow on from this copy). */
  extend(from: number, add: readonly string[]): boolean {
    if (from !== this.syllables.length) return false;
    for (const s of add) this.add(s);
    return true;
  }

  private add(s: string): number {
    const id = this.syllables.length;
    this.syllables.push(s);
    this.ids.set(s, id);
    return id;
  }
}

/**
 * A line's readings as the cache keeps them: packed, with the table of their ids. An array of
 * strings per line took ~360 bytes for a 43-character line, this ~100 (100,000 lines: some 25 MB less).
 */
class Packed implements PackedReadings {
  readonly ids: string;
  readonly pinned: LineReadings['pinned'];
  readonly kept: LineReadings['kept'];
  constructor(
    p: PackedReadings,
    readonly table: SyllableTable,
  ) {
    this.ids = p.ids;
    this.pinned = p.pinned;
    this.kept = p.kept;
  }
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

/** The ids of the readings computed on this thread. */
const local = new SyllableTable();

function unpack(p: Packed | LineReadings): LineReadings {
  return p instanceof Packed ? p.table.unpack(p) : p;
}

/** Stores a line's readings (packed, or as they are) under the dictionary version. */
function store(version: string, text: string, r: Packed | LineReadings): void {
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
  t.set(text, r);
  size++;
}

/** Stores readings packed elsewhere (a worker thread, with its table copied here by `extend`) for `text`. */
export function storePackedReadings(version: string, text: string, p: PackedReadings, syllables: SyllableTable): void {
  store(version, text, new Packed(p, syllables));
}

/** Stores readings computed elsewhere for `text` under the dictionary version (packed here). */
export function storeReadings(version: string, text: string, r: LineReadings): void {
  const p = local.pack(r);
  store(version, text, p ? new Packed(p, local) : r);
}

/** The cached readings of `text`, or undefined when no one has computed them yet. */
export function cachedReadings(text: string, dict: ReplaceDict): LineReadings | undefined {
  const hit = byVersion.get(dict.version)?.get(text);
  return hit && unpack(hit);
}

/** The readings of `text` as the cache keeps them (packed, with their table, or as they are), for the verdict log. */
export function keptReadings(
  version: string,
  text: string,
): { readings: PackedReadings | LineReadings; table?: SyllableTable } | undefined {
  const hit = byVersion.get(version)?.get(text);
  if (!hit) return undefined;
  return hit instanceof Packed ? { readings: hit, table: hit.table } : { readings: hit };
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
