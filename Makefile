# kwaishop-gateway developer tasks. `make help` lists them.
SHELL := /usr/bin/env bash
BUF := bin/buf
GO_TEST_FLAGS ?= -race -shuffle=on -count=1 -timeout=20m

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

bin/buf:
	./scripts/install-buf.sh

.PHONY: protodeps
protodeps: ## link google/api and buf/validate protos into third_party/
	./scripts/protodeps.sh

.PHONY: generate
generate: protodeps bin/buf ## regenerate gen/ from proto/
	@# flock: several developers' tools may regenerate the same tree at once.
	@# Generate into a scratch dir first, so a proto that does not compile leaves gen/ as it was.
	flock $(CURDIR)/bin/.generate.lock sh -c 'rm -rf bin/.gen && $(BUF) generate -o bin/.gen && \
		rm -rf gen/kwaishop gen/openapiv2/kwaishop.swagger.json && cp -R bin/.gen/gen/. gen/ && rm -rf bin/.gen'


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
test: ## run every test (race detector on), then the offline Kubernetes manifest checks
	go test $(GO_TEST_FLAGS) ./... && (cd deploy/k8s/check && go test -count=1 ./...)

.PHONY: k8s-check
k8s-check: ## kustomize-build deploy/k8s overlays and validate them offline (own module)
	cd deploy/k8s/check && go vet ./... && go test -count=1 ./...

.PHONY: fuzz
fuzz: ## run every fuzz target for its execution budget (FUZZTIME overrides; scripts/fuzz.sh)
	./scripts/fuzz.sh

.PHONY: vulncheck
vulncheck: ## govulncheck, offline database; fails on reachable module vulns (docs/toolchain-policy.md)
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
