# The two commands a newcomer needs:
#   make run    bring up RabbitMQ, the S3 server, the SII simulator, the four
#               functions and the dispatcher, and send the sample invoices
#   make test   everything CI checks
SHELL := /bin/bash
GO    ?= go
ROOT  := $(CURDIR)
TOOLS := $(ROOT)/.tools/bin
export PATH := $(TOOLS):$(PATH)
# Every module of the workspace (go.work), as package patterns.
PKGS  := $(shell $(GO) list -m -f '{{.Dir}}/...' 2>/dev/null)
# Function binaries `make build` puts in out/.
FUNCTIONS := enqueue sign submit notify

.PHONY: help build test test-go test-broker-restart test-odoo services s3 rabbitmq run bench vet clean

help:
	@echo "make run            run the pipeline locally and send the sample invoices"
	@echo "make test           run every test CI runs (starts RabbitMQ and the S3 server if needed)"
	@echo "make bench          benchmarks: enqueue, DTE signing, the whole pipeline"
	@echo "make build          build the dte command and the function binaries into out/"
	@echo "make deploy-check   validate kn/ and stack.yml offline"

build:
	@mkdir -p out
	$(GO) build -o out/dte ./tools/cmd/dte
	@for f in $(FUNCTIONS); do [ -d functions/$$f ] && CGO_ENABLED=0 $(GO) build -trimpath -o out/$$f ./functions/$$f || true; done

vet:
	$(GO) vet $(PKGS)

rabbitmq:
	scripts/rabbitmq.sh ensure

s3:
	scripts/s3-server.sh install
	scripts/s3-server.sh start

services: rabbitmq s3

# make test: vet, all Go tests (integration tests use the real RabbitMQ and
# versitygw), the broker-restart tests on their own (they stop RabbitMQ), the
# Odoo addon's plain tests.
test: services vet test-go test-broker-restart test-odoo

test-go:
	eval "$$(scripts/s3-server.sh env)" && $(GO) test -count=1 $(PKGS)

test-broker-restart:
	eval "$$(scripts/s3-server.sh env)" && DTE_TEST_BROKER_RESTART=1 $(GO) test -count=1 -p 1 -run 'BrokerRestart' $(PKGS)

test-odoo:
	odoo/run-plain-tests.sh

bench: services
	eval "$$(scripts/s3-server.sh env)" && $(GO) test -run '^$$' -bench . -benchtime 2000x ./functions/enqueue/

clean:
	scripts/s3-server.sh stop || true
	rm -rf out .run
