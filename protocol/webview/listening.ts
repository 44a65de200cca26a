// Messages between the extension (client/src/features/listening.ts) and the listening-test
// webview (media/src/listening.ts). Type-only: the webview bundle imports nothing at run time.
// The webview is never told which clip is the teacher's: it gets "A"/"B" (or one clip) and the
// item's position; the extension maps an answer back through the plan.
import type { ListeningSummary } from '../listeningTypes';

export type { ListeningSummary };

/** One item as the listener sees it. */
export interface ListeningItemView {
  /** 0-based position in the test; answers name it. */
  index: number;
  total: number;
  kind: 'ab' | 'mos';
  /** The sentence spoken (the same in both clips). */
  text: string;
  /** Webview URIs: [A, B] for an A/B item, [clip] for MOS. */
  clips: string[];
  /** The answer already given to this item (1/2 for A/B, 1–5 for MOS), when it was answered before. */
  answer?: number;
}

/** Extension → webview. */
export type ToListeningWebview =
  | { type: 'item'; test: string; item: ListeningItemView; answered: number; resumed: boolean }
  | { type: 'done'; test: string; total: number; summary: ListeningSummary; answersFile: string }
  /** An answer could not be saved (disk full, a symbolic link…): the item stays open. */
  | { type: 'error'; message: string };

/** Webview → extension. */
export type FromListeningWebview =
  | { type: 'ready' }
  /** Save this answer to item `index` and move on: A/B 1 (A) or 2 (B); MOS 1–5. */
  | { type: 'answer'; index: number; value: number }
  /** Show the previous item again (its answer can be changed: the latest answer counts). */
  | { type: 'back'; index: number }
  | { type: 'openReport' };
