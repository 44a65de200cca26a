// The judges' and the RTF's parts of eval.html: a summary table and per-line columns, shown only
// when the evaluation has them.
import type { EvalItem, EvalReport } from '../types';
import type { JudgeMeans, JudgeScores } from './types';

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
const num = (x: number | null | undefined, d = 3) => (x === null || x === undefined || !Number.isFinite(x) ? '—' : x.toFixed(d));

/** Whether the per-line judge columns are shown: the judge gave at least one score. */
function judged(report: EvalReport): boolean {
  const j = report.summary.judges;
  return !!j && !j.error && report.items.some((i) => i.judges);
}

export function judgesSummaryHtml(report: EvalReport): string {
  const j = report.summary.judges,
    r = report.summary.rtf;
  let out = '';
  if (j) {
    const row = (role: string, m: JudgeMeans | null) =>
      m
        ? `<tr><td>${role}</td><td class="n">${m.items}</td><td class="n">${num(m.meanCer)}</td><td class="n">${num(m.meanSimilarity)}</td><td class="n">${num(m.meanEmotion)}</td></tr>`
        : '';
    out += `<h2>Judges (${j.backend === 'reward' ? 'GLM-TTS reward server' : 'evaluator command'} <code>${esc(j.where)}</code>)</h2>`;
    if (j.error) out += `<p class="bad">No judge scores: ${esc(j.error)}</p>`;
    else {
      out += `<table><tr><th></th><th>WAVs judged</th><th>mean CER</th><th>mean speaker similarity (cos)</th><th>mean emotion score</th></tr>${row('teacher', j.teacher)}${row('student', j.student)}</table>`;
      if (j.failed) out += `<p class="bad">${j.failed} WAV(s) not judged: see the lines.</p>`;
      if (j.judgesFileError) out += `<p class="bad">${esc(j.judgesFileError)}</p>`;
    }
  }
  if (r) {
    out += `<h2>Student synthesis (real-time factor)</h2><table><tr><th>command</th><th>lines with audio</th><th>wall time (s)</th><th>audio (s)</th><th>RTF (wall / audio)</th><th>mean RTF per line</th></tr>
<tr><td><code>${esc(r.command)}</code></td><td class="n">${r.items}</td><td class="n">${num(r.wallSeconds, 2)}</td><td class="n">${num(r.audioSeconds, 2)}</td><td class="n">${num(r.rtf)}</td><td class="n">${num(r.meanLineRtf)}</td></tr></table>`;
    if (r.error) out += `<p class="bad">${esc(r.error)}</p>`;
  }
  return out;
}

export function judgeHeaderCells(report: EvalReport): string {
  return (
    (judged(report) ? '<th>CER (teacher · student)</th><th>similarity</th><th>emotion</th>' : '') +
    (report.summary.rtf ? '<th>RTF</th>' : '')
  );
}

export function judgeCells(report: EvalReport, item: EvalItem): string {
  let out = '';
  if (judged(report)) {
    const pair = (k: 'cer' | 'similarity' | 'emotion') => [item.judges?.teacher, item.judges?.student].map((s) => cell(s, k)).join(' · ');
    const errors = [
      item.judges?.teacher?.error && `teacher: ${item.judges.teacher.error}`,
      item.judges?.student?.error && `student: ${item.judges.student.error}`,
    ].filter(Boolean) as string[];
    out += `<td class="n"${errors.length ? ` title="${esc(errors.join('\n'))}"` : ''}>${pair('cer')}</td><td class="n">${pair('similarity')}</td><td class="n">${pair('emotion')}</td>`;
  }
  if (report.summary.rtf) out += `<td class="n">${num(item.synth?.rtf)}</td>`;
  return out;
}

function cell(s: JudgeScores | undefined, k: 'cer' | 'similarity' | 'emotion'): string {
  if (!s) return '—';
  if (s.error) return '<span class="bad">error</span>';
  return num(s[k]);
}
