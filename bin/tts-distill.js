#!/usr/bin/env node
'use strict';
// The CLI lives in the bundled core so that pipelines run exactly what the editor runs.
require('../dist/cli.js').main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err) => { process.stderr.write(`tts-distill: ${err && err.stack ? err.stack : err}\n`); process.exitCode = 70; }
);
