# The two commands a newcomer needs:
#   make run    bring up RabbitMQ, the S3 server, the SII simulator, the four
#               functions and the dispatcher, and send the sample invoices
#   make test   everything CI checks
# Both first check their prerequisites (scripts/prereqs.sh) and install what
# is missing, or stop saying how to install it.
SHELL := /bin/bash
GO    ?= go
# Tools the project builds itself (versitygw, kubeconform, ko): outside the
# checkout, shared by every clone (DTE_TOOLS_DIR overrides).
TOOLS := $(shell scripts/toolsdir.sh)
export PATH := $(TOOLS):$(PATH)
# Every module of the workspace (go.work), as package patterns.
PKGS      := $(shell $(GO) list -m -f '{{.Dir}}/...' 2>/dev/null)
FUNCTIONS := enqueue sign submit notify dashboard
# Load the local S3 server's settings (endpoint, keys, bucket) into a recipe.
S3ENV     := eval "$$(scripts/s3-server.sh env)"

.PHONY: help run build test test-go test-broker-restart test-odoo vet services rabbitmq s3 \
        prereqs-run prereqs-test deploy-check images coldstart bench bench-enqueue bench-dte \
        bench-pipeline bench-dashboard clean

help:
	@echo "make run            run the pipeline locally and send the sample invoices"
	@echo "make test           every test CI runs (starts RabbitMQ and the S3 server if needed)"
	@echo "make bench          benchmarks: enqueue, DTE signing, the whole pipeline, the dashboard"
	@echo "make build          the dte command and the function binaries, into out/"
	@echo "make deploy-check   kn/, stack.yml and openfaas/ checked offline"
	@echo "make images         OCI images of the functions with ko (out/images, or KO_DOCKER_REPO)"
	@echo "make coldstart      cold start time and memory of each function"
	@echo "make prereqs-test   check and install what make test needs (make prereqs-run: make run)"

# --- run -------------------------------------------------------------------

# The prerequisites first: building dte needs gcc and libxml2's headers.
run: prereqs-run build services
	$(S3ENV) && out/dte local

prereqs-run:
	scripts/prereqs.sh run

prereqs-test:
	scripts/prereqs.sh test

build:
	@mkdir -p out
	$(GO) build -o out/dte ./tools/cmd/dte
	for f in $(FUNCTIONS); do CGO_ENABLED=0 $(GO) build -trimpath -o out/$$f ./functions/$$f || exit 1; done

services: rabbitmq s3

rabbitmq:
	scripts/rabbitmq.sh ensure

s3:
	scripts/s3-server.sh install
	scripts/s3-server.sh start

# --- test ------------------------------------------------------------------

# The prerequisites; vet; every Go test (integration tests use the real
# RabbitMQ and versitygw, documents are checked with xmllint and xmlsec1);
# the tests that restart RabbitMQ, on their own; the Odoo addon's plain
# tests; the deployment files. DTE_TEST_STRICT=1: a test that needs a tool or
# a server that is missing fails instead of skipping (shared/testenv).
test: prereqs-test services vet test-go test-broker-restart test-odoo deploy-check

test test-go test-broker-restart test-odoo deploy-check coldstart: export DTE_TEST_STRICT := 1

vet:
	$(GO) vet $(PKGS)

test-go:
	$(S3ENV) && $(GO) test -count=1 -timeout 20m $(PKGS)

test-broker-restart:
	$(S3ENV) && DTE_TEST_BROKER_RESTART=1 $(GO) test -count=1 -p 1 -timeout 10m -run 'BrokerRestart' $(PKGS)

test-odoo:
	odoo/run-plain-tests.sh

deploy-check:
	scripts/deploy-check.sh

images:
	scripts/images.sh

coldstart: services
	$(S3ENV) && DTE_COLDSTART_STRICT=1 DTE_COLDSTART_RUNS=5 $(GO) test -count=1 -run TestColdStart -v ./tools/coldstart/

# --- benchmarks --------------------------------------------------------------

bench: bench-enqueue bench-dte bench-pipeline bench-dashboard

bench-enqueue: services
	$(GO) test -run '^$$' -bench Enqueue -benchtime 3000x ./functions/enqueue/

bench-dte:
	$(GO) test -run '^$$' -bench . -cpu 1 -benchtime 3s ./shared/dte/

bench-pipeline: build services
	$(S3ENV) && $(GO) test -run '^$$' -bench Pipeline -benchtime 1000x -timeout 30m ./tools/pipelinebench/

# The dashboard: its process's CPU fed 100 documents/s (600 events/s) for
# 30 s, and a page load with 1,000,000 documents in its projection (filling
# them takes a few minutes and about 1 GB in the temporary folder).
bench-dashboard: services
	$(S3ENV) && $(GO) test -run '^$$' -bench DashboardFeed -benchtime 1x -timeout 20m -v ./tools/dashboardbench/
	$(GO) test -run '^$$' -bench PageLoad -benchtime 20x -timeout 60m -v ./shared/dashboard/

clean:
	scripts/s3-server.sh stop || true
	rm -rf out .run
