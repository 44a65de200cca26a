// Custom requests and notifications of the pronunciation feature: typed constants, one-line JSDoc saying who sends what to whom.
import { RequestType } from 'vscode-languageserver-protocol';

export interface ConvertDictionaryParams {
  /** The dictionary document (its current text, saved or not, is what gets converted). */
  uri: string;
  /** Target dialect; the other one of the document's when absent. */
  to?: 'rule' | 'upstream';
}
export interface ConvertDictionaryResult {
  to: 'rule' | 'upstream';
  text: string;
  /** Lines that could not be converted (kept as they were), 0-based. */
  notes: Array<{ line: number; message: string }>;
}
export namespace ConvertDictionaryRequest {
  /** client → server: the open dictionary converted to the other dialect. */
  export const method = 'ttsDistill/convertDictionary' as const;
  export const type = new RequestType<ConvertDictionaryParams, ConvertDictionaryResult, void>(method);
}
