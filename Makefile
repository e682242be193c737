# kwaishop-gateway developer tasks. `make help` lists them.
SHELL := /usr/bin/env bash
BUF := bin/buf
GO_TEST_FLAGS ?= -race -shuffle=on -count=1 -timeout=20m

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

bin/buf:
	./scripts/install-buf.sh

.PHONY: protodeps
protodeps: ## link google/api and buf/validate protos into third_party/
	./scripts/protodeps.sh

.PHONY: generate
generate: protodeps bin/buf ## regenerate gen/ from proto/
	@# flock: several developers' tools may regenerate the same tree at once.
	flock $(CURDIR)/bin/.generate.lock sh -c 'rm -rf gen/kwaishop gen/openapiv2/kwaishop.swagger.json && $(BUF) generate'


.PHONY: generate-check
generate-check: generate ## fail if generated code is stale
	@git add -N gen >/dev/null 2>&1 || true
	@git diff --exit-code --stat -- gen || (echo "generated code is stale: run make generate and commit" >&2; exit 1)

.PHONY: lint
lint: protodeps bin/buf ## buf lint, gofmt, go vet
	$(BUF) lint
	@out=$$(gofmt -l $$(git ls-files '*.go' | grep -v '^gen/')); if [ -n "$$out" ]; then echo "gofmt: $$out" >&2; exit 1; fi
	go vet ./...

.PHONY: test
test: ## run every test (race detector on)
	go test $(GO_TEST_FLAGS) ./...

.PHONY: run
run: ## run the server (sandbox + embedded NATS when no credentials are set)
	go run ./cmd/server

.PHONY: run-sandbox
run-sandbox: ## run the platform sandbox on its own
	go run ./cmd/sandbox

.PHONY: bench
bench: ## run the Go benchmarks (results: docs/benchmarks.md)
	go test -run '^$$' -bench . -benchmem -count 1 ./...
