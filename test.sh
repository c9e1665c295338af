#!/usr/bin/env bash
# Builds the solution once and runs every test project; prints per-project totals and a last line
# "N passed, N failed". Exits non-zero when any test fails or a project cannot run.
set -euo pipefail
cd "$(dirname "$0")"
ROOT="$(pwd)"
CONFIGURATION="${CONFIGURATION:-Release}"
RESULTS="$ROOT/TestResults/test-sh"
PROJECTS=(UnitTests GrainTests FrontDoorTests IntegrationTests ConsoleTests)

command -v dotnet >/dev/null 2>&1 || { echo "test.sh: the .NET 10 SDK (dotnet) is required" >&2; exit 1; }

# shellcheck source=scripts/azurite.sh
source scripts/azurite.sh
azurite_install
# The integration tests start their own Azurite instances from this install.
export MICROAPPS_AZURITE="$AZURITE_BIN"

# shellcheck source=scripts/chromium.sh
source scripts/chromium.sh
chromium_install
# The console's browser tests drive this chromium through Playwright.
export MICROAPPS_CHROMIUM="$CHROMIUM_BIN"

dotnet build MicroApps.Orleans.sln -c "$CONFIGURATION" -nologo -v quiet "-clp:ErrorsOnly;NoSummary"

rm -rf "$RESULTS"
mkdir -p "$RESULTS"
total_passed=0
total_failed=0
status=0
for project in "${PROJECTS[@]}"; do
  csproj="tests/$project/$project.csproj"
  if [[ ! -f "$csproj" ]]; then
    echo "test.sh: $csproj is missing" >&2
    status=1
    total_failed=$((total_failed + 1))
    continue
  fi
  echo "=== $project"
  if ! dotnet test "$csproj" -c "$CONFIGURATION" --no-build -nologo \
      --logger "console;verbosity=minimal" \
      --logger "trx;LogFileName=$project.trx" \
      --results-directory "$RESULTS"; then
    status=1
  fi
  trx="$RESULTS/$project.trx"
  if [[ -f "$trx" ]]; then
    counters="$(grep -o '<Counters [^>]*>' "$trx" | head -1)"
    passed="$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$counters")"
    failed="$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$counters")"
    errors="$(sed -n 's/.* error="\([0-9]*\)".*/\1/p' <<<"$counters")"
    timeouts="$(sed -n 's/.* timeout="\([0-9]*\)".*/\1/p' <<<"$counters")"
    aborted="$(sed -n 's/.* aborted="\([0-9]*\)".*/\1/p' <<<"$counters")"
    passed=${passed:-0}
    failed=$(( ${failed:-0} + ${errors:-0} + ${timeouts:-0} + ${aborted:-0} ))
  else
    # No result file: the test host crashed or the project did not run; count it as a failure.
    echo "test.sh: $project produced no results" >&2
    passed=0
    failed=1
    status=1
  fi
  if ((passed + failed == 0)); then
    # A project that ran no test proves nothing: count it as a failure.
    echo "test.sh: $project ran no tests" >&2
    failed=1
    status=1
  fi
  echo "--- $project: $passed passed, $failed failed"
  total_passed=$((total_passed + passed))
  total_failed=$((total_failed + failed))
done

if ((total_failed > 0)); then
  status=1
fi
echo "$total_passed passed, $total_failed failed"
exit "$status"
