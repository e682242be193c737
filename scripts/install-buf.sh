#!/usr/bin/env bash
# Installs buf (pinned) as bin/buf. The npm package ships the prebuilt
# binary (seconds); `go install` builds it from source (~90 s) as a fallback.
set -euo pipefail
cd "$(dirname "$0")/.."
version=1.75.0
mkdir -p bin
if [ -x bin/buf ] && [ "$(bin/buf --version 2>/dev/null)" = "$version" ]; then exit 0; fi
if command -v npm >/dev/null 2>&1; then
  dir=$(mktemp -d)
  if npm install --silent --no-audit --no-fund --prefix "$dir" "@bufbuild/buf@$version" >/dev/null 2>&1 \
     && "$dir/node_modules/.bin/buf" --version >/dev/null 2>&1; then
    real=$(find "$dir/node_modules/@bufbuild" -type f -path '*/bin/buf' | head -n 1)
    if [ -n "$real" ] && "$real" --version >/dev/null 2>&1; then
      cp "$real" bin/buf && chmod +x bin/buf && rm -rf "$dir" && exit 0
    fi
  fi
  rm -rf "$dir"
fi
GOBIN="$PWD/bin" go install "github.com/bufbuild/buf/cmd/buf@v$version"
