# syntax=docker/dockerfile:1
# kwaishop-gateway image: two static binaries (CGO off, -trimpath, stripped)
# on distroless/static, running as uid/gid 65532 (nonroot). No shell, no
# package manager. scripts/check-static.sh builds the binary the same way and
# checks it is static and serves /readyz as that user, without a Docker engine.
#
#   docker build -t kwaishop-gateway:dev .
#   docker build --build-arg GO_TOOLCHAIN=local -t kwaishop-gateway:dev .   # the builder image's Go
#   docker run --rm -p 8080:8080 -p 9090:9090 kwaishop-gateway:dev

# The shipped binaries are built by GO_TOOLCHAIN, the Go that CI tests and
# scans (docs/toolchain-policy.md): the builder image's own Go (GO_VERSION)
# only bootstraps it, fetching that exact release through the Go module proxy
# (GOTOOLCHAIN names it; about 76 MB, cached with the modules). .ci/run and
# scripts/check-static.sh read GO_TOOLCHAIN from this line.
ARG GO_VERSION=1.26.8
ARG GO_TOOLCHAIN=go1.27.3

FROM golang:${GO_VERSION} AS build
ARG GO_TOOLCHAIN
WORKDIR /src
ENV CGO_ENABLED=0 GOTOOLCHAIN=${GO_TOOLCHAIN} GOFLAGS=-mod=readonly
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go version && go mod download
COPY . .
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    go build -trimpath -ldflags="-s -w" -o /out/kwaishop-gateway ./cmd/server \
 && go build -trimpath -ldflags="-s -w" -o /out/kwaishop-sandbox ./cmd/sandbox \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/kwaishop-gateway /out/kwaishop-sandbox /usr/local/bin/
# The embedded NATS store's directory, writable by the runtime user (Kubernetes
# mounts a volume here; see deploy/k8s).
COPY --from=build --chown=65532:65532 /out/data /data
# Inside a container the loopback defaults would be unreachable.
ENV KWAISHOP_DATA_DIR=/data \
    KWAISHOP_GRPC_ADDR=0.0.0.0:9090 \
    KWAISHOP_HTTP_ADDR=0.0.0.0:8080
USER 65532:65532
EXPOSE 8080 9090
ENTRYPOINT ["/usr/local/bin/kwaishop-gateway"]
