// Polyphone annotation of a 100,000-line task file, side by side with the raw pinyin-pro
// `pinyin()` calls on the same texts (same options), in one run. Target: ≤ 1.5× the raw calls.
// `node --import tsx bench/polyphones.bench.ts [lines]`
import { pinyin } from 'pinyin-pro';
import { ParsedTaskLine } from '../server/src/core/formats/taskFile';
import { ReplaceDict } from '../server/src/core/pronunciation/dictionary';
import { createPolyphoneAnalyzer } from '../server/src/core/pronunciation/polyphones';
import { clearTeacherCache } from '../server/src/core/pronunciation/teacherReadings';
import { defaultSettings } from '../server/src/core/settings';

/** Distinct sentences (no two lines alike, so no cache helps): phrases with polyphones, joined by a seeded generator. */
const PHRASES = [
  '他在银行工作',
  '每天步行上班',
  '重新规划了行程',
  '这个箱子很重',
  '长大以后',
  '他还是喜欢音乐',
  '我们一起去公园散步',
  '为了完成任务',
  '还需要更多的时间',
  '这本书的内容很有意思',
  '值得一读再读',
  '他说话的声音很大',
  '大家都听得很清楚',
  '好好学习天天向上',
  '银行行长来了',
  '这里的空气很好',
  '他有空的时候会来',
  '差不多就行了',
  '出差去了北京',
  '都市的夜晚',
  '都已经到了',
  '朝阳升起',
  '朝代更替',
  '会计部门',
  '开会讨论',
  '调查研究',
  '调整方案',
  '曾经的梦想',
  '姓曾的朋友',
  '处理问题',
  '到处都是人',
  '重庆的火锅',
  '种子发芽了',
  '种植水稻',
  '传记文学',
  '传说中的英雄',
  '数学很难',
  '数不清的星星',
  '没有着落',
  '着急的样子',
  '相声演员',
  '互相帮助',
];

function sentences(n: number): string[] {
  let seed = 12345;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const k = 2 + Math.floor(rand() * 3);
    const parts: string[] = [];
    for (let j = 0; j < k; j++) parts.push(PHRASES[Math.floor(rand() * PHRASES.length)]!);
    out.push(`${parts.join('，')}，第${'一二三四五六七八九十'[i % 10]}${i}号。`);
  }
  return out;
}

export async function run(lines = /^\d+$/.test(process.argv[2] ?? '') ? Number(process.argv[2]) : 100000): Promise<void> {
  const texts = sentences(lines);
  const parsed = texts.map(
    (t, i) =>
      new ParsedTaskLine(
        JSON.stringify({ prompt_audio: 'p.wav', prompt_text: '你好', input_text: t, output_name: `u${i}` }),
        'webui',
        false,
      ),
  );
  const dict = ReplaceDict.fromText(
    '{"银行": "银<|H|><|ANG2|>"}\n{"word": "重", "context": "重庆", "phoneme": "chong2"}\n{"朝阳": "<|ZH|><|AO1|>阳"}\n',
  );
  const options = { type: 'array', toneType: 'num', v: true, toneSandhi: false } as const;
  const analyzer = createPolyphoneAnalyzer({ dict, severity: 'information', ignore: defaultSettings.polyphones.ignore });
  // Warm both paths (JIT, pinyin-pro's dictionaries, per-character candidate caches) on other texts.
  const warm = sentences(5000).map((t) => `预热${t}`);
  for (const t of warm) pinyin(t, options);
  for (const t of warm)
    analyzer.analyze(
      new ParsedTaskLine(JSON.stringify({ prompt_audio: 'p.wav', prompt_text: '你好', input_text: t, output_name: 'w' }), 'webui', false),
    );
  clearTeacherCache();

  const rounds = 5;
  const raw: number[] = [];
  const annotated: number[] = [];
  const rawCpu: number[] = [];
  const annotatedCpu: number[] = [];
  const cpu = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  let findings = 0;
  for (let r = 0; r < rounds; r++) {
    let t0 = performance.now();
    let c0 = cpu();
    let n = 0;
    for (const t of texts) n += pinyin(t, options).length;
    raw.push(performance.now() - t0);
    rawCpu.push(cpu() - c0);
    if (n === 0) throw new Error('no output');
    clearTeacherCache();
    // A fresh analyzer version each round, as after a dictionary edit: nothing cached per text.
    const a = createPolyphoneAnalyzer({ dict, severity: 'information', ignore: defaultSettings.polyphones.ignore });
    const fresh =
      r === 0
        ? parsed
        : texts.map(
            (t, i) =>
              new ParsedTaskLine(
                JSON.stringify({ prompt_audio: 'p.wav', prompt_text: '你好', input_text: t, output_name: `u${i}` }),
                'webui',
                false,
              ),
          );
    t0 = performance.now();
    c0 = cpu();
    findings = 0;
    for (const p of fresh) findings += a.analyze(p).length;
    annotated.push(performance.now() - t0);
    annotatedCpu.push(cpu() - c0);
    clearTeacherCache();
  }
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const rawMs = med(raw),
    annMs = med(annotated),
    rawC = med(rawCpu),
    annC = med(annotatedCpu);
  console.log(
    `\n## Polyphone annotation — ${lines.toLocaleString('en')} distinct task lines, median of ${rounds} (wall clock; CPU time of this process beside it, which other load on the machine does not inflate)`,
  );
  console.log(
    `  ${'raw pinyin-pro pinyin() on the same texts (reference)'.padEnd(60)} ${rawMs.toFixed(0).padStart(7)} ms  (CPU ${rawC.toFixed(0)} ms)`,
  );
  console.log(
    `  ${'polyphone annotation (dictionary + pinyin-pro + findings)'.padEnd(60)} ${annMs.toFixed(0).padStart(7)} ms  (CPU ${annC.toFixed(0)} ms)   ${(annMs / rawMs).toFixed(2)}× wall, ${(annC / rawC).toFixed(2)}× CPU the reference (target ≤ 1.5×); ${findings.toLocaleString('en')} findings`,
  );
}

if (require.main === module) {
  run().then(
    () => process.exit(0),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
