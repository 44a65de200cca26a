import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  type CodeAction,
  CodeActionKind,
  type CompletionItem,
  CompletionItemKind,
  type Diagnostic,
  type Hover,
  MarkupKind,
  type Position,
  type TextEdit,
  type WorkspaceEdit,
} from 'vscode-languageserver/node';
import type { OpenDocument, ServerContext } from '../context';
import type { Settings } from '../core/settings';
import {
  dictionaryPath,
  isCheckoutDictionary,
  PronunciationWorkspace,
  ruleLinesAtCheckout,
  taskTextsOf,
  workspaceTaskTexts,
} from '../core/pronunciation/checks';
import {
  type DictFileEntry,
  type DictFixData,
  dictionaryPronunciationFindings,
  parseDictionaryFile,
  pinsOf,
} from '../core/formats/dictFile';
import {
  convertDictionaryText,
  detectDictDialect,
  formatRuleLine,
  formatUpstreamLine,
  hanChars,
  ReplaceDict,
  ruleToUpstream,
} from '../core/pronunciation/dictionary';
import { keyNeverMatches } from '../core/pronunciation/glmFrontend';
import { type CharReading, candidateReadings, defaultReading, G2P_NAME, teacherReadings } from '../core/pronunciation/teacherReadings';
import { isHan, looksLikeTokens, pinyinToTokens, readingToPinyin } from '../core/formats/notation';
import { AMBIGUOUS_CODE, POLYPHONE_CODE, type PolyphoneData } from '../core/pronunciation/polyphones';
import { scanMembers } from '../core/formats/jsonl';
import { OutputFormat, segment } from 'pinyin-pro';
import { ConvertDictionaryRequest } from '../../../protocol/lsp/pronunciation';
import type { PronunciationApi } from './readings';

/**
 * Plugs the pronunciation feature into the language server: polyphone flags on task lines,
 * pronunciation checks of dictionaries, hovers, quick fixes that pin a reading in the
 * workspace dictionary, and reading completion in dictionaries.
 */
export function register(ctx: ServerContext): PronunciationApi {
  const workspaces = new Map<string, PronunciationWorkspace>();
  const refreshing = new Map<
    PronunciationWorkspace,
    {
      running: boolean;
      again: boolean;
      /** The settings of the latest call: a reload asked for while one runs uses them (they may have changed). */
      settings: Settings;
      timer?: NodeJS.Timeout;
      loggedError?: string;
      done?: Promise<void>;
    }
  >();

  const workspaceOf = (doc: Pick<OpenDocument, 'path'> | undefined): PronunciationWorkspace => {
    const folder = ctx.folderOf(doc?.path);
    const key = folder ?? '';
    let w = workspaces.get(key);
    if (!w) {
      workspaces.set(key, (w = new PronunciationWorkspace(folder)));
      w.loadStudentHere = studentHere;
    }
    return w;
  };
  // Whether this thread loads the student (features/readings.ts says: not when its worker threads do).
  let studentHere = true;
  const openDictionaryText = (settings: Settings, w: PronunciationWorkspace): string | undefined => {
    const file = dictionaryPath(settings, w.folder);
    return ctx
      .allDocuments()
      .find((d) => d.path === file)
      ?.document.getText();
  };

  /** Reloads dictionary / student / runs in the background; validates task files again when something changed. */
  const refresh = (w: PronunciationWorkspace, settings: Settings) => {
    let st = refreshing.get(w);
    if (!st) refreshing.set(w, (st = { running: false, again: false, settings }));
    st.settings = settings;
    if (st.running) {
      st.again = true;
      return;
    }
    st.running = true;
    const state = st;
    state.done = (async () => {
      try {
        do {
          state.again = false;
          const latest = state.settings;
          const changed = await w.refresh(latest, { dictText: openDictionaryText(latest, w) });
          if (changed)
            ctx.revalidate(
              ctx
                .allDocuments()
                .filter((d) => d.kind === 'tasks' && workspaceOf(d) === w)
                .map((d) => d.uri),
            );
          if (w.studentError && w.studentError !== state.loggedError) ctx.log(`G2P student not used: ${w.studentError}`);
          state.loggedError = w.studentError;
        } while (state.again);
        // A look for new teacher runs was skipped (throttled): look once more when it is allowed.
        const due = w.runScanDueInMs;
        if (due !== undefined && !state.timer) {
          state.timer = setTimeout(() => {
            state.timer = undefined;
            refresh(w, state.settings);
          }, due);
          state.timer.unref?.();
        }
      } catch (err) {
        ctx.log(`pronunciation: could not load the workspace dictionary or runs: ${err instanceof Error ? err.message : String(err)}`);
      } finally {
        state.running = false;
      }
    })();
  };

  // The dictionary closed without saving: go back to the file on disk.
  ctx.onDidClose((doc) => {
    for (const w of workspaces.values()) {
      if (!w.dictionary.unsaved || doc.path !== w.dictionary.file) continue;
      void ctx.getSettings(pathToFileURL(w.dictionary.file).href).then((settings) => refresh(w, settings));
    }
  });

  // The polyphone flags of task lines run in features/readings.ts (worker threads, lines in view
  // first), on the workspace state this feature keeps: see the returned API.

  ctx.addDictionaryValidator(async (doc, settings) => {
    const w = workspaceOf(doc);
    if (doc.path && doc.path === dictionaryPath(settings, w.folder)) refresh(w, settings);
    const override = new Map<string, string[]>();
    for (const d of ctx.allDocuments()) if (d.kind === 'tasks' && d.path) override.set(d.path, taskTextsOf(d.document.getText()));
    const contexts = w.folder ? await workspaceTaskTexts(w.folder, override) : [...override.values()].flat();
    const out = dictionaryPronunciationFindings(parseDictionaryFile(doc.document.getText()), { file: doc.path, contexts });
    // The checkout's own configs/G2P_replace_dict.jsonl is read by GLM-TTS as it is: rule-dialect lines there are errors.
    if (doc.path && isCheckoutDictionary(doc.path, settings, w.folder)) out.push(...ruleLinesAtCheckout(doc.document.getText()));
    return out;
  });

  ctx.onHover(async (doc, params) => {
    const settings = await ctx.getSettings(doc.uri);
    const w = workspaceOf(doc);
    if (doc.kind === 'tasks') {
      // Polyphone flags may be off: make sure the dictionary and runs are current anyway.
      if (!settings.polyphones.enabled) await w.refresh(settings, { dictText: openDictionaryText(settings, w) });
      return taskHover(doc, params.position, w);
    }
    return dictionaryHover(doc, params.position, settings);
  });

  ctx.onCodeAction(async (doc, params) => {
    const settings = await ctx.getSettings(doc.uri);
    const w = workspaceOf(doc);
    if (doc.kind === 'tasks') {
      const out: CodeAction[] = [];
      for (const d of params.context.diagnostics) {
        if (d.code !== POLYPHONE_CODE && d.code !== AMBIGUOUS_CODE) continue;
        const data = polyphoneDataOf(doc, d);
        if (data)
          out.push(
            ...(await pinActions(
              doc,
              d,
              data,
              settings,
              w,
              ctx.allDocuments().find((x) => x.path === dictionaryPath(settings, w.folder)),
            )),
          );
      }
      return out;
    }
    return dictionaryActions(doc, params.range.start, params.context.diagnostics);
  });

  ctx.onCompletion((doc, params) => (doc.kind === 'dictionary' ? dictionaryCompletion(doc, params.position) : []));

  ctx.connection.onRequest(ConvertDictionaryRequest.type, (params) => {
    const doc = ctx.getDocument(params.uri);
    if (!doc) throw new Error(`${params.uri} is not open`);
    const text = doc.document.getText();
    const from = detectDictDialect(text);
    const to = params.to ?? (from === 'rule' ? 'upstream' : 'rule');
    return { to, ...convertDictionaryText(text, to) };
  });

  return {
    workspaceOf,
    refresh,
    settled: (w) => refreshing.get(w)?.done ?? Promise.resolve(),
    loadStudentHere(here) {
      studentHere = here;
      for (const w of workspaces.values()) w.loadStudentHere = here;
    },
  };
}

function isPolyphoneData(v: unknown): v is PolyphoneData {
  return typeof v === 'object' && v !== null && (v as PolyphoneData).kind === 'polyphone';
}

/**
 * The data of a polyphone diagnostic: its own when the client sent it, else that of the published
 * finding at the same place (the server does not send polyphone data: see DATA_ON_SERVER).
 */
function polyphoneDataOf(doc: OpenDocument, d: Diagnostic): PolyphoneData | undefined {
  if (isPolyphoneData(d.data)) return d.data;
  const { line, character } = d.range.start;
  const f = doc.findings?.find(
    (f) => f.code === d.code && f.range.start.line === line && f.range.start.character === character && isPolyphoneData(f.data),
  );
  return f?.data as PolyphoneData | undefined;
}

// ---------------------------------------------------------------------------------------------
// Hovers

function taskHover(doc: OpenDocument, pos: Position, w: PronunciationWorkspace): Hover | null {
  const line = doc.tasks?.line(pos.line);
  const f = line?.field('text');
  if (!f || pos.character < f.valueStart || pos.character >= f.valueEnd) return null;
  const readings = teacherReadings(f.value, w.dictionary.dict, w.able);
  const recorded = w.recorded?.lookup(f.value);
  let hovered = -1;
  for (let i = 0; i < f.value.length; i++) if (f.offsetOf(i) <= pos.character) hovered = i;
  const md: string[] = [
    `**Teacher readings**${recorded ? ` (recorded in ${recorded.run})` : ` (the workspace dictionary, then the teacher's G2P: ${G2P_NAME})`}`,
    '',
  ];
  md.push(...readingTable(readings, recorded?.readings, hovered));
  if (readings.some((r) => r.source === 'model' && r.polyphone)) {
    md.push(
      '',
      "_(reading)_: GLM-TTS leaves the character to its language model (it is in G2P_able_1word.json, so it gets no phoneme tokens); the reading is only the G2P's hint.",
    );
  }
  const pinned = new Map<string, string[]>();
  readings.forEach((r) => {
    if (r.source === 'dictionary' && r.rule) {
      const k = `"${r.rule.key}" (${path.basename(w.dictionary.file)}:${(r.rule.line ?? 0) + 1})`;
      pinned.set(k, [...(pinned.get(k) ?? []), `${r.char} ${r.reading}`]);
    }
  });
  if (pinned.size) {
    md.push('', '📌 pinned by the dictionary:');
    for (const [rule, what] of pinned) md.push(`- rule ${rule}: ${what.join(', ')}`);
  }
  const h = readings[hovered];
  if (h && h.candidates.length) {
    const teacher = recorded?.readings[hovered] ?? h.reading;
    if (h.source === 'model') {
      md.push(
        '',
        `**${h.char}**: GLM-TTS leaves ${h.char} to its language model${w.able.has(h.char) ? ' (it is in G2P_able_1word.json)' : ' (a dictionary value keeps it as text)'}, so no reading is certain; its G2P would read \`${h.reading}\`, only a hint${h.candidates.length > 1 ? ` · all readings: ${h.candidates.map((c) => `\`${c}\``).join(', ')} · a dictionary rule (quick fix *Pin*) is the only way to decide it` : ''}`,
      );
    } else
      md.push(
        '',
        `**${h.char}**: teacher reads \`${teacher}\`${h.candidates.length > 1 ? ` · all readings: ${h.candidates.map((c) => `\`${c}\``).join(', ')}` : ''} · alone: \`${defaultReading(h.char)}\` · tokens: \`${teacher ? safeTokens(teacher) : ''}\``,
      );
  }
  return {
    contents: { kind: MarkupKind.Markdown, value: md.join('\n') },
    range: { start: { line: pos.line, character: f.valueStart }, end: { line: pos.line, character: f.valueEnd } },
  };
}

const esc = (s: string) => s.replace(/[|\\`*_[\]<>]/g, (c) => `\\${c}`);

/** The line as characters over readings, in rows of 16; polyphones in bold, pinned ones with 📌, the hovered one with ▸. */
function readingTable(readings: readonly CharReading[], recorded: ReadonlyArray<string | null> | undefined, hovered: number): string[] {
  const cells: Array<{ top: string; bottom: string }> = [];
  readings.forEach((r, i) => {
    if (r.char === '' || /^\s$/.test(r.char)) return;
    const reading = recorded?.[i] ?? r.reading;
    let bottom = reading ?? '';
    if (reading && r.polyphone) bottom = `**${bottom}**`;
    if (reading && r.source === 'model' && r.polyphone && !recorded?.[i]) bottom = `(${bottom})`;
    if (r.source === 'dictionary') bottom += '📌';
    cells.push({ top: (i === hovered ? '▸' : '') + esc(r.char), bottom });
  });
  const rows: string[] = [];
  for (let s = 0; s < cells.length; s += 16) {
    const row = cells.slice(s, s + 16);
    if (s) rows.push('');
    rows.push(
      `| ${row.map((c) => c.top).join(' | ')} |`,
      `|${row.map(() => ':-:').join('|')}|`,
      `| ${row.map((c) => c.bottom).join(' | ')} |`,
    );
  }
  return rows;
}

function safeTokens(p: string): string {
  try {
    return pinyinToTokens(p);
  } catch {
    return '?';
  }
}

function dictionaryHover(doc: OpenDocument, pos: Position, _settings: Settings): Hover | null {
  const parsed = parseDictionaryFile(doc.document.getText());
  const e = parsed.entries.find(
    (x) =>
      x.line === pos.line &&
      pos.character >= Math.min(x.keyStart, x.wordStart ?? x.keyStart) &&
      pos.character <= Math.max(x.valueEnd, x.keyEnd, x.wordEnd ?? 0),
  );
  if (!e) return null;
  const word = e.dialect === 'rule' ? e.word! : (pinnedWord(e) ?? e.key);
  const md: string[] = [`**${esc(word)}** in "${esc(e.key)}"`, ''];
  const alone = teacherReadings(e.key);
  for (const h of hanChars(word)) {
    const cands = candidateReadings(h.char);
    md.push(
      `- **${h.char}**: ${cands.map((c) => `\`${c}\` \`${safeTokens(c)}\``).join(' · ') || 'no reading known'}${cands.length > 1 ? ` — pinyin-pro alone: \`${defaultReading(h.char)}\`` : ''}`,
    );
  }
  const offset = e.key.indexOf(word);
  if (offset >= 0) {
    const teacherSays = hanChars(word)
      .map((h) => alone[offset + h.index]?.reading ?? '?')
      .join(' ');
    md.push('', `Without this rule the teacher reads "${esc(e.key)}" as: \`${teacherSays}\` (for ${esc(word)})`);
  }
  const rule = e.dialect === 'rule' ? ruleToUpstream(e.word!, e.key, e.value) : undefined;
  const replacement = rule?.ok ? rule.value.value : e.value;
  const pins = pinsOf(e.key, replacement);
  if (pins.size)
    md.push(
      '',
      `This rule: ${[...pins].map(([o, r]) => `${String.fromCodePoint(e.key.codePointAt(o)!)} \`${r}\``).join(', ')} · token form: \`${replacement}\``,
    );
  md.push('', "_pinyin-pro has no meanings for readings; the readings are its dictionary's._");
  return { contents: { kind: MarkupKind.Markdown, value: md.join('\n') } };
}

/** The part of an upstream key its value pins (for hovers and completion). */
function pinnedWord(e: DictFileEntry): string | undefined {
  const pins = [...pinsOf(e.key, e.value).keys()];
  if (!pins.length) return undefined;
  const last = pins[pins.length - 1]!;
  return e.key.slice(pins[0], last + (e.key.codePointAt(last)! > 0xffff ? 2 : 1));
}

// ---------------------------------------------------------------------------------------------
// Quick fixes

async function pinActions(
  doc: OpenDocument,
  d: Diagnostic,
  data: PolyphoneData,
  settings: Settings,
  w: PronunciationWorkspace,
  open: OpenDocument | undefined,
): Promise<CodeAction[]> {
  const text = doc.tasks?.line(d.range.start.line)?.get('text');
  if (text === undefined || text[data.index] !== data.char[0]) return [];
  const file = dictionaryPath(settings, w.folder);
  const uri = open?.uri ?? pathToFileURL(file).href;
  let current: string;
  let exists = true;
  const version = open ? open.document.version : null;
  if (open) current = open.document.getText();
  else {
    try {
      current = await fs.readFile(file, 'utf8');
    } catch {
      exists = false;
      current = '';
    }
  }
  const dialect = detectDictDialect(current);
  const useRule = dialect === 'rule';
  const dict = ReplaceDict.fromText(current, file);
  const out: CodeAction[] = [];
  for (const reading of data.candidates) {
    const context = chooseContext(text, data.index, data.char, reading, dict);
    const line = useRule
      ? formatRuleLine({ word: data.char, context, phoneme: reading })
      : (() => {
          const r = ruleToUpstream(data.char, context, reading);
          return r.ok ? formatUpstreamLine(r.value.key, r.value.value) : undefined;
        })();
    if (!line) continue;
    const lines = current.split(/\r\n|\r|\n/);
    const endLine = lines.length - 1;
    const endChar = lines[endLine]!.length;
    const prefix = current === '' || /\r?\n$/.test(current) ? '' : '\n';
    const edit: TextEdit = {
      range: { start: { line: endLine, character: endChar }, end: { line: endLine, character: endChar } },
      newText: `${prefix}${line}\n`,
    };
    const we: WorkspaceEdit = {
      documentChanges: [
        ...(exists ? [] : [{ kind: 'create' as const, uri, options: { ignoreIfExists: true } }]),
        { textDocument: { uri, version }, edits: [edit] },
      ],
    };
    const isCurrent = reading === data.reading;
    out.push({
      title: `Pin ${data.char} as ${reading} in ${context}${isCurrent ? ' (the teacher’s reading now)' : ''}`,
      kind: CodeActionKind.QuickFix,
      diagnostics: [d],
      isPreferred: false,
      edit: we,
    });
  }
  return out;
}

/**
 * The shortest stretch of the text around the character that, as a dictionary key, holds the
 * character once, can match after normalisation, does not clash with an existing key, and
 * really decides the character in this text (no longer key wins). Falls back to the character.
 */
export function chooseContext(text: string, index: number, char: string, reading: string, dict: ReplaceDict): string {
  const decides = (key: string): boolean => {
    if (key.split(char).length !== 2 || keyNeverMatches(key)) return false;
    const r = ruleToUpstream(char, key, reading);
    if (!r.ok) return false;
    const existing = dict.get(key);
    if (existing && existing.value !== r.value.value) return false;
    const next = new ReplaceDict([...dict.entries.values(), { key, value: r.value.value, line: -1, dialect: 'upstream' }]);
    return teacherReadings(text, next)[index]?.reading === reading;
  };
  // A word of pinyin-pro's dictionary around the character comes first (its words are mostly the ones that change readings).
  let at = 0;
  for (const word of segment(text, { format: OutputFormat.ZhSegment }) as string[]) {
    if (index >= at && index < at + word.length) {
      if (word.length >= 2 && decides(word)) return word;
      break;
    }
    at += word.length;
  }
  let runStart = index,
    runEnd = index + char.length;
  while (runStart > 0 && isHan(text.charCodeAt(runStart - 1))) runStart--;
  while (runEnd < text.length && isHan(text.charCodeAt(runEnd))) runEnd++;
  for (let len = 2; len <= Math.min(8, runEnd - runStart); len++) {
    for (let s = Math.max(runStart, index + char.length - len); s <= index && s + len <= runEnd; s++) {
      const key = text.slice(s, s + len);
      if (decides(key)) return key;
    }
  }
  return char;
}

function dictionaryActions(doc: OpenDocument, at: Position, diagnostics: Diagnostic[]): CodeAction[] {
  const out: CodeAction[] = [];
  const text = doc.document.getText();
  for (const d of diagnostics) {
    const data = d.data as DictFixData | undefined;
    if (!data || typeof data !== 'object' || !('fix' in data)) continue;
    if (data.fix === 'use-tokens' || data.fix === 'use-pinyin') {
      out.push({
        title: data.fix === 'use-tokens' ? 'Use token notation' : 'Use pinyin notation',
        kind: CodeActionKind.QuickFix,
        diagnostics: [d],
        isPreferred: true,
        edit: {
          changes: {
            [doc.uri]: [
              {
                range: { start: { line: data.line, character: data.start }, end: { line: data.line, character: data.end } },
                newText: data.replacement,
              },
            ],
          },
        },
      });
    } else if (data.fix === 'remove-duplicate') {
      const lineText = doc.document.getText({ start: { line: data.line, character: 0 }, end: { line: data.line + 1, character: 0 } });
      let edit: TextEdit;
      if (data.membersOnLine <= 1) {
        edit = { range: { start: { line: data.line, character: 0 }, end: { line: data.line + 1, character: 0 } }, newText: '' };
      } else {
        const obj = JSON.parse(lineText) as Record<string, string>;
        const rest = Object.entries(obj).filter((_, k) => k !== data.member);
        const body = rest.map(([k, v]) => `${JSON.stringify(k)}: ${JSON.stringify(v)}`).join(', ');
        edit = {
          range: { start: { line: data.line, character: 0 }, end: { line: data.line, character: lineText.replace(/\r?\n$/, '').length } },
          newText: `{${body}}`,
        };
      }
      out.push({
        title: `Remove duplicate rule "${data.key}" (line ${data.line + 1})`,
        kind: CodeActionKind.QuickFix,
        diagnostics: [d],
        edit: { changes: { [doc.uri]: [edit] } },
      });
    }
  }
  // Notation rewrites of a rule's reading under the cursor.
  const parsed = parseDictionaryFile(text);
  const e = parsed.entries.find(
    (x) => x.line === at.line && x.dialect === 'rule' && at.character >= x.valueStart && at.character <= x.valueEnd,
  );
  if (e) {
    const r = readingToPinyin(e.value);
    if (r.ok) {
      const tokens = looksLikeTokens(e.value);
      const replacement = tokens ? r.value.join(' ') : pinyinToTokens(r.value.join(' '));
      if (!out.some((a) => a.title === (tokens ? 'Use pinyin notation' : 'Use token notation'))) {
        out.push({
          title: tokens ? 'Use pinyin notation' : 'Use token notation',
          kind: CodeActionKind.RefactorRewrite,
          edit: {
            changes: {
              [doc.uri]: [
                {
                  range: { start: { line: e.line, character: e.valueStart }, end: { line: e.line, character: e.valueEnd } },
                  newText: JSON.stringify(replacement),
                },
              ],
            },
          },
        });
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Completion

function dictionaryCompletion(doc: OpenDocument, pos: Position): CompletionItem[] {
  const lineText = doc.document
    .getText({ start: { line: pos.line, character: 0 }, end: { line: pos.line, character: Number.MAX_SAFE_INTEGER } })
    .replace(/\r?\n$/, '');
  const before = lineText.slice(0, pos.character);
  // Rule line: inside the "phoneme" string.
  const ph = /"phoneme"\s*:\s*"([^"]*)$/.exec(before);
  if (ph) {
    const word = /"word"\s*:\s*"([^"]*)"/.exec(lineText)?.[1];
    const context = /"context"\s*:\s*"([^"]*)"/.exec(lineText)?.[1];
    if (!word) return [];
    const start = pos.character - ph[1]!.length;
    let end = pos.character;
    while (end < lineText.length && lineText[end] !== '"') end++;
    const notation = looksLikeTokens(ph[1]!) ? 'tokens' : 'pinyin';
    return readingOptions(word, context).map((o, k) =>
      item(o, notation === 'tokens' ? safeTokens(o.reading) : o.reading, { line: pos.line, start, end }, k),
    );
  }
  // Upstream line: inside a value string.
  const members = scanMembers(lineText) ?? [];
  const m =
    members.find((x) => pos.character > x.valueStart && pos.character <= x.valueEnd && x.valueType === 'string') ??
    (() => {
      const u = /^\s*\{\s*"([^"]+)"\s*:\s*"[^"]*$/.exec(before);
      return u
        ? {
            key: u[1]!,
            valueStart: before.lastIndexOf('"'),
            valueEnd: lineText.indexOf('"', pos.character) >= 0 ? lineText.indexOf('"', pos.character) + 1 : lineText.length,
          }
        : undefined;
    })();
  if (!m || !('key' in m)) return [];
  const key = m.key;
  const items: CompletionItem[] = [];
  const range = {
    line: pos.line,
    start: m.valueStart + 1,
    end: Math.max(m.valueStart + 1, lineText[m.valueEnd - 1] === '"' ? m.valueEnd - 1 : m.valueEnd),
  };
  for (const h of hanChars(key)) {
    for (const o of readingOptions(h.char, key)) {
      const value = key.slice(0, h.index) + safeTokens(o.reading) + key.slice(h.index + h.char.length);
      items.push(item({ ...o, label: `${h.char} ${o.reading}` }, value, range, items.length));
    }
  }
  return items;
}

interface ReadingOption {
  reading: string;
  label?: string;
  detail: string;
}

/** Readings of a word (one per candidate for a character; the teacher's reading first for longer words). */
function readingOptions(word: string, context: string | undefined): ReadingOption[] {
  const han = hanChars(word);
  if (!han.length) return [];
  const inContext = context && context.includes(word) ? teacherReadings(context) : undefined;
  const offset = context ? context.indexOf(word) : -1;
  const teacherOf = (k: number) => (inContext && offset >= 0 ? (inContext[offset + han[k]!.index]?.reading ?? undefined) : undefined);
  if (han.length === 1) {
    const t = teacherOf(0);
    return candidateReadings(han[0]!.char).map((c) => ({
      reading: c,
      detail:
        c === t
          ? `the teacher’s reading in "${context}" without a rule`
          : c === defaultReading(han[0]!.char)
            ? 'pinyin-pro’s default'
            : 'another reading',
    }));
  }
  const teacher = han.map((_, k) => teacherOf(k) ?? defaultReading(han[k]!.char) ?? '').join(' ');
  const opts: ReadingOption[] = [{ reading: teacher, detail: 'the teacher’s reading without a rule' }];
  han.forEach((h, k) => {
    for (const c of candidateReadings(h.char)) {
      const parts = teacher.split(' ');
      if (parts[k] === c) continue;
      parts[k] = c;
      opts.push({ reading: parts.join(' '), detail: `${h.char} as ${c}` });
    }
  });
  return opts;
}

function item(o: ReadingOption, insert: string, r: { line: number; start: number; end: number }, k: number): CompletionItem {
  return {
    label: o.label ?? o.reading,
    kind: CompletionItemKind.Value,
    detail: o.detail,
    sortText: String(k).padStart(4, '0'),
    filterText: insert,
    textEdit: { range: { start: { line: r.line, character: r.start }, end: { line: r.line, character: r.end } }, newText: insert },
  };
}
