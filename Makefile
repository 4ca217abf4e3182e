# Roomcast: the two commands a newcomer needs are `make run` and `make test`.

GO           ?= go
BIN          := $(CURDIR)/bin
NODE_MODULES := interop/node_modules/.package-lock.json
BENCH_MODULES := bench/node/node_modules/.package-lock.json
WEB_MODULES  := web/node_modules/.package-lock.json
CHROMIUM     ?= /usr/bin/chromium
FUZZTIME     ?= 10s
SOAK         ?= 60s

.PHONY: run test vet gotest interop browser fuzz soak build chromium redis clean

## run: the standalone server (cmd/roomcast) with the demo chat on http://localhost:3000/
run: $(WEB_MODULES)
	$(GO) run ./cmd/roomcast

## test: everything CI checks — vet, Go tests under -race, the npm-client
## interop and browser tests, a short run of every fuzz target, a soak run
test: vet gotest interop fuzz soak

vet:
	$(GO) vet ./...

# Tests that need Redis fail, rather than skip, when it is missing.
gotest: redis
	ROOMCAST_REQUIRE_REDIS=1 $(GO) test -race -count=1 ./...

## redis: make sure a Redis server answers on 127.0.0.1:6379 (install and start it if not)
redis:
	@redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 || { \
		command -v redis-server >/dev/null || { apt-get update && apt-get install -y redis-server; }; \
		redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no; \
		for i in 1 2 3 4 5 6 7 8 9 10; do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 0.5; done; }

build:
	mkdir -p $(BIN)
	$(GO) build -o $(BIN)/conformance ./examples/conformance
	$(GO) build -o $(BIN)/reference ./examples/reference
	$(GO) build -o $(BIN)/roomcast ./cmd/roomcast
	$(GO) build -o $(BIN)/features ./interop/features

# npm ci installs exactly the locked versions; it runs again when a lock changes.
$(NODE_MODULES): interop/package-lock.json interop/package.json
	cd interop && npm ci --no-audit --no-fund
	touch $@

# The Node.js bench app: the baseline of the benchmarks, and the Node.js
# member of the mixed clusters of interop/cluster.test.mjs.
$(BENCH_MODULES): bench/node/package-lock.json bench/node/package.json
	cd bench/node && npm ci --no-audit --no-fund
	touch $@

# The demo's browser client (socket.io-client), from web/package-lock.json.
$(WEB_MODULES): web/package-lock.json web/package.json
	cd web && npm ci --no-audit --no-fund
	touch $@

## chromium: install Debian's chromium for the browser test, unless it is there
chromium:
	@test -x $(CHROMIUM) || { apt-get update && apt-get install -y chromium; }

## interop: engine.io-client, socket.io-client and browser (Chromium) tests
interop: build redis chromium $(NODE_MODULES) $(BENCH_MODULES) $(WEB_MODULES)
	cd interop && ROOMCAST_REQUIRE_REDIS=1 CONFORMANCE_BIN=$(BIN)/conformance REFERENCE_BIN=$(BIN)/reference \
		FEATURES_BIN=$(BIN)/features ROOMCAST_BIN=$(BIN)/roomcast ROOMCAST_WEB=$(CURDIR)/web CHROMIUM=$(CHROMIUM) \
		node --test --test-concurrency=1 *.test.mjs

## browser: only the end-to-end test of the demo chat in headless Chromium
browser: build chromium $(NODE_MODULES) $(WEB_MODULES)
	cd interop && ROOMCAST_BIN=$(BIN)/roomcast ROOMCAST_WEB=$(CURDIR)/web CHROMIUM=$(CHROMIUM) \
		node --test --test-concurrency=1 browser.test.mjs

## fuzz: each fuzz target for FUZZTIME (their seed corpora also run in gotest).
## A run that fails with no failing input (Go's fuzzer sometimes ends with
## "context deadline exceeded" on a loaded machine) is run once more.
fuzz:
	@for pkg in ./parser ./engineio . ./adapter/redis/wire; do \
		for target in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
			echo "fuzz $$pkg $$target ($(FUZZTIME))"; \
			out=$$($(GO) test -run '^$$' -fuzz "^$$target$$" -fuzztime $(FUZZTIME) $$pkg 2>&1); rc=$$?; echo "$$out"; \
			if [ $$rc -ne 0 ] && ! echo "$$out" | grep -q 'Failing input'; then \
				echo "fuzz $$pkg $$target: failed without a failing input (the fuzzer's own time-out): once more"; \
				$(GO) test -run '^$$' -fuzz "^$$target$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
			elif [ $$rc -ne 0 ]; then exit 1; fi; \
		done; \
	done

## soak: healthy, churning and hostile clients at once for SOAK; fails on any loss
soak:
	$(GO) run ./cmd/roomcast-soak -duration $(SOAK)

clean:
	rm -rf $(BIN)
