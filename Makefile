# Roomcast: the two commands a newcomer needs are `make run` and `make test`.

GO      ?= go
BIN     := $(CURDIR)/bin
NODE_MODULES := interop/node_modules/.package-lock.json

.PHONY: run test vet gotest interop build clean

## run: serve the reference app on http://127.0.0.1:3000/socket.io/ (in-memory adapter)
run:
	$(GO) run ./examples/reference

## test: everything CI checks — vet, Go tests under -race, npm-client interop tests
test: vet gotest interop

vet:
	$(GO) vet ./...

gotest:
	$(GO) test -race -count=1 ./...

build:
	mkdir -p $(BIN)
	$(GO) build -o $(BIN)/conformance ./examples/conformance
	$(GO) build -o $(BIN)/reference ./examples/reference

# npm ci installs exactly the locked versions; it runs again when the lock changes.
$(NODE_MODULES): interop/package-lock.json interop/package.json
	cd interop && npm ci --no-audit --no-fund
	touch $@

interop: build $(NODE_MODULES)
	cd interop && CONFORMANCE_BIN=$(BIN)/conformance REFERENCE_BIN=$(BIN)/reference \
		node --test --test-concurrency=1 *.test.mjs

clean:
	rm -rf $(BIN)
