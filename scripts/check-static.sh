#!/usr/bin/env bash
# Checks what the Dockerfile produces, without a Docker engine: builds the
# server exactly as the Dockerfile's build stage does (CGO off, -trimpath,
# stripped), checks the binary is statically linked, then runs it as the
# image's user (uid/gid 65532, no groups; needs root for setpriv, otherwise
# it runs as the current user) with only a fresh data dir writable, waits
# for /readyz to answer 200 and stops it with SIGTERM (graceful, exit 0).
# The Go that builds it is the Dockerfile's default GO_TOOLCHAIN (fetched
# through the Go module proxy on first use) unless GOTOOLCHAIN is set.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${GOTOOLCHAIN:-}" ]; then
  GOTOOLCHAIN=$(sed -n 's/^ARG GO_TOOLCHAIN=//p' Dockerfile)
  [ -n "$GOTOOLCHAIN" ] || { echo "check-static: no ARG GO_TOOLCHAIN= line in the Dockerfile" >&2; exit 1; }
fi
export GOTOOLCHAIN

work=$(mktemp -d)
pid=
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

echo "== build (as the Dockerfile: GOTOOLCHAIN=$GOTOOLCHAIN CGO_ENABLED=0 go build -trimpath -ldflags=\"-s -w\")"
for cmd in server sandbox; do
  CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o "$work/$cmd" "./cmd/$cmd"
done
for cmd in server sandbox; do
  if command -v file >/dev/null; then
    desc=$(file -b "$work/$cmd")
  else # ldd (libc-bin) is always there
    desc=$( (ldd "$work/$cmd" 2>&1 || true) | sed 's/not a dynamic executable/statically linked (ldd: not a dynamic executable)/')
  fi
  echo "$cmd: $desc ($(du -h "$work/$cmd" | cut -f1))"
  case "$desc" in
    *"statically linked"*|*"static-pie linked"*) ;;
    *) echo "check-static: $cmd is not statically linked" >&2; exit 1 ;;
  esac
  info=$(go version -m "$work/$cmd")
  built=$(head -n 1 <<<"$info" | awk '{print $2}')
  case "$GOTOOLCHAIN" in
    go1.*) if [ "$built" != "${GOTOOLCHAIN%%+*}" ]; then
             echo "check-static: $cmd was built by $built, want $GOTOOLCHAIN" >&2; exit 1
           fi ;;
  esac
  echo "$cmd: built by $built"
  if ! grep -q -- '-trimpath=true' <<<"$info" || ! grep -q 'CGO_ENABLED=0' <<<"$info"; then
    echo "check-static: $cmd was not built with -trimpath and CGO off" >&2; exit 1
  fi
done

echo "== run as uid/gid 65532 (the image's USER)"
mkdir -p "$work/data"
run=()
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
  chown 65532:65532 "$work/data"
  chmod 755 "$work"
  run=(setpriv --reuid=65532 --regid=65532 --clear-groups --)
else
  echo "(not root: running as $(id -un))"
fi
# The image's environment, on loopback with free ports.
(cd / && exec env -i PATH=/usr/bin:/bin KWAISHOP_DATA_DIR="$work/data" \
  KWAISHOP_GRPC_ADDR=127.0.0.1:0 KWAISHOP_HTTP_ADDR=127.0.0.1:0 KWAISHOP_LOG_FORMAT=json \
  "${run[@]}" "$work/server") >"$work/log" 2>&1 &
pid=$!

addr=
for _ in $(seq 1 300); do
  addr=$(sed -n 's/.*"msg":"kwaishop-gateway ready".*"http":"\([^"]*\)".*/\1/p' "$work/log" | head -n 1)
  [ -n "$addr" ] && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
if [ -z "$addr" ]; then
  echo "check-static: the server did not report ready:" >&2
  cat "$work/log" >&2
  exit 1
fi
uid=$(stat -c %u "/proc/$pid")
if command -v curl >/dev/null; then
  code=$(curl -s -o "$work/readyz" -w '%{http_code}' "http://$addr/readyz")
else
  exec 3<>"/dev/tcp/${addr%:*}/${addr##*:}"
  printf 'GET /readyz HTTP/1.0\r\nHost: %s\r\n\r\n' "$addr" >&3
  resp=$(cat <&3); exec 3<&-
  code=$(head -n 1 <<<"$resp" | cut -d' ' -f2)
  sed '1,/^\r*$/d' <<<"$resp" >"$work/readyz"
fi
echo "GET http://$addr/readyz -> $code $(cat "$work/readyz") (server uid $uid)"
if [ "$code" != 200 ] || { [ "${#run[@]}" -gt 0 ] && [ "$uid" != 65532 ]; }; then
  cat "$work/log" >&2
  exit 1
fi
owner=$(find "$work/data" -mindepth 1 -maxdepth 1 -printf '%u:%g\n' | sort -u | tr '\n' ' ')
echo "data dir entries owned by: ${owner:-nothing written}"

kill -TERM "$pid"
status=0
wait "$pid" || status=$?
pid=
if [ "$status" != 0 ]; then
  echo "check-static: SIGTERM exit status $status, want 0:" >&2
  tail -n 20 "$work/log" >&2
  exit 1
fi
echo "check-static: OK (static binaries, non-root run, /readyz 200, graceful SIGTERM)"
