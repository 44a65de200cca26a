#!/bin/bash
# The Slurm tests: a real single-node Slurm on loopback (up.sh), the tests, and teardown
# whatever happens (down.sh). `npm run test:slurm`; needs root for apt-get when Slurm is missing.
set -u
cd "$(dirname "$0")/../.."
P=$(mktemp -d /tmp/tts-slurm.XXXXXX); export P
trap 'WIPE=1 bash test/slurm/down.sh' EXIT
trap 'exit 130' INT TERM
bash test/slurm/up.sh || exit 1
export SLURM_CONF=$P/etc/slurm.conf
# The jobs run the built CLI (bin/tts-distill.js → dist/cli.js): build what is tested, and test
# a copy of the build, so that a rebuild in this checkout while jobs start cannot hand them a
# half-written bundle.
npm run --silent build || exit 1
mkdir -p "$P/pkg" && cp -r bin dist package.json "$P/pkg/" && ln -s "$PWD/node_modules" "$P/pkg/node_modules"
export TTS_DISTILL_TEST_PKG=$P/pkg
node --import tsx --test --test-reporter=spec --test-concurrency=1 test/slurm/*.test.ts
