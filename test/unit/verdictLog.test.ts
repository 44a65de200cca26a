// The verdict log (core/pronunciation/verdictLog.ts) and the readings pool that keeps its verdicts
// there: what one session wrote, the next reads back, the same; under another configuration
// nothing; a damaged or cut record alone is lost; nothing is written outside its folder.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  mkdtempSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  truncateSync,
  utimesSync,
  writeFileSync,
  statSync,
  appendFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeRecord as encodeLines, logFileName, VerdictLog } from '../../server/src/core/pronunciation/verdictLog';
import type { PackedReadings } from '../../server/src/core/pronunciation/lineCache';
import { cachedReadings, clearReadingsCache, SyllableTable } from '../../server/src/core/pronunciation/lineCache';
import type { LineReadings } from '../../server/src/core/pronunciation/teacherReadings';
import { predictReadings } from '../../server/src/core/pronunciation/teacherReadings';
import type { PolyphoneVerdict } from '../../server/src/core/pronunciation/polyphones';
import { polyphoneVerdicts } from '../../server/src/core/pronunciation/polyphones';
import { ReadingsPool, type VerdictConfig } from '../../server/src/core/pronunciation/readingsPool';
import { ReplaceDict } from '../../server/src/core/pronunciation/dictionary';
import { AbleList } from '../../server/src/core/pronunciation/g2p/ableList';

const tmp = () => mkdtempSync(join(tmpdir(), 'verdict-log-'));

/** A record of lines given side by side. */
function encodeRecord(
  texts: string[],
  readings: Array<PackedReadings | LineReadings>,
  results: PolyphoneVerdict[][],
  table?: SyllableTable,
): string {
  return encodeLines(texts.map((text, i) => ({ text, readings: readings[i]!, table, verdicts: results[i]! })));
}

/** Lines as a worker sends them: some packed with its table, one as it is; pins, kept characters, a surrogate pair. */
function batch(): { texts: string[]; readings: Array<LineReadings>; results: PolyphoneVerdict[][] } {
  return {
    texts: ['他在银行工作', '𠀀长得快', '重新开始，'],
    readings: [
      { readings: ['ta1', 'zai4', 'yin2', 'hang2', 'gong1', 'zuo4'], pinned: new Map([[3, { key: '银行', line: 2 }]]) },
      { readings: ['x', null, 'zhang3', 'de5', 'kuai4'], kept: new Set([2]) },
      { readings: ['chong2', 'xin1', 'kai1', 'shi3', null] },
    ],
    results: [
      [{ index: 3, predicted: 'hang2', source: 'dictionary', pinned: { key: '银行', line: 2 } }],
      [],
      [{ index: 0, predicted: 'chong2', source: 'g2p', second: { reading: 'zhong4', by: 'student', confidence: 0.8849999999999999 } }],
    ],
  };
}

/** Everything `log` reads back: texts, readings (unpacked with its table) and verdicts. */
function readAll(log: VerdictLog): Array<{ text: string; readings: LineReadings; results: PolyphoneVerdict[] }> {
  const out = [];
  for (let lines = log.next(); lines; lines = log.next())
    for (let i = 0; i < lines.texts.length; i++)
      out.push({ text: lines.texts[i]!, readings: log.table.unpack(lines.readings[i]!), results: lines.results[i]! });
  return out;
}

void describe('verdict log', () => {
  void it('what one session appends, the next reads back the same; another configuration reads nothing and starts the file again', async () => {
    const dir = tmp();
    const b = batch();
    // The worker's way: packed with its table (the second line as it is).
    const table = new SyllableTable();
    const sent = b.readings.map((r, i) => (i === 1 ? r : table.pack(r)!));
    const first = await VerdictLog.open(dir, 'conf-A');
    assert.equal(first.next(), undefined, 'nothing kept yet');
    first.append(encodeRecord(b.texts, sent, b.results, table));
    first.append(encodeRecord(['行'], [{ readings: ['xing2'] }], [[]]));
    await first.close();

    const again = await VerdictLog.open(dir, 'conf-A');
    const back = readAll(again);
    assert.deepEqual(
      back.map((l) => l.text),
      [...b.texts, '行'],
    );
    for (let i = 0; i < b.texts.length; i++) {
      assert.deepEqual(back[i]!.readings, b.readings[i], b.texts[i]);
      assert.deepEqual(back[i]!.results, b.results[i], b.texts[i]);
    }
    assert.deepEqual(back[3]!.readings, { readings: ['xing2'] });
    await again.close();

    // Another configuration (a dictionary edited, another student): its own file, nothing read back.
    const other = await VerdictLog.open(dir, 'conf-B');
    assert.equal(other.next(), undefined);
    await other.close();
    // A file named for conf-A that holds another configuration's header is not read, and is started again.
    const file = join(dir, logFileName('conf-A'));
    writeFileSync(file, readFileSync(file, 'utf8').replace('"conf-A"', '"conf-X"'));
    const wrong = await VerdictLog.open(dir, 'conf-A');
    assert.equal(wrong.next(), undefined);
    wrong.append(encodeRecord(['行'], [{ readings: ['hang2'] }], [[]]));
    await wrong.close();
    const restarted = await VerdictLog.open(dir, 'conf-A');
    assert.deepEqual(
      readAll(restarted).map((l) => [l.text, l.readings.readings]),
      [['行', ['hang2']]],
    );
    await restarted.close();
  });

  void it('a record cut short or damaged is skipped alone; appending after a cut record starts a new line', async () => {
    const dir = tmp();
    const log = await VerdictLog.open(dir, 'c');
    for (const t of ['一行', '两行', '三行']) log.append(encodeRecord([t], [{ readings: [null, 'hang2'] }], [[]]));
    // A verdict that does not fit its line (a character past its end) makes its record damaged too.
    log.append(encodeRecord(['五行'], [{ readings: [null, 'hang2'] }], [[{ index: 9, predicted: 'hang2', source: 'g2p' }]]));
    await log.close();
    const file = join(dir, logFileName('c'));
    // The second record damaged in place, the third cut short (the server killed while it wrote).
    const lines = readFileSync(file, 'utf8').split('\n');
    lines[2] = lines[2]!.replace('"l":[[', '"l":[[7,');
    // (the fourth, the bad verdict, moves before the third, which is cut)
    [lines[3], lines[4]] = [lines[4]!, lines[3]!];
    writeFileSync(file, lines.join('\n'));
    truncateSync(file, statSync(file).size - 12);
    const messages: string[] = [];
    const again = await VerdictLog.open(dir, 'c', (m) => messages.push(m));
    assert.deepEqual(
      readAll(again).map((l) => l.text),
      ['一行'],
    );
    assert.equal(messages.filter((m) => /damaged record skipped/.test(m)).length, 3, messages.join('\n'));
    again.append(encodeRecord(['四行'], [{ readings: [null, 'hang2'] }], [[]]));
    await again.close();
    const third = await VerdictLog.open(dir, 'c');
    assert.deepEqual(
      readAll(third).map((l) => l.text),
      ['一行', '四行'],
    );
    await third.close();
  });

  void it('never writes through a symbolic link; keeps the newest logs of its folder only; a full log starts again', async () => {
    const dir = tmp();
    const outside = join(tmp(), 'precious.txt');
    writeFileSync(outside, 'keep me');
    symlinkSync(outside, join(dir, logFileName('s')));
    const log = await VerdictLog.open(dir, 's');
    log.append(encodeRecord(['行'], [{ readings: ['xing2'] }], [[]]));
    await log.close();
    assert.equal(readFileSync(outside, 'utf8'), 'keep me');
    assert.ok(!statSync(join(dir, logFileName('s'))).isSymbolicLink());
    const back = await VerdictLog.open(dir, 's');
    assert.deepEqual(
      readAll(back).map((l) => l.text),
      ['行'],
    );
    await back.close();

    // Full (here: past 200 bytes, each record ~45): started again with what comes next, in this session or the next one.
    const messages: string[] = [];
    const small = await VerdictLog.open(dir, 's', (m) => messages.push(m), 200);
    const texts = Array.from({ length: 8 }, (_, k) => `第${k}行`);
    for (const t of texts) small.append(encodeRecord([t], [{ readings: [null, null, 'hang2'] }], [[]]));
    await small.close();
    assert.ok(statSync(join(dir, logFileName('s'))).size <= 200);
    assert.ok(
      messages.some((m) => /started again/.test(m)),
      messages.join('\n'),
    );
    const kept = readAll(await VerdictLog.open(dir, 's')).map((l) => l.text);
    assert.ok(kept.length >= 2 && kept.length < texts.length, kept.join(' '));
    assert.deepEqual(kept, texts.slice(-kept.length), 'the newest lines');

    // Old logs: the newest ones stay (four with this one), files of other names are not touched.
    const old = ['o1', 'o2', 'o3', 'o4', 'o5'].map((id, k) => {
      const f = join(dir, logFileName(id));
      writeFileSync(f, '{}\n');
      utimesSync(f, 1_000_000 + k, 1_000_000 + k);
      return logFileName(id);
    });
    appendFileSync(join(dir, 'notes.txt'), 'mine');
    await (await VerdictLog.open(dir, 's')).close();
    const left = readdirSync(dir).sort();
    assert.deepEqual(left, [logFileName('s'), 'notes.txt', old[2]!, old[3]!, old[4]!].sort());
  });
});

void describe('readings pool with a verdict log', () => {
  const dict = ReplaceDict.empty;
  const texts = ['他在银行工作了很多年', '我们重新安排了会议的时间', '长大以后他成为了音乐家', '这一行的规矩很重要'];
  const config = (key: string, local: VerdictConfig['local']): VerdictConfig => ({
    key,
    dict: { version: dict.version, entries: [] },
    able: { version: 'bundled' },
    student: null,
    raisedOnly: false,
    persist: true,
    local,
  });

  void it('a second pool reads back what the first one’s worker computed, and computes none of it; another key reads nothing', async () => {
    clearReadingsCache();
    const dir = tmp();
    const first = new ReadingsPool({ workers: 1, batch: 2, cacheDir: () => dir, codeId: 'test-code' });
    try {
      first.configure(config('k1', () => assert.fail('computed on this thread')));
      first.request(texts);
      await first.whenReady(texts, 60_000);
    } finally {
      await first.close();
    }
    assert.equal(readdirSync(dir).length, 1);

    clearReadingsCache();
    // No workers: anything not read back would be computed here, by `local`.
    let computed = 0;
    const second = new ReadingsPool({ workers: 0, cacheDir: () => dir, codeId: 'test-code' });
    try {
      second.configure(
        config('k1', (t) => {
          computed++;
          return polyphoneVerdicts(t, predictReadings(t, dict), { dict, raisedOnly: false });
        }),
      );
      await second.whenReplayed();
      assert.equal(second.replayed, texts.length);
      second.request(texts);
      await second.whenReady(texts, 10_000);
      assert.equal(computed, 0);
      for (const t of texts) {
        const expected = predictReadings(t, dict);
        assert.deepEqual(cachedReadings(t, dict), expected, t);
        assert.deepEqual(second.cached(t), polyphoneVerdicts(t, expected, { dict, able: AbleList.bundled, raisedOnly: false }), t);
      }
      // Another configuration: nothing read back; the texts are computed.
      second.configure(
        config('k2', (t) => {
          computed++;
          return polyphoneVerdicts(t, predictReadings(t, dict), { dict, raisedOnly: false });
        }),
      );
      await second.whenReplayed();
      assert.equal(second.replayed, 0);
      second.request(texts);
      await second.whenReady(texts, 10_000);
      assert.equal(computed, texts.length);
    } finally {
      await second.close();
      clearReadingsCache();
    }
    // The same code under another identity (an update of the extension) reads nothing either.
    const third = new ReadingsPool({ workers: 0, cacheDir: () => dir, codeId: 'other-code' });
    try {
      third.configure(config('k1', () => []));
      await third.whenReplayed();
      assert.equal(third.replayed, 0);
    } finally {
      await third.close();
    }
  });
});
