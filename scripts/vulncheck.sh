#!/usr/bin/env bash
# Checks jingdesk against the Go vulnerability database, with the Go the
# release is built with: fails on any advisory whose call trace reaches
# jingdesk's code, unless scripts/vulncheck-accepted.txt names it with the
# reason it cannot apply. The database is built offline from the
# golang.org/x/vulndb module (through the module proxy) and cached in
# ~/.cache/jingdesk/; see scripts/vulncheck/main.go.
#
#   scripts/vulncheck.sh               as CI runs it
#   scripts/vulncheck.sh -db DIR       with a database folder of your own
set -euo pipefail

cd "$(dirname "$0")/.."
# The patched Go the release and CI build with (go.mod's toolchain line;
# machines run with GOTOOLCHAIN=local, which ignores that line).
export GOTOOLCHAIN=go1.27.3
exec go run ./scripts/vulncheck "$@"
