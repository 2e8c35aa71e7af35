#!/usr/bin/env bash
# Replication soak: ./bench/soak.sh MINUTES [SEED]
#
# Starts a talus master on a free loopback port (its own temp directory) under continuous, rate-bounded
# writes of every data type, and for MINUTES injects a random fault every 2-6 seconds: add a replica (up to
# 4, each behind its own fault proxy; half the time it is hit again while its full sync runs), kill -9 a
# replica and restart it (sometimes with its dataset deleted), cut a replica's connections at its proxy,
# kill -9 and restart the master (at most once a minute), or BGSAVE. Then it stops the load, waits for
# every replica to catch up and compares each with the master key by key. It prints one line per replica
# ("replica N: full syncs F, partial syncs P, divergent keys D") and "divergent keys: D"; the exit code is
# non-zero when D > 0 or a replica never caught up. The seed is printed at the start; pass it to replay
# the same fault schedule.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [[ $# -lt 1 ]]; then
  echo "usage: $0 MINUTES [SEED]" >&2
  exit 2
fi
# The soak runs the real server binary (built when the sources changed).
"$root/talus" --version >/dev/null
export TALUS_BIN="$root/.build/bin/talus"
out="$root/.build/soak"
dotnet build "$root/tests/Talus.Soak/Talus.Soak.csproj" -c Release --nologo -v quiet -o "$out" >&2
exec dotnet "$out/Talus.Soak.dll" "$@"
