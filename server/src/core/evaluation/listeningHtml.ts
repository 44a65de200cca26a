// The listening-test section of eval.html (and its plain-text lines for the CLI).
import type { ListeningSummary, MeanCi, ShareCi } from '../../../../protocol/listeningTypes';

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
const fix = (x: number | null, d: number) => (x === null ? '—' : x.toFixed(d));

/** "62.5 % [40.9, 80.0] of 16" */
export function formatShare(s: ShareCi): string {
  return s.share === null
    ? '—'
    : `${(s.share * 100).toFixed(1)} % [${fix(s.low === null ? null : s.low * 100, 1)}, ${fix(s.high === null ? null : s.high * 100, 1)}]`;
}

/** "3.80 [3.21, 4.39] (n 10)" */
export function formatMean(m: MeanCi): string {
  return m.mean === null ? '— (n 0)' : `${m.mean.toFixed(2)} [${fix(m.low, 2)}, ${fix(m.high, 2)}] (n ${m.n})`;
}

/** Plain-text lines of one test's summary. */
export function summaryLines(s: ListeningSummary): string[] {
  const lines = [
    `test ${s.test}: ${s.answered}${s.items === null ? '' : ` / ${s.items}`} items answered${s.invalidLines ? ` (${s.invalidLines} unreadable line(s) skipped)` : ''}`,
  ];
  if (s.preference)
    lines.push(
      `  A/B: student preferred ${formatShare(s.preference)} of ${s.preference.n} (teacher ${s.preference.teacher}, student ${s.preference.student}), 95 % Wilson CI`,
    );
  if (s.mos) lines.push(`  MOS: teacher ${formatMean(s.mos.teacher)} · student ${formatMean(s.mos.student)}, 95 % t CI`);
  return lines;
}

export function listeningSectionHtml(summaries: readonly ListeningSummary[] | undefined): string {
  if (!summaries?.length) return '';
  const rows = summaries.map(
    (s) => `<tr><td><code>${esc(s.test)}</code></td><td class="n">${s.answered}${s.items === null ? '' : ` / ${s.items}`}</td>
<td class="n">${s.preference ? `${esc(formatShare(s.preference))}<br>${s.preference.student} of ${s.preference.n}` : '—'}</td>
<td class="n">${s.mos ? esc(formatMean(s.mos.teacher)) : '—'}</td><td class="n">${s.mos ? esc(formatMean(s.mos.student)) : '—'}</td></tr>`,
  );
  return `<h2>Listening tests (blind)</h2><table class="listening"><tr><th>test</th><th>items answered</th><th>student preferred over teacher (A/B, 95 % Wilson CI)</th><th>MOS teacher (95 % t CI)</th><th>MOS student (95 % t CI)</th></tr>${rows.join('\n')}</table>`;
}
