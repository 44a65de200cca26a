import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { Finding } from '../findings';
import { range } from '../findings';
import type { Settings } from '../settings';
import type { TaskLineAnalyzer } from '../formats/taskFile';
import { ReplaceDict } from './dictionary';
import { dictionaryPronunciationFindings, type ParsedDictionary, parseDictionaryFile } from '../formats/dictFile';
import { createPolyphoneAnalyzer, type PolyphoneAnalyzer, type RecordedRun, type RecordedRuns, type SecondOpinion } from './polyphones';
import { candidateReadings } from './teacherReadings';
import { AbleList, loadAbleList } from './g2p/ableList';
import { isHan, parseReplacement } from '../formats/notation';
import { findFiles } from '../util/findFiles';

/**
 * The pronunciation checks as the CLI and the server both run them: polyphone flags on task
 * lines, and pronunciation checks of G2P dictionaries. `PronunciationWorkspace` holds what they
 * need from disk (the workspace dictionary, the student, earlier teacher runs), loaded
 * asynchronously and cached by mtime, so that the per-line analysis itself is synchronous.
 */
export interface PronunciationEnv {
  /** Workspace folder: the dictionary path of the settings is relative to it. */
  workspaceFolder?: string;
  /** Absolute path of the file being checked. */
  file?: string;
}

/** The workspace dictionary's absolute path. */
export function dictionaryPath(settings: Settings, workspaceFolder: string | undefined): string {
  return path.resolve(workspaceFolder ?? process.cwd(), settings.dictionary.path);
}

interface FileStamp {
  mtimeMs: number;
  size: number;
}
async function stamp(file: string): Promise<FileStamp | undefined> {
  try {
    const st = await fs.stat(file);
    return st.isFile() ? { mtimeMs: st.mtimeMs, size: st.size } : undefined;
  } catch {
    return undefined;
  }
}
const sameStamp = (a: FileStamp | undefined, b: FileStamp | undefined) => a?.mtimeMs === b?.mtimeMs && a?.size === b?.size;

export interface DictionaryState {
  file: string;
  dict: ReplaceDict;
  parsed: ParsedDictionary;
  /** The text came from an open editor, not from disk. */
  unsaved: boolean;
}

const RESCAN_MS = 5000;

export class PronunciationWorkspace {
  dictionary: DictionaryState;
  student: SecondOpinion | undefined;
  recorded: RecordedRuns | undefined;
  /** GLM-TTS's able list: the checkout's (`teacher.glmttsPath`) when it has one, else the bundled copy. */
  able: AbleList = AbleList.bundled;
  /** Why the checkout's able list is not used (shown once). */
  ableProblem: string | undefined;
  private dictStamp: FileStamp | undefined;
  private dictTextOverride: string | undefined;
  private studentStamp: FileStamp | undefined;
  private studentFile = '';
  private runStamps = new Map<string, FileStamp>();
  private runFiles: string[] = [];
  private runsKey = '';
  private runsScannedAt = 0;
  private runScanSkipped = false;

  /** Milliseconds until a skipped look for new run manifests can happen (undefined when none was skipped). */
  get runScanDueInMs(): number | undefined {
    return this.runScanSkipped ? Math.max(0, this.runsScannedAt + RESCAN_MS - Date.now()) + 1 : undefined;
  }
  /** Set after a student model failed to load (shown once). */
  studentError: string | undefined;
  /**
   * Which student gives the second opinion (a workspace model file, else the default one), known
   * without loading it. `student` is loaded only when `loadStudentHere` (the CLI, and the language
   * server without worker threads: its workers load their own).
   */
  studentRef: { file?: string; version: string; label: string } = { version: '', label: 'the student' };
  loadStudentHere = true;
  /** The `studentRef.version` that `student` was loaded for. */
  private studentLoaded: string | undefined;

  constructor(readonly folder: string | undefined) {
    const file = path.resolve(folder ?? process.cwd(), 'G2P_replace_dict.jsonl');
    this.dictionary = { file, dict: ReplaceDict.empty, parsed: parseDictionaryFile(''), unsaved: false };
  }

  /**
   * Reloads whatever changed on disk (or in `dictText`, the dictionary's unsaved editor text).
   * Returns whether anything the checks depend on changed.
   */
  async refresh(settings: Settings, opts: { dictText?: string } = {}): Promise<boolean> {
    let changed = false;
    const file = dictionaryPath(settings, this.folder);
    if (opts.dictText !== undefined) {
      if (file !== this.dictionary.file || opts.dictText !== this.dictTextOverride) {
        this.dictTextOverride = opts.dictText;
        this.dictStamp = undefined;
        this.dictionary = {
          file,
          dict: ReplaceDict.fromText(opts.dictText, file),
          parsed: parseDictionaryFile(opts.dictText),
          unsaved: true,
        };
        changed = true;
      }
    } else {
      const st = await stamp(file);
      if (
        file !== this.dictionary.file ||
        this.dictTextOverride !== undefined ||
        !sameStamp(st, this.dictStamp) ||
        (!st && this.dictionary.dict.size)
      ) {
        this.dictTextOverride = undefined;
        const text = st ? await fs.readFile(file, 'utf8').catch(() => '') : '';
        const next = { file, dict: ReplaceDict.fromText(text, file), parsed: parseDictionaryFile(text), unsaved: false };
        if (next.dict.version !== this.dictionary.dict.version || file !== this.dictionary.file) changed = true;
        this.dictionary = next;
        this.dictStamp = st;
      }
    }
    // The able list GLM-TTS will use.
    const able = await loadAbleList(settings.teacher.glmttsPath || undefined, this.folder);
    if (able.list !== this.able) {
      this.able = able.list;
      changed = true;
    }
    this.ableProblem = able.problem;
    // The student: a second opinion once a model file exists.
    const studentFile = path.resolve(this.folder ?? process.cwd(), settings.student.modelPath);
    const sst = await stamp(studentFile);
    if (studentFile !== this.studentFile || !sameStamp(sst, this.studentStamp)) {
      this.studentFile = studentFile;
      this.studentStamp = sst;
      // Without a workspace model, the default student (trained on CPP dev) gives the second opinion.
      this.studentRef = sst
        ? { file: studentFile, version: `file:${studentFile}:${sst.mtimeMs}:${sst.size}`, label: 'the student' }
        : { version: 'default', label: 'the default student' };
      changed = true;
    }
    if (this.loadStudentHere && this.studentLoaded !== this.studentRef.version) {
      this.studentLoaded = this.studentRef.version;
      const before = this.student?.version;
      const file = this.studentRef.file;
      this.student = file
        ? await loadStudentOpinion(file).then(
            (s) => {
              this.studentError = undefined;
              return s;
            },
            (err: Error) => {
              this.studentError = `${file}: ${err.message}`;
              return undefined;
            },
          )
        : undefined;
      if (!file)
        this.student = await loadStudentOpinion(undefined).catch((err: Error) => {
          this.studentError = err.message;
          return undefined;
        });
      if (this.student?.version !== before) changed = true;
    }
    // Earlier teacher runs. Output folders can hold many thousand WAVs: look for new manifests at most every few seconds.
    const runsKey = JSON.stringify([
      settings.batch.outputDir,
      settings.batch.testOutputDir,
      settings.slurm.sharedDir,
      settings.teacher.glmttsPath,
      settings.teacher.glmttsExpName,
    ]);
    if (runsKey !== this.runsKey || Date.now() - this.runsScannedAt > RESCAN_MS) {
      this.runFiles = await findRunFiles(settings, this.folder);
      this.runsKey = runsKey;
      this.runsScannedAt = Date.now();
      this.runScanSkipped = false;
    } else this.runScanSkipped = true;
    const runFiles = this.runFiles;
    const stamps = new Map<string, FileStamp>();
    for (const f of runFiles) {
      const st = await stamp(f);
      if (st) stamps.set(f, st);
    }
    let runsChanged = stamps.size !== this.runStamps.size;
    for (const [f, st] of stamps) if (!sameStamp(st, this.runStamps.get(f))) runsChanged = true;
    if (runsChanged) {
      this.runStamps = stamps;
      this.recorded = stamps.size ? await loadRecordedRuns([...stamps.keys()], this.folder) : undefined;
      changed = true;
    }
    return changed;
  }

  /** Where the rule with `key` on `line` sits in the dictionary file. */
  ruleLocation = (key: string, line: number | undefined): { file?: string; range: ReturnType<typeof range> } | undefined => {
    const entries = this.dictionary.parsed.entries;
    for (let i = entries.length - 1; i >= 0; i--) {
      const e = entries[i]!;
      if (e.key === key && (line === undefined || e.line === line))
        return { file: this.dictionary.file, range: range(e.line, e.keyStart, e.keyEnd) };
    }
    return undefined;
  };

  /** The polyphone analyzer for the current state (undefined when polyphone flags are off). */
  analyzer(settings: Settings, extra: { raisedOnly?: boolean } = {}): PolyphoneAnalyzer | undefined {
    if (!settings.polyphones.enabled) return undefined;
    return createPolyphoneAnalyzer({
      ...extra,
      dict: this.dictionary.dict,
      dictName: path.basename(this.dictionary.file),
      ruleLocation: this.ruleLocation,
      severity: settings.polyphones.severity,
      ignore: settings.polyphones.ignore,
      student: this.student,
      studentRef: this.studentRef.version ? this.studentRef : undefined,
      recorded: this.recorded,
      able: this.able,
    });
  }
}

export async function loadStudentOpinion(file: string | undefined): Promise<SecondOpinion> {
  // Loaded on demand: the server pays for the student only when the polyphone checks run.
  const { loadDefaultStudent, loadStudent } = await import('../student/model');
  const { misreadingAt } = await import('../student/secondOpinion');
  const s = file ? await loadStudent(file) : await loadDefaultStudent();
  return {
    version: file ? s.version : `default:${s.version}`,
    label: file ? 'the student' : 'the default student',
    predict: (text, index) => s.predict(text, index),
    // A model without a calibrated confidence (format 1) raises the flag wherever it disagrees, as before.
    ...(s.file.calibration
      ? {
          misreading: (text: string, index: number, teacher: string) => {
            const m = misreadingAt(text, index, teacher, s);
            return m && { reading: m.studentReading, confidence: m.confidence };
          },
        }
      : {}),
  };
}

/** manifest.jsonl of the production and test output folders (and their sub-folders, e.g. Slurm shards); GLM-TTS text_compare.jsonl. */
async function findRunFiles(settings: Settings, folder: string | undefined): Promise<string[]> {
  const base = folder ?? process.cwd();
  const out: string[] = [];
  for (const dir of [settings.batch.outputDir, settings.batch.testOutputDir, settings.slurm.sharedDir]) {
    if (!dir) continue;
    await findFiles(path.resolve(base, dir), 3, (n) => n === 'manifest.jsonl', out);
  }
  if (settings.teacher.glmttsPath) {
    await findFiles(
      path.resolve(base, settings.teacher.glmttsPath, 'outputs', `pretrain${settings.teacher.glmttsExpName}`),
      1,
      (n) => n === 'text_compare.jsonl',
      out,
    );
  }
  return out;
}

/** Recorded teacher readings by text; the newest file wins for a text spoken in several runs. */
async function loadRecordedRuns(files: string[], folder: string | undefined): Promise<RecordedRuns> {
  const { readManifest, readTextCompare } = await import('../batch/manifest');
  const byText = new Map<string, RecordedRun>();
  const withTimes = await Promise.all(files.map(async (f) => ({ f, t: (await stamp(f))?.mtimeMs ?? 0 })));
  withTimes.sort((a, b) => a.t - b.t);
  const versionParts: string[] = [];
  for (const { f, t } of withTimes) {
    versionParts.push(`${f}@${t}`);
    const run = `run ${path.relative(folder ?? process.cwd(), path.dirname(f)) || '.'}`;
    if (path.basename(f) === 'manifest.jsonl') {
      for (const r of await readManifest(f).catch(() => [])) {
        if (Array.isArray(r.readings) && r.readings.length === r.text.length)
          byText.set(r.text, { readings: r.readings, run: `${run} (${r.name})`, file: f });
      }
    } else {
      for (const r of await readTextCompare(f).catch(() => [])) {
        if (!r.syn_text_phoneme.length) continue;
        const readings = readingsFromPhonemes(r.syn_text, r.syn_text_phoneme.join(''));
        if (readings) byText.set(r.syn_text, { readings, run: `${run} (${r.uttid}, text_compare.jsonl)`, file: f });
      }
    }
  }
  return { version: `runs:${versionParts.join(',')}`, lookup: (text) => byText.get(text) };
}

/**
 * Maps the teacher's phoneme text (normalised, Han characters either kept or written as
 * tokens) back onto the characters of the original text: each syllable goes to the next Han
 * character that can be read so; kept characters match themselves. Null where nothing says.
 */
export function readingsFromPhonemes(text: string, phonemes: string): Array<string | null> | undefined {
  const units = parseReplacement(phonemes).filter((p) => p.kind === 'syllable' || (p.kind === 'text' && isHan(p.text.codePointAt(0)!)));
  const out: Array<string | null> = new Array(text.length).fill(null);
  let u = 0;
  let matched = 0;
  for (let i = 0; i < text.length && u < units.length; i++) {
    const cp = text.codePointAt(i)!;
    if (!isHan(cp)) continue;
    const ch = String.fromCodePoint(cp);
    // Look a few units ahead: normalisation may have added characters (spelled-out numbers).
    for (let k = u; k < Math.min(units.length, u + 8); k++) {
      const p = units[k]!;
      if (p.kind === 'text' && p.text === ch) {
        u = k + 1;
        matched++;
        break;
      }
      if (p.kind === 'syllable' && candidateReadings(ch).some((c) => c === p.pinyin || c.slice(0, -1) === p.pinyin.slice(0, -1))) {
        out[i] = p.pinyin;
        u = k + 1;
        matched++;
        break;
      }
    }
    if (cp > 0xffff) i++;
  }
  return matched ? out : undefined;
}

const workspaces = new Map<string, PronunciationWorkspace>();
function workspaceFor(folder: string | undefined): PronunciationWorkspace {
  const key = folder ?? '';
  let w = workspaces.get(key);
  if (!w) workspaces.set(key, (w = new PronunciationWorkspace(folder)));
  return w;
}

export async function taskLineAnalyzers(settings: Settings, env: PronunciationEnv): Promise<TaskLineAnalyzer[]> {
  if (!settings.polyphones.enabled) return [];
  const w = workspaceFor(env.workspaceFolder);
  await w.refresh(settings);
  // As in the editor: without ttsDistill.polyphones.informationDiagnostics only the raised findings are kept.
  const severity = settings.polyphones.severity;
  const raisedOnly = !settings.polyphones.informationDiagnostics && (severity === 'information' || severity === 'hint');
  const a = w.analyzer(settings, { raisedOnly });
  return a ? [a] : [];
}

export async function dictionaryFindings(text: string, settings: Settings, env: PronunciationEnv): Promise<Finding[]> {
  const contexts = env.workspaceFolder ? await workspaceTaskTexts(env.workspaceFolder) : [];
  const out = dictionaryPronunciationFindings(parseDictionaryFile(text), { file: env.file, contexts });
  if (env.file && isCheckoutDictionary(env.file, settings, env.workspaceFolder)) out.push(...ruleLinesAtCheckout(text));
  return out;
}

/** `<checkout>/configs/G2P_replace_dict.jsonl`: the file GLM-TTS reads as it is (the configured checkout's, or one beside a glmtts_inference.py). */
export function isCheckoutDictionary(file: string, settings: Settings, workspaceFolder: string | undefined): boolean {
  if (path.basename(file) !== 'G2P_replace_dict.jsonl' || path.basename(path.dirname(file)) !== 'configs') return false;
  const checkout = path.dirname(path.dirname(file));
  if (settings.teacher.glmttsPath && path.resolve(workspaceFolder ?? process.cwd(), settings.teacher.glmttsPath) === checkout) return true;
  return existsSync(path.join(checkout, 'glmtts_inference.py'));
}

/** Rule-dialect lines where GLM-TTS reads the upstream dialect: it would add the literal keys "word", "context" and "phoneme". */
export function ruleLinesAtCheckout(text: string): Finding[] {
  const out: Finding[] = [];
  text.split(/\r\n|\r|\n/).forEach((raw, line) => {
    let v: unknown;
    try {
      v = JSON.parse(raw.replace(/^\uFEFF/, ''));
    } catch {
      return;
    }
    if (!v || typeof v !== 'object' || Array.isArray(v) || !('word' in v || 'context' in v || 'phoneme' in v)) return;
    const start = raw.length - raw.trimStart().length;
    out.push({
      range: range(line, start, raw.trimEnd().length),
      severity: 'error',
      code: 'dict/rule-dialect-in-checkout',
      message:
        'GLM-TTS reads this file as it is, in the upstream dialect: this rule-dialect line would add the literal keys "word", "context" and "phoneme" and pin nothing. Keep the rules in the workspace dictionary (tts-distill installs it here, converted, before a glmtts-cli run) or convert this file (TTS Distill: Convert G2P Dictionary to the Other Dialect).',
    });
  });
  return out;
}

const taskTextCache = new Map<string, { stamp: FileStamp; texts: string[] }>();
const taskFileLists = new Map<string, { at: number; files: string[] }>();

/**
 * The texts of the workspace's task files (`*.tasks.jsonl`, at most 4 folders deep, skipping
 * hidden folders and node_modules), cached by mtime. `override` replaces a file's texts with
 * those of its open editor.
 */
export async function workspaceTaskTexts(folder: string, override?: Map<string, string[]>): Promise<string[]> {
  let listed = taskFileLists.get(folder);
  if (!listed || Date.now() - listed.at > RESCAN_MS) {
    const found: string[] = [];
    await findFiles(folder, 4, (n) => !n.startsWith('.') && n.endsWith('.tasks.jsonl'), found);
    taskFileLists.set(folder, (listed = { at: Date.now(), files: found }));
  }
  const files = listed.files;
  const out: string[] = [];
  for (const f of files) {
    const o = override?.get(f);
    if (o) {
      out.push(...o);
      continue;
    }
    const st = await stamp(f);
    if (!st || st.size > 64 * 1024 * 1024) continue;
    let hit = taskTextCache.get(f);
    if (!hit || !sameStamp(hit.stamp, st)) {
      const text = await fs.readFile(f, 'utf8').catch(() => '');
      hit = { stamp: st, texts: taskTextsOf(text) };
      taskTextCache.set(f, hit);
    }
    out.push(...hit.texts);
  }
  if (override) for (const [f, texts] of override) if (!files.includes(f)) out.push(...texts);
  return out;
}

/** The text to speak of each line of a task file (either dialect). */
export function taskTextsOf(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split(/\r\n|\r|\n/)) {
    if (!line.includes('_text')) continue;
    try {
      const v = JSON.parse(line.replace(/^\uFEFF/, '')) as Record<string, unknown>;
      const t = v.input_text ?? v.syn_text;
      if (typeof t === 'string') out.push(t);
    } catch {
      /* reported by the task checks */
    }
  }
  return out;
}
