#!/usr/bin/env node
'use strict';
// `tts-distill validate … | head`: a closed pipe ends the command quietly, as in other Unix tools.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err) => {
    if (err && err.code === 'EPIPE') process.exit(0);
    throw err;
  });
}
// The CLI lives in the bundled core so that pipelines run exactly what the editor runs.
require('../dist/cli.js')
  .main(process.argv.slice(2))
  .then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      process.stderr.write(`tts-distill: ${err && err.stack ? err.stack : err}\n`);
      process.exitCode = 70;
    },
  );
