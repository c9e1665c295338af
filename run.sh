#!/usr/bin/env bash
# Runs MicroApps.Orleans on this machine: Azurite (data in .data/azurite), one silo and the front door.
# Installs Azurite (npm) when missing, builds (Release), seeds a demo app and prints how to call it.
# Ctrl-C stops everything it started; running it again keeps apps, keys and spend.
#
# Environment: PORT (front door, default 8080), AZURITE_BLOB_PORT/AZURITE_QUEUE_PORT/AZURITE_TABLE_PORT
# (10000-10002), SILO_PORT (11111), GATEWAY_PORT (30000).
set -euo pipefail
cd "$(dirname "$0")"
ROOT="$(pwd)"
PORT="${PORT:-8080}"
AZ_BLOB="${AZURITE_BLOB_PORT:-10000}"
AZ_QUEUE="${AZURITE_QUEUE_PORT:-10001}"
AZ_TABLE="${AZURITE_TABLE_PORT:-10002}"
SILO_PORT="${SILO_PORT:-11111}"
GATEWAY_PORT="${GATEWAY_PORT:-30000}"
DATA="$ROOT/.data"
LOGS="$DATA/logs"
CONFIGURATION=Release
URL="http://localhost:$PORT"
DEMO_APP="demo-summarizer"

say() { printf 'run.sh: %s\n' "$*" >&2; }

command -v dotnet >/dev/null 2>&1 || { say "the .NET 10 SDK (dotnet) is required: https://dotnet.microsoft.com/download"; exit 1; }
command -v curl >/dev/null 2>&1 || { say "curl is required"; exit 1; }

# shellcheck source=scripts/azurite.sh
source scripts/azurite.sh
azurite_install

SILO_PID=""
FRONTDOOR_PID=""
stop_all() {
  trap - INT TERM EXIT
  for pid in "$FRONTDOOR_PID" "$SILO_PID"; do
    if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
    fi
  done
  if [[ -n "$AZURITE_PID" ]]; then
    say "stopping Azurite (it saves its data on the way out)"
    azurite_stop
  fi
}
trap 'stop_all; exit 130' INT TERM
trap stop_all EXIT

mkdir -p "$DATA/azurite" "$LOGS"
chmod 700 "$DATA"

say "building ($CONFIGURATION)"
for project in src/Silo/Silo.csproj src/Client/Client.csproj; do
  if ! dotnet build "$project" -c "$CONFIGURATION" -nologo -v quiet >"$LOGS/build.log" 2>&1; then
    grep -E 'error|Error' "$LOGS/build.log" >&2 || cat "$LOGS/build.log" >&2
    say "the build of $project failed (full output: .data/logs/build.log)"
    exit 1
  fi
done

say "starting Azurite on ports $AZ_BLOB-$AZ_TABLE (data: .data/azurite)"
azurite_start "$DATA/azurite" "$AZ_BLOB" "$AZ_QUEUE" "$AZ_TABLE" "$LOGS/azurite.log"
CONNECTION_STRING="$(azurite_connection_string "$AZ_BLOB" "$AZ_QUEUE" "$AZ_TABLE")"

if [[ ! -s "$DATA/admin-token" ]]; then
  (umask 077; head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$DATA/admin-token")
fi
ADMIN_TOKEN="$(cat "$DATA/admin-token")"
# A second principal with the viewer role, to see the console as someone who reads but cannot change anything.
if [[ ! -s "$DATA/viewer-token" ]]; then
  (umask 077; head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$DATA/viewer-token")
fi
VIEWER_TOKEN="$(cat "$DATA/viewer-token")"

# State is keyed by the service id, so it survives; each run is a fresh cluster so a silo that
# crashed last time (its membership row still "Active") never delays this one.
export Orleans__Provider="AzureStorage"
export Orleans__ServiceId="microapps-local"
export Orleans__ClusterId="local-$(date +%s)"
export Orleans__GatewayPort="$GATEWAY_PORT"
export Storage__ConnectionString="$CONNECTION_STRING"
export Telemetry__Exporter="${Telemetry__Exporter:-none}"
# Prometheus scrape endpoints: the silo's (grain and governed-call metrics) and the front door's /metrics.
export Telemetry__Prometheus__Enabled="${Telemetry__Prometheus__Enabled:-true}"
SILO_METRICS_PORT="${MICROAPPS_SILO_METRICS_PORT:-9464}"
# The built-in offline model, priced so the demo budget shows spend.
export Models__Tiers__local__Models__0__Name="local-extractive-summarizer"
export Models__Tiers__local__Models__0__Backend="local"
export Models__Tiers__local__Models__0__InputPricePer1K="0.0005"
export Models__Tiers__local__Models__0__OutputPricePer1K="0.0015"

say "starting the silo (silo port $SILO_PORT, gateway $GATEWAY_PORT)"
(
  cd "src/Silo/bin/$CONFIGURATION/net10.0"
  Orleans__SiloPort="$SILO_PORT" Orleans__AdvertisedIp="127.0.0.1" Telemetry__Prometheus__Port="$SILO_METRICS_PORT" \
    Telemetry__Prometheus__Host="127.0.0.1" exec dotnet MicroApps.Orleans.Silo.dll
) >"$LOGS/silo.log" 2>&1 &
SILO_PID=$!
deadline=$((SECONDS + 120))
until grep -q '^SILO READY ' "$LOGS/silo.log"; do
  kill -0 "$SILO_PID" 2>/dev/null || { say "the silo exited:"; tail -20 "$LOGS/silo.log" >&2; exit 1; }
  ((SECONDS < deadline)) || { say "the silo was not ready within 120 s; see .data/logs/silo.log"; exit 1; }
  sleep 0.3
done
say "$(grep -m1 '^SILO READY ' "$LOGS/silo.log")"

say "starting the front door on $URL"
(
  cd "src/Client/bin/$CONFIGURATION/net10.0"
  ASPNETCORE_URLS="http://127.0.0.1:$PORT" FrontDoor__CoHostSilo="false" FrontDoor__AdminToken="$ADMIN_TOKEN" \
    FrontDoor__Principals__0__Name="viewer" FrontDoor__Principals__0__Role="viewer" FrontDoor__Principals__0__Token="$VIEWER_TOKEN" \
    exec dotnet MicroApps.Orleans.Client.dll
) >"$LOGS/frontdoor.log" 2>&1 &
FRONTDOOR_PID=$!
deadline=$((SECONDS + 120))
until [[ "$(curl -s -o /dev/null -w '%{http_code}' "$URL/health/ready" || true)" == "200" ]]; do
  kill -0 "$FRONTDOOR_PID" 2>/dev/null || { say "the front door exited:"; tail -20 "$LOGS/frontdoor.log" >&2; exit 1; }
  ((SECONDS < deadline)) || { say "the front door was not ready within 120 s; see .data/logs/frontdoor.log"; exit 1; }
  sleep 0.5
done

admin() { # METHOD PATH [JSON] → prints the body, returns non-zero on an HTTP error
  local method="$1" path="$2" body="${3:-}" out status
  out="$(mktemp)"
  status="$(curl -sS -o "$out" -w '%{http_code}' -X "$method" "$URL$path" \
    -H "Authorization: Bearer $ADMIN_TOKEN" -H 'Content-Type: application/json' ${body:+--data "$body"})"
  cat "$out"
  rm -f "$out"
  [[ "$status" == 2* ]] || { say "$method $path answered $status"; return 1; }
}

# Tiny JSON field reader so the script needs no jq: a top-level "name": value pair, string or number.
json_field() { sed -n "s/.*\"$1\":\"\{0,1\}\([^\",}]*\).*/\1/p" | head -1; }

# The demo app goes through the same lifecycle as any app: created as a draft with a regression test,
# submitted (the gates run; an internal app whose gates pass is approved automatically), then promoted.
# An existing app is left as it is (it may be a later version by now), so this runs on every start.
say "seeding the demo app '$DEMO_APP'"
if [[ "$(curl -s -o /dev/null -w '%{http_code}' "$URL/admin/apps/$DEMO_APP" -H "Authorization: Bearer $ADMIN_TOKEN")" == "404" ]]; then
admin POST /admin/apps "$(cat <<JSON
{"appId": "$DEMO_APP", "name": "Demo summarizer", "owner": "admin", "team": "platform",
 "audience": "internal", "dataClasses": [], "allowedTiers": ["local"], "defaultTier": "local",
 "quotas": {"requestsPerMinute": 60, "tokensPerDay": 200000}, "expectedCallsPerMonth": 10000,
 "template": "summarizer@1.0.0", "parameters": {"tier": "local", "chunkTokens": 400},
 "tests": [{"name": "keeps-the-point", "model": "local",
            "input": "Summarize: Orleans grains are virtual actors. Each budget is a grain, so spend is checked in one place.",
            "assertions": [{"kind": "contains", "value": "grain"}, {"kind": "max_tokens", "value": "200"}]}],
 "budget": {"limitUsd": 5, "period": "day"}}
JSON
)" >/dev/null
fi
if [[ "$(admin GET "/admin/apps/$DEMO_APP" | json_field publishedVersion)" =~ ^(null|)$ ]]; then
  if [[ "$(admin GET "/admin/apps/$DEMO_APP/versions/1" | json_field state)" == "draft" ]]; then
    say "submitting version 1 (promotion gates: data access, PII, regression test, cost, policy)"
    admin POST "/admin/apps/$DEMO_APP/versions/1/submit" '{}' >/dev/null
  fi
  admin POST "/admin/apps/$DEMO_APP/versions/1/promote" '{}' >/dev/null
  say "version 1 of '$DEMO_APP' is published"
fi

DEMO_KEY=""
if [[ -s "$DATA/demo-key" ]]; then
  DEMO_KEY="$(cat "$DATA/demo-key")"
  # The saved key is reused unless it no longer admits (the data folder was wiped, say).
  if [[ "$(curl -s -o /dev/null -w '%{http_code}' "$URL/v1/models" -H "Authorization: Bearer $DEMO_KEY")" != "200" ]]; then
    DEMO_KEY=""
  fi
fi
if [[ -z "$DEMO_KEY" ]]; then
  DEMO_KEY="$(admin POST "/admin/apps/$DEMO_APP/keys" '{"label":"run.sh demo"}' | json_field apiKey)"
  [[ -n "$DEMO_KEY" && "$DEMO_KEY" != "null" ]] || { say "issuing the demo key failed"; exit 1; }
  (umask 077; printf '%s\n' "$DEMO_KEY" >"$DATA/demo-key")
fi

SPENT="$(admin GET "/admin/apps/$DEMO_APP" | json_field spentUsd)"
SPENT="$(awk -v v="${SPENT:-0}" 'BEGIN { printf "%.6f", v }')"
cat <<INFO

  MicroApps.Orleans is running.
    front door    $URL   (API reference: $URL/scalar/v1, OpenAPI: $URL/openapi/v1.json)
    admin console $URL/console/   (sign in with a token below; Orleans dashboard: $URL/dashboard/ for admins)
    admin token   $ADMIN_TOKEN   (saved in .data/admin-token)
    viewer token  $VIEWER_TOKEN   (saved in .data/viewer-token: sees everything, changes nothing)
    demo app      $DEMO_APP, key $DEMO_KEY   (saved in .data/demo-key), spent today \$$SPENT of \$5
    logs          .data/logs/{azurite,silo,frontdoor}.log

  Try it:
    curl -s $URL/v1/chat/completions \\
      -H "Authorization: Bearer $DEMO_KEY" -H "Content-Type: application/json" \\
      -d '{"model":"auto","messages":[{"role":"user","content":"Summarize: Orleans grains are virtual actors. Each budget is a grain, so spend is checked in one place."}]}'

    curl -s $URL/apps/$DEMO_APP/run -H "Authorization: Bearer $DEMO_KEY" -H "Content-Type: application/json" \
      -d '{"input":"Orleans grains are virtual actors. Each budget is a grain, so spend is checked in one place. The catalog offers vetted templates."}'
                                                                                             # the hosted summarizer template

    export MICROAPPS_URL=$URL MICROAPPS_TOKEN=$ADMIN_TOKEN                                  # then the CLI:
    ./microapps apps list
    ./microapps catalog                                                                      # templates and components
    ./microapps new --template summarizer --app-id my-notes --out my-notes.yaml             # walkthrough: docs/cli.md

    curl -s $URL/admin/apps -H "Authorization: Bearer $ADMIN_TOKEN"
    curl -s "$URL/admin/traces?appId=$DEMO_APP" -H "Authorization: Bearer $ADMIN_TOKEN"      # every call's trace
    curl -s $URL/admin/cost/summary -H "Authorization: Bearer $ADMIN_TOKEN"                  # spend, per-1k, saving split
    curl -s $URL/admin/savings/quality -H "Authorization: Bearer $ADMIN_TOKEN"               # quality evidence per model and query type
    curl -s $URL/v1/batch-jobs -H "Authorization: Bearer $DEMO_KEY" -H "Content-Type: application/json" \
      -d '{"requests":[{"custom_id":"nightly-1","messages":[{"role":"user","content":"Summarize: the batch pool runs non-urgent jobs."}]}]}'
    curl -s $URL/admin/alerts -H "Authorization: Bearer $ADMIN_TOKEN"                        # budget alerts
    curl -s http://127.0.0.1:$SILO_METRICS_PORT/metrics | grep microapps_                    # Prometheus (silo)

  Ctrl-C stops everything; ./run.sh again keeps apps, keys and spend.

INFO

# Stay in the foreground until Ctrl-C or until a process dies.
set +e
wait -n "$SILO_PID" "$FRONTDOOR_PID"
say "a process exited; see .data/logs. Stopping."
exit 1
