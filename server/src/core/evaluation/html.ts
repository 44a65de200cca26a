// eval.html: one self-contained page (inline CSS, no scripts, no external resources).
import { relative, resolve, sep } from 'node:path';
import { listeningSectionHtml } from './listeningHtml';
import type { EvalItem, EvalReport, Rate } from './types';
import { judgeCells, judgeHeaderCells, judgesSummaryHtml } from './judges/html';

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
const pct = (r: Rate) => (r.rate === null ? '—' : `${(r.rate * 100).toFixed(2)} %`);
const num = (x: number | null | undefined, d = 2) => (x === null || x === undefined || !Number.isFinite(x) ? '—' : x.toFixed(d));

const CSS = `
body{font:14px/1.45 system-ui,sans-serif;margin:24px;color:#1b1b1b;background:#fff}
h1{font-size:20px}h2{font-size:16px;margin-top:28px}
table{border-collapse:collapse;margin:8px 0}th,td{border:1px solid #ccc;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#f2f2f2}td.n{text-align:right;font-variant-numeric:tabular-nums}
mark{background:#ffd6d6;border-radius:2px}.ok{color:#1a7f37}.bad{color:#b42318}
code{font:12px ui-monospace,monospace}
@media (prefers-color-scheme:dark){body{background:#1e1e1e;color:#ddd}th{background:#2d2d2d}th,td{border-color:#444}mark{background:#6b2b2b;color:#fff}}
`;

/** The task text with the characters where the student disagrees marked. */
export function markedText(item: Pick<EvalItem, 'text' | 'disagreements'>): string {
  const bad = new Map(item.disagreements.map((d) => [d.index, d]));
  let out = '';
  for (let i = 0; i < item.text.length; i++) {
    const d = bad.get(i);
    const ch = item.text[i]!;
    out += d ? `<mark title="teacher ${esc(d.teacher)} · student ${esc(d.student ?? '—')}">${esc(ch)}</mark>` : esc(ch);
  }
  return out;
}

/**
 * A link to `file` from a page in `outDir`: only for a file inside one of the report's folders
 * (`roots`), and always a relative URL with every path segment percent-encoded, so that a name
 * such as `javascript:alert(1)` is a file name, never a scheme (`./javascript%3Aalert(1).wav`).
 */
export function fileHref(outDir: string, file: string, roots: readonly string[]): string | undefined {
  const abs = resolve(file);
  if (!roots.some((r) => abs.startsWith(r.endsWith(sep) ? r : r + sep))) return undefined;
  const rel = relative(resolve(outDir), abs).split(sep);
  if (!rel.length || rel.some((seg) => seg === '')) return undefined;
  const url = rel.map((seg) => (seg === '..' ? '..' : encodeURIComponent(seg))).join('/');
  return url.startsWith('../') ? url : `./${url}`;
}

export function renderReportHtml(report: EvalReport, outDir: string): string {
  const s = report.summary;
  const roots = [report.teacher.dir, report.student.audioDir].filter((d): d is string => !!d).map((d) => resolve(d));
  const link = (file: string | undefined, label: string) => {
    const href = file ? fileHref(outDir, file, roots) : undefined;
    return href ? `<a href="${esc(href)}">${label}</a>` : '';
  };
  const rows: string[] = [];
  rows.push(
    `<tr><td>characters</td><td class="n">${s.characters.agree} / ${s.characters.total}</td><td class="n">${pct(s.characters)}</td></tr>`,
  );
  rows.push(
    `<tr><td>polyphones</td><td class="n">${s.polyphones.agree} / ${s.polyphones.total}</td><td class="n">${pct(s.polyphones)}</td></tr>`,
  );
  rows.push(
    `<tr><td>sentences (all characters agree)</td><td class="n">${s.sentences.agree} / ${s.sentences.total}</td><td class="n">${pct(s.sentences)}</td></tr>`,
  );
  const acoustic = s.acoustic
    ? `<h2>Audio (${s.acoustic.items} items with student audio)</h2><table><tr><th>duration ratio (student / teacher)</th><th>MCD (dB, DTW-aligned)</th><th>F0 RMSE (Hz, voiced frames)</th></tr>
<tr><td class="n">${num(s.acoustic.meanDurationRatio, 3)}</td><td class="n">${num(s.acoustic.meanMcd)}</td><td class="n">${num(s.acoustic.meanF0Rmse)}</td></tr></table>`
    : '';
  const poly = report.polyphones.map(
    (
      p,
    ) => `<tr><td>${esc(p.char)}</td><td class="n">${p.support}</td><td class="n ${p.accuracy < 1 ? 'bad' : 'ok'}">${(p.accuracy * 100).toFixed(1)} %</td>
<td>${Object.entries(p.teacherReadings)
      .map(([r, n]) => `${esc(r)}×${n}`)
      .join(' ')}</td><td>${p.confusions.map((c) => `${esc(c.teacher)} → ${esc(c.student)} ×${c.count}`).join('<br>')}</td></tr>`,
  );
  const items = report.items.map(
    (i) => `<tr id="task-${i.line + 1}"><td class="n">${i.line + 1}</td><td><code>${esc(i.name)}</code></td><td>${markedText(i)}</td>
<td>${i.disagreements.length ? i.disagreements.map((d) => `${esc(d.char)}: <span class="ok">${esc(d.teacher)}</span> → <span class="bad">${esc(d.student ?? '—')}</span>`).join('<br>') : '<span class="ok">agrees</span>'}</td>
<td class="n">${num(i.acoustic?.durationRatio, 3)}</td><td class="n">${num(i.acoustic?.mcd)}</td><td class="n">${num(i.acoustic?.f0Rmse)}</td>${judgeCells(report, i)}
<td>${[link(i.teacherAudio, 'teacher'), link(i.studentAudio, 'student')].filter(Boolean).join(' · ')}${i.acousticError ? `<br><span class="bad">${esc(i.acousticError)}</span>` : ''}</td></tr>`,
  );
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Student vs teacher — ${esc(report.teacher.dir)}</title><style>${CSS}</style></head><body>
<h1>Student vs teacher</h1>
<p>Teacher run <code>${esc(report.teacher.dir)}</code> (${report.teacher.records} tasks${report.teacher.skipped ? `, ${report.teacher.skipped} manifest records skipped` : ''}) ·
student <code>${esc(report.student.model ?? report.student.version)}</code>${report.student.audioDir ? ` · student audio <code>${esc(report.student.audioDir)}</code>` : ''}</p>
<h2>Reading agreement</h2><table><tr><th></th><th>agree / total</th><th>rate</th></tr>${rows.join('')}</table>
${acoustic}
${judgesSummaryHtml(report)}
${listeningSectionHtml(report.listening)}
<h2>Polyphones (weakest first)</h2><table><tr><th>character</th><th>support</th><th>accuracy</th><th>teacher readings</th><th>top confusions (teacher → student)</th></tr>${poly.join('\n')}</table>
<h2>Tasks</h2><table><tr><th>line</th><th>name</th><th>text (disagreements marked)</th><th>readings that differ</th><th>duration ratio</th><th>MCD</th><th>F0 RMSE</th>${judgeHeaderCells(report)}<th>audio</th></tr>${items.join('\n')}</table>
</body></html>
`;
}
