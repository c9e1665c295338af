#!/usr/bin/env bash
# Azurite (the Azure Storage emulator from npm) for run.sh and test.sh.
# Source it for the functions, or run `scripts/azurite.sh install` to install it only.
#
#   azurite_install                          installs azurite@3.37.0 under .tools/azurite when missing
#   azurite_start DATA_DIR BLOB QUEUE TABLE  starts it in the background (AZURITE_PID) and waits for the table port
#   azurite_connection_string BLOB QUEUE TABLE   prints the full connection string
#   azurite_stop                             SIGTERM (Azurite flushes its data on the way out), then waits

AZURITE_VERSION="3.37.0"
AZURITE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
AZURITE_DIR="$AZURITE_ROOT/.tools/azurite"
AZURITE_BIN="$AZURITE_DIR/node_modules/.bin/azurite"
AZURITE_PID=""
# The well-known development account key: public, documented, only valid against the emulator.
AZURITE_ACCOUNT="devstoreaccount1"
AZURITE_KEY="Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="

azurite_install() {
  if [[ -x "$AZURITE_BIN" ]] && grep -q "\"version\": \"$AZURITE_VERSION\"" "$AZURITE_DIR/node_modules/azurite/package.json" 2>/dev/null; then
    return 0
  fi
  command -v npm >/dev/null 2>&1 || { echo "azurite: npm (Node.js) is required to install Azurite" >&2; return 1; }
  echo "azurite: installing azurite@$AZURITE_VERSION into ${AZURITE_DIR#"$AZURITE_ROOT"/}" >&2
  mkdir -p "$AZURITE_DIR"
  npm install --prefix "$AZURITE_DIR" --no-audit --no-fund --loglevel=error "azurite@$AZURITE_VERSION" >&2
  [[ -x "$AZURITE_BIN" ]] || { echo "azurite: install finished but $AZURITE_BIN is missing" >&2; return 1; }
}

# True when something accepts TCP connections on 127.0.0.1:$1.
_azurite_port_open() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

azurite_start() {
  local data_dir="$1" blob="$2" queue="$3" table="$4" log="${5:-$1/azurite.log}"
  mkdir -p "$data_dir"
  for port in "$blob" "$queue" "$table"; do
    if _azurite_port_open "$port"; then
      echo "azurite: port $port is already in use (another Azurite? set AZURITE_*_PORT)" >&2
      return 1
    fi
  done
  # In its own session where setsid exists, so a Ctrl-C in the terminal reaches the platform's processes but not
  # Azurite: the silo still writes state while it shuts down, and the caller stops Azurite last (SIGTERM).
  local detach=()
  command -v setsid >/dev/null 2>&1 && detach=(setsid)
  "${detach[@]}" "$AZURITE_BIN" --silent --disableTelemetry --skipApiVersionCheck --loose \
    --location "$data_dir" \
    --blobHost 127.0.0.1 --blobPort "$blob" \
    --queueHost 127.0.0.1 --queuePort "$queue" \
    --tableHost 127.0.0.1 --tablePort "$table" >>"$log" 2>&1 &
  AZURITE_PID=$!
  local deadline=$((SECONDS + 60))
  until _azurite_port_open "$table"; do
    if ! kill -0 "$AZURITE_PID" 2>/dev/null; then
      echo "azurite: exited during start; see $log" >&2
      AZURITE_PID=""
      return 1
    fi
    if ((SECONDS >= deadline)); then
      echo "azurite: table port $table did not open within 60 s; see $log" >&2
      azurite_stop
      return 1
    fi
    sleep 0.2
  done
}

azurite_connection_string() {
  local blob="$1" queue="$2" table="$3"
  printf 'DefaultEndpointsProtocol=http;AccountName=%s;AccountKey=%s;BlobEndpoint=http://127.0.0.1:%s/%s;QueueEndpoint=http://127.0.0.1:%s/%s;TableEndpoint=http://127.0.0.1:%s/%s;' \
    "$AZURITE_ACCOUNT" "$AZURITE_KEY" "$blob" "$AZURITE_ACCOUNT" "$queue" "$AZURITE_ACCOUNT" "$table" "$AZURITE_ACCOUNT"
}

azurite_stop() {
  [[ -n "$AZURITE_PID" ]] || return 0
  if kill -0 "$AZURITE_PID" 2>/dev/null; then
    # Never SIGKILL: Azurite keeps its tables in memory and saves them on a timer and on SIGTERM.
    kill -TERM "$AZURITE_PID" 2>/dev/null || true
    local deadline=$((SECONDS + 30))
    while kill -0 "$AZURITE_PID" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.2; done
    if kill -0 "$AZURITE_PID" 2>/dev/null; then
      echo "azurite: still running 30 s after SIGTERM (pid $AZURITE_PID); left running so no data is lost" >&2
    fi
  fi
  wait "$AZURITE_PID" 2>/dev/null || true
  AZURITE_PID=""
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  set -euo pipefail
  case "${1:-}" in
    install) azurite_install; echo "$AZURITE_BIN" ;;
    *) echo "usage: scripts/azurite.sh install   (or source it for azurite_start/azurite_stop/azurite_connection_string)" >&2; exit 64 ;;
  esac
fi
