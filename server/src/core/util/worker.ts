// Worker threads of the server and the CLI, started one way.
import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * A worker thread on `file`: the bundled .js as it is, a .ts entry (tests and benches run from the
 * sources) with tsx's require hook registered in the thread first (loader hooks do not reach
 * workers). Whatever the thread writes to its standard output goes to the process's standard
 * error: standard output is the language server's protocol channel (and the CLI's results), and
 * by default a worker's output is copied onto it.
 */
export function startWorker(file: string, options: WorkerOptions = {}): Worker {
  const worker = file.endsWith('.ts')
    ? new Worker(`require(${JSON.stringify(require.resolve('tsx/cjs'))}); require(${JSON.stringify(file)});`, {
        ...options,
        eval: true,
        stdout: true,
      })
    : new Worker(file, { ...options, stdout: true });
  worker.stdout.pipe(process.stderr, { end: false });
  return worker;
}
