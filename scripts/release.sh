#!/usr/bin/env bash
# Builds jingdesk's release binaries into dist/: stripped, static
# (CGO_ENABLED=0), with -trimpath, for every supported system, stamped with
# the version, commit and build date (`jingdesk version`), and
# dist/SHA256SUMS to check them with (`sha256sum -c SHA256SUMS`).
#
#   scripts/release.sh                  version from `git describe`
#   VERSION=v1.2.0 scripts/release.sh   a version of your choosing
#   SOURCE_DATE_EPOCH=… scripts/release.sh
#                                       a fixed build date: the same commit
#                                       builds byte-identical binaries
set -euo pipefail

cd "$(dirname "$0")/.."
# Release binaries are built with the patched Go named by go.mod's toolchain
# line (fetched through the module proxy on first use); a toolchain line
# alone is ignored where GOTOOLCHAIN=local.
export GOTOOLCHAIN=go1.27.3

targets=(linux/amd64 linux/arm64 windows/amd64 darwin/arm64)

version=${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
if [ -n "${SOURCE_DATE_EPOCH:-}" ]; then
	# GNU date, then BSD (macOS) date.
	date=$(date -u -d "@${SOURCE_DATE_EPOCH}" +%Y-%m-%dT%H:%M:%SZ 2>/dev/null ||
		date -u -r "${SOURCE_DATE_EPOCH}" +%Y-%m-%dT%H:%M:%SZ)
else
	date=$(date -u +%Y-%m-%dT%H:%M:%SZ)
fi
case $version in
*[!A-Za-z0-9._+-]*)
	echo "release: VERSION may hold only letters, digits and . _ + - (got '$version')" >&2
	exit 1
	;;
esac

ldflags="-s -w -X main.version=${version} -X main.commit=${commit} -X main.date=${date}"

rm -rf dist
mkdir -p dist
echo "jingdesk ${version} (commit ${commit}, built ${date}, $(go env GOVERSION))"
for target in "${targets[@]}"; do
	os=${target%/*}
	arch=${target#*/}
	out="jingdesk-${version}-${os}-${arch}"
	if [ "$os" = windows ]; then
		out="${out}.exe"
	fi
	echo "  building dist/${out}"
	# -buildvcs=false: the stamp comes from -ldflags, and a dirty tree's
	# VCS stamp would otherwise make otherwise identical builds differ.
	CGO_ENABLED=0 GOOS=$os GOARCH=$arch go build -trimpath -buildvcs=false -ldflags "$ldflags" -o "dist/${out}" .
done

(cd dist && sha256sum -- jingdesk-* >SHA256SUMS)
echo "  wrote dist/SHA256SUMS"
(cd dist && cat SHA256SUMS)
