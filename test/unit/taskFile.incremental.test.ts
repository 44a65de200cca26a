import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  CancelledError,
  PENDING_FINDINGS,
  type PromptAudioStatus,
  TaskFileModel,
  type TaskLineAnalyzer,
  type TaskValidationOptions,
} from '../../server/src/core/formats/taskFile';
import type { Finding, LineFinding } from '../../server/src/core/findings';
import { seededRandom } from '../../server/src/core/student/prng';

// A validation after in-place edits looks at the edited lines only and patches what the last one
// left (TaskFileModel.validate with `incremental`): it must publish exactly what a complete pass
// over the same text publishes, under the cap, with errors first.

const line = (text: string, name: string, extra = '') =>
  `{"prompt_speech": "p${name.length % 3}.wav", "prompt_text": "你好", "syn_text": "${text}", "uttid": "${name}"${extra}}`;

/** Warnings on 行, pending on 待 until `resolved`, an error on 错. */
function analyzer(resolved: boolean, recheckPending = false): TaskLineAnalyzer {
  return {
    version: 'test-1',
    recheckPending,
    analyze(p) {
      const t = p.get('text') ?? '';
      if (t.includes('待') && !resolved) return PENDING_FINDINGS as LineFinding[];
      const out: LineFinding[] = [];
      for (let i = 0; i < t.length; i++) {
        if (t[i] === '行' || t[i] === '待')
          out.push({ start: i, end: i + 1, severity: 'warning', code: 'test/warn', message: `warn ${t[i]}` });
        if (t[i] === '错') out.push({ start: i, end: i + 1, severity: 'error', code: 'test/err', message: 'err' });
      }
      return out;
    },
  };
}

const options = (a: TaskLineAnalyzer, incremental: boolean, maxPerFile = 40): TaskValidationOptions => ({
  maxPerFile,
  promptAudio: { minSeconds: 2, maxSeconds: 20 },
  promptAudioStatus: (written) =>
    written === 'p0.wav'
      ? { state: 'missing', path: written }
      : { state: 'ok', path: written, channels: 1, sampleRate: 24000, durationSeconds: 4, truncated: false },
  analyzers: [a],
  incremental,
});

const TEXTS = ['银行', '今天很好', '行长', '待定', '错字', '没问题', '还行吧', '等待中'];

function variant(rand: () => number, i: number): string {
  const r = rand();
  if (r < 0.04) return '{"broken": ';
  if (r < 0.08) return line(TEXTS[Math.floor(rand() * TEXTS.length)]!, `dup${Math.floor(rand() * 3)}`);
  if (r < 0.1) return '';
  return line(TEXTS[Math.floor(rand() * TEXTS.length)]!, `u${i}_${Math.floor(rand() * 1000)}`);
}

/** Texts whose results arrived (`push`), handed over once each by `take` (TaskLineAnalyzer.arrived). */
function arrivals(): { push: (...texts: string[]) => void; take: () => string[] } {
  let news: string[] = [];
  return {
    push: (...texts) => void news.push(...texts),
    take: () => {
      const out = news;
      news = [];
      return out;
    },
  };
}

describe('task file validation after in-place edits', () => {
  for (const cap of [40, 400])
    it(`publishes exactly what a complete pass publishes (cap ${cap}, errors first, duplicates, pending lines)`, async () => {
      const rand = seededRandom(cap);
      const n = 600;
      const lines = Array.from({ length: n }, (_, i) => variant(rand, i));
      const model = new TaskFileModel(lines.join('\n') + '\n');
      await model.validate(options(analyzer(false), false, cap));
      for (let step = 0; step < 120; step++) {
        const at = Math.floor(rand() * n);
        const next = variant(rand, at);
        model.applyChanges([{ range: { start: { line: at, character: 0 }, end: { line: at, character: lines[at]!.length } }, text: next }]);
        lines[at] = next;
        // Now and then the pending lines get their results (the readings workers delivered).
        const resolved = step >= 60;
        const got = await model.validate(options(analyzer(resolved, step === 60), true, cap));
        const fresh = new TaskFileModel(lines.join('\n') + '\n');
        const want = await fresh.validate(options(analyzer(resolved), false, cap));
        assert.deepEqual(got, want, `after edit ${step} of line ${at}`);
        assert.equal(model.pendingLines, fresh.pendingLines, `pending lines after edit ${step}`);
      }
    });

  it('results arriving text by text (TaskLineAnalyzer.arrived): only those lines are asked again, same result', async () => {
    const rand = seededRandom(7);
    const n = 400;
    // A third of the lines wait for one of 50 texts, some shared by several lines.
    const make = (i: number) =>
      rand() < 0.35 ? line(`待${Math.floor(rand() * 50)}`, `w${i}_${Math.floor(rand() * 1000)}`) : variant(rand, i);
    const lines = Array.from({ length: n }, (_, i) => make(i));
    // Lines whose text has 待 wait until the text is in `ready`; `arrived` reports what became ready since the last call.
    const ready = new Set<string>();
    const news = arrivals();
    let asked = 0;
    const byText = (recheckPending: boolean, withArrivals: boolean): TaskLineAnalyzer => {
      const base = analyzer(true);
      return {
        version: 'test-1',
        recheckPending,
        ...(withArrivals
          ? {
              arrived: news.take,
            }
          : {}),
        analyze(p) {
          asked++;
          const t = p.get('text') ?? '';
          if (t.includes('待') && !ready.has(t)) return PENDING_FINDINGS as LineFinding[];
          return base.analyze(p);
        },
      };
    };
    const textOf = (l: string) => /"syn_text": "([^"]*)"/.exec(l)?.[1] ?? '';
    const model = new TaskFileModel(lines.join('\n') + '\n');
    await model.validate(options(byText(false, true), false, 40));
    const waiting = () => [...new Set(lines.map(textOf).filter((t) => t.includes('待') && !ready.has(t)))];
    assert.ok(waiting().length > 20, `${waiting().length} distinct pending texts to start with`);
    for (let step = 0; waiting().length; step++) {
      const w = waiting();
      const batch = w.filter(() => rand() < 0.3);
      if (!batch.length) batch.push(w[0]!);
      for (const t of batch) ready.add(t);
      news.push(...batch);
      // Now and then an edit as well.
      if (step % 3 === 0) {
        const at = Math.floor(rand() * n);
        const next = make(at);
        model.applyChanges([{ range: { start: { line: at, character: 0 }, end: { line: at, character: lines[at]!.length } }, text: next }]);
        lines[at] = next;
      }
      asked = 0;
      const got = await model.validate(options(byText(true, true), true, 40));
      const askedNow = asked;
      const fresh = new TaskFileModel(lines.join('\n') + '\n');
      const want = await fresh.validate(options(byText(false, false), false, 40));
      assert.deepEqual(got, want, `after batch ${step}`);
      assert.equal(model.pendingLines, fresh.pendingLines, `pending lines after batch ${step}`);
      const arrivedLines = lines.filter((l) => batch.includes(textOf(l))).length;
      assert.ok(askedNow <= arrivedLines + 1, `batch ${step}: ${askedNow} lines asked again for ${arrivedLines} whose results arrived`);
    }
  });

  for (const edit of ['in place', 'a line added'] as const) {
    it(`results arriving for many lines: analysed in slices that yield; an edit (${edit}) in a yield cancels the pass, and the next loses none`, async () => {
      const rand = seededRandom(13);
      const n = 1500;
      // Every line waits for its own text at first.
      const lines = Array.from({ length: n }, (_, i) => line(`待${i}${TEXTS[i % TEXTS.length]}`, `y${i}`));
      const textOf = (l: string) => /"syn_text": "([^"]*)"/.exec(l)?.[1] ?? '';
      const ready = new Set<string>();
      const news = arrivals();
      const base = analyzer(true);
      let slow = false;
      const byText: TaskLineAnalyzer = {
        version: 'test-1',
        recheckPending: true,
        arrived: news.take,
        analyze(p) {
          const t = p.get('text') ?? '';
          if (!ready.has(t)) return PENDING_FINDINGS as LineFinding[];
          // 0.3 ms a line: 64 lines take longer than a slice, so the pass yields.
          if (slow) for (const until = performance.now() + 0.3; performance.now() < until;);
          return base.analyze(p);
        },
      };
      const model = new TaskFileModel(lines.join('\n') + '\n');
      await model.validate(options(byText, false, 40));
      assert.equal(model.pendingLines, n);
      // The results of 400 texts arrive; the pass that looks at them is cancelled by an edit in its first yield.
      for (const l of lines.slice(0, 400)) {
        ready.add(textOf(l));
        news.push(textOf(l));
      }
      let cancelled = false;
      let editedInYield = false;
      setImmediate(() => {
        const at = 1000 + Math.floor(rand() * 400);
        const next = line(`还行${at}`, `edit${at}`);
        ready.add(`还行${at}`);
        if (edit === 'in place') {
          model.applyChanges([
            { range: { start: { line: at, character: 0 }, end: { line: at, character: lines[at]!.length } }, text: next },
          ]);
          lines[at] = next;
        } else {
          model.applyChanges([{ range: { start: { line: at, character: 0 }, end: { line: at, character: 0 } }, text: next + '\n' }]);
          lines.splice(at, 0, next);
        }
        editedInYield = true;
        cancelled = true;
      });
      slow = true;
      await assert.rejects(
        model.validate({ ...options(byText, true, 40), chunkLines: 2000, isCancelled: () => cancelled }),
        CancelledError,
      );
      assert.ok(editedInYield, 'the edit came in a yield of the pass');
      slow = false;
      const got = await model.validate({ ...options(byText, true, 40), chunkLines: 2000 });
      const fresh = new TaskFileModel(lines.join('\n') + '\n');
      const want = await fresh.validate(options(byText, false, 40));
      assert.deepEqual(got, want);
      assert.equal(model.pendingLines, fresh.pendingLines);
      // The 400 arrived, and the edited line (one that was pending when replaced in place).
      assert.equal(model.pendingLines, n - 400 - (edit === 'in place' ? 1 : 0));
    });
  }

  it('results arriving during a complete pass (partial.again): the lines checked so far are looked at again, under the cap', async () => {
    const rand = seededRandom(5);
    const n = 2000;
    // Warnings only (no errors, every prompt readable): under a cap of 40 they fill it before the results arrive.
    const texts = ['银行', '行长', '待定', '等待中', '今天很好'];
    const make = (i: number) => line(texts[Math.floor(rand() * texts.length)]! + (i % 97), `u${i}`);
    const lines = Array.from({ length: n }, (_, i) => make(i));
    const textOf = (l: string) => /"syn_text": "([^"]*)"/.exec(l)?.[1] ?? '';
    const allReadable = (written: string): PromptAudioStatus => ({
      state: 'ok',
      path: written,
      channels: 1,
      sampleRate: 24000,
      durationSeconds: 4,
      truncated: false,
    });
    const ready = new Set<string>();
    const news = arrivals();
    const base = analyzer(true);
    const pendingUntilReady: TaskLineAnalyzer = {
      version: 'test-1',
      recheckPending: true,
      arrived: news.take,
      analyze: (p) => {
        const t = p.get('text') ?? '';
        return t.includes('待') && !ready.has(t) ? (PENDING_FINDINGS as LineFinding[]) : base.analyze(p);
      },
    };
    for (const max of [40, 5000]) {
      ready.clear();
      news.take();
      const published: Array<{ findings: number; linesDone: number; firstWaitLine: number }> = [];
      const firstWait = lines.findIndex((l) => textOf(l).includes('待'));
      let calls = 0;
      const model = new TaskFileModel(lines.join('\n') + '\n');
      const got = await model.validate({
        ...options(pendingUntilReady, false, max),
        promptAudioStatus: allReadable,
        chunkLines: 100,
        partial: {
          afterMs: 0,
          publish: (found, linesDone) =>
            published.push({
              findings: found.length,
              linesDone,
              firstWaitLine: found.findIndex((f) => f.code === 'test/warn' && f.range.start.line === firstWait),
            }),
          // Halfway through the file, every pending text's results arrive.
          again: () => {
            if (++calls !== 5) return false;
            for (const t of new Set(lines.map(textOf))) {
              if (!t.includes('待')) continue;
              ready.add(t);
              news.push(t);
            }
            return true;
          },
        },
      });
      assert.equal(published.length, 2, `max ${max}: the first hand-over, and one after the results arrived`);
      assert.equal(published[0]!.firstWaitLine, -1, 'line with 待 pending at first');
      assert.ok(
        published[1]!.firstWaitLine >= 0,
        `max ${max}: its warning in the second hand-over (${published[1]!.linesDone} lines done)`,
      );
      assert.ok(published[1]!.linesDone < n / 2);
      const fresh = new TaskFileModel(lines.join('\n') + '\n');
      const want = await fresh.validate({ ...options(base, false, max), promptAudioStatus: allReadable });
      assert.deepEqual(got, want, `max ${max}: the pass ends as a pass after the arrival`);
      assert.equal(model.pendingLines, 0);
      // And the next pass (incremental, nothing arrived since) keeps it.
      assert.deepEqual(await model.validate({ ...options(pendingUntilReady, true, max), promptAudioStatus: allReadable }), got);
    }
  });

  it('partial.firstLines: the first lines handed over as soon as they are checked, however soon that is', async () => {
    const n = 3000;
    const lines = Array.from({ length: n }, (_, i) => line(i % 500 === 7 ? '错字' : '今天很好', `u${i}`));
    const published: Array<{ errors: number[]; linesDone: number }> = [];
    const partial = (firstLines?: number) => ({
      afterMs: 1e9,
      ...(firstLines !== undefined ? { firstLines } : {}),
      publish: (found: Finding[], linesDone: number) =>
        published.push({ errors: found.filter((f) => f.code === 'test/err').map((f) => f.range.start.line), linesDone }),
    });
    const run = (firstLines?: number) =>
      new TaskFileModel(lines.join('\n') + '\n').validate({
        ...options(analyzer(true), false, 5000),
        chunkLines: 1000,
        partial: partial(firstLines),
      });
    const all = await run(120);
    assert.deepEqual(
      published,
      [{ errors: [7], linesDone: 120 }],
      'one hand-over: the errors of lines 1–120, the pass not waiting for afterMs',
    );
    assert.deepEqual(
      all.filter((f) => f.code === 'test/err').map((f) => f.range.start.line),
      [7, 507, 1007, 1507, 2007, 2507],
    );
    published.length = 0;
    assert.deepEqual(await run(), all, 'the same findings in the end');
    assert.deepEqual(published, [], 'without it, nothing before afterMs');
  });

  it('prompt audio whose status changes (read, measured, deleted): the lines using it follow, same result', async () => {
    const rand = seededRandom(11);
    const n = 300;
    const lines = Array.from({ length: n }, (_, i) => variant(rand, i));
    const STATES: PromptAudioStatus[] = [
      { state: 'pending' },
      { state: 'missing', path: 'x' },
      { state: 'ok', path: 'x', channels: 1, sampleRate: 24000, durationSeconds: 4, truncated: false },
      { state: 'ok', path: 'x', channels: 2, sampleRate: 8000, durationSeconds: 40, truncated: false },
    ];
    const status = new Map<string, PromptAudioStatus>([
      ['p0.wav', STATES[0]!],
      ['p1.wav', STATES[0]!],
      ['p2.wav', STATES[0]!],
    ]);
    const opts = (incremental: boolean): TaskValidationOptions => ({
      ...options(analyzer(true), incremental, 60),
      promptAudioStatus: (written) => status.get(written) ?? STATES[0]!,
    });
    const model = new TaskFileModel(lines.join('\n') + '\n');
    await model.validate(opts(false));
    let differed = 0;
    for (let step = 0; step < 40; step++) {
      const path = `p${Math.floor(rand() * 3)}.wav`;
      status.set(path, STATES[Math.floor(rand() * STATES.length)]!);
      if (step % 4 === 0) {
        const at = Math.floor(rand() * n);
        const next = variant(rand, at);
        model.applyChanges([{ range: { start: { line: at, character: 0 }, end: { line: at, character: lines[at]!.length } }, text: next }]);
        lines[at] = next;
      }
      const before = JSON.stringify(
        await new TaskFileModel(lines.join('\n') + '\n').validate({ ...opts(false), promptAudioStatus: () => STATES[0]! }),
      );
      const got = await model.validate(opts(true));
      const want = await new TaskFileModel(lines.join('\n') + '\n').validate(opts(false));
      assert.deepEqual(got, want, `after step ${step} (${path})`);
      if (JSON.stringify(want) !== before) differed++;
    }
    assert.ok(differed > 20, `the statuses changed the findings in ${differed} of 40 steps`);
  });

  it('lines added or removed, or another analyzer version: a complete pass again', async () => {
    const lines = Array.from({ length: 50 }, (_, i) => line(TEXTS[i % TEXTS.length]!, `n${i}`));
    const model = new TaskFileModel(lines.join('\n') + '\n');
    await model.validate(options(analyzer(true), false, 5000));
    model.applyChanges([
      { range: { start: { line: 10, character: 0 }, end: { line: 10, character: 0 } }, text: `${line('行行行', 'extra')}\n` },
    ]);
    lines.splice(10, 0, line('行行行', 'extra'));
    const got = await model.validate(options(analyzer(true), true, 5000));
    const want = await new TaskFileModel(lines.join('\n') + '\n').validate(options(analyzer(true), false, 5000));
    assert.deepEqual(got, want);
    assert.ok(got.some((f) => f.range.start.line === 10 && f.code === 'test/warn'));
    const other = { ...analyzer(true), version: 'test-2', analyze: () => [] };
    const none = await model.validate(options(other, true, 5000));
    assert.ok(!none.some((f) => f.code === 'test/warn'), 'the new analyzer decides every line');
  });
});
