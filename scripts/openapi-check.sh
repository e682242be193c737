#!/usr/bin/env bash
# Checks the OpenAPI 3 document as a REST client in another language uses
# it (make openapi-check; CI):
#   1. gen/openapi/openapi.json and docs/openapi.yaml pass `redocly lint`
#      (the structural OpenAPI 3 schema and redocly's recommended rules,
#      clients/typescript/rest/redocly.yaml);
#   2. openapi-typescript generates TypeScript types from the JSON as is (no
#      conversion), and they equal the committed
#      clients/typescript/rest/src/schema.d.ts;
#   3. the typed fetch example (clients/typescript/rest/src/example.ts)
#      compiles with tsc --strict.
# With --write, step 2 rewrites schema.d.ts instead (make openapi-types).
# The tools are pinned in clients/typescript/rest/package-lock.json.
set -euo pipefail
cd "$(dirname "$0")/../clients/typescript/rest"
write=false
[ "${1:-}" = --write ] && write=true

npm ci --no-audit --no-fund --silent
export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true

echo "redocly lint"
npx --no-install redocly lint --format=summary ../../../gen/openapi/openapi.json ../../../docs/openapi.yaml

echo "openapi-typescript"
if $write; then
  npx --no-install openapi-typescript ../../../gen/openapi/openapi.json --output src/schema.d.ts
else
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  npx --no-install openapi-typescript ../../../gen/openapi/openapi.json --output "$tmp/schema.d.ts"
  if ! cmp -s "$tmp/schema.d.ts" src/schema.d.ts; then
    diff -u src/schema.d.ts "$tmp/schema.d.ts" | head -40 >&2 || true
    echo "clients/typescript/rest/src/schema.d.ts is stale: run make openapi-types and commit" >&2
    exit 1
  fi
fi

echo "tsc --strict (typed fetch example)"
npx --no-install tsc -p tsconfig.json
