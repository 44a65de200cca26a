/** Runs the real Python (Debian's /usr/bin/python3 with python3-jieba) once over many input lines, for the differential tests. */
import { spawn } from 'node:child_process';

export const PYTHON = '/usr/bin/python3';

/**
 * Feeds `lines` (one a line) to `python3 <args>` in one process and returns its output lines,
 * exactly one per input line. Rejects with why when Python is missing, fails, or overruns `timeoutMs`.
 */
export function pythonLines(args: string[], lines: string[], what: string, timeoutMs: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, args, {
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: timeoutMs,
      env: { ...process.env, PYTHONIOENCODING: 'utf-8' },
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => reject(new Error(`cannot run ${PYTHON}: ${e.message}`)));
    child.on('close', (status, signal) => {
      if (signal) {
        reject(
          new Error(
            `${PYTHON} (${what}, ${lines.length} lines) did not finish in ${timeoutMs / 1000} s and was killed (${signal}): is the machine overloaded?`,
          ),
        );
        return;
      }
      if (status !== 0) {
        reject(
          new Error(
            `${PYTHON} (${what}) failed (status ${status}); it needs Debian's python3-jieba ` +
              `(npm test's pretest installs it with scripts/test-deps.sh):\n${Buffer.concat(err).toString().slice(-2000)}`,
          ),
        );
        return;
      }
      const got = Buffer.concat(out).toString('utf8').split('\n');
      got.pop(); // after the last '\n'
      if (got.length !== lines.length) reject(new Error(`${got.length} lines from ${what} for ${lines.length} inputs`));
      else resolve(got);
    });
    child.stdin.on('error', () => {
      /* Python exited early (EPIPE): the close handler reports why */
    });
    child.stdin.end(lines.join('\n') + '\n');
  });
}
