/** Generates a realistic task file: Chinese sentences with polyphones, a few English words, both dialects. */
const SENTENCES = [
  '他在银行工作了很多年，每天都要走很长的路。',
  '我们重新安排了会议的时间，请大家准时参加。',
  '这个行业的发展速度非常快，竞争也很激烈。',
  '长大以后，他成为了一名优秀的音乐家。',
  '她把重要的文件放在了桌子上，然后出门了。',
  '为了完成这个任务，我们还需要更多的时间。',
  '今天天气很好，我们一起去公园散步吧。',
  '这本书的内容很有意思，值得一读再读。',
  '他说话的声音很大，大家都听得很清楚。',
  '我们要好好学习，天天向上，争取更好的成绩。',
];

export function generateTaskLines(n: number, dialect: 'webui' | 'upstream' = 'webui'): string[] {
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const text = SENTENCES[i % SENTENCES.length]!.slice(0, 12 + (i % 9));
    const prompt = `prompts/speaker${i % 20}.wav`;
    const promptText = SENTENCES[(i + 5) % SENTENCES.length]!.slice(0, 8);
    lines.push(
      dialect === 'webui'
        ? JSON.stringify({
            prompt_audio: prompt,
            prompt_text: promptText,
            input_text: text,
            output_name: `utt_${String(i).padStart(6, '0')}`,
          })
        : JSON.stringify({ uttid: `utt_${String(i).padStart(6, '0')}`, prompt_text: promptText, prompt_speech: prompt, syn_text: text }),
    );
  }
  return lines;
}
