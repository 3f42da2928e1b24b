# coffer build and test entry points. `make test` runs everything CI runs.
SHELL := /usr/bin/env bash
.SHELLFLAGS := -euo pipefail -c

GO          ?= go
FUZZTIME    ?= 30s
TEST_TIMEOUT ?= 15m
BIN         := bin/coffer

.PHONY: test deps vet fmt-check unit integration scripts build fuzz bench clean

## test: everything CI runs — deps, vet, gofmt, unit + integration tests, smoke scripts
## (the smoke scripts run even when go test fails, so one run reports everything)
test: deps vet fmt-check
	@rc=0; \
	$(GO) test -count=1 -timeout $(TEST_TIMEOUT) ./... || rc=1; \
	$(MAKE) --no-print-directory scripts || rc=1; \
	if [[ $$rc -ne 0 ]]; then echo "make test: FAILED (see above)"; fi; \
	exit $$rc

## deps: install the Debian packages the smoke scripts need, only when missing
deps:
	@missing=""; \
	[[ -x /usr/bin/aws ]] || missing="$$missing awscli"; \
	/usr/bin/python3 -c 'import boto3' 2>/dev/null || missing="$$missing python3-boto3"; \
	if [[ -n "$$missing" ]]; then \
		sudo=""; [[ $$(id -u) -eq 0 ]] || sudo=sudo; \
		echo "installing:$$missing"; \
		$$sudo apt-get update -qq; \
		$$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

vet:
	$(GO) vet ./...

fmt-check:
	@files=$$(gofmt -l $$(git ls-files -co --exclude-standard '*.go' 2>/dev/null || find . -name '*.go' -not -path './.git/*')); \
	if [[ -n "$$files" ]]; then echo "gofmt needed on:"; echo "$$files"; exit 1; fi

build:
	$(GO) build -o $(BIN) ./cmd/coffer

## unit: fast tests only (integration tests skip under -short)
unit:
	$(GO) test -short -count=1 ./...

integration:
	$(GO) test -count=1 -timeout $(TEST_TIMEOUT) ./tests/integration/

## scripts: aws-cli and boto3 smoke tests against one freshly built binary
scripts: build
	@rc=0; \
	COFFER_BIN=$(CURDIR)/$(BIN) tests/scripts/awscli_smoke.sh || rc=1; \
	COFFER_BIN=$(CURDIR)/$(BIN) /usr/bin/python3 -B tests/scripts/boto3_smoke.py || rc=1; \
	exit $$rc

## fuzz: run every fuzz target for FUZZTIME each
fuzz:
	@for pkg in $$($(GO) list ./...); do \
		for target in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
			echo "== $$pkg $$target ($(FUZZTIME))"; \
			$(GO) test -run '^$$' -fuzz "^$$target\$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 5s $$pkg; \
		done; \
	done

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

clean:
	rm -rf bin
