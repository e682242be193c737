#!/usr/bin/env bash
# Links the third-party protos buf needs into the gitignored third_party/:
# google/api (+ google/rpc) from the grpc-gateway v1 Go module and
# buf/validate from the protovalidate Go module. Both come through the Go
# module proxy, checksum-verified; go.mod is not touched.
set -euo pipefail
cd "$(dirname "$0")/.."
moddir() { go mod download -json "$1" | sed -n 's/.*"Dir": "\(.*\)",/\1/p'; }
gw=$(moddir github.com/grpc-ecosystem/grpc-gateway@v1.16.0)
pv=$(moddir github.com/bufbuild/protovalidate@v1.2.2)
mkdir -p third_party
ln -sfn "$gw/third_party/googleapis" third_party/googleapis
ln -sfn "$pv/proto/protovalidate" third_party/protovalidate
