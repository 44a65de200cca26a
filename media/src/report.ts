// The student webview: a live loss curve while a student trains, and the evaluation report
// (metrics, weakest polyphones, per-task A/B playback) afterwards. No library, no network.
import type { EvalReport, FromReportWebview, StudentView, ToReportWebview } from '../../protocol/webview/report';
import { formatMean, formatShare } from '../../server/src/core/evaluation/listeningHtml';

interface VsCodeApi {
  postMessage(m: FromReportWebview): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();
const app = document.getElementById('app')!;

let view: StudentView | undefined;
const points: Array<{ step: number; loss: number }> = [];
let total: number | undefined;
let lastStep = 0;

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: { className?: string; text?: string; title?: string } = {},
  ...children: Array<Node | string>
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (props.className) e.className = props.className;
  if (props.text !== undefined) e.textContent = props.text;
  if (props.title) e.title = props.title;
  e.append(...children);
  return e;
}

const pct = (r: { rate: number | null; agree: number; total: number }) => (r.rate === null ? '—' : `${(r.rate * 100).toFixed(2)} %`);
const fixed = (x: number | null | undefined, d = 2) => (x === null || x === undefined || !Number.isFinite(x) ? '—' : x.toFixed(d));

// ---- training ----

function showTraining(v: Extract<StudentView, { kind: 'training' }>): void {
  points.length = 0;
  total = undefined;
  lastStep = 0;
  const cancel = el('button', { text: 'Cancel', className: 'cancel' });
  cancel.addEventListener('click', () => vscode.postMessage({ type: 'cancel' }));
  app.replaceChildren(
    el('h1', { text: v.title }),
    el('p', { className: 'status', text: 'Starting…' }),
    el('div', { className: 'chart-wrap' }, el('canvas', { className: 'chart', title: v.lossLabel })),
    el('p', { className: 'axis-label', text: `${v.lossLabel} per ${v.student === 'g2p' ? 'epoch' : 'step'}` }),
    cancel,
    el('h2', { text: 'Log' }),
    el('pre', { className: 'log' }),
  );
  drawChart();
}

function status(text: string): void {
  const s = app.querySelector('.status');
  if (s) s.textContent = text;
}

function addPoint(step: number, t: number | undefined, loss: number | undefined): void {
  if (t !== undefined) total = t;
  lastStep = Math.max(lastStep, step);
  if (loss !== undefined) points.push({ step, loss });
  status(`step ${step}${total ? ` of ${total}` : ''}${loss !== undefined ? ` · loss ${loss.toPrecision(4)}` : ''}`);
  drawChart();
}

function drawChart(): void {
  const canvas = app.querySelector<HTMLCanvasElement>('canvas.chart');
  if (!canvas) return;
  const dpr = window.devicePixelRatio || 1;
  const w = canvas.clientWidth || 600,
    h = canvas.clientHeight || 240;
  canvas.width = Math.round(w * dpr);
  canvas.height = Math.round(h * dpr);
  const g = canvas.getContext('2d')!;
  g.scale(dpr, dpr);
  const css = getComputedStyle(document.body);
  const fg = css.getPropertyValue('--vscode-editor-foreground') || '#ccc';
  const line = css.getPropertyValue('--vscode-charts-blue') || '#3794ff';
  g.clearRect(0, 0, w, h);
  const padL = 56,
    padB = 22,
    padT = 8,
    padR = 12;
  g.strokeStyle = fg;
  g.globalAlpha = 0.4;
  g.beginPath();
  g.moveTo(padL, padT);
  g.lineTo(padL, h - padB);
  g.lineTo(w - padR, h - padB);
  g.stroke();
  g.globalAlpha = 1;
  if (!points.length) return;
  const maxStep = Math.max(total ?? 0, lastStep, 1);
  const losses = points.map((p) => p.loss);
  const hi = Math.max(...losses),
    lo = Math.min(0, ...losses);
  const x = (s: number) => padL + ((w - padL - padR) * s) / maxStep;
  const y = (l: number) => h - padB - ((h - padB - padT) * (l - lo)) / (hi - lo || 1);
  g.fillStyle = fg;
  g.font = '11px sans-serif';
  g.fillText(hi.toPrecision(3), 4, padT + 10);
  g.fillText(lo.toPrecision(3), 4, h - padB);
  g.fillText(String(maxStep), w - padR - 30, h - 6);
  g.strokeStyle = line;
  g.lineWidth = 2;
  g.beginPath();
  points.forEach((p, i) => (i ? g.lineTo(x(p.step), y(p.loss)) : g.moveTo(x(p.step), y(p.loss))));
  g.stroke();
  if (points.length === 1) g.fillRect(x(points[0]!.step) - 2, y(points[0]!.loss) - 2, 4, 4);
}

function log(message: string): void {
  const pre = app.querySelector('pre.log');
  if (!pre) return;
  pre.textContent = (pre.textContent + message + '\n').split('\n').slice(-200).join('\n');
  pre.scrollTop = pre.scrollHeight;
}

// ---- report ----

let onlyDisagreements = true;

function showReport(v: Extract<StudentView, { kind: 'report' }>): void {
  const r = v.report;
  const s = r.summary;
  const summary = el(
    'table',
    {},
    el('tr', {}, el('th'), el('th', { text: 'agree / total' }), el('th', { text: 'rate' })),
    ...(
      [
        ['characters', s.characters],
        ['polyphones', s.polyphones],
        ['sentences (all characters agree)', s.sentences],
      ] as const
    ).map(([name, rate]) =>
      el(
        'tr',
        {},
        el('td', { text: name }),
        el('td', { className: 'n', text: `${rate.agree} / ${rate.total}` }),
        el('td', { className: 'n', text: pct(rate) }),
      ),
    ),
  );
  const parts: Node[] = [
    el('h1', { text: v.title }),
    el('p', { className: 'muted', text: `${r.teacher.records} tasks · model ${r.student.model ?? r.student.version}` }),
    el('h2', { text: 'Reading agreement' }),
    summary,
  ];
  if (s.acoustic) {
    parts.push(
      el('h2', { text: `Audio (${s.acoustic.items} tasks with student audio)` }),
      el(
        'table',
        {},
        el('tr', {}, el('th', { text: 'duration ratio' }), el('th', { text: 'MCD (dB, DTW)' }), el('th', { text: 'F0 RMSE (Hz)' })),
        el(
          'tr',
          {},
          el('td', { className: 'n', text: fixed(s.acoustic.meanDurationRatio, 3) }),
          el('td', { className: 'n', text: fixed(s.acoustic.meanMcd) }),
          el('td', { className: 'n', text: fixed(s.acoustic.meanF0Rmse) }),
        ),
      ),
    );
  }
  if (s.judges) {
    const j = s.judges;
    parts.push(el('h2', { text: `Judges (${j.backend === 'reward' ? 'GLM-TTS reward server' : 'evaluator command'})` }));
    if (j.error) parts.push(el('p', { className: 'bad', text: `No judge scores: ${j.error}` }));
    else {
      parts.push(
        el(
          'table',
          {},
          el(
            'tr',
            {},
            el('th'),
            el('th', { text: 'WAVs judged' }),
            el('th', { text: 'mean CER' }),
            el('th', { text: 'mean similarity (cos)' }),
            el('th', { text: 'mean emotion' }),
          ),
          ...(
            [
              ['teacher', j.teacher],
              ['student', j.student],
            ] as const
          )
            .filter(([, m]) => m)
            .map(([role, m]) =>
              el(
                'tr',
                {},
                el('td', { text: role }),
                el('td', { className: 'n', text: String(m!.items) }),
                el('td', { className: 'n', text: fixed(m!.meanCer, 3) }),
                el('td', { className: 'n', text: fixed(m!.meanSimilarity, 3) }),
                el('td', { className: 'n', text: fixed(m!.meanEmotion, 3) }),
              ),
            ),
        ),
      );
      if (j.failed) parts.push(el('p', { className: 'bad', text: `${j.failed} WAV(s) not judged.` }));
    }
  }
  if (s.rtf) {
    parts.push(
      el('h2', { text: 'Student synthesis' }),
      el('p', {
        className: s.rtf.error ? 'bad' : 'muted',
        text: `RTF ${fixed(s.rtf.rtf, 3)} (${fixed(s.rtf.wallSeconds)} s for ${fixed(s.rtf.audioSeconds)} s of audio, ${s.rtf.items} lines)${s.rtf.meanLineRtf !== null ? ` · mean per line ${fixed(s.rtf.meanLineRtf, 3)}` : ''}${s.rtf.error ? ` · ${s.rtf.error}` : ''}`,
      }),
    );
  }
  if (r.listening?.length) {
    parts.push(
      el('h2', { text: 'Listening tests (blind)' }),
      el(
        'table',
        { className: 'listening' },
        el(
          'tr',
          {},
          el('th', { text: 'test' }),
          el('th', { text: 'answered' }),
          el('th', { text: 'student preferred (A/B, 95 % CI)' }),
          el('th', { text: 'MOS teacher' }),
          el('th', { text: 'MOS student' }),
        ),
        ...r.listening.map((t) =>
          el(
            'tr',
            {},
            el('td', { text: t.test }),
            el('td', { className: 'n', text: `${t.answered}${t.items === null ? '' : ` / ${t.items}`}` }),
            el('td', { className: 'n', text: t.preference ? `${formatShare(t.preference)} of ${t.preference.n}` : '—' }),
            el('td', { className: 'n', text: t.mos ? formatMean(t.mos.teacher) : '—' }),
            el('td', { className: 'n', text: t.mos ? formatMean(t.mos.student) : '—' }),
          ),
        ),
      ),
    );
  }
  const weak = r.polyphones.slice(0, 30);
  parts.push(
    el('h2', { text: 'Polyphones, weakest first' }),
    el(
      'table',
      { className: 'poly' },
      el(
        'tr',
        {},
        el('th', { text: 'char' }),
        el('th', { text: 'support' }),
        el('th', { text: 'accuracy' }),
        el('th', { text: 'top confusions (teacher → student)' }),
      ),
      ...weak.map((p) =>
        el(
          'tr',
          {},
          el('td', { text: p.char }),
          el('td', { className: 'n', text: String(p.support) }),
          el('td', { className: `n ${p.agree < p.support ? 'bad' : 'ok'}`, text: `${(p.accuracy * 100).toFixed(1)} %` }),
          el('td', { text: p.confusions.map((c) => `${c.teacher} → ${c.student} ×${c.count}`).join(', ') }),
        ),
      ),
    ),
  );
  const toggle = el('input');
  toggle.type = 'checkbox';
  toggle.checked = onlyDisagreements;
  toggle.addEventListener('change', () => {
    onlyDisagreements = toggle.checked;
    renderItems(v);
  });
  const openHtml = el('button', { text: 'Open eval.html', title: v.htmlFile });
  openHtml.addEventListener('click', () => vscode.postMessage({ type: 'openHtml' }));
  parts.push(
    el('h2', { text: 'Tasks' }),
    el('p', {}, el('label', {}, toggle, ' only tasks where the student disagrees'), ' ', openHtml),
    el('div', { className: 'items' }),
  );
  app.replaceChildren(...parts);
  renderItems(v);
}

const MAX_ROWS = 1000;

function renderItems(v: Extract<StudentView, { kind: 'report' }>): void {
  const box = app.querySelector('.items')!;
  const rows: Node[] = [];
  let shown = 0,
    matching = 0;
  v.report.items.forEach((item, index) => {
    if (onlyDisagreements && !item.disagreements.length) return;
    matching++;
    if (shown >= MAX_ROWS) return;
    shown++;
    rows.push(itemRow(v.report, index, v.audio[index] ?? { teacher: '', student: '' }, v.taskFile));
  });
  if (!matching)
    rows.push(el('p', { className: 'ok', text: onlyDisagreements ? 'The student agrees with the teacher on every task.' : 'No tasks.' }));
  if (matching > shown) rows.push(el('p', { className: 'muted', text: `${matching - shown} more not shown; eval.html lists them all.` }));
  box.replaceChildren(...rows);
}

function itemRow(
  report: EvalReport,
  index: number,
  audio: { teacher: string; student: string },
  taskFile: string | undefined,
): HTMLElement {
  const item = report.items[index]!;
  const bad = new Map(item.disagreements.map((d) => [d.index, d]));
  const text = el('div', { className: 'text' });
  for (let i = 0; i < item.text.length; i++) {
    const d = bad.get(i);
    text.append(d ? el('mark', { text: item.text[i]!, title: `teacher ${d.teacher} · student ${d.student ?? '—'}` }) : item.text[i]!);
  }
  const head = el(
    'div',
    { className: 'head' },
    el('span', { className: 'line', text: `#${item.line + 1}` }),
    ' ',
    el('code', { text: item.name }),
    ' ',
    el('span', { className: 'diffs', text: item.disagreements.map((d) => `${d.char}: ${d.teacher} → ${d.student ?? '—'}`).join(' · ') }),
  );
  if (taskFile) {
    const open = el('a', { className: 'task-link', text: 'task line', title: `${taskFile}:${item.line + 1}` });
    open.href = '#';
    open.addEventListener('click', (e) => {
      e.preventDefault();
      e.stopPropagation();
      vscode.postMessage({ type: 'openTask', index });
    });
    head.append(' · ', open);
  }
  if (item.acoustic)
    head.append(
      el('span', {
        className: 'muted',
        text: ` · duration ×${fixed(item.acoustic.durationRatio, 2)} · MCD ${fixed(item.acoustic.mcd)} dB · F0 RMSE ${fixed(item.acoustic.f0Rmse, 1)} Hz`,
      }),
    );
  for (const role of ['teacher', 'student'] as const) {
    const j = item.judges?.[role];
    if (j)
      head.append(
        el('span', {
          className: j.error ? 'bad' : 'muted',
          text: j.error
            ? ` · ${role} not judged`
            : ` · ${role} CER ${fixed(j.cer, 3)} · sim ${fixed(j.similarity, 2)}${j.emotion !== undefined && j.emotion !== null ? ` · emotion ${fixed(j.emotion, 2)}` : ''}`,
          ...(j.error ? { title: j.error } : {}),
        }),
      );
  }
  if (item.synth?.rtf !== undefined) head.append(el('span', { className: 'muted', text: ` · RTF ${fixed(item.synth.rtf, 3)}` }));
  const row = el('div', { className: 'item', title: 'Click to show this task in the diff' }, head, text);
  const players = el('div', { className: 'ab' });
  for (const [label, src] of [
    ['A · teacher', audio.teacher],
    ['B · student', audio.student],
  ] as const) {
    if (!src) continue;
    const a = el('audio');
    a.controls = true;
    a.preload = 'none';
    a.src = src;
    players.append(el('label', { text: label }), a);
  }
  if (players.childElementCount) row.append(players);
  row.addEventListener('click', (e) => {
    // Playing audio is not a jump.
    if ((e.target as HTMLElement).closest('audio')) return;
    vscode.postMessage({ type: 'reveal', index });
  });
  return row;
}

// ---- messages ----

window.addEventListener('message', (e: MessageEvent<ToReportWebview>) => {
  const m = e.data;
  switch (m.type) {
    case 'show':
      view = m.view;
      if (view.kind === 'training') showTraining(view);
      else showReport(view);
      break;
    case 'point':
      if (view?.kind === 'training') addPoint(m.step, m.total, m.loss);
      break;
    case 'log':
      log(m.message);
      break;
    case 'finished':
      status(m.message);
      app.querySelector<HTMLButtonElement>('button.cancel')?.setAttribute('disabled', '');
      app.classList.add(m.status);
      break;
  }
});
window.addEventListener('resize', () => drawChart());
vscode.postMessage({ type: 'ready' });
