// Worker-thread entry (bundled to dist/readingsWorker.js): predicts the teacher's readings of task
// lines for the language server, so a 100,000-line file is read on every core while the server
// keeps answering. Messages: see ReadingsPool.
import { parentPort } from 'node:worker_threads';
import { type DictEntry, ReplaceDict } from './dictionary';
import { predictReadings } from './teacherReadings';
import type { ReadingsWorkerReply, ReadingsWorkerRequest } from './readingsPool';

const dicts = new Map<string, ReplaceDict>();
// Load the G2P's dictionaries now, before the first batch arrives.
predictReadings('预热一下');

parentPort!.on('message', (m: ReadingsWorkerRequest) => {
  if (m.type === 'dict') {
    dicts.clear();
    dicts.set(m.version, m.version === 'empty' ? ReplaceDict.empty : new ReplaceDict(m.entries as DictEntry[]));
    return;
  }
  const dict = dicts.get(m.version);
  if (!dict) {
    parentPort!.postMessage({ id: m.id, error: `dictionary ${m.version} not loaded` } satisfies ReadingsWorkerReply);
    return;
  }
  const results: ReadingsWorkerReply['results'] = [];
  // LineReadings is plain data (arrays, Maps, Sets): it crosses the thread boundary as it is.
  for (const text of m.texts) results.push(predictReadings(text, dict));
  parentPort!.postMessage({ id: m.id, results } satisfies ReadingsWorkerReply);
});
