// Waits until code-server answers on /healthz (no curl needed): node wait-for-server.mjs <url> <timeout-ms> [pgid]
// Exits 1 at the deadline, or at once when the process group it watches is gone.
import http from 'node:http';

const [url, timeoutMs = '30000', pgid] = process.argv.slice(2);
const deadline = Date.now() + Number(timeoutMs);
const alive = () => {
  if (!pgid) return true;
  try {
    process.kill(-Number(pgid), 0);
    return true;
  } catch {
    return false;
  }
};
const probe = () =>
  new Promise((resolve) => {
    const req = http.get(new URL('/healthz', url), (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.setTimeout(2000, () => req.destroy());
    req.on('error', () => resolve(false));
  });
for (;;) {
  if (await probe()) process.exit(0);
  if (!alive() || Date.now() > deadline) process.exit(1);
  await new Promise((r) => setTimeout(r, 100));
}
