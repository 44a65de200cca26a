import { UsageError } from './types';

/** A small, strict parser of `--flag value`, `--flag=value`, `--switch` and positional arguments. */
export function parseArgs(args: string[], spec: { values?: string[]; multi?: string[]; switches?: string[] }) {
  const values = new Map<string, string>();
  const multi = new Map<string, string[]>();
  const switches = new Set<string>();
  const positional: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') {
      positional.push(...args.slice(i + 1));
      break;
    }
    if (!a.startsWith('--') || a === '-') {
      positional.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = eq > 0 ? a.slice(2, eq) : a.slice(2);
    if (spec.switches?.includes(name)) {
      if (eq > 0) throw new UsageError(`--${name} takes no value`);
      switches.add(name);
    } else if (spec.values?.includes(name) || spec.multi?.includes(name)) {
      const v = eq > 0 ? a.slice(eq + 1) : args[++i];
      if (v === undefined) throw new UsageError(`--${name} needs a value`);
      if (spec.multi?.includes(name)) multi.set(name, [...(multi.get(name) ?? []), v]);
      else values.set(name, v);
    } else {
      throw new UsageError(`unknown option --${name}`);
    }
  }
  return { values, multi, switches, positional };
}

export function intOption(v: string | undefined, name: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`--${name} must be a whole number from ${min} to ${max}`);
  return n;
}
