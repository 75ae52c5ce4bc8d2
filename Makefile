# The two commands a newcomer needs:
#   make run   - Azurite (in memory, loopback) plus the handler on :7071
#   make test  - the whole suite (its own Azurite on free ports), race detector on
SHELL := /bin/bash
GO    ?= go
NPM   ?= npm
BIN   ?= app
EXAMPLES := examples/orders

.PHONY: run test build deps check bench chaos clean browser

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
	@# An example requires this module through a replace: its go.sum follows
	@# this module's dependencies, so it is tidied first (commit what changes).
	@for d in $(EXAMPLES); do (cd $$d && $(GO) mod tidy && $(GO) vet ./...) || exit 1; done

# The dashboard's browser test drives Chromium: Debian's package, installed
# here when it is missing and the machine allows it (root with apt-get).
# Elsewhere install Chromium yourself or point CHROMIUM at a binary.
browser:
	@if [ -z "$$CHROMIUM" ] && ! command -v chromium >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing Debian's chromium for the dashboard's browser test"; \
	    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "make test: Chromium is missing; install Debian's chromium package or set CHROMIUM" >&2; exit 1; fi; \
	fi

# The example apps are modules of their own (with a replace to this one):
# they build and test exactly as an app outside this repository would.
# The scenario suite (scenarios/, see README "Conformance") moves megabytes of
# payload through Azurite; it runs without the race detector, which slows it
# tenfold, after the rest of the suite.
test: deps check browser
	DURABLE_REQUIRE_BROWSER=1 $(GO) test -race -count=1 -p 1 -timeout 25m $$($(GO) list ./... | grep -v '/scenarios$$')
	$(GO) test -count=1 -timeout 15m ./scenarios
	@for d in $(EXAMPLES); do echo "test $$d"; (cd $$d && $(GO) test -race -count=1 ./...) || exit 1; done

clean:
	rm -f $(BIN)

# Benchmarks against a local Azurite the bench starts itself (see README,
# Performance). BENCH_FLAGS=-quick for a smoke run; -format csv|json.
bench: deps
	$(GO) run ./cmd/durablebench $(BENCH_FLAGS)

# Storage faults and crashes at full length (see README, Failure
# guarantees): the mixed load under 5 % injected faults for a minute
# (DURABLE_CHAOS_DURATION, DURABLE_CHAOS_RATE), the start and kill tests
# with the test timings, then the kill tests with the default timings.
CHAOS_TESTS = TestChaos|TestKilledWorker|TestStartResolves|TestFailedStart|TestHeldMessages
chaos: deps
	set -o pipefail; DURABLE_CHAOS_DURATION=$${DURABLE_CHAOS_DURATION:-60s} \
	  $(GO) test -race -count=1 -timeout 30m -v -run '$(CHAOS_TESTS)' ./durable/azstorage 2>&1 | grep -E '^(\s*(---|chaos_test|kill_test|start_faults_test)|ok|FAIL|PASS)'
	set -o pipefail; DURABLE_CHAOS_DEFAULT_TIMINGS=1 \
	  $(GO) test -race -count=1 -timeout 30m -v -run 'TestKilledWorker' ./durable/azstorage 2>&1 | grep -E '^(\s*(---|kill_test)|ok|FAIL|PASS)'
