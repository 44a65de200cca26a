// Custom requests of the dataset-authoring feature (Coverage and Voices views, Export Dataset…): typed constants, one-line JSDoc saying who sends what to whom.
import { RequestType } from 'vscode-languageserver-protocol';
import type { CorpusSuggestion, CoverageReport } from '../../server/src/core/dataset/coverage';
import type { ExportFormat, ExportSummary, TextMode } from '../../server/src/core/dataset/export';
import type { VoiceLabels, VoicePool } from '../../server/src/core/dataset/voices';

export type { CorpusSuggestion, CoverageReport, ExportFormat, ExportSummary, TextMode, VoiceLabels, VoicePool };

export interface DatasetScopeParams {
  /** A resource whose workspace folder and settings apply; the first folder when absent. */
  uri?: string;
}

export interface CoverageResult {
  /** The task files read (absolute paths); open editors' unsaved text counts. */
  files: string[];
  report: CoverageReport;
}

export namespace DatasetCoverageRequest {
  /** client → server: reading coverage of every task file of the workspace folder. */
  export const method = 'ttsDistill/dataset/coverage' as const;
  export const type = new RequestType<DatasetScopeParams, CoverageResult, void>(method);
}

export interface VoicesResult {
  files: string[];
  /** The sidecar the labels come from (absolute; it may not exist yet). */
  labelsFile: string;
  pool: VoicePool;
}

export namespace DatasetVoicesRequest {
  /** client → server: the voice pool of the workspace folder's task files. */
  export const method = 'ttsDistill/dataset/voices' as const;
  export const type = new RequestType<DatasetScopeParams, VoicesResult, void>(method);
}

export interface SetVoiceLabelsParams extends DatasetScopeParams {
  /** Absolute path of the WAV. */
  audio: string;
  /** Labels to set; an empty string removes one. */
  labels: VoiceLabels;
}

export namespace DatasetSetVoiceLabelsRequest {
  /** client → server: writes labels of one voice into the sidecar (ttsDistill.voices.labelsFile). */
  export const method = 'ttsDistill/dataset/setVoiceLabels' as const;
  export const type = new RequestType<SetVoiceLabelsParams, null, void>(method);
}

export interface ExportDatasetParams extends DatasetScopeParams {
  /** Teacher run folder (absolute) with manifest.jsonl. */
  run: string;
  format: ExportFormat;
  /** Export folder (absolute). */
  out: string;
  text?: TextMode;
  /** `dev=5%,test=5%`. */
  split?: string;
  splitBy?: 'speaker' | 'random';
  seed?: number;
  force?: boolean;
}

export interface ExportDatasetResult {
  summary: Omit<ExportSummary, 'utterances'> & { utterances: number };
}

export namespace DatasetExportRequest {
  /** client → server: exports a teacher run (errors: code 1 with the reason, e.g. the folder is not empty). */
  export const method = 'ttsDistill/dataset/export' as const;
  export const type = new RequestType<ExportDatasetParams, ExportDatasetResult, void>(method);
}

export interface SuggestFromCorpusParams extends DatasetScopeParams {
  /** A text file (absolute), one sentence a line. */
  corpus: string;
  /** Most suggestions (default 20). */
  limit?: number;
}

export namespace DatasetSuggestRequest {
  /** client → server: corpus sentences that add most to the workspace's reading coverage (thin readings first), best first. */
  export const method = 'ttsDistill/dataset/suggest' as const;
  export const type = new RequestType<SuggestFromCorpusParams, { suggestions: CorpusSuggestion[] }, void>(method);
}
