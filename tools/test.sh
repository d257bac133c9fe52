#!/usr/bin/env bash
# The README's test command (and .ci/run's): the Debian packages the tests need, then every test of the solution.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install-system-deps.sh
exec dotnet test JudgeHost.sln "$@"
