#!/usr/bin/env bash
# Installs what the test tiers need on a fresh Debian machine, idempotently (a second run
# only checks): apt packages, then the end-to-end tools (Node 24 + code-server + playwright-core,
# pinned, from the npm registry). Nothing is downloaded from anywhere else.
set -euo pipefail
cd "$(dirname "$0")/.."
APT_PACKAGES=(chromium libkrb5-dev sox neovim python3 python3-jieba munge slurmctld slurmd slurm-client)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "test-deps: missing apt packages: ${missing[*]} (run as root, or install them)" >&2
    exit 1
  fi
  echo "test-deps: installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # Packaging may start daemons on install; the Slurm tests start their own on loopback.
  for s in slurmctld slurmd munge; do pkill -x "$s" 2>/dev/null || true; done
fi
if [ -f test/e2e/install-tools.sh ]; then bash test/e2e/install-tools.sh; fi
