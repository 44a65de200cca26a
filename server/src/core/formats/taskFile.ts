import * as path from 'node:path';
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import webuiSchema from '../../../../schemas/task-webui.schema.json';
import upstreamSchema from '../../../../schemas/task-upstream.schema.json';
import {
  atLineShared,
  comparePos,
  type Finding,
  FindingCollector,
  inOrder,
  type LineFinding,
  type Range,
  type RelatedInformation,
  range,
  SEVERITIES,
  type Severity,
  severityRank,
  withLimitNotice,
} from '../findings';
import { LONE_SURROGATE, MAX_NAME_BYTES } from '../batch/manifest';
import {
  BOM,
  findSyntaxError,
  jsonLimitProblem,
  parseJsonObject,
  type JsonMember,
  scanMembers,
  splitLines,
  stringOffsetMapper,
} from './jsonl';
import type { TaskDialectSetting } from '../settings';
import { type QaThresholds, reasonCode, signalReasons } from '../qa/gates';
import type { SignalMeasures } from '../qa/signal';
import { intern } from '../util/intern';

/** The two task-file dialects in the wild (see docs/FORMATS.md §1). */
export type TaskDialect = 'webui' | 'upstream';

/** Which key plays which role in each dialect. */
export const TASK_FIELDS = {
  webui: { name: 'output_name', text: 'input_text', promptText: 'prompt_text', promptAudio: 'prompt_audio' },
  upstream: { name: 'uttid', text: 'syn_text', promptText: 'prompt_text', promptAudio: 'prompt_speech' },
} as const satisfies Record<TaskDialect, Record<TaskRole, string>>;

export type TaskRole = 'name' | 'text' | 'promptText' | 'promptAudio';

const WEBUI_ONLY = new Set(['prompt_audio', 'input_text', 'output_name']);
const ROLE_KEYS: ReadonlySet<string> = new Set<string>([...Object.values(TASK_FIELDS.webui), ...Object.values(TASK_FIELDS.upstream)]);
const NO_LABEL_KEYS: ReadonlySet<string> = new Set();
const UPSTREAM_ONLY = new Set(['uttid', 'prompt_speech', 'syn_text']);

/** A task as the rest of the product uses it, whatever the dialect. */
export interface Task {
  /** 0-based line in the task file. */
  line: number;
  name: string;
  text: string;
  promptText?: string;
  promptAudio: string;
  /**
   * The line's other scalar keys (speaker, emotion, style…: `ttsDistill.taskFiles.labelKeys`),
   * carried into the manifest; the teacher never sees them (the upstream writer keeps only its four keys).
   */
  labels?: Record<string, string | number | boolean>;
}

/** A string field of a task line, with offsets into the line. */
export interface FieldRef {
  key: string;
  value: string;
  keyStart: number;
  keyEnd: number;
  /** The JSON string literal, quotes included. */
  valueStart: number;
  valueEnd: number;
  /** Offset in the line of character `i` of the decoded value (escapes make them differ). */
  offsetOf(i: number): number;
}

// Compiled once per process: ajv compiles the schema to a plain function, the fastest check there is.
const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
const validators: Record<TaskDialect, ValidateFunction> = {
  webui: ajv.compile(webuiSchema),
  upstream: ajv.compile(upstreamSchema),
};

const NO_FINDINGS: readonly LineFinding[] = Object.freeze([]);
/**
 * A pass that yields (`chunkLines`) also yields after this long, however few lines it analysed: the
 * progress passes over a big file whose lines are mostly up to date took 15–45 ms at a stretch,
 * and an inlay-hint request waited behind them.
 */
const SLICE_MS = 8;
/**
 * Lets a request that came in meanwhile be answered first: two turns of timers, not immediates. A
 * request goes through two immediates of vscode-jsonrpc (read, then dispatch), and an immediate of
 * the pass queued first would run before each; one timer would still run before the dispatch.
 */
async function yieldToRequests(): Promise<void> {
  await new Promise<void>((r) => setTimeout(r, 0));
  await new Promise<void>((r) => setTimeout(r, 0));
}
const CONTROL = /[\u0000-\u001f\u007f]/;
const RESERVED_CHARS = /[<>:"|?*]/;
const RESERVED_NAMES = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$/i;
/** Letters, digits, CJK, and inner `_ - . space` — safe everywhere. */
const PLAIN_NAME = /^[\p{L}\p{N}_-](?:[\p{L}\p{N}_. -]*[\p{L}\p{N}_-])?$/u;
const ASCII_NAME = /^[A-Za-z0-9_-](?:[A-Za-z0-9_.-]*[A-Za-z0-9_-])?$/;
const BLANK = /^\s*$/;
const HAN = /[\u3400-\u9fff\uf900-\ufaff]/;
const LATIN_WORD = /[A-Za-z]{2,}/;

/**
 * One parsed line of a task file. Everything cheap is computed at once; key and value offsets
 * are found only when something needs them (a finding, a hover), so valid lines cost little
 * more than JSON.parse and the compiled schema check.
 */
export class ParsedTaskLine {
  readonly kind: 'blank' | 'syntax-error' | 'not-object' | 'object';
  /** The parsed object; null once released (re-parsed on demand, see `release`). */
  private valueCache: Record<string, unknown> | undefined | null;
  /** Findings that depend on this line alone (cached with it); most lines share the empty list. */
  findings: readonly LineFinding[] = NO_FINDINGS;
  /** The line starts with a UTF-8 byte order mark (only the first line can). */
  readonly hasBom: boolean;
  private membersCache: JsonMember[] | undefined | null = null;
  /** The task text, kept when the parsed object is released. */
  private keptText: string | undefined;
  private readonly body: string;
  private readonly bodyOffset: number;

  constructor(
    readonly text: string,
    readonly dialect: TaskDialect,
    readonly isLastLine: boolean,
    private readonly labelKeys: ReadonlySet<string> = NO_LABEL_KEYS,
  ) {
    this.hasBom = text.startsWith(BOM);
    this.bodyOffset = this.hasBom ? 1 : 0;
    this.body = this.hasBom ? text.slice(1) : text;
    if (this.hasBom) {
      this.add({
        start: 0,
        end: 1,
        severity: dialect === 'upstream' ? 'error' : 'warning',
        code: 'task/bom',
        message:
          dialect === 'upstream'
            ? 'The file starts with a UTF-8 byte order mark: glmtts_inference.py fails on it and the whole run aborts. Save as UTF-8 without BOM.'
            : 'The file starts with a UTF-8 byte order mark; some readers fail on it. Save as UTF-8 without BOM.',
      });
    }
    if (this.body.trim() === '') {
      this.kind = 'blank';
      this.valueCache = undefined;
      if (!(isLastLine && this.body === '')) {
        this.add({
          start: 0,
          end: text.length,
          severity: dialect === 'upstream' ? 'error' : 'warning',
          code: 'task/blank-line',
          message:
            dialect === 'upstream'
              ? 'Blank line: glmtts_inference.py parses the whole file first and aborts the entire run on it. Delete the line.'
              : 'Blank line: it is not a task. Delete it.',
        });
      }
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(this.body);
    } catch {
      this.kind = 'syntax-error';
      this.valueCache = undefined;
      const e = findSyntaxError(this.body);
      this.add({
        start: e.start + this.bodyOffset,
        end: e.end + this.bodyOffset,
        severity: 'error',
        code: 'task/json-syntax',
        message: `${e.message} (column ${e.start + this.bodyOffset + 1})${dialect === 'upstream' ? '; glmtts_inference.py aborts the whole run on a malformed line' : ''}.`,
      });
      return;
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      this.kind = 'not-object';
      this.valueCache = undefined;
      this.add({
        start: this.bodyOffset,
        end: text.length,
        severity: 'error',
        code: 'task/not-object',
        message: `Each line must be one JSON object with the task's keys; this line is ${Array.isArray(parsed) ? 'an array' : parsed === null ? 'null' : `a ${typeof parsed}`}${dialect === 'upstream' ? '; glmtts_inference.py aborts the whole run on it' : ''}.`,
      });
      return;
    }
    // 5,000 levels of nesting or 100,000 keys: refused on this line alone, the rest of the file is checked and run.
    const limit = jsonLimitProblem(parsed as Record<string, unknown>, this.body);
    if (limit) {
      this.kind = 'syntax-error';
      this.valueCache = undefined;
      this.add({ start: this.bodyOffset, end: text.length, severity: 'error', code: `task/${limit.code}`, message: limit.message });
      return;
    }
    this.kind = 'object';
    this.valueCache = parsed as Record<string, unknown>;
    this.check();
  }

  /** The line's JSON object (undefined unless `kind` is `object`). */
  get value(): Record<string, unknown> | undefined {
    if (this.valueCache === null) this.valueCache = JSON.parse(this.body) as Record<string, unknown>;
    return this.valueCache;
  }

  /**
   * Drops the parsed object of a line that has been checked; it is parsed again when asked for.
   * A 100,000-line model then keeps strings, not 100,000 object graphs the garbage collector
   * has to copy and promote.
   */
  release(): void {
    if (this.kind !== 'object' || this.valueCache === null) return;
    // The text stays: the polyphone checks and the inlay hints ask every line for it, pass after pass.
    // Where the line holds it as it is (no escapes), kept as a slice of the line, not a copy (a
    // slice is 32 bytes; a 43-character text copied ~100: 9 MB of heap at 100,000 lines).
    const text = this.get('text');
    const at = text && text.length >= 13 ? this.body.indexOf(text) : -1;
    this.keptText = at >= 0 ? this.body.slice(at, at + text!.length) : text;
    this.valueCache = null;
  }

  /** Top-level members with offsets into the line (found on first use). */
  get members(): JsonMember[] {
    if (this.membersCache === null) {
      const m = scanMembers(this.body);
      this.membersCache = m?.map((x) => ({
        ...x,
        keyStart: x.keyStart + this.bodyOffset,
        keyEnd: x.keyEnd + this.bodyOffset,
        valueStart: x.valueStart + this.bodyOffset,
        valueEnd: x.valueEnd + this.bodyOffset,
      }));
    }
    return this.membersCache ?? [];
  }

  member(key: string): JsonMember | undefined {
    // The last one wins, as in JSON.parse and Python's json.
    const ms = this.members;
    for (let i = ms.length - 1; i >= 0; i--) if (ms[i]!.key === key) return ms[i];
    return undefined;
  }

  /** The string field that plays `role` in this line's dialect, with offsets; undefined when absent or not a string. */
  field(role: TaskRole): FieldRef | undefined {
    const key = TASK_FIELDS[this.dialect][role];
    const v = this.value?.[key];
    if (typeof v !== 'string' && !(role === 'name' && typeof v === 'number')) return undefined;
    const m = this.member(key);
    if (!m) return undefined;
    const isString = typeof v === 'string';
    return {
      key,
      value: String(v),
      keyStart: m.keyStart,
      keyEnd: m.keyEnd,
      valueStart: m.valueStart,
      valueEnd: m.valueEnd,
      offsetOf: isString ? stringOffsetMapper(this.text, m.valueStart, m.valueEnd) : (i) => m.valueStart + i,
    };
  }

  /** The plain value of a role, without offsets. */
  get(role: TaskRole): string | undefined {
    if (role === 'text' && this.valueCache === null) return this.keptText;
    const v = this.value?.[TASK_FIELDS[this.dialect][role]];
    if (typeof v === 'string') return v;
    if (role === 'name' && typeof v === 'number' && Number.isInteger(v)) return String(v);
    return undefined;
  }

  /** The task, when the line holds a complete one. */
  toTask(line: number): Task | undefined {
    const name = this.get('name'),
      text = this.get('text'),
      promptAudio = this.get('promptAudio');
    if (name === undefined || text === undefined || promptAudio === undefined) return undefined;
    const promptText = this.get('promptText');
    const task: Task = promptText === undefined ? { line, name, text, promptAudio } : { line, name, text, promptText, promptAudio };
    const labels = this.labels();
    if (labels) task.labels = labels;
    return task;
  }

  /** The line's scalar keys that play no role in either dialect (labels such as speaker or emotion); undefined when none. */
  labels(): Record<string, string | number | boolean> | undefined {
    let out: Record<string, string | number | boolean> | undefined;
    const v = this.value;
    if (!v) return undefined;
    for (const [k, x] of Object.entries(v)) {
      if (ROLE_KEYS.has(k)) continue;
      if (typeof x === 'string' || typeof x === 'number' || typeof x === 'boolean') (out ??= {})[k] = x;
    }
    return out;
  }

  private add(f: LineFinding) {
    if (this.findings === NO_FINDINGS) this.findings = [f];
    else (this.findings as LineFinding[]).push(f);
  }

  /** Range of a key (for missing/unknown keys the whole object's opening brace when not found). */
  private keyRange(key: string): [number, number] {
    const m = this.member(key);
    return m ? [m.keyStart, m.keyEnd] : [this.bodyOffset, this.bodyOffset + 1];
  }

  private valueRange(key: string): [number, number] {
    const m = this.member(key);
    return m ? [m.valueStart, m.valueEnd] : [this.bodyOffset, this.bodyOffset + 1];
  }

  private check() {
    const v = this.value!;
    const dialect = this.dialect;
    const fields = TASK_FIELDS[dialect];
    const validate = validators[dialect];
    const other: TaskDialect = dialect === 'webui' ? 'upstream' : 'webui';
    if (!validate(v)) {
      for (const e of validate.errors ?? []) this.schemaFinding(e, other);
    }
    // Checks beyond the schema: what the teacher does with the values.
    const text = v[fields.text];
    if (typeof text === 'string' && BLANK.test(text)) {
      const [s, e] = this.valueRange(fields.text);
      this.add({
        start: s,
        end: e,
        severity: 'error',
        code: 'task/empty-text',
        message: `"${fields.text}" is empty: there is nothing to speak.`,
      });
    } else if (typeof text === 'string') {
      // Latin first: most Chinese task text has none, and then the Han test is not needed.
      const latin = LATIN_WORD.exec(text);
      if (latin && HAN.test(text)) {
        const f = this.field('text')!;
        this.add({
          start: f.offsetOf(latin.index),
          end: f.offsetOf(latin.index + latin[0].length),
          severity: 'information',
          code: 'task/mixed-language',
          message: `The text mixes Chinese and English ("${latin[0]}"): the voice and speaking style often break where the language switches. Consider a separate task.`,
        });
      }
    }
    const promptText = v[fields.promptText];
    if (promptText === undefined && dialect === 'webui') {
      const [s, e] = this.keyRange('?');
      this.add({
        start: s,
        end: e,
        severity: 'warning',
        code: 'task/missing-prompt-text',
        message: 'No "prompt_text": cloning is noticeably better when the transcript of the prompt audio is given.',
      });
    } else if (typeof promptText === 'string' && BLANK.test(promptText)) {
      const [s, e] = this.valueRange(fields.promptText);
      this.add({
        start: s,
        end: e,
        severity: 'warning',
        code: 'task/missing-prompt-text',
        message: '"prompt_text" is empty: cloning is noticeably better when the transcript of the prompt audio is given.',
      });
    }
    const name = this.get('name');
    if (name !== undefined) {
      const problem = unsafeNameProblem(name, dialect);
      if (problem) {
        const [s, e] = this.valueRange(fields.name);
        this.add({ start: s, end: e, severity: problem.severity, code: 'task/unsafe-name', message: problem.message });
      }
    }
    const audio = v[fields.promptAudio];
    if (typeof audio === 'string' && BLANK.test(audio)) {
      const [s, e] = this.valueRange(fields.promptAudio);
      this.add({
        start: s,
        end: e,
        severity: 'error',
        code: 'task/prompt-audio-missing',
        message: `"${fields.promptAudio}" is empty: the teacher needs a prompt WAV to clone.`,
      });
    }
  }

  private schemaFinding(e: ErrorObject, other: TaskDialect) {
    const dialect = this.dialect;
    const upstreamNote =
      dialect === 'upstream' ? ' glmtts_inference.py reads every line before synthesis, so this aborts the whole run.' : '';
    if (e.keyword === 'required') {
      const missing = (e.params as { missingProperty: string }).missingProperty;
      const [s, e2] = this.keyRange('?');
      const hint =
        this.value && missing in alternativeKeys(dialect) && alternativeKeys(dialect)[missing]! in this.value
          ? ` This line has "${alternativeKeys(dialect)[missing]}", which is the ${other} dialect's key; the file is ${dialect}.`
          : '';
      this.add({
        start: s,
        end: e2,
        severity: 'error',
        code: 'task/missing-key',
        message: `Missing key "${missing}".${upstreamNote}${hint}`,
      });
    } else if (e.keyword === 'additionalProperties') {
      const key = (e.params as { additionalProperty: string }).additionalProperty;
      // ttsDistill.taskFiles.labelKeys: labels carried into the manifest, expected here.
      if (this.labelKeys.has(key)) return;
      const [s, e2] = this.keyRange(key);
      const otherKey = (dialect === 'webui' ? UPSTREAM_ONLY : WEBUI_ONLY).has(key);
      this.add({
        start: s,
        end: e2,
        severity: 'warning',
        code: 'task/unknown-key',
        message: otherKey
          ? `"${key}" belongs to the ${other} dialect; this file is ${dialect}, so it is ignored.`
          : `Unknown key "${key}": ${dialect === 'upstream' ? 'glmtts_inference.py silently drops it' : 'the teacher ignores it'}.`,
      });
    } else if (e.keyword === 'type') {
      const key = e.instancePath.replace(/^\//, '').replace(/~1/g, '/').replace(/~0/g, '~');
      const [s, e2] = this.valueRange(key);
      const actual = this.value?.[key];
      const got = actual === null ? 'null' : Array.isArray(actual) ? 'an array' : typeof actual;
      // Upstream only parses the lines up front; a wrong type fails when the item is synthesised, which logs it and goes on.
      const typeNote =
        dialect === 'upstream'
          ? ' glmtts_inference.py fails this line only (it logs the error and writes no WAV for it); the rest of the run goes on.'
          : '';
      this.add({
        start: s,
        end: e2,
        severity: 'error',
        code: 'task/wrong-type',
        message: `"${key}" must be ${(e.params as { type: string | string[] }).type.toString().replace(',', ' or ')}, not ${got}.${typeNote}`,
      });
    } else {
      const key = e.instancePath.replace(/^\//, '');
      const [s, e2] = key ? this.valueRange(key) : [this.bodyOffset, this.text.length];
      this.add({
        start: s,
        end: e2,
        severity: 'error',
        code: 'task/schema',
        message: `${key ? `"${key}" ` : ''}${e.message ?? 'does not match the schema'}.`,
      });
    }
  }
}

function alternativeKeys(dialect: TaskDialect): Record<string, string> {
  const a = TASK_FIELDS[dialect],
    b = TASK_FIELDS[dialect === 'webui' ? 'upstream' : 'webui'];
  return { [a.name]: b.name, [a.text]: b.text, [a.promptAudio]: b.promptAudio };
}

/** Why `name` is not safe as `<name>.wav` in the output folder, or undefined when it is. */
export function unsafeNameProblem(name: string, dialect: TaskDialect): { severity: 'error' | 'warning'; message: string } | undefined {
  // Nearly every name is plain: one regex decides that, the detailed checks run only otherwise.
  // (At most 3 UTF-8 bytes per UTF-16 unit: 66 units are within MAX_NAME_BYTES.)
  if ((ASCII_NAME.test(name) ? name.length <= MAX_NAME_BYTES : name.length <= 66 && PLAIN_NAME.test(name)) && !RESERVED_NAMES.test(name))
    return undefined;
  const key = TASK_FIELDS[dialect].name;
  if (name.trim() === '') return { severity: 'error', message: `"${key}" is empty: the output would be ".wav".` };
  if (CONTROL.test(name)) return { severity: 'error', message: `"${key}" contains a control character: not a usable file name.` };
  // The same rules as the runner's (outputWavPath): what validates is what submits.
  if (LONE_SURROGATE.test(name))
    return {
      severity: 'error',
      message: `"${key}" contains a lone UTF-16 surrogate (not a character): two such names would share one file.`,
    };
  if (name.split(/[\\/]/).includes('..'))
    return { severity: 'error', message: `"${key}" contains "..": the output file would be written outside the output folder.` };
  if (name.split(/[\\/]/).some((p) => p.startsWith('.')))
    return {
      severity: 'error',
      message: `"${key}" (or a folder in it) starts with a dot: such names are reserved for temporary files and are never written.`,
    };
  const bytes = Math.max(...name.split(/[\\/]/).map((p) => Buffer.byteLength(p, 'utf8')));
  if (bytes > MAX_NAME_BYTES)
    return {
      severity: 'error',
      message: `"${key}" is ${bytes} bytes long in UTF-8: at most ${MAX_NAME_BYTES} (file names are limited to 255 bytes, and the WAV's temporary file needs room).`,
    };
  if (name.startsWith('/') || /^[A-Za-z]:[\\/]/.test(name))
    return { severity: 'error', message: `"${key}" is an absolute path: the output file would be written outside the output folder.` };
  if (/[\\/]/.test(name)) {
    return dialect === 'upstream'
      ? {
          severity: 'warning',
          message: `"${key}" contains a path separator: GLM-TTS creates the sub-folder and writes <uttid>.wav into it.`,
        }
      : { severity: 'error', message: `"${key}" contains a path separator: it must be a plain file name.` };
  }
  if (RESERVED_CHARS.test(name))
    return {
      severity: 'warning',
      message: `"${key}" contains a character reserved on Windows (< > : " | ? *): the file cannot be copied there.`,
    };
  if (RESERVED_NAMES.test(name)) return { severity: 'warning', message: `"${key}" is a reserved device name on Windows.` };
  if (/^\s|\s$|\.$/.test(name))
    return { severity: 'warning', message: `"${key}" starts or ends with a space, or ends with a dot: easy to get wrong in scripts.` };
  return undefined;
}

/** Decides a file's dialect from its first lines that parse. */
export function detectDialect(lines: readonly string[], setting: TaskDialectSetting): { dialect: TaskDialect; source: 'file' | 'setting' } {
  let checked = 0;
  for (const raw of lines) {
    const line = raw.startsWith(BOM) ? raw.slice(1) : raw;
    if (line.trim() === '') continue;
    if (++checked > 50) break;
    const v = parseJsonObject(line);
    if (!v) continue;
    let up = 0,
      web = 0;
    for (const k of Object.keys(v)) {
      if (UPSTREAM_ONLY.has(k)) up++;
      if (WEBUI_ONLY.has(k)) web++;
    }
    if (up > web) return { dialect: 'upstream', source: 'file' };
    if (web > up) return { dialect: 'webui', source: 'file' };
  }
  return { dialect: setting === 'upstream' ? 'upstream' : 'webui', source: 'setting' };
}

export function firstNonBlankLine(text: string): string | undefined {
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const line = text.slice(start, end).replace(/^\uFEFF/, '');
    if (line.trim() !== '') return line;
    start = end + 1;
  }
  return undefined;
}

/** A per-line analysis plugged in by a feature (polyphone flags…). Its findings are cached per line text. */
export interface TaskLineAnalyzer {
  /** Changes whenever the analyzer's inputs change (dictionary, settings, recorded runs); cached findings are then recomputed. */
  readonly version: string;
  /** Returns PENDING_FINDINGS for a line it cannot judge yet (computed elsewhere, e.g. in worker threads). */
  analyze(line: ParsedTaskLine): LineFinding[];
  /** Ask again about the lines that were pending (their results may have arrived); the others keep their cached findings. */
  readonly recheckPending?: boolean;
  /**
   * With `recheckPending`: the task texts (the `text` field) of pending lines whose results arrived
   * since the last call (it empties the list), or undefined when it cannot tell. A pass after edits then asks again
   * about those lines only, not about every pending one (a big file has tens of thousands of them at
   * each batch of results). Without it, every pending line is asked again.
   */
  arrived?(): Iterable<string> | undefined;
}

const NO_AUDIO_FINDINGS: Array<Omit<Finding, 'range'>> = [];

/** The findings of one prompt audio path as the status callback tells it now (the file's header, its QA). */
function freshAudioFindings(written: string, dialect: TaskDialect, opts: TaskValidationOptions): Array<Omit<Finding, 'range'>> {
  const st = opts.promptAudioStatus!(written, dialect);
  const af = promptAudioFinding(st, opts.promptAudio, TASK_FIELDS[dialect].promptAudio);
  const qf = opts.promptQa && st.state === 'ok' && st.qa ? promptQaFinding(st.qa, opts.promptQa) : undefined;
  return [...(af ? [af] : []), ...(qf ? [qf] : [])];
}

/** What an analyzer returns for a line whose findings are not known yet (none shown for now). */
export const PENDING_FINDINGS: readonly LineFinding[] = Object.freeze([]);

/** What the prompt-audio check knows of a file right now. */
export type PromptAudioStatus =
  | { state: 'pending' }
  | { state: 'missing'; path: string }
  | { state: 'unreadable'; path: string; reason: string }
  | { state: 'ok'; path: string; channels: number; sampleRate: number; durationSeconds: number; truncated: boolean; qa?: SignalMeasures };

export interface TaskValidationOptions {
  maxPerFile: number;
  promptAudio: { minSeconds: number; maxSeconds: number };
  /** Thresholds for the signal QA of prompts whose status carries `qa` measures (`task/prompt-audio-qa`); omit to skip. */
  promptQa?: QaThresholds;
  /** Status of a prompt audio path as written in the task (resolution is the caller's business); omit to skip the check. */
  promptAudioStatus?: (written: string, dialect: TaskDialect) => PromptAudioStatus;
  analyzers?: TaskLineAnalyzer[];
  /** Whether to stop early (a newer edit arrived); checked between chunks. */
  isCancelled?: () => boolean;
  /** Lines analysed between two yields to the event loop (0: never yield). */
  chunkLines?: number;
  /**
   * Nothing but the edits applied since the last validation changed (no new prompt-audio status,
   * no dictionary or settings change): only the edited lines are looked at, and the published list
   * is patched. Ignored when the lines themselves moved (added, removed) or the analyzers changed.
   */
  incremental?: boolean;
  /**
   * A complete pass that runs longer than `afterMs` hands over, once, what the lines checked so far
   * hold (errors first, under the cap; cross-line checks not yet), so that a big file shows its
   * first problems before the pass reaches its end. `linesDone` lines were checked.
   */
  partial?: {
    afterMs: number;
    /**
     * Or as soon as this many lines are checked (the lines in view), however long that took: set
     * for a file whose first pass is known to run long (a big file), so that the screen the user
     * looks at does not wait `afterMs` for the lines after it.
     */
    firstLines?: number;
    publish(findings: Finding[], linesDone: number): void;
    /**
     * Asked between chunks once the first hand-over is done: true when results the user is
     * waiting for (lines in view) arrived. The pending lines checked so far whose texts the
     * analyzers say `arrived` are then looked at again, and what the lines checked so far hold is
     * handed over again.
     */
    again?(): boolean;
  };
}

interface LineEntry {
  text: string;
  parsed?: ParsedTaskLine;
  analyzed?: readonly LineFinding[];
  analyzedVersion?: string;
  /** An analyzer had no answer yet for this line (PENDING_FINDINGS). */
  pendingAnalysis?: boolean;
  /** Findings of the line by severity (error, warning, information, hint) at its last validation; NO_COUNTS when none. */
  counts?: Uint32Array;
  /** Line number during the last validation pass. */
  line: number;
  /** Keys under which the entry is registered in the cross-line indexes. */
  name?: string;
  audio?: string;
  audioRange?: [number, number];
}

/**
 * A new line's entry, every field there from the start: fields added one by one went to a separate
 * property store beside the entry (~90 bytes a line in a heap snapshot at 100,000 lines).
 */
function lineEntry(text: string): LineEntry {
  return {
    text,
    line: 0,
    parsed: undefined,
    analyzed: undefined,
    analyzedVersion: undefined,
    pendingAnalysis: false,
    counts: undefined,
    name: undefined,
    audio: undefined,
    audioRange: undefined,
  };
}

export class CancelledError extends Error {
  constructor() {
    super('cancelled');
  }
}

/**
 * The incremental model of one task file: its lines, each parsed once per text, and the
 * cross-line index of output names kept up to date as lines come and go. An
 * edit replaces only the lines it touches; validation then parses only those and walks the
 * cached results, so a one-line edit in a 100,000-line file costs one JSON.parse plus a pass.
 */
export class TaskFileModel {
  private entries: LineEntry[] = [];
  private dialectInfo: { dialect: TaskDialect; source: 'file' | 'setting' } = { dialect: 'webui', source: 'setting' };
  private dialectSetting: TaskDialectSetting = 'auto';
  private dialectDirty = true;
  /** name → the entry using it, or the entries when several do (`duplicates` names those). */
  private readonly names = new Map<string, LineEntry | LineEntry[]>();
  private readonly duplicates = new Set<string>();
  /** Names with upper-case letters, by their lower-case form (case collisions are rare: keep this small). */
  private readonly folded = new Map<string, Set<LineEntry>>();

  private labelKeys: ReadonlySet<string> = NO_LABEL_KEYS;
  /** Lines an analyzer could not judge yet in the last validation (PENDING_FINDINGS). */
  pendingLines = 0;
  /**
   * What the last validation left, kept up to date by the next one instead of walking every line
   * again when only some lines changed in place: per severity the lines that have findings of it
   * (sorted) and the totals. Undefined until a complete pass, and after a change of the line
   * structure (lines added or removed, the dialect, the label keys).
   */
  private kept: Maintained | undefined;
  /** Lines replaced in place since the last validation: their index → the entry they replaced. */
  private readonly replaced = new Map<number, LineEntry>();
  /** Texts whose results arrived, not looked at by a pass yet (collectArrived). */
  private arrivedTexts: Set<string> | 'all' = new Set();

  constructor(text: string, dialectSetting: TaskDialectSetting = 'auto', labelKeys?: readonly string[]) {
    this.dialectSetting = dialectSetting;
    if (labelKeys?.length) this.labelKeys = new Set(labelKeys);
    this.setText(text);
  }

  /** Keys allowed as labels (no unknown-key warning): `ttsDistill.taskFiles.labelKeys`. A change re-checks every line. */
  setLabelKeys(keys: readonly string[]): void {
    const next = new Set(keys);
    if (next.size === this.labelKeys.size && [...next].every((k) => this.labelKeys.has(k))) return;
    this.labelKeys = next;
    this.kept = undefined;
    for (const e of this.entries) this.reset(e);
  }

  setText(text: string): void {
    this.kept = undefined;
    this.entries = splitLines(text).map(lineEntry);
    this.clearIndexes();
    this.dialectDirty = true;
  }

  setDialectSetting(setting: TaskDialectSetting): void {
    if (setting !== this.dialectSetting) {
      this.dialectSetting = setting;
      this.dialectDirty = true;
    }
  }

  get lineCount(): number {
    return this.entries.length;
  }

  lineText(i: number): string {
    return this.entries[i]?.text ?? '';
  }

  /**
   * Applies LSP content changes (incremental ones have a range; a change without one replaces
   * the whole text).
   */
  applyChanges(
    changes: ReadonlyArray<{
      range?: { start: { line: number; character: number }; end: { line: number; character: number } };
      text: string;
    }>,
  ): void {
    for (const c of changes) {
      if (!c.range) {
        this.setText(c.text);
        continue;
      }
      const { start, end } = c.range;
      const first = Math.max(0, Math.min(start.line, this.entries.length - 1));
      const last = Math.max(first, Math.min(end.line, this.entries.length - 1));
      const firstText = this.entries[first]!.text;
      const lastText = this.entries[last]!.text;
      const before = firstText.slice(0, start.line > first ? firstText.length : start.character);
      const after = lastText.slice(end.line > last ? lastText.length : end.character);
      const replaced = splitLines(before + c.text + after);
      const removed = this.entries.slice(first, last + 1);
      const fresh = replaced.map((t, k): LineEntry => {
        const old = removed[k];
        // Keep the cached parse when a line's text did not change (e.g. a line break typed at its end).
        return old && old.text === t ? old : lineEntry(t);
      });
      const kept = new Set(fresh);
      for (const e of removed) if (!kept.has(e)) this.unindex(e);
      this.entries.splice(first, last - first + 1, ...fresh);
      if (fresh.length !== removed.length) this.kept = undefined;
      else if (this.kept) {
        // Replaced in place: the next validation looks at these lines only.
        for (let k = 0; k < fresh.length; k++)
          if (fresh[k] !== removed[k] && !this.replaced.has(first + k)) this.replaced.set(first + k, removed[k]!);
      }
      // The last line's parse depends on being last (a final empty line is not a blank line).
      const tail = this.entries[this.entries.length - 1];
      if (tail?.parsed && !tail.parsed.isLastLine) {
        this.reset(tail);
        this.kept = undefined;
      }
      const prev = this.entries[this.entries.length - 2];
      if (prev?.parsed?.isLastLine) {
        this.reset(prev);
        this.kept = undefined;
      }
      if (first < 60) this.dialectDirty = true;
    }
  }

  get dialect(): { dialect: TaskDialect; source: 'file' | 'setting' } {
    if (this.dialectDirty) {
      const head: string[] = [];
      for (let i = 0; i < this.entries.length && head.length < 60; i++) head.push(this.entries[i]!.text);
      const next = detectDialect(head, this.dialectSetting);
      if (next.dialect !== this.dialectInfo.dialect) {
        this.kept = undefined;
        this.clearIndexes();
        for (const e of this.entries) this.reset(e);
      }
      this.dialectInfo = next;
      this.dialectDirty = false;
    }
    return this.dialectInfo;
  }

  /** The parsed line (parsed now if needed). */
  line(i: number): ParsedTaskLine | undefined {
    const e = this.entries[i];
    if (!e) return undefined;
    return this.parse(e, i === this.entries.length - 1);
  }

  /** Every complete task of the file, in order. */
  tasks(): Task[] {
    const out: Task[] = [];
    for (let i = 0; i < this.entries.length; i++) {
      const t = this.line(i)!.toTask(i);
      if (t) out.push(t);
    }
    return out;
  }

  private parse(e: LineEntry, isLast: boolean): ParsedTaskLine {
    if (e.parsed) return e.parsed;
    const p = new ParsedTaskLine(e.text, this.dialect.dialect, isLast, this.labelKeys);
    e.parsed = p;
    if (p.kind === 'object') {
      const name = p.get('name');
      if (name !== undefined) {
        e.name = name;
        const had = this.names.get(name);
        if (had === undefined) this.names.set(name, e);
        else if (Array.isArray(had)) had.push(e);
        else {
          this.names.set(name, [had, e]);
          this.duplicates.add(name);
        }
        if (HAS_UPPER.test(name)) addTo(this.folded, name.toLowerCase(), e);
      }
      const audio = p.get('promptAudio');
      if (audio !== undefined && audio.trim() !== '') {
        // One copy per distinct path (a file has a few voices and many lines).
        e.audio = intern(audio);
      }
    }
    return p;
  }

  private unindex(e: LineEntry) {
    if (e.name !== undefined) {
      const had = this.names.get(e.name);
      if (had === e) this.names.delete(e.name);
      else if (Array.isArray(had)) {
        const rest = had.filter((x) => x !== e);
        if (rest.length > 1) this.names.set(e.name, rest);
        else {
          this.duplicates.delete(e.name);
          if (rest.length === 1) this.names.set(e.name, rest[0]!);
          else this.names.delete(e.name);
        }
      }
      if (HAS_UPPER.test(e.name)) removeFrom(this.folded, e.name.toLowerCase(), e);
      e.name = undefined;
    }
    if (e.audio !== undefined) {
      e.audio = undefined;
    }
  }

  private reset(e: LineEntry) {
    this.unindex(e);
    e.audioRange = undefined;
    e.parsed = undefined;
    e.analyzed = undefined;
  }

  private clearIndexes() {
    this.names.clear();
    this.duplicates.clear();
    this.folded.clear();
    for (const e of this.entries) {
      e.name = undefined;
      e.audio = undefined;
    }
  }

  /**
   * Validates the whole file. Per-line results are cached; cross-line checks (duplicate names,
   * prompt audio) come from the indexes. Yields to the event loop between chunks when
   * `chunkLines` is set, and throws CancelledError when `isCancelled` says so.
   */
  async validate(opts: TaskValidationOptions): Promise<Finding[]> {
    const dialect = this.dialect.dialect;
    const analyzers = opts.analyzers ?? [];
    const analyzersVersion = analyzers.map((a) => a.version).join('|');
    const recheck = analyzers.some((a) => a.recheckPending);
    const key = `${dialect}\u0000${analyzersVersion}\u0000${opts.maxPerFile}\u0000${JSON.stringify([opts.promptAudio, opts.promptQa ?? null])}`;
    const kept = this.kept;
    if (kept && opts.incremental && kept.key === key && kept.entries === this.entries && kept.lineCount === this.entries.length) {
      if (recheck) {
        this.collectArrived(analyzers);
        // The lines whose results arrived are analysed first, in slices (a request waiting behind
        // this pass is answered in between); the synchronous part then finds them up to date.
        if (opts.chunkLines && this.arrivedTexts !== 'all' && this.arrivedTexts.size)
          await this.analyseArrived(kept, analyzers, analyzersVersion, opts);
      }
      return this.validateChanged(kept, opts, analyzers, analyzersVersion, recheck);
    }
    this.kept = undefined;
    this.arrivedTexts = new Set();
    this.replaced.clear();

    const out = new FindingCollector(opts.maxPerFile);
    const chunk = opts.chunkLines ?? 0;
    const started = performance.now();
    const partial = opts.partial;
    let handedOver = false;
    const entries = this.entries;
    const lastIndex = entries.length - 1;
    // One status per distinct prompt audio path (null: nothing to say), looked up per line.
    const audioFinding = new Map<string, Array<Omit<Finding, 'range'>>>();
    const lines: Record<Severity, number[]> = { error: [], warning: [], information: [], hint: [] };
    const pendingEntries = new PendingEntries();
    const audioOf = (written: string) => this.audioFindingsOf(written, dialect, opts, audioFinding);
    let work = 0;
    let sliceStart = started;
    const firstLines = partial?.firstLines ?? Infinity;
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i]!;
      e.line = i;
      work += this.bringUpToDate(e, i === lastIndex, analyzers, analyzersVersion, recheck);
      if (e.pendingAnalysis) pendingEntries.add(e);
      const p = e.parsed!;
      const counts = this.countFindings(e, i, audioOf, (sev, build) => {
        if (out.wants(sev)) out.add(build());
        else out.count(sev);
      });
      if (counts !== NO_COUNTS) for (let s = 0; s < 4; s++) if (counts[s]) lines[SEVERITIES[s]!].push(i);
      p.release();
      // A chunk of lines analysed, or (lines already up to date cost little each, but a big file has
      // many) a slice of time spent: a request waiting behind this pass is answered first.
      if (chunk > 0 && (work >= chunk || i + 1 === firstLines || ((i & 1023) === 1023 && performance.now() - sliceStart >= SLICE_MS))) {
        work = 0;
        if (partial && !handedOver && (i + 1 >= firstLines || performance.now() - started >= partial.afterMs)) {
          partial.publish(out.result(), i + 1);
          handedOver = true;
        } else if (partial && handedOver && partial.again?.()) {
          this.recheckArrived(analyzers, analyzersVersion, pendingEntries, out, lines, audioOf);
          partial.publish(out.result(), i + 1);
        }
        // An immediate, not yieldToRequests: the complete pass yields over a hundred times over a big
        // file, and two timer turns each made its structural checks 1.0–1.2 → 1.7 s (bench).
        await new Promise<void>((r) => setImmediate(r));
        sliceStart = performance.now();
        if (opts.isCancelled?.() || this.entries !== entries) throw new CancelledError();
      }
    }
    this.pendingLines = pendingEntries.size;
    this.duplicateFindings((f) => out.add(f), dialect);
    const totals = new Float64Array(4);
    for (const sev of SEVERITIES) totals[severityRank[sev]] = out.countOf(sev);
    // Totals without the cross-line (duplicate name) findings, which are computed afresh each time.
    const dup: Finding[] = [];
    this.duplicateFindings((f) => dup.push(f), dialect);
    for (const f of dup) totals[severityRank[f.severity]]!--;
    if (this.entries === entries)
      this.kept = { key, entries, lineCount: entries.length, lines, totals, audio: audioFinding, pending: pendingEntries };
    return out.result();
  }

  /**
   * During a complete pass: the pending lines checked so far whose results arrived (the texts the
   * analyzers' `arrived` gives, which it then forgets: the lines not reached yet find them in
   * their caches) are analysed again, and their findings in `out` and `lines` replaced.
   */
  private recheckArrived(
    analyzers: TaskLineAnalyzer[],
    analyzersVersion: string,
    pending: PendingEntries,
    out: FindingCollector,
    lines: Record<Severity, number[]>,
    audioOf: (written: string) => ReadonlyArray<Omit<Finding, 'range'>>,
  ): void {
    const lastIndex = this.entries.length - 1;
    const recheck = (e: LineEntry) => {
      const i = e.line;
      const before = e.counts ?? NO_COUNTS;
      this.bringUpToDate(e, i === lastIndex, analyzers, analyzersVersion, true);
      if (e.pendingAnalysis) return;
      pending.delete(e);
      out.removeLine(i, before);
      const counts = this.countFindings(e, i, audioOf, (_sev, build) => out.addLate(build()));
      for (let s = 0; s < 4; s++) placeLine(lines[SEVERITIES[s]!], i, counts[s]! > 0);
      e.parsed?.release();
    };
    for (const a of analyzers) {
      const texts = a.arrived?.();
      if (texts) for (const text of texts) pending.withText(text, recheck);
    }
  }

  /**
   * Takes the texts the analyzers say arrived into `arrivedTexts` (kept there until a pass has
   * looked at their lines: a cancelled pass loses none); 'all' when an analyzer cannot say.
   */
  private collectArrived(analyzers: TaskLineAnalyzer[]): void {
    for (const a of analyzers) {
      if (!a.recheckPending) continue;
      const texts = a.arrived?.();
      if (!texts) this.arrivedTexts = 'all';
      else if (this.arrivedTexts !== 'all') for (const t of texts) this.arrivedTexts.add(t);
    }
  }

  /**
   * Brings the pending lines whose texts arrived up to date, yielding every SLICE_MS: nothing but
   * each line's own analysis changes (its counts, the kept lists and the pending set are
   * validateChanged's), so an edit in a yield leaves nothing half done. Throws CancelledError
   * when the pass is cancelled or the file's lines change.
   */
  private async analyseArrived(kept: Maintained, analyzers: TaskLineAnalyzer[], analyzersVersion: string, opts: TaskValidationOptions) {
    const entries = this.entries;
    const texts = this.arrivedTexts as Set<string>;
    let sliceStart = performance.now();
    let n = 0;
    let yielded = false;
    const stale = () => opts.isCancelled?.() || this.entries !== entries || this.kept !== kept || kept.lineCount !== entries.length;
    const analyse = (e: LineEntry) => {
      this.bringUpToDate(e, e.line === entries.length - 1, analyzers, analyzersVersion, true);
      e.parsed?.release();
    };
    for (const text of texts) {
      kept.pending.withText(text, analyse);
      if ((++n & 63) === 0 && performance.now() - sliceStart >= SLICE_MS) {
        await yieldToRequests();
        yielded = true;
        sliceStart = performance.now();
        if (stale()) throw new CancelledError();
      }
    }
    // A long one: what came in during the last slice goes before the synchronous rest of the pass.
    if (yielded) {
      await yieldToRequests();
      if (stale()) throw new CancelledError();
    }
  }

  /**
   * The validation when only lines replaced in place changed (and pending lines may have got
   * their results): those lines are brought up to date, the per-severity line lists and totals
   * patched, and the published list rebuilt from the lists, walking only as many lines as it shows.
   */
  private validateChanged(
    kept: Maintained,
    opts: TaskValidationOptions,
    analyzers: TaskLineAnalyzer[],
    analyzersVersion: string,
    recheck: boolean,
  ): Finding[] {
    const dialect = this.dialect.dialect;
    const entries = this.entries;
    const lastIndex = entries.length - 1;
    const audioOf = (written: string) => this.audioFindingsOf(written, dialect, opts, kept.audio);
    const touched = new Map<number, Uint32Array>();
    for (const [i, old] of this.replaced) {
      kept.pending.delete(old);
      touched.set(i, old.counts ?? NO_COUNTS);
    }
    this.replaced.clear();
    // Prompt audio read or measured since (the header, the QA worker): the lines of each path whose
    // findings changed are looked at again. A few distinct paths; one walk over the lines if any changed.
    if (opts.promptAudioStatus) {
      const changed = new Set<string>();
      for (const [written, old] of kept.audio) {
        const now = freshAudioFindings(written, dialect, opts);
        if (JSON.stringify(now) !== JSON.stringify(old)) {
          kept.audio.set(written, now);
          changed.add(written);
        }
      }
      if (changed.size)
        for (let i = 0; i < entries.length; i++) {
          const e = entries[i]!;
          if (e.audio !== undefined && changed.has(e.audio) && !touched.has(i)) touched.set(i, e.counts ?? NO_COUNTS);
        }
    }
    // The pending lines asked again (the others touched keep their analysis).
    const asked = new Set<number>();
    if (recheck) {
      const ask = (e: LineEntry) => {
        asked.add(e.line);
        if (!touched.has(e.line)) touched.set(e.line, e.counts ?? NO_COUNTS);
      };
      this.collectArrived(analyzers);
      const arrived = this.arrivedTexts;
      this.arrivedTexts = new Set();
      if (arrived !== 'all') {
        for (const text of arrived) kept.pending.withText(text, ask);
      } else for (const e of kept.pending) ask(e);
    }
    for (const [i, before] of touched) {
      const e = entries[i]!;
      e.line = i;
      this.bringUpToDate(e, i === lastIndex, analyzers, analyzersVersion, asked.has(i));
      if (e.pendingAnalysis) kept.pending.add(e);
      else kept.pending.delete(e);
      const counts = this.countFindings(e, i, audioOf);
      for (let s = 0; s < 4; s++) {
        kept.totals[s]! += (counts[s] ?? 0) - (before[s] ?? 0);
        if (touched.size <= SPLICE_LIMIT) placeLine(kept.lines[SEVERITIES[s]!], i, counts[s]! > 0);
      }
    }
    // Many lines at once (a batch of results): each list merged with the lines touched, in order,
    // not one splice each (nor a walk over every line of the file: 8 ms a pass at 100,000 lines).
    if (touched.size > SPLICE_LIMIT) {
      const order = Int32Array.from(touched.keys()).sort();
      for (let s = 0; s < 4; s++) {
        const sev = SEVERITIES[s]!;
        const old = kept.lines[sev];
        const merged: number[] = [];
        let k = 0;
        for (let t = 0; t < order.length; t++) {
          const i = order[t]!;
          while (k < old.length && old[k]! < i) merged.push(old[k++]!);
          if (old[k] === i) k++;
          if (entries[i]!.counts![s]) merged.push(i);
        }
        while (k < old.length) merged.push(old[k++]!);
        kept.lines[sev] = merged;
      }
    }
    this.pendingLines = kept.pending.size;

    // The published list: per severity, the lines in order until the cap is reached.
    const dup: Finding[] = [];
    this.duplicateFindings((f) => dup.push(f), dialect);
    const max = opts.maxPerFile;
    const result: Finding[] = [];
    const left: Record<Severity, number> = { error: 0, warning: 0, information: 0, hint: 0 };
    for (let s = 0; s < 4; s++) {
      const sev = SEVERITIES[s]!;
      const room = Math.max(0, max - result.length);
      const mine = dup.filter((f) => f.severity === sev);
      const inLines = kept.totals[s]!;
      const total = inLines + mine.length;
      // As the complete pass keeps them (FindingCollector): the first `max` findings of the lines,
      // then cross-line ones while there is room for them, sorted by position. Whole lines are
      // taken, so that the sort within the last one is the same.
      const bucket: Finding[] = [];
      const need = inLines >= max ? room : inLines;
      const lines = kept.lines[sev];
      for (let k = 0; k < lines.length && bucket.length < need; k++) {
        const i = lines[k]!;
        this.forEachFinding(entries[i]!, i, audioOf, (s, build) => {
          if (s === sev) bucket.push(build());
        });
      }
      if (inLines < max) bucket.push(...mine.slice(0, max - inLines));
      if (!inOrder(bucket)) bucket.sort((x, y) => comparePos(x.range.start, y.range.start));
      const taken = Math.min(room, total);
      for (let k = 0; k < taken; k++) result.push(bucket[k]!);
      left[sev] = total - taken;
    }
    return withLimitNotice(result, left, max);
  }

  /** Parses and analyses a line as needed; returns the work done (for the yields of a long pass). */
  private bringUpToDate(e: LineEntry, isLast: boolean, analyzers: TaskLineAnalyzer[], analyzersVersion: string, recheck: boolean): number {
    let work = 0;
    let p = e.parsed;
    if (!p) {
      p = this.parse(e, isLast);
      work += 1;
    }
    if (
      analyzers.length &&
      p.kind === 'object' &&
      (e.analyzedVersion !== analyzersVersion || !e.analyzed || (recheck && e.pendingAnalysis))
    ) {
      // Most lines have none: one shared empty list for them (an array each was ~3 MB at 100,000 lines).
      let analyzed: LineFinding[] | undefined;
      e.pendingAnalysis = false;
      for (const a of analyzers) {
        const found = a.analyze(p);
        if (found === PENDING_FINDINGS) e.pendingAnalysis = true;
        else if (found.length) (analyzed ??= []).push(...found);
      }
      e.analyzed = analyzed ?? NO_FINDINGS;
      e.analyzedVersion = analyzersVersion;
      work += 4;
    } else if (!analyzers.length) {
      e.analyzed = undefined;
      e.pendingAnalysis = false;
    }
    return work;
  }

  /**
   * Each finding of a line, with its severity; `build` makes it (placed at line `i`) only when the
   * caller keeps it: the line's own (parse, schema), its analyzers', its prompt audio's.
   */
  private forEachFinding(
    e: LineEntry,
    i: number,
    audioOf: (written: string) => ReadonlyArray<Omit<Finding, 'range'>>,
    visit: (severity: Severity, build: () => Finding) => void,
  ): void {
    const p = e.parsed!;
    for (const f of p.findings) visit(f.severity, () => atLineShared(i, f));
    if (e.analyzed && p.kind === 'object') for (const f of e.analyzed) visit(f.severity, () => atLineShared(i, f));
    if (e.audio !== undefined) for (const af of audioOf(e.audio)) visit(af.severity, () => ({ ...af, range: audioRange(e) }));
  }

  /**
   * Counts the findings of line `i` by severity into `e.counts` (NO_COUNTS when it has none) and
   * returns them; `take` gets each finding as forEachFinding gives it.
   */
  private countFindings(
    e: LineEntry,
    i: number,
    audioOf: (written: string) => ReadonlyArray<Omit<Finding, 'range'>>,
    take?: (severity: Severity, build: () => Finding) => void,
  ): Uint32Array {
    let counts = NO_COUNTS;
    this.forEachFinding(e, i, audioOf, (sev, build) => {
      if (counts === NO_COUNTS) counts = new Uint32Array(4);
      counts[severityRank[sev]]!++;
      take?.(sev, build);
    });
    return (e.counts = counts === NO_COUNTS ? counts : sharedCounts(counts));
  }

  /** The prompt-audio findings of a path as written (one status per path and pass). */
  private audioFindingsOf(
    written: string,
    dialect: TaskDialect,
    opts: TaskValidationOptions,
    cache: Map<string, Array<Omit<Finding, 'range'>>>,
  ): Array<Omit<Finding, 'range'>> {
    if (!opts.promptAudioStatus) return NO_AUDIO_FINDINGS;
    let afs = cache.get(written);
    if (afs === undefined) cache.set(written, (afs = freshAudioFindings(written, dialect, opts)));
    return afs;
  }

  private duplicateFindings(add: (f: Finding) => void, dialect: TaskDialect) {
    const key = TASK_FIELDS[dialect].name;
    const nameRange = (e: LineEntry) => {
      const f = e.parsed!.field('name');
      return f ? range(e.line, f.valueStart, f.valueEnd) : range(e.line, 0, e.text.length);
    };
    for (const name of this.duplicates) {
      const group = [...(this.names.get(name) as LineEntry[])].sort((a, b) => a.line - b.line);
      for (const e of group) {
        const others = group.filter((o) => o !== e);
        add({
          range: nameRange(e),
          severity: 'error',
          code: 'task/duplicate-name',
          message: `Duplicate ${key} "${name}" (also on line ${others
            .map((o) => o.line + 1)
            .slice(0, 5)
            .join(
              ', ',
            )}${others.length > 5 ? ', …' : ''}): ${dialect === 'upstream' ? 'GLM-TTS silently overwrites' : 'the later output overwrites'} ${name}.wav.`,
          related: others
            .slice(0, 20)
            .map((o): RelatedInformation => ({ range: nameRange(o), message: `${key} "${name}" is used here too` })),
        });
      }
    }
    for (const [lower, upper] of this.folded) {
      const exact = this.names.get(lower);
      const group = [...upper, ...(exact === undefined ? [] : Array.isArray(exact) ? exact : [exact])].sort((a, b) => a.line - b.line);
      if (new Set(group.map((e) => e.name)).size < 2) continue;
      for (const e of group) {
        const others = group.filter((o) => o.name !== e.name);
        add({
          range: nameRange(e),
          severity: 'warning',
          code: 'task/case-collision',
          message: `${key} "${e.name}" differs from line ${others[0]!.line + 1} only in letter case ("${lower}"): the files collide on macOS and Windows.`,
          related: others.slice(0, 20).map((o) => ({ range: nameRange(o), message: `"${o.name}" is here` })),
        });
      }
    }
  }
}

const HAS_UPPER = /[A-Z]/;

/** Changed lines above which the per-severity lists are rebuilt in one walk rather than spliced line by line. */
const SPLICE_LIMIT = 64;
const NO_COUNTS = new Uint32Array(4);

/** What a validation keeps for the next one (TaskFileModel.kept). */
interface Maintained {
  /** The dialect, analyzers and limits it was computed with. */
  key: string;
  entries: LineEntry[];
  lineCount: number;
  /** Per severity, the indexes of the lines with findings of it, ascending. */
  lines: Record<Severity, number[]>;
  /** Per severity rank, the findings of all lines (cross-line ones not included). */
  totals: Float64Array;
  audio: Map<string, Array<Omit<Finding, 'range'>>>;
  /** Lines an analyzer could not judge yet. */
  pending: PendingEntries;
}

/** The lines an analyzer could not judge yet, also found by their task text. */
class PendingEntries {
  private readonly all = new Map<LineEntry, string>();
  private readonly byText = new Map<string, LineEntry | Set<LineEntry>>();

  get size(): number {
    return this.all.size;
  }

  [Symbol.iterator](): IterableIterator<LineEntry> {
    return this.all.keys();
  }

  add(e: LineEntry): void {
    if (this.all.has(e)) return;
    const text = e.parsed?.get('text') ?? '';
    this.all.set(e, text);
    const there = this.byText.get(text);
    if (there === undefined) this.byText.set(text, e);
    else if (there instanceof Set) there.add(e);
    else this.byText.set(text, new Set([there, e]));
  }

  delete(e: LineEntry): void {
    const text = this.all.get(e);
    if (text === undefined) return;
    this.all.delete(e);
    const there = this.byText.get(text);
    if (there === e) this.byText.delete(text);
    else if (there instanceof Set) {
      there.delete(e);
      if (there.size === 0) this.byText.delete(text);
    }
  }

  /** Calls `f` for each pending line whose task text is `text`. */
  withText(text: string, f: (e: LineEntry) => void): void {
    const there = this.byText.get(text);
    if (there instanceof Set) for (const e of [...there]) f(e);
    else if (there) f(there);
  }
}

/**
 * One array per distinct set of small counts (a line's counts are never changed once counted):
 * a big file's lines have a few patterns — one warning, two — and an array each took ~200 bytes
 * (45,000 lines with findings: ~9 MB).
 */
const countPatterns = new Map<number, Uint32Array>();
function sharedCounts(c: Uint32Array): Uint32Array {
  if (c[0]! > 255 || c[1]! > 255 || c[2]! > 255 || c[3]! > 255) return c;
  const key = c[0]! + c[1]! * 256 + c[2]! * 65536 + c[3]! * 16777216;
  const hit = countPatterns.get(key);
  if (hit) return hit;
  if (countPatterns.size < 4096) countPatterns.set(key, c);
  return c;
}

/** Line `i` in or out of `list` (ascending line numbers, each once) as it `has` findings of the list's severity. */
function placeLine(list: number[], i: number, has: boolean): void {
  const at = lowerBound(list, i);
  const there = list[at] === i;
  if (has && !there) list.splice(at, 0, i);
  else if (!has && there) list.splice(at, 1);
}

/** The first index of `list` (ascending) whose value is ≥ x. */
function lowerBound(list: number[], x: number): number {
  let lo = 0,
    hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function audioRange(e: LineEntry): Range {
  if (!e.audioRange) {
    const f = e.parsed!.field('promptAudio');
    e.audioRange = f ? [f.valueStart, f.valueEnd] : [0, e.text.length];
  }
  return range(e.line, e.audioRange[0], e.audioRange[1]);
}

function addTo<K, V>(map: Map<K, Set<V>>, key: K, value: V) {
  const set = map.get(key);
  if (set) set.add(value);
  else map.set(key, new Set([value]));
}

function removeFrom<K, V>(map: Map<K, Set<V>>, key: K, value: V) {
  const set = map.get(key);
  if (!set) return;
  set.delete(value);
  if (!set.size) map.delete(key);
}

function promptAudioFinding(
  st: PromptAudioStatus,
  limits: { minSeconds: number; maxSeconds: number },
  key: string,
): Omit<Finding, 'range'> | undefined {
  switch (st.state) {
    case 'pending':
      return undefined;
    case 'missing':
      return { severity: 'error', code: 'task/prompt-audio-missing', message: `Prompt audio not found: ${st.path}` };
    case 'unreadable':
      return {
        severity: 'error',
        code: 'task/prompt-audio-unreadable',
        message: `"${key}" is not a readable WAV file: ${st.reason} (${st.path})`,
      };
    case 'ok': {
      const problems: string[] = [];
      let severity: Finding['severity'] = 'warning';
      if (st.truncated) problems.push('the file is truncated (the data chunk claims more bytes than there are)');
      if (st.channels !== 1) problems.push(`it has ${st.channels} channels; the teacher uses only the first one`);
      const d = st.durationSeconds;
      if (d < limits.minSeconds || d > limits.maxSeconds)
        problems.push(
          `it lasts ${d.toFixed(2)} s; GLM-TTS asks for ${limits.minSeconds}–${limits.maxSeconds} s of clean single-speaker speech`,
        );
      if (d === 0) severity = 'error';
      if (!problems.length) return undefined;
      return { severity, code: 'task/prompt-audio-quality', message: `Prompt audio: ${problems.join('; ')}.` };
    }
  }
}

/** The signal QA of a prompt recording against the thresholds (noise, clipping, band limit, silence), as one warning. */
function promptQaFinding(m: SignalMeasures, t: QaThresholds): Omit<Finding, 'range'> | undefined {
  const reasons = signalReasons(m, t, { prompt: true });
  if (!reasons.length) return undefined;
  const details = reasons.map((r) => r.slice(reasonCode(r).length + 1).trim());
  return {
    severity: 'warning',
    code: 'task/prompt-audio-qa',
    message: `Prompt audio quality: ${details.join('; ')}. The teacher clones what it hears: use a clean recording.`,
  };
}

/**
 * Where the teacher looks for a prompt audio path as written in a task: absolute paths as they
 * are; upstream paths relative to the GLM-TTS checkout root (else the workspace folder); web UI
 * paths relative to the task file's folder.
 */
export function resolvePromptAudio(
  written: string,
  dialect: TaskDialect,
  taskFile: string | undefined,
  glmttsPath: string,
  workspaceFolder: string | undefined,
): string {
  if (path.isAbsolute(written)) return written;
  if (dialect === 'upstream') {
    const root = glmttsPath
      ? path.resolve(workspaceFolder ?? process.cwd(), glmttsPath)
      : (workspaceFolder ?? (taskFile ? path.dirname(taskFile) : process.cwd()));
    return path.resolve(root, written);
  }
  return path.resolve(taskFile ? path.dirname(taskFile) : (workspaceFolder ?? process.cwd()), written);
}
