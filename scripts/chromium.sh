#!/usr/bin/env bash
# Debian's chromium for the admin console's browser tests (Playwright drives it through its executable-path option;
# Playwright cannot download browsers here). Source it for the function, or run `scripts/chromium.sh` to install only.
#
#   chromium_install   installs the `chromium` package with apt-get when no chromium is found; sets CHROMIUM_BIN

CHROMIUM_BIN="${MICROAPPS_CHROMIUM:-}"

chromium_install() {
  if [[ -n "$CHROMIUM_BIN" && -x "$CHROMIUM_BIN" ]]; then
    return 0
  fi
  CHROMIUM_BIN="$(command -v chromium || true)"
  if [[ -n "$CHROMIUM_BIN" ]]; then
    return 0
  fi
  command -v apt-get >/dev/null 2>&1 || { echo "chromium: not found, and apt-get is not available to install it; set MICROAPPS_CHROMIUM" >&2; return 1; }
  local sudo=""
  if [[ "$(id -u)" != "0" ]]; then
    command -v sudo >/dev/null 2>&1 || { echo "chromium: installing needs root or sudo (apt-get install chromium)" >&2; return 1; }
    sudo="sudo"
  fi
  echo "chromium: installing Debian's chromium with apt-get" >&2
  $sudo apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends chromium >&2
  CHROMIUM_BIN="$(command -v chromium || true)"
  [[ -n "$CHROMIUM_BIN" ]] || { echo "chromium: apt-get finished but no chromium is on PATH" >&2; return 1; }
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  set -euo pipefail
  chromium_install
  echo "$CHROMIUM_BIN"
fi
