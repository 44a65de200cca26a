import type { ClientContext } from '../context';

/** Registers the teacher feature's commands, views and panels. */
export function activate(_ctx: ClientContext): void {
  // Nothing yet.
}
