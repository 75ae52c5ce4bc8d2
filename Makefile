# The two commands a newcomer needs:
#   make run   - Azurite (in memory, loopback) plus the handler on :7071
#   make test  - the whole suite (its own Azurite on free ports), race detector on
SHELL := /bin/bash
GO    ?= go
NPM   ?= npm
BIN   ?= app
EXAMPLES := examples/orders

.PHONY: run test build deps check bench clean

# Azurite comes from npm, pinned by package-lock.json.
node_modules/.bin/azurite: package.json package-lock.json
	$(NPM) ci --no-audit --no-fund --loglevel=error
	@touch $@

deps: node_modules/.bin/azurite
	$(GO) mod download

build:
	$(GO) build -o $(BIN) .

run: deps build
	./scripts/run-local.sh ./$(BIN)

check:
	@unformatted="$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './node_modules/*'))"; \
	if [ -n "$$unformatted" ]; then echo "not gofmt-formatted:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(GO) mod tidy -diff
	@for d in $(EXAMPLES); do (cd $$d && $(GO) vet ./... && $(GO) mod tidy -diff) || exit 1; done

# The example apps are modules of their own (with a replace to this one):
# they build and test exactly as an app outside this repository would.
test: deps check
	$(GO) test -race -count=1 -p 1 -timeout 25m ./...
	@for d in $(EXAMPLES); do echo "test $$d"; (cd $$d && $(GO) test -race -count=1 ./...) || exit 1; done

clean:
	rm -f $(BIN)

# Benchmarks against a local Azurite the bench starts itself (see README,
# Performance). BENCH_FLAGS=-quick for a smoke run; -format csv|json.
bench: deps
	$(GO) run ./cmd/durablebench $(BENCH_FLAGS)
