#!/usr/bin/env bash
# Benchmark figures (not a test): direct vs governed throughput and latency at 32 and 1
# connections against a fake OpenAI-compatible upstream on loopback, the governed path with
# durable traces on and off (Telemetry:Traces:Enabled, alternating rounds: BENCH_ROUNDS, default 2),
# and durable reserve+settle per second on one budget grain over Azurite.
#   ./bench.sh [seconds-per-phase]    (default 10)
#   ./bench.sh pii [--seconds 2]      PII scanner precision/recall over the corpus and the held-out corpus, and throughput
#   ./bench.sh neardup [--verbose]    near-duplicate cache: false hits and hit rate over the corpus and the held-out pairs at several thresholds
#   ./bench.sh savings [--seed N] [--requests N] [--concurrency N] [--shadow-share 0.2] [--warmup-share 0.25] [--tight-ahead 0.5] [--tight-room 0.6]
#                                     replays a seeded workload of 40 simulated apps twice (premium only, then the savings
#                                     engine) against simulated models on loopback; see docs/savings-proof.md
set -euo pipefail
cd "$(dirname "$0")"

if [ "${1:-}" = "pii" ]; then
  shift
  dotnet build -c Release -v quiet -nologo bench/Benchmarks/Benchmarks.csproj
  exec dotnet bench/Benchmarks/bin/Release/net10.0/MicroApps.Orleans.Benchmarks.dll pii --corpus tests/UnitTests/Pii/pii-corpus.tsv --held-out tests/UnitTests/Pii/pii-heldout.tsv "$@"
fi
if [ "${1:-}" = "neardup" ]; then
  shift
  dotnet build -c Release -v quiet -nologo bench/Benchmarks/Benchmarks.csproj
  exec dotnet bench/Benchmarks/bin/Release/net10.0/MicroApps.Orleans.Benchmarks.dll neardup --corpus tests/UnitTests/Caching/near-duplicate-corpus.tsv --held-out tests/UnitTests/Caching/near-duplicate-heldout.tsv "$@"
fi
mode="throughput"
if [ "${1:-}" = "savings" ]; then
  shift
  mode="savings"
  seconds=0
else
  seconds="${1:-10}"
fi

# shellcheck source=scripts/azurite.sh
source scripts/azurite.sh
azurite_install

data="$(mktemp -d)"
cleanup() { azurite_stop; rm -rf "$data"; }
trap cleanup EXIT INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()' 2>/dev/null || echo $((20000 + RANDOM % 20000)); }
blob=$(free_port); queue=$(free_port); table=$(free_port)
azurite_start "$data" "$blob" "$queue" "$table"
connection="$(azurite_connection_string "$blob" "$queue" "$table")"

dotnet build -c Release -v quiet -nologo src/Client/Client.csproj
dotnet build -c Release -v quiet -nologo bench/Benchmarks/Benchmarks.csproj
if [ "$mode" = "savings" ]; then
  dotnet bench/Benchmarks/bin/Release/net10.0/MicroApps.Orleans.Benchmarks.dll savings \
    --connection-string "$connection" \
    --frontdoor src/Client/bin/Release/net10.0/MicroApps.Orleans.Client.dll "$@"
  exit $?
fi
dotnet bench/Benchmarks/bin/Release/net10.0/MicroApps.Orleans.Benchmarks.dll \
  --connection-string "$connection" \
  --frontdoor src/Client/bin/Release/net10.0/MicroApps.Orleans.Client.dll \
  --seconds "$seconds"
