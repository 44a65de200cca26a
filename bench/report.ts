/** Shared printing and timing for the bench scripts (figures side by side, one row each). */
let peak = 0;
const sampler = setInterval(() => {
  peak = Math.max(peak, process.memoryUsage().rss);
}, 20);
sampler.unref();

export async function time<T>(fn: () => T | Promise<T>): Promise<{ ms: number; result: T }> {
  if (global.gc) global.gc();
  const t0 = performance.now();
  const result = await fn();
  const ms = performance.now() - t0;
  peak = Math.max(peak, process.memoryUsage().rss);
  return { ms, result };
}

export function peakMb(): number {
  peak = Math.max(peak, process.memoryUsage().rss);
  return peak / 1e6;
}

export function row(label: string, value: number, note = '', raw = false): void {
  const v = raw ? value.toFixed(0).padStart(9) : `${value.toFixed(value < 10 ? 2 : 0).padStart(7)} ms`;
  console.log(`  ${label.padEnd(52)} ${v}  ${note}`);
}

/** Median of `runs` timings (the first run warms the JIT like the others; all are counted). */
export async function median<T>(runs: number, fn: () => T | Promise<T>): Promise<{ ms: number; result: T }> {
  const all: Array<{ ms: number; result: T }> = [];
  for (let i = 0; i < runs; i++) all.push(await time(fn));
  all.sort((a, b) => a.ms - b.ms);
  return all[Math.floor(all.length / 2)]!;
}

/**
 * Runs `a` and `b` alternately `runs` times and keeps the fastest of each: on a busy machine the
 * minimum is what the code costs, and alternating keeps both under the same conditions.
 */
export async function paired<A, B>(runs: number, a: () => A | Promise<A>, b: () => B | Promise<B>): Promise<[number, number]> {
  let ma = Infinity,
    mb = Infinity;
  for (let i = 0; i < runs; i++) {
    ma = Math.min(ma, (await time(a)).ms);
    mb = Math.min(mb, (await time(b)).ms);
  }
  return [ma, mb];
}

export async function fastest<T>(runs: number, fn: () => T | Promise<T>): Promise<{ ms: number; result: T }> {
  let best: { ms: number; result: T } | undefined;
  for (let i = 0; i < runs; i++) {
    const r = await time(fn);
    if (!best || r.ms < best.ms) best = r;
  }
  return best!;
}
