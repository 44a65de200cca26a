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
import { pathToFileURL } from 'node:url';
import * as path from 'node:path';
import { type InlayHint, type InlayHintLabelPart, MarkupKind } from 'vscode-languageserver/node';
import type { OpenDocument, ServerContext } from '../context';
import type { Settings } from '../core/settings';
import type { LineFinding } from '../core/findings';
import type { ParsedTaskLine, TaskLineAnalyzer } from '../core/formats/taskFile';
import type { PronunciationWorkspace } from '../core/pronunciation/checks';
import { POLYPHONE_CODE } from '../core/pronunciation/polyphones';
import { candidateReadings, defaultReading, type ReadingSource, sourceAt } from '../core/pronunciation/teacherReadings';
import { isHan } from '../core/formats/notation';
import { cachedReadings, linePredict } from '../core/pronunciation/lineCache';
import { ReadingsPool } from '../core/pronunciation/readingsPool';

/** What the pronunciation feature shares with this one. */
export interface PronunciationApi {
  /** The pronunciation state (dictionary, runs, student) of the document's workspace folder. */
  workspaceOf(doc: OpenDocument | undefined): PronunciationWorkspace;
  /** Reloads that state in the background (task files are validated again when it changed). */
  refresh(w: PronunciationWorkspace, settings: Settings): void;
}

export interface ReadingsFeature {
  /**
   * The polyphone analyzer of one validation pass (undefined when polyphone flags are off). When
   * worker results arrived since the last pass, its version changes, so the model asks again
   * about every line (one cache lookup each) and the lines that became ready get their findings.
   */
  analyzer(doc: OpenDocument, settings: Settings): TaskLineAnalyzer | undefined;
  /** After a completed pass: sends the lines still pending to the workers. */
  afterPass(doc: OpenDocument): void;
  /** After an edit was applied to the model: the changed lines are analysed at once in the next pass. */
  edited(doc: OpenDocument, changes: ReadonlyArray<{ range?: { start: { line: number } }; text: string }>): void;
  closed(uri: string): void;
  /** Lines whose polyphone findings are not computed yet (for tests and the bench). */
  pendingLines(uri: string): number;
  dispose(): void;
}

/** Lines taken as "in view" before the client has asked for inlay hints of a range. */
const DEFAULT_VIEW_LINES = 100;
/**
 * Milliseconds a pass spends analysing lines whose readings arrived (the warning criterion runs on
 * this thread); the rest wait for the next pass, so edits and hints are answered in between.
 */
const ANALYSIS_BUDGET_MS = 100;
const NONE: readonly LineFinding[] = Object.freeze([]);

interface DocState {
  /** Polyphone findings by raw line text, for `storeVersion`. */
  store: Map<string, readonly LineFinding[]>;
  storeVersion: string;
  /** Raw line text → its decoded task text, for lines waiting for readings. */
  pending: Map<string, string>;
  /** Raw texts of lines to analyse at once (just edited, or in view). */
  hot: Set<string>;
  view?: { start: number; end: number };
  /** Bumped by a progressive pass when results arrived: the model then asks again about every line. */
  epoch: number;
  resultsArrived: boolean;
  /** The last pass left ready lines unanalysed (budget spent). */
  overBudget: boolean;
}

export function register(ctx: ServerContext, api: PronunciationApi, hooks: { progress(uri: string): void }): ReadingsFeature {
  const states = new Map<string, DocState>();
  const pool = new ReadingsPool({ log: ctx.log, workers: process.env.TTS_DISTILL_READING_WORKERS !== undefined ? Number(process.env.TTS_DISTILL_READING_WORKERS) : undefined });
  pool.onResults(() => {
    for (const [uri, st] of states) {
      if (!st.pending.size) continue;
      st.resultsArrived = true;
      hooks.progress(uri);
    }
  });

  const stateOf = (uri: string): DocState => {
    let st = states.get(uri);
    if (!st) states.set(uri, (st = { store: new Map(), storeVersion: '', pending: new Map(), hot: new Set(), epoch: 0, resultsArrived: false, overBudget: false }));
    return st;
  };

  const viewOf = (doc: OpenDocument, st: DocState) => {
    const n = doc.tasks?.lineCount ?? 0;
    const v = st.view ?? { start: 0, end: DEFAULT_VIEW_LINES };
    return { start: Math.max(0, Math.min(v.start, n)), end: Math.max(0, Math.min(v.end, n)) };
  };

  const feature: ReadingsFeature = {
    analyzer(doc, settings) {
      if (!settings.polyphones.enabled || !doc.tasks) return undefined;
      const w = api.workspaceOf(doc);
      api.refresh(w, settings);
      const info = settings.polyphones.informationDiagnostics;
      // Without the information diagnostics only the raised findings are kept: the analyzer then builds no others.
      const severity = settings.polyphones.severity;
      const base = w.analyzer(settings, { raisedOnly: !info && (severity === 'information' || severity === 'hint') });
      if (!base) return undefined;
      const dict = w.dictionary.dict;
      const st = stateOf(doc.uri);
      pool.warm();
      const baseVersion = `${base.version}|${info ? 'info' : 'warn'}`;
      if (st.storeVersion !== baseVersion) {
        st.store.clear();
        st.pending.clear();
        st.storeVersion = baseVersion;
        st.epoch++;
      } else if (st.resultsArrived) {
        st.resultsArrived = false;
        st.epoch++;
      }
      // Lines in view are analysed now, whatever they cost.
      const v = viewOf(doc, st);
      for (let i = v.start; i < v.end; i++) st.hot.add(doc.tasks.lineText(i));
      const hot = st.hot;
      const store = st.store;
      const unsent: string[] = [];
      let spent = 0;
      // Forget the findings of lines that are gone once the store has grown well past the file.
      if (store.size > 2 * doc.tasks.lineCount + 1000) store.clear();
      return {
        version: `${baseVersion}#${st.epoch}`,
        analyze(p: ParsedTaskLine): LineFinding[] {
          const raw = p.text;
          const hit = store.get(raw);
          if (hit) return hit as LineFinding[];
          // A line still waiting: its text is known, no need to parse the line again.
          const waiting = st.pending.get(raw);
          if (waiting !== undefined && !hot.has(raw) && !cachedReadings(waiting, dict)) return NONE as LineFinding[];
          const text = waiting ?? p.get('text');
          if (text === undefined || text === '') {
            store.set(raw, NONE);
            return NONE as LineFinding[];
          }
          if (!hot.has(raw) && !cachedReadings(text, dict)) {
            if (!st.pending.has(raw)) {
              st.pending.set(raw, text);
              // The workers start on the first lines while this pass goes on through the file.
              unsent.push(text);
              if (unsent.length >= 1000) pool.request(unsent.splice(0), dict);
            }
            return NONE as LineFinding[];
          }
          if (!hot.has(raw) && spent > ANALYSIS_BUDGET_MS) {
            st.pending.set(raw, text);
            st.overBudget = true;
            return NONE as LineFinding[];
          }
          const t0 = performance.now();
          let found = base.analyze(p);
          spent += performance.now() - t0;
          if (!info) found = found.filter((f) => f.code !== POLYPHONE_CODE || f.severity === 'error' || f.severity === 'warning');
          const kept = found.length ? found : NONE;
          store.set(raw, kept);
          st.pending.delete(raw);
          return kept as LineFinding[];
        },
      };
    },
    afterPass(doc) {
      const st = states.get(doc.uri);
      if (!st) return;
      st.hot.clear();
      if (st.overBudget) {
        // Lines are ready but not analysed yet: another pass soon.
        st.overBudget = false;
        st.resultsArrived = true;
        hooks.progress(doc.uri);
      }
      if (!st.pending.size) return;
      const w = api.workspaceOf(doc);
      pool.request(st.pending.values(), w.dictionary.dict);
    },
    edited(doc, changes) {
      if (!doc.tasks) return;
      const st = stateOf(doc.uri);
      for (const c of changes) {
        if (!c.range) continue;
        let n = 1;
        for (let k = 0; k < c.text.length; k++) if (c.text.charCodeAt(k) === 10) n++;
        const first = c.range.start.line;
        for (let i = first; i < Math.min(first + n, doc.tasks.lineCount); i++) st.hot.add(doc.tasks.lineText(i));
      }
    },
    closed(uri) {
      states.delete(uri);
    },
    pendingLines(uri) {
      return states.get(uri)?.pending.size ?? 0;
    },
    dispose() {
      pool.dispose();
    },
  };

  ctx.onInlayHint(async (doc, params) => {
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
    const hints = mode === 'none' ? [] : rangeHints(doc, w, settings, start, end, mode);
    if (settings.polyphones.enabled && (before?.start !== start || before.end !== end)) {
      // Lines of the new view still pending: analyse them in the next pass.
      let waiting = false;
      for (let i = start; i < end; i++) if (st.pending.has(doc.tasks.lineText(i))) waiting = true;
      if (waiting) {
        st.resultsArrived = true;
        hooks.progress(doc.uri);
      }
    }
    return hints;
  });

  return feature;
}

const MARK_PINNED = '📌';
const MARK_MODEL = '≈';

/** Inlay hints of lines [start, end): after each polyphone (or each Han character) its reading. */
function rangeHints(doc: OpenDocument, w: PronunciationWorkspace, settings: Settings, start: number, end: number, mode: 'polyphones' | 'all'): InlayHint[] {
  const out: InlayHint[] = [];
  const dict = w.dictionary.dict;
  const ignore = new Set(settings.polyphones.ignore);
  const dictName = path.basename(w.dictionary.file);
  for (let line = start; line < end; line++) {
    const p = doc.tasks!.line(line);
    if (!p || p.kind !== 'object') continue;
    const f = p.field('text');
    if (!f || f.value === '') continue;
    const text = f.value;
    const lr = linePredict(text, dict);
    const recorded = w.recorded?.lookup(text);
    for (let i = 0; i < text.length; i++) {
      const cp = text.codePointAt(i)!;
      const n = cp > 0xffff ? 2 : 1;
      if (!isHan(cp)) continue;
      const char = text.slice(i, i + n);
      const cands = candidateReadings(char);
      if (mode === 'polyphones' && (cands.length < 2 || ignore.has(char))) {
        i += n - 1;
        continue;
      }
      const predicted = lr.readings[i] ?? defaultReading(char);
      const rec = recorded?.readings[i] ?? undefined;
      const reading = rec ?? predicted;
      if (!reading) {
        i += n - 1;
        continue;
      }
      const source: ReadingSource = sourceAt(lr, char, i, w.able);
      const rule = lr.pinned?.get(i);
      const md: string[] = [`**${char}** \`${reading}\``];
      if (rec) md.push(`recorded by the teacher in ${recorded!.run}${predicted && predicted !== rec ? ` (the prediction now: \`${predicted}\`)` : ''}`);
      if (source === 'dictionary' && rule) md.push(`${MARK_PINNED} pinned by the dictionary rule "${rule.key}" (${dictName}${rule.line !== undefined ? `:${rule.line + 1}` : ''})`);
      else if (source === 'model') md.push(`${MARK_MODEL} GLM-TTS leaves ${char} to its language model: \`${predicted}\` is only the G2P's hint; a dictionary rule is the only way to decide it`);
      else md.push("read by the teacher's G2P");
      if (cands.length > 1) md.push(`candidates: ${cands.map((c) => (c === reading ? `**\`${c}\`**` : `\`${c}\``)).join(' · ')}`);
      const parts: InlayHintLabelPart[] = [{ value: reading, tooltip: { kind: MarkupKind.Markdown, value: md.join('  \n') } }];
      if (source === 'dictionary' && rule) {
        const loc = w.ruleLocation(rule.key, rule.line);
        const part: InlayHintLabelPart = { value: MARK_PINNED, tooltip: `pinned by the dictionary rule "${rule.key}": click to open it` };
        if (loc) part.location = { uri: pathToFileURL(loc.file ?? w.dictionary.file).href, range: loc.range };
        parts.push(part);
      } else if (source === 'model') {
        parts.push({ value: MARK_MODEL, tooltip: `GLM-TTS leaves ${char} to its language model: the reading is only a hint` });
      }
      out.push({ position: { line, character: f.offsetOf(i + n) }, label: parts, paddingLeft: false, paddingRight: true });
      i += n - 1;
    }
  }
  return out;
}
