#!/usr/bin/env bash
# Puts the third-party protos buf needs into the gitignored third_party/:
#
#   third_party/googleapis     google/api and google/rpc from the npm package
#                              google-proto-files (current googleapis, with
#                              google.rpc.ErrorInfo), pinned by version and
#                              by the tarball's sha512 below;
#   third_party/protovalidate  buf/validate from the protovalidate Go module
#                              (Go module proxy, checksum-verified by go.sum's
#                              database; go.mod is not touched).
#
# Only the files our protos and clients use are unpacked (the package holds
# all of googleapis, whose other files import protos we do not have). The
# unpacked copy lives in bin/protodeps/<package>-<version>/, so a second run
# is instant and works offline. Nothing here is committed.
set -euo pipefail
cd "$(dirname "$0")/.."

gpf_version=6.0.1
gpf_integrity=sha512-fbvUWVNh3rKGlVFWwlUNF7Sk1Tah0a89q02rLTXsWjbKKHGeuURAa8tl9rvu5TyWny1YiSIo5eDqF260Tai6vQ==
gpf_files=(
  google/api/annotations.proto
  google/api/http.proto
  google/api/field_behavior.proto
  google/rpc/code.proto
  google/rpc/error_details.proto
  google/rpc/status.proto
)
protovalidate=github.com/bufbuild/protovalidate@v1.2.2

gpf_dir=bin/protodeps/google-proto-files-$gpf_version
if [ ! -f "$gpf_dir/.complete" ]; then
  command -v npm >/dev/null || { echo "protodeps: npm is needed to fetch google-proto-files@$gpf_version" >&2; exit 1; }
  mkdir -p bin/protodeps
  tmp=$(mktemp -d bin/protodeps/.tmp.XXXXXX)
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack --silent "google-proto-files@$gpf_version" >/dev/null)
  tgz="$tmp/google-proto-files-$gpf_version.tgz"
  # node came with npm; it computes the same integrity string npm records.
  got=$(node -e 'const c=require("crypto"),fs=require("fs");process.stdout.write("sha512-"+c.createHash("sha512").update(fs.readFileSync(process.argv[1])).digest("base64"))' "$tgz")
  if [ "$got" != "$gpf_integrity" ]; then
    echo "protodeps: google-proto-files@$gpf_version tarball is $got, expected $gpf_integrity" >&2
    exit 1
  fi
  mkdir -p "$tmp/out"
  tar -xzf "$tgz" -C "$tmp/out" --strip-components=1 "${gpf_files[@]/#/package/}"
  touch "$tmp/out/.complete"
  # A concurrent run may have put its (identical) copy in place first.
  mv -T "$tmp/out" "$gpf_dir" 2>/dev/null || [ -f "$gpf_dir/.complete" ]
fi

moddir() { go mod download -json "$1" | sed -n 's/.*"Dir": "\(.*\)",/\1/p'; }
pv=$(moddir "$protovalidate")
mkdir -p third_party
ln -sfn "../$gpf_dir" third_party/googleapis
ln -sfn "$pv/proto/protovalidate" third_party/protovalidate
