#!/usr/bin/env python3
"""The real GLM-TTS G2P (utils/glm_g2p.py: jieba posseg segmentation + pypinyin), run as the teacher runs it.

Reads texts one a line on stdin and prints, for each, one token group per Han character in the teacher's
token notation (<|H|><|ANG2|>), space-separated. Only G2P: no text normalisation, no dictionary, no able list
(frontend.py does those around it). Needs Debian's jieba (`apt-get install -y python3-jieba`) and Debian's
python (`/usr/bin/python3`); pypinyin 0.55 (MIT) is vendored in third_party/, glm_g2p.py (Apache-2.0) in data/glmtts/.

    printf '重庆银行\n' | /usr/bin/python3 scripts/reference/teacher_g2p.py
    <|CH|><|ONG2|> <|Q|><|ING4|> <|IN2|> <|H|><|ANG2|>
"""
import logging
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', '..', 'third_party', 'pypinyin-0.55'))
sys.path.insert(0, os.path.join(HERE, '..', '..', 'data', 'glmtts'))
import jieba  # noqa: E402

jieba.setLogLevel(logging.WARNING)
from utils.glm_g2p import G2P_zh  # noqa: E402

PUNCT = set('，。；：！？、')


def tokens(parts):
    return ''.join('<|%s|>' % p.upper().replace('-', ' ') for p in parts if p.strip() and p != '|')


def main():
    g2p = G2P_zh()
    for line in sys.stdin:
        groups, cur = [], []
        for t in g2p(line.rstrip('\n'))[0]:
            if t == '-' or t in PUNCT:
                if cur:
                    groups.append(tokens(cur))
                    cur = []
                continue
            cur.append(t)
        if cur:
            groups.append(tokens(cur))
        print(' '.join(groups), flush=False)


if __name__ == '__main__':
    main()
