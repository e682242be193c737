# kwaishop-gateway developer tasks. `make help` lists them.
SHELL := /usr/bin/env bash
BUF := bin/buf
# One golangci-lint build per Go version: a linter built by go1.26 cannot load go1.27 sources
# (CI lints under the Dockerfile's GO_TOOLCHAIN, contributors under their own Go).
GOLANGCI_LINT := bin/golangci-lint-$(shell go env GOVERSION)/golangci-lint
GO_TEST_FLAGS ?= -race -shuffle=on -count=1 -timeout=20m

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

bin/buf:
	./scripts/install-buf.sh

# golangci-lint is a go tool of tools/go.mod (its version is pinned there); rebuilt when that changes.
$(GOLANGCI_LINT): tools/go.mod tools/go.sum
	cd tools && go build -o $(CURDIR)/$(GOLANGCI_LINT) github.com/golangci/golangci-lint/v2/cmd/golangci-lint

.PHONY: protodeps
protodeps: ## link google/api and buf/validate protos into third_party/
	./scripts/protodeps.sh

.PHONY: generate
generate: protodeps bin/buf ## regenerate gen/ (Go, OpenAPI 3) and docs/openapi.yaml from proto/
	@# buf compiles every proto and runs every plugin before it empties gen/ (clean: true) and
	@# writes it anew, so a proto that does not compile, or a document that does not validate,
	@# leaves gen/ as it was. flock: several developers' tools may regenerate the tree at once.
	@mkdir -p bin
	flock $(CURDIR)/bin/.generate.lock sh -c '$(BUF) generate && mv gen/openapi/openapi.yaml docs/openapi.yaml'

.PHONY: generate-check
generate-check: generate ## fail if generated code (gen/, docs/openapi.yaml) is stale
	@out=$$(git status --porcelain -- gen docs/openapi.yaml); if [ -n "$$out" ]; then \
		echo "$$out" >&2; echo "generated code is stale: run make generate and commit" >&2; exit 1; fi

.PHONY: catalog
catalog: ## regenerate internal/catalog/catalog.json from the pinned platform API declarations (scripts/catalog)
	./scripts/catalog/catalog.sh

.PHONY: catalog-check
catalog-check: ## fail if internal/catalog/catalog.json is not what the generator makes
	./scripts/catalog/catalog.sh --check

.PHONY: openapi-check
openapi-check: ## validate the OpenAPI document (redocly), check its TypeScript types, compile the typed fetch example
	./scripts/openapi-check.sh

.PHONY: openapi-types
openapi-types: ## regenerate clients/typescript/rest/src/schema.d.ts from the OpenAPI document
	./scripts/openapi-check.sh --write

.PHONY: breaking
breaking: protodeps bin/buf ## buf breaking against a git revision: AGAINST=main (default), origin/main, HEAD~
	./scripts/breaking.sh $(AGAINST)

.PHONY: clients
clients: protodeps bin/buf ## regenerate the Python and TypeScript clients in clients/ (docs/clients.md)
	./scripts/clients.sh generate

.PHONY: clients-check
clients-check: protodeps bin/buf ## fail if the generated clients in clients/ are stale
	./scripts/clients.sh check

.PHONY: clients-e2e
clients-e2e: ## run the Python and TypeScript examples against a freshly started server
	./scripts/clients.sh e2e

.PHONY: lint
lint: protodeps bin/buf $(GOLANGCI_LINT) ## buf lint, buf format, gofmt, go vet, golangci-lint (.golangci.yml)
	$(BUF) lint
	$(BUF) format -d --exit-code proto
	@out=$$(gofmt -l $$(git ls-files '*.go' | grep -v '^gen/')); if [ -n "$$out" ]; then echo "gofmt: $$out" >&2; exit 1; fi
	go vet ./...
	cd tools && go vet ./...
	$(GOLANGCI_LINT) run ./...
	cd tools && $(CURDIR)/$(GOLANGCI_LINT) run --config ../.golangci.yml ./...

.PHONY: test
test: ## run every test (race detector on), then the offline Kubernetes manifest checks
	go test $(GO_TEST_FLAGS) ./... && (cd deploy/k8s/check && go test -count=1 ./...)

.PHONY: k8s-check
k8s-check: ## kustomize-build deploy/k8s overlays and validate them offline (own module)
	cd deploy/k8s/check && go vet ./... && go test -count=1 ./...

.PHONY: fuzz
fuzz: ## run every fuzz target for its execution budget (FUZZTIME overrides; scripts/fuzz.sh)
	./scripts/fuzz.sh

.PHONY: vulncheck
vulncheck: ## govulncheck under the shipped toolchain, offline database; fails on any reachable finding (docs/toolchain-policy.md)
	./scripts/vulncheck.sh

.PHONY: check-static
check-static: ## build the server as the Dockerfile does; check static, non-root run, /readyz
	./scripts/check-static.sh

.PHONY: run
run: ## run the server (sandbox + embedded NATS when no credentials are set)
	go run ./cmd/server

.PHONY: run-sandbox
run-sandbox: ## run the platform sandbox on its own
	go run ./cmd/sandbox

.PHONY: bench
bench: ## gateway vs the physical limit: server + sandbox processes under load (docs/benchmarks.md)
	./scripts/bench.sh

.PHONY: bench-go
bench-go: ## run the Go micro-benchmarks
	go test -run '^$$' -bench . -benchmem -count 1 ./...
