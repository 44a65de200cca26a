#!/usr/bin/env bash
# The main job: the whole pipeline on a copy of the sample workspace with the embedded teacher —
# validate, submit, train, evaluate, report. Output: sample-run/distill-run/report.md
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d node_modules ] || npm ci --no-audit --no-fund
npm run --silent build
# A second run resumes: lines already done by the teacher are skipped, nothing is redone.
[ -d sample-run ] || cp -r sample-workspace sample-run
node bin/tts-distill.js pipeline sample-run "$@"
