// Worker-thread entry (bundled to dist/readingsWorker.js): the polyphone verdicts of task lines
// for the language server (the teacher's readings and the second opinion on each polyphone), so a
// 100,000-line file is read on every core while the server keeps answering. Messages: see ReadingsPool.
import { getPriority, setPriority } from 'node:os';
import { parentPort } from 'node:worker_threads';
import { ReplaceDict } from './dictionary';
import { predictReadings } from './teacherReadings';
import { AbleList } from './g2p/ableList';
import { keepG2PTexts } from './g2p/glmG2P';
import { polyphoneVerdicts, type SecondOpinion, type VerdictOptions } from './polyphones';
import { loadStudentOpinion } from './checks';
import type { ReadingsWorkerReply, ReadingsWorkerRequest } from './readingsPool';
import { SyllableTable } from './lineCache';

type Config = Extract<ReadingsWorkerRequest, { type: 'config' }>;
/** How much nicer than the server's thread the readings workers run (Linux): below it and the editor. */
const WORKER_NICE = 10;
/** TTS_DISTILL_TRACE=1: the worker's heap now and then on stderr. */
const TRACE = !!process.env.TTS_DISTILL_TRACE;

let current: { key: string; options: Promise<VerdictOptions> } | undefined;
let dictCache: { version: string; dict: ReplaceDict } | undefined;
let ableCache: AbleList | undefined;
/** The ids the readings are sent with; the server keeps a copy, extended by each reply. */
const syllables = new SyllableTable();
let syllablesSent = 1;
let studentCache: { file: string | undefined; opinion: Promise<SecondOpinion | undefined> } | undefined;

const trace = (line: string) => void (TRACE && process.stderr.write(`[${Date.now()}] readings worker: ${line}\n`));
trace('started');
/**
 * Background work: on Linux a thread's nice value is its own (setpriority of "process" 0 is the
 * calling thread), so the server's thread and the editor get a core first when they need one, and
 * the workers every cycle left. Not before the first batch of background lines, though: loading and
 * the lines in view (the first batches) are what the user waits for, and a niced worker shared the
 * cores with the server's first pass over a big file (npm run bench -- lsp: every warning in view
 * after 959–1,143 ms niced from the start, 803–906 ms this way). The value cannot come down again
 * unprivileged, so it stays. Elsewhere it would be the whole process's: left as it is.
 */
let niced = process.platform !== 'linux' || !!process.env.TTS_DISTILL_WORKERS_NOT_NICE;
function niceFromNowOn(): void {
  if (niced) return;
  niced = true;
  try {
    setPriority(Math.min(19, getPriority() + WORKER_NICE));
    trace('niced');
  } catch {
    // Not allowed here (a container's policy): the workers run at the server's priority.
  }
}
// Load the G2P's dictionaries now, before the first batch arrives. No text comes twice here.
keepG2PTexts(false);
predictReadings('预热一下');
trace('G2P loaded');
// And the default student, which nearly every configuration asks for: the server sends its
// configuration only once it has looked at the workspace (a second or two into a big file).
studentCache = {
  file: undefined,
  opinion: loadStudentOpinion(undefined).then(
    (s) => (trace('default student loaded'), s),
    () => undefined,
  ),
};

function optionsOf(m: Config): Promise<VerdictOptions> {
  if (dictCache?.version !== m.dict.version)
    dictCache = { version: m.dict.version, dict: m.dict.version === 'empty' ? ReplaceDict.empty : new ReplaceDict(m.dict.entries) };
  const able = !m.able.chars
    ? AbleList.bundled
    : ableCache?.version === m.able.version
      ? ableCache
      : (ableCache = new AbleList(m.able.chars, m.able.origin ?? 'checkout'));
  let student: Promise<SecondOpinion | undefined> = Promise.resolve(undefined);
  if (m.student) {
    // The same model as the server's (a workspace file, else the default student); loaded once per file.
    if (!studentCache || studentCache.file !== m.student.file)
      studentCache = { file: m.student.file, opinion: loadStudentOpinion(m.student.file).catch(() => undefined) };
    student = studentCache.opinion;
  }
  const dict = dictCache.dict;
  return student.then((s) => ({ dict, able, student: s, raisedOnly: m.raisedOnly }));
}

parentPort!.on('message', (m: ReadingsWorkerRequest) => {
  if (m.type === 'config') {
    current = { key: m.key, options: optionsOf(m) };
    return;
  }
  if (!current || current.key !== m.key) {
    parentPort!.postMessage({ id: m.id, error: `configuration ${m.key} not loaded` } satisfies ReadingsWorkerReply);
    return;
  }
  void current.options.then(
    (o) => {
      if (!m.front) niceFromNowOn();
      const t0 = TRACE ? performance.now() : 0;
      const results: PolyphoneVerdictList = [];
      const readings: ReadingsList = [];
      for (let i = 0; i < m.texts.length; i++) {
        const text = m.texts[i]!;
        const lr = predictReadings(text, o.dict);
        results.push(polyphoneVerdicts(text, lr, o, m.recorded[i] ?? undefined));
        // The readings too, for the server's inlay hints: packed (a string of syllable ids a line), far
        // cheaper to send and receive than an array of strings.
        readings.push(syllables.pack(lr) ?? lr);
      }
      const reply: ReadingsWorkerReply = { id: m.id, results, readings };
      if (syllables.size > syllablesSent) {
        reply.syllables = { from: syllablesSent, add: syllables.syllables.slice(syllablesSent) as string[] };
        syllablesSent = syllables.size;
      }
      parentPort!.postMessage(reply);
      if (TRACE && m.id < 5) trace(`batch ${m.id}: ${m.texts.length} texts in ${(performance.now() - t0).toFixed(0)} ms`);
      if (TRACE && m.id % 50 === 0) trace(`batch ${m.id}, heap ${(process.memoryUsage().heapUsed / 1e6).toFixed(0)} MB`);
    },
    (err: Error) => parentPort!.postMessage({ id: m.id, error: err.message } satisfies ReadingsWorkerReply),
  );
});

type PolyphoneVerdictList = NonNullable<ReadingsWorkerReply['results']>;
type ReadingsList = NonNullable<ReadingsWorkerReply['readings']>;
