/**
 * The teacher's readings in the editor, at any file size: the polyphone flags of task lines
 * (computed off the edit path, lines in view first, the rest in worker threads) and the readings
 * as inlay hints of the requested range.
 *
 * How a 100,000-line file stays fast:
 * - readings are cached per line text and dictionary version (core/pronunciation/lineCache.ts),
 *   and computed ahead in worker threads (core/pronunciation/readingsPool.ts);
 * - a validation pass never waits for them: a line whose readings are not there yet is "pending"
 *   (no polyphone findings for now) unless it is in view or was just edited, which are computed
 *   on the spot; structural errors are published at once;
 * - each batch of worker results triggers a progressive pass (throttled by the server) that picks
 *   up the findings of the lines that became ready;
 * - findings are cached per line text (+ the analyzer's version), so a pass over unchanged lines
 *   is one Map lookup per line, and an edit analyses only the lines it touched.
 *
 * The warning criterion stays one pluggable call per line: whatever `PronunciationWorkspace.analyzer`
 * returns (the second opinion lives there).
 */
import { setFlagsFromString } from 'node:v8';
import { pathToFileURL } from 'node:url';
import * as path from 'node:path';
import { type InlayHint, type InlayHintLabelPart, MarkupKind } from 'vscode-languageserver/node';
import type { OpenDocument, ServerContext } from '../context';
import { defaultSettings, type Settings } from '../core/settings';
import type { LineFinding } from '../core/findings';
import { PENDING_FINDINGS, type ParsedTaskLine, TaskFileModel, type TaskLineAnalyzer } from '../core/formats/taskFile';
import { uriToPath } from '../core/util/paths';
import type { PronunciationWorkspace } from '../core/pronunciation/checks';
import { POLYPHONE_CODE, polyphoneVerdicts } from '../core/pronunciation/polyphones';
import { AbleList } from '../core/pronunciation/g2p/ableList';
import { g2pLoaded } from '../core/pronunciation/g2p/glmG2P';
import { candidateReadings, defaultReading, type LineReadings, type ReadingSource, sourceAt } from '../core/pronunciation/teacherReadings';
import { isHan } from '../core/formats/notation';
import { cachedReadings, linePredict } from '../core/pronunciation/lineCache';
import { ReadingsPool } from '../core/pronunciation/readingsPool';

/** What the pronunciation feature shares with this one. */
export interface PronunciationApi {
  /** The pronunciation state (dictionary, runs, student) of the document's workspace folder. */
  workspaceOf(doc: Pick<OpenDocument, 'path'> | undefined): PronunciationWorkspace;
  /** Reloads that state in the background (task files are validated again when it changed). */
  refresh(w: PronunciationWorkspace, settings: Settings): void;
  /** Resolves when the reload under way (if any) is done. */
  settled(w: PronunciationWorkspace): Promise<void>;
  /** Whether the workspaces load the student on this thread (not when worker threads compute the verdicts). */
  loadStudentHere(here: boolean): void;
}

export interface ReadingsFeature {
  /**
   * The polyphone analyzer of one validation pass (undefined when polyphone flags are off). A line
   * whose verdicts are not computed yet is pending (PENDING_FINDINGS); when verdicts arrived since
   * the last pass, the model asks again about the pending lines only.
   */
  analyzer(doc: OpenDocument, settings: Settings): TaskLineAnalyzer | undefined;
  /**
   * Before a pass: the lines in view and those just edited go to the workers first, and the pass
   * waits a little for their verdicts when the workers are up and running.
   */
  prepare(doc: OpenDocument, settings: Settings): Promise<void>;
  /** After a completed pass: sends the lines still pending to the workers. */
  afterPass(doc: OpenDocument): void;
  /**
   * A big task file is being opened (its didOpen still arriving, see stdioConnection.ts): the
   * verdicts of its first screen are asked for now, so that its first pass finds them ready.
   * Resolves to the number of texts asked for.
   */
  opening(uri: string, lines: string[]): Promise<number>;
  /** After an edit was applied to the model: the changed lines are analysed at once in the next pass. */
  edited(doc: OpenDocument, changes: ReadonlyArray<{ range?: { start: { line: number } }; text: string }>): void;
  closed(uri: string): void;
  /** Lines whose polyphone findings are not computed yet (for tests and the bench). */
  pendingLines(uri: string): number;
  /** The client is ready (initialized): the workers start loading the G2P and the student now, when the polyphone checks are on. */
  clientReady(): void;
  /** Stops the workers; resolves once the verdicts kept for the next session are written. */
  close(): Promise<void>;
  dispose(): void;
}

/** Lines taken as "in view" before the client has asked for inlay hints of a range (a first pass publishes them first). */
export const DEFAULT_VIEW_LINES = 100;
/** How long a pass waits for the verdicts of the lines just edited, and of those in view (workers busy with a batch). */
const EDIT_WAIT_MS = 2000;
const VIEW_WAIT_MS = 250;
const NONE: readonly LineFinding[] = Object.freeze([]);
/**
 * Milliseconds of this thread an inlay hint request spends on lines no one has read yet, when the
 * client can be asked to refresh: the others go to the workers, first in their queue, and the
 * client is asked for the hints again once they are read (a screen jumped to in a big file costs
 * some 30 ms of G2P on this thread otherwise, diagnostics and hovers waiting behind it).
 */
const HINT_BUDGET_MS = Number(process.env.TTS_DISTILL_HINT_BUDGET_MS ?? 10);
/** How long the workers get for the lines a hint request left to them (the refresh is asked for then anyway). */
const HINT_REFRESH_WAIT_MS = 3000;
/**
 * How long a pass waits for a workspace's first look at its dictionary and student (stats and
 * small files): meanwhile no line could go to the workers, and a 100,000-line file's first pass
 * would leave them all for the next one (half a second later).
 */
const WORKSPACE_WAIT_MS = 500;

/**
 * V8 lets a heap grow to up to 4× what survived its last full collection before collecting again.
 * The workers and this thread make garbage steadily while a big file is read: heaps that grow by a
 * fifth kept ~190 MB less resident on a 100,000-line file (npm run bench -- lsp: peak RSS 846 →
 * 655 MB), for ~15 % more time reading it; by a tenth, the peak stayed under 600 MB in eight runs
 * in a row (564–584 MB, against 564–653 MB at a fifth), ~3 % slower; against V8's default, ~13 % more
 * CPU on one thread's readings workload (all threads counted). Set once a worker has answered
 * (V8 reads the flag at every collection; it is per process): set from the start it also slowed the
 * first screen's warnings (G2P and student loading, the first pass) by ~200 ms.
 */
let heapGrowthSet = false;
function growHeapsLess(): void {
  if (heapGrowthSet) return;
  heapGrowthSet = true;
  setFlagsFromString('--heap-growing-percent=10');
}

interface DocState {
  /** Texts whose verdicts arrived since the last pass looked (TaskLineAnalyzer.arrived). */
  arrived: Set<string>;
  /** A line of the current pass is waiting for its verdicts (the workers' results then call for a pass). */
  waiting: boolean;
  /** Texts of pending lines not sent to the workers yet (sent in batches as a pass finds them). */
  unsent: string[];
  /** Texts of lines just edited: their verdicts are awaited by the next pass. */
  hot: Set<string>;
  view?: { start: number; end: number };
  /** Texts of lines in view (and just edited) without verdicts when the last pass began. */
  viewWaiting?: Set<string>;
  /** Inlay hint requests that left lines to the workers: only the newest one asks for a refresh. */
  hintsAsked?: number;
  /** The pool's delivery count at the last pass: when it changed, the next pass looks at the pending lines again. */
  deliveries: number;
  /** The last pass ran before the workspace's dictionary and student were known: every line waits. */
  waitingForWorkspace?: boolean;
}

export function register(
  ctx: ServerContext,
  api: PronunciationApi,
  hooks: { progress(uri: string, urgent: boolean): void },
): ReadingsFeature {
  const states = new Map<string, DocState>();
  const pool = new ReadingsPool({
    log: ctx.log,
    cacheDir: () => ctx.cacheDir && path.join(ctx.cacheDir, 'readings'),
    onFirstAnswer: growHeapsLess,
    workers: process.env.TTS_DISTILL_READING_WORKERS !== undefined ? Number(process.env.TTS_DISTILL_READING_WORKERS) : undefined,
  });
  api.loadStudentHere(!pool.canUseWorkers);
  pool.onResults((texts) => {
    for (const [uri, st] of states) {
      if (!st.waiting && !ctx.getDocument(uri)?.tasks?.pendingLines) continue;
      let urgent = false;
      for (const t of texts) {
        st.arrived.add(t);
        if (st.viewWaiting?.delete(t)) urgent = true;
      }
      // Results for lines in view: published at once, not with the next batch of progress.
      hooks.progress(uri, urgent);
    }
  });

  const stateOf = (uri: string): DocState => {
    let st = states.get(uri);
    if (!st) states.set(uri, (st = { arrived: new Set(), waiting: false, unsent: [], hot: new Set(), deliveries: -1 }));
    return st;
  };

  const viewOf = (doc: OpenDocument, st: DocState) => {
    const n = doc.tasks?.lineCount ?? 0;
    const v = st.view ?? { start: 0, end: DEFAULT_VIEW_LINES };
    return { start: Math.max(0, Math.min(v.start, n)), end: Math.max(0, Math.min(v.end, n)) };
  };

  /** The analyzer of a workspace for these settings, and the pool set up for it. */
  const setUp = (w: PronunciationWorkspace, settings: Settings) => {
    // The workers load the student: this thread needs it only when there are none (or none is left).
    if (w.loadStudentHere === pool.usesWorkers) api.loadStudentHere(!pool.usesWorkers);
    api.refresh(w, settings);
    const info = settings.polyphones.informationDiagnostics;
    const severity = settings.polyphones.severity;
    // Without the information diagnostics only the raised findings are kept: nothing else is built.
    const raisedOnly = !info && (severity === 'information' || severity === 'hint');
    const base = w.analyzer(settings, { raisedOnly });
    if (!base) return undefined;
    // Until the workspace's dictionary and student are known, every line waits (nothing is computed
    // twice); the workers start loading the G2P meanwhile.
    if (!w.studentRef.version) {
      pool.warm();
      return { base, info, ready: false };
    }
    const dict = w.dictionary.dict;
    const able = w.able;
    const recorded = w.recorded;
    const key = [raisedOnly ? 'raised' : 'all', dict.version, able.version, w.studentRef.version, recorded?.version ?? '-'].join('|');
    // Each pass sets up twice (prepare, analyzer): the configuration (the dictionary's entries) is built for a new key only.
    if (pool.key !== key)
      pool.configure({
        key,
        dict: { version: dict.version, entries: [...dict.entries.values()] },
        able: able === AbleList.bundled ? { version: able.version } : { version: able.version, chars: able.chars(), origin: able.origin },
        student: w.studentRef.version ? { file: w.studentRef.file } : null,
        raisedOnly,
        persist: settings.polyphones.keepAcrossSessions,
        recorded: recorded && ((text) => recorded.lookup(text)?.readings),
        local: (text) =>
          polyphoneVerdicts(
            text,
            linePredict(text, dict),
            { dict, able, student: w.student, raisedOnly },
            recorded?.lookup(text)?.readings,
          ),
      });
    pool.warm();
    return { base, info, ready: true };
  };

  /** The pool set up for the workspace, once its dictionary and student are known (waiting a little for them); false if not. */
  const setUpReady = async (w: PronunciationWorkspace, settings: Settings): Promise<boolean> => {
    let set = setUp(w, settings);
    if (set && !set.ready) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([api.settled(w), new Promise<void>((r) => (timer = setTimeout(r, WORKSPACE_WAIT_MS)))]);
      clearTimeout(timer);
      set = setUp(w, settings);
    }
    return !!set?.ready;
  };

  /** The decoded text of a line of a task file ('' when it has none). */
  const textOf = (tasks: TaskFileModel, line: number): string => {
    const p = tasks.line(line);
    return (p?.kind === 'object' ? p.get('text') : undefined) ?? '';
  };

  const feature: ReadingsFeature = {
    async prepare(doc, settings) {
      if (!settings.polyphones.enabled || !doc.tasks) return;
      if (!(await setUpReady(api.workspaceOf(doc), settings))) return;
      const st = stateOf(doc.uri);
      // Lines in view and lines just edited go before the rest of the file.
      const v = viewOf(doc, st);
      const texts: string[] = [];
      for (let i = v.start; i < v.end; i++) texts.push(textOf(doc.tasks, i));
      const hot = [...st.hot];
      st.hot.clear();
      const wanted = [...hot, ...texts].filter((t) => t !== '');
      pool.request(wanted, true);
      const waiting = wanted.filter((t) => !pool.cached(t));
      st.viewWaiting = waiting.length ? new Set(waiting) : undefined;
      // Workers that already answered under this configuration take milliseconds for these: wait for
      // them, so that the publication has them (an edited line longer: its old findings are gone).
      // Workers still loading (a fresh server) are not waited for.
      if (pool.warmedUp) {
        await pool.whenReady(hot, EDIT_WAIT_MS);
        await pool.whenReady(wanted, VIEW_WAIT_MS);
      }
    },
    analyzer(doc, settings) {
      if (!settings.polyphones.enabled || !doc.tasks) return undefined;
      const set = setUp(api.workspaceOf(doc), settings);
      if (!set) return undefined;
      const { base, info, ready } = set;
      const st = stateOf(doc.uri);
      // Until the workspace's dictionary and student are known no line is looked at (they all wait).
      st.waitingForWorkspace = !ready;
      if (!ready) return undefined;
      const recheckPending = st.deliveries !== pool.deliveries;
      st.deliveries = pool.deliveries;
      const unsent = st.unsent;
      st.waiting = false;
      return {
        version: `${base.version}|${info ? 'info' : 'warn'}`,
        recheckPending,
        arrived(): Iterable<string> {
          const texts = st.arrived;
          st.arrived = new Set();
          return texts;
        },
        analyze(p: ParsedTaskLine): LineFinding[] {
          const text = p.get('text');
          if (text === undefined || text === '') return NONE as LineFinding[];
          const verdicts = pool.cached(text);
          if (!verdicts) {
            st.waiting = true;
            // The workers start on the first lines while this pass goes on through the file.
            if (pool.enqueue(text)) unsent.push(text);
            if (unsent.length >= 1000) pool.send(unsent.splice(0));
            return PENDING_FINDINGS as LineFinding[];
          }
          let found = base.fromVerdicts(p, text, verdicts);
          if (!info) found = found.filter((f) => f.code !== POLYPHONE_CODE || f.severity === 'error' || f.severity === 'warning');
          return found.length ? found : (NONE as LineFinding[]);
        },
      };
    },
    afterPass(doc) {
      const st = states.get(doc.uri);
      if (!st) return;
      if (st.unsent.length) pool.send(st.unsent.splice(0));
    },
    edited(doc, changes) {
      pool.userActive();
      if (!doc.tasks) return;
      const st = stateOf(doc.uri);
      for (const c of changes) {
        if (!c.range) continue;
        let n = 1;
        for (let k = 0; k < c.text.length; k++) if (c.text.charCodeAt(k) === 10) n++;
        const first = c.range.start.line;
        // Known now, so that the next pass can ask for them before it walks the file.
        for (let i = first; i < Math.min(first + n, doc.tasks.lineCount); i++) {
          const t = textOf(doc.tasks, i);
          if (t && !pool.cached(t)) st.hot.add(t);
        }
      }
    },
    closed(uri) {
      states.delete(uri);
    },
    pendingLines(uri) {
      const tasks = ctx.getDocument(uri)?.tasks;
      if (!tasks) return 0;
      // Waiting for the workspace: every line (but a final empty one).
      if (states.get(uri)?.waitingForWorkspace) return tasks.lineCount - (tasks.lineText(tasks.lineCount - 1) === '' ? 1 : 0);
      return tasks.pendingLines;
    },
    async opening(uri, lines) {
      // The client's answer to a settings request would come behind the rest of the didOpen: the
      // settings known now (the document's, else the workspace's, else the defaults). Other
      // settings than the document's configure the pool otherwise: the verdicts are then not used.
      const known = await Promise.race([ctx.getSettings(uri), ctx.getSettings(), Promise.resolve(undefined)]);
      const settings = known ?? defaultSettings;
      if (!settings.polyphones.enabled || !(await setUpReady(api.workspaceOf({ path: uriToPath(uri) }), settings))) return 0;
      // The texts as the document's model will read them (the same parse), those of the first screen.
      const model = new TaskFileModel(lines.join('\n'), settings.taskFiles.dialect, settings.taskFiles.labelKeys);
      const texts: string[] = [];
      for (let i = 0; i < Math.min(DEFAULT_VIEW_LINES, model.lineCount); i++) {
        const t = textOf(model, i);
        if (t) texts.push(t);
      }
      pool.request(texts, true);
      return texts.length;
    },
    clientReady() {
      // A big file's didOpen takes a while to arrive (24 MB of JSON, and the answer to the settings
      // request behind it): the workers start loading now, and stop if the polyphone checks are off.
      pool.warm(1);
      void ctx.getSettings().then((s) => {
        if (!s.polyphones.enabled) pool.idle();
      });
    },
    close() {
      return pool.close();
    },
    dispose() {
      pool.dispose();
    },
  };

  ctx.onInlayHint(async (doc, params) => {
    pool.userActive();
    if (doc.kind !== 'tasks' || !doc.tasks) return [];
    const settings = await ctx.getSettings(doc.uri);
    const mode = settings.inlayHints.readings;
    const st = stateOf(doc.uri);
    const start = Math.max(0, params.range.start.line);
    const end = Math.min(doc.tasks.lineCount, params.range.end.line + 1);
    // The range a client asks hints for is what it shows: its warnings come first from now on.
    const before = st.view;
    st.view = { start, end };
    const w = api.workspaceOf(doc);
    if (!settings.polyphones.enabled) api.refresh(w, settings);
    // The workers read the lines this thread has no time for, when they can and the client can be
    // asked to refresh.
    const defer =
      HINT_BUDGET_MS >= 0 && settings.polyphones.enabled && pool.usesWorkers && pool.key !== undefined && ctx.canRefreshInlayHints;
    // This thread reads lines itself only with its G2P loaded: loading it (a quarter of a second, and
    // its tables in this thread's memory) would stall the answer; the workers have theirs.
    const deadline = !defer ? Infinity : g2pLoaded() ? performance.now() + HINT_BUDGET_MS : -Infinity;
    const left: string[] = [];
    const readingsOf = (text: string): LineReadings | undefined => {
      const known = cachedReadings(text, w.dictionary.dict);
      if (known || performance.now() < deadline) return known ?? linePredict(text, w.dictionary.dict);
      left.push(text);
      return undefined;
    };
    const lazy = ctx.resolvesInlayHints ? numberOf(doc.uri) : undefined;
    const hints = mode === 'none' ? [] : rangeHints(doc, w, settings, start, end, mode, readingsOf, lazy);
    if (settings.polyphones.enabled && (left.length || before?.start !== start || before.end !== end)) {
      // Lines of the new view still pending go to the workers before the rest (a pass follows their results).
      const waiting: string[] = [];
      for (let i = start; i < end; i++) {
        const t = textOf(doc.tasks, i);
        if (t && !pool.cached(t)) waiting.push(t);
      }
      if (waiting.length) pool.request(waiting, true);
    }
    if (left.length) {
      const asked = (st.hintsAsked = (st.hintsAsked ?? 0) + 1);
      void pool.whenReady(left, HINT_REFRESH_WAIT_MS).then(() => {
        // Only for the newest request (the client asks again for what it shows then).
        if (st.hintsAsked === asked && states.get(doc.uri) === st) ctx.refreshInlayHints();
      });
    }
    return hints;
  });

  // A hint's tooltips, when the client hovers it (hints were sent without them): computed again from
  // the line as it is now; a line changed since (another text there) gets none.
  const uris: string[] = [];
  const numbers = new Map<string, number>();
  const numberOf = (uri: string): number => {
    let n = numbers.get(uri);
    if (n === undefined) numbers.set(uri, (n = uris.push(uri) - 1));
    return n;
  };
  ctx.onInlayHintResolve((hint) => {
    const data = hint.data as HintData | undefined;
    if (!Array.isArray(data) || data.length !== 3 || !data.every((x) => Number.isInteger(x) && x >= 0)) return undefined;
    const [n, line, i] = data;
    const doc = uris[n] !== undefined ? ctx.getDocument(uris[n]) : undefined;
    const p = doc?.tasks?.line(line);
    const text = p?.kind === 'object' ? p.get('text') : undefined;
    const label = Array.isArray(hint.label) ? hint.label : undefined;
    if (!doc || !text || !label?.length) return undefined;
    const w = api.workspaceOf(doc);
    const lr = cachedReadings(text, w.dictionary.dict) ?? linePredict(text, w.dictionary.dict);
    const recorded = w.recorded?.lookup(text);
    const facts = hintFactsAt(text, i, lr, recorded, w, 'all', NO_IGNORE);
    // Not the hint it was (the line was edited): left as it is.
    if (!facts || facts.reading !== label[0]!.value) return undefined;
    const full = hintLabel(facts, w, recorded?.run, true);
    return { ...hint, label: full };
  });

  return feature;
}

const MARK_PINNED = '📌';
const MARK_MODEL = '≈';
const NO_IGNORE: ReadonlySet<string> = new Set();

/** What a hint carries for inlayHint/resolve when its tooltips are left out: [document number, line, UTF-16 index in the text]. */
type HintData = [doc: number, line: number, index: number];

/** What the teacher does with the character at `i` of a line's text, for its hint; undefined: no hint there. */
interface HintFacts {
  char: string;
  reading: string;
  predicted: string | null;
  rec: string | undefined;
  source: ReadingSource;
  rule: { key: string; line?: number } | undefined;
  cands: string[];
}

function hintFactsAt(
  text: string,
  i: number,
  lr: LineReadings,
  recorded: { readings: ReadonlyArray<string | null> } | undefined,
  w: PronunciationWorkspace,
  mode: 'polyphones' | 'all',
  ignore: ReadonlySet<string>,
): HintFacts | undefined {
  const cp = text.codePointAt(i);
  if (cp === undefined || !isHan(cp)) return undefined;
  const char = text.slice(i, i + (cp > 0xffff ? 2 : 1));
  const cands = candidateReadings(char);
  if (mode === 'polyphones' && (cands.length < 2 || ignore.has(char))) return undefined;
  const predicted = lr.readings[i] ?? defaultReading(char);
  const rec = recorded?.readings[i] ?? undefined;
  const reading = rec ?? predicted;
  if (!reading) return undefined;
  return { char, reading, predicted, rec, source: sourceAt(lr, char, i, w.able), rule: lr.pinned?.get(i), cands };
}

/** The reading's tooltip: the character, who decides it (the rule, the run, the language model) and its candidates. */
function readingTooltip(f: HintFacts, run: string | undefined, dictName: string): string {
  const md: string[] = [`**${f.char}** \`${f.reading}\``];
  if (f.rec)
    md.push(`recorded by the teacher in ${run}${f.predicted && f.predicted !== f.rec ? ` (the prediction now: \`${f.predicted}\`)` : ''}`);
  if (f.source === 'dictionary' && f.rule)
    md.push(
      `${MARK_PINNED} pinned by the dictionary rule "${f.rule.key}" (${dictName}${f.rule.line !== undefined ? `:${f.rule.line + 1}` : ''})`,
    );
  else if (f.source === 'model')
    md.push(
      `${MARK_MODEL} GLM-TTS leaves ${f.char} to its language model: \`${f.predicted}\` is only the G2P's hint; a dictionary rule is the only way to decide it`,
    );
  else md.push("read by the teacher's G2P");
  if (f.cands.length > 1) md.push(`candidates: ${f.cands.map((c) => (c === f.reading ? `**\`${c}\`**` : `\`${c}\``)).join(' · ')}`);
  return md.join('  \n');
}

/** The mark after a pinned or model-read reading's label, with its tooltip (and the rule's place: a click opens it). */
function markTooltip(f: HintFacts): string | undefined {
  if (f.source === 'dictionary' && f.rule) return `pinned by the dictionary rule "${f.rule.key}": click to open it`;
  if (f.source === 'model') return `GLM-TTS leaves ${f.char} to its language model: the reading is only a hint`;
  return undefined;
}

/**
 * The label of a hint: its reading, then a mark for a pinned or model-read one. `withTooltips`
 * false (a client that resolves hints): the tooltips are left out, for inlayHint/resolve — a
 * screen of 600 hints is then 84 KB of JSON instead of 212 KB.
 */
function hintLabel(f: HintFacts, w: PronunciationWorkspace, run: string | undefined, withTooltips: boolean): InlayHintLabelPart[] {
  const dictName = path.basename(w.dictionary.file);
  const parts: InlayHintLabelPart[] = [
    withTooltips
      ? { value: f.reading, tooltip: { kind: MarkupKind.Markdown, value: readingTooltip(f, run, dictName) } }
      : { value: f.reading },
  ];
  const tip = markTooltip(f);
  if (tip === undefined) return parts;
  const part: InlayHintLabelPart = { value: f.source === 'model' ? MARK_MODEL : MARK_PINNED };
  if (withTooltips) part.tooltip = tip;
  if (f.source === 'dictionary' && f.rule) {
    const loc = w.ruleLocation(f.rule.key, f.rule.line);
    if (loc) part.location = { uri: pathToFileURL(loc.file ?? w.dictionary.file).href, range: loc.range };
  }
  parts.push(part);
  return parts;
}

/** Inlay hints of lines [start, end): after each polyphone (or each Han character) its reading. */
function rangeHints(
  doc: OpenDocument,
  w: PronunciationWorkspace,
  settings: Settings,
  start: number,
  end: number,
  mode: 'polyphones' | 'all',
  readingsOf: (text: string) => LineReadings | undefined,
  /** Tooltips left out, resolved later: the hints carry this document's number for inlayHint/resolve. */
  lazy: number | undefined,
): InlayHint[] {
  const out: InlayHint[] = [];
  const ignore = new Set(settings.polyphones.ignore);
  for (let line = start; line < end; line++) {
    const p = doc.tasks!.line(line);
    if (!p || p.kind !== 'object') continue;
    const text = p.get('text');
    if (!text) continue;
    const lr = readingsOf(text);
    if (!lr) continue;
    // Offsets only for lines with readings: a screen the workers have not read yet is answered at
    // once (finding the members of 60 lines the first time took ~12 ms, the scanner still cold).
    const f = p.field('text');
    if (!f) continue;
    const recorded = w.recorded?.lookup(text);
    for (let i = 0; i < text.length; i++) {
      const facts = hintFactsAt(text, i, lr, recorded, w, mode, ignore);
      if (facts) {
        const hint: InlayHint = {
          position: { line, character: f.offsetOf(i + facts.char.length) },
          label: hintLabel(facts, w, recorded?.run, lazy === undefined),
          paddingRight: true,
        };
        if (lazy !== undefined) hint.data = [lazy, line, i] satisfies HintData;
        out.push(hint);
      }
      if (text.charCodeAt(i) >= 0xd800 && text.charCodeAt(i) <= 0xdbff) i++;
    }
  }
  return out;
}
