#!/usr/bin/env bash
# The README's test command: installs what is missing, builds with AddressSanitizer and
# UndefinedBehaviorSanitizer, starts the real local servers, runs every unit and integration test
# and the observability checks, and stops the servers.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"
build="${TTLA_TEST_BUILD_DIR:-$root/build-test}"
jobs="${TTLA_JOBS:-$(nproc)}"

bash scripts/install-deps.sh

start=$(date +%s)
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTTLA_SANITIZE=ON -DTTLA_BUILD_BENCH=ON > "$build.cmake.log" 2>&1 \
  || { cat "$build.cmake.log"; exit 1; }
cmake --build "$build" -j "$jobs" > "$build.build.log" 2>&1 || { grep -E "error|Error" -A5 "$build.build.log" | head -80; exit 1; }
echo "test: built in $(( $(date +%s) - start ))s"

servers="$(mktemp -d /tmp/ttla-servers.XXXXXX)"
cleanup() { bash scripts/servers/all.sh stop "$servers"; }
trap cleanup EXIT
bash scripts/servers/all.sh start "$servers"
# shellcheck disable=SC1091
source "$servers/env.sh"

export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
status=0
if [ -x scripts/check-observability.sh ] || [ -f scripts/check-observability.sh ]; then
  bash scripts/check-observability.sh || status=1
fi
(cd "$build" && ctest --output-on-failure -j "$jobs" -L unit --timeout 300) || status=1
(cd "$build" && ctest --output-on-failure -j 1 -L integration --timeout 900) || status=1
echo "test: finished in $(( $(date +%s) - start ))s"
exit $status
