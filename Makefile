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
FUNCTIONS := enqueue sign submit notify
# Load the local S3 server's settings (endpoint, keys, bucket) into a recipe.
S3ENV     := eval "$$(scripts/s3-server.sh env)"

.PHONY: help run build test test-go test-s3 test-faults test-broker-restart test-odoo vet services rabbitmq s3 minio \
        prereqs-run prereqs-test deploy-check images coldstart bench bench-enqueue bench-dte \
        bench-printout bench-pipeline print-samples clean

help:
	@echo "make run            run the pipeline locally and send the sample invoices"
	@echo "make test           every test CI runs (starts RabbitMQ and the S3 server if needed)"
	@echo "make test-faults    the long fault runs alone (S3 and SII outages, the dispatcher killed)"
	@echo "make bench          benchmarks: enqueue, DTE signing, the whole pipeline"
	@echo "make build          the dte command and the function binaries, into out/"
	@echo "make deploy-check   kn/, stack.yml and openfaas/ checked offline"
	@echo "make images         OCI images of the functions with ko (out/images, or KO_DOCKER_REPO)"
	@echo "make coldstart      cold start time and memory of each function"
	@echo "make prereqs-test   check and install what make test needs (make prereqs-run: make run)"
	@echo "make print-samples  printed DTEs of every type (PDF and PNG) in out/print-samples"

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

services: rabbitmq s3 minio

rabbitmq:
	scripts/rabbitmq.sh ensure

s3:
	scripts/s3-server.sh install
	scripts/s3-server.sh start

# MinIO beside versitygw, on its own port: the archive's tests also run on it
# (plain, SSE-KMS and versioned buckets). Built once into the tools cache.
minio:
	scripts/s3-server.sh minio install
	scripts/s3-server.sh minio start

# --- test ------------------------------------------------------------------

# The prerequisites; vet; every Go test (integration tests use the real
# RabbitMQ, versitygw and MinIO; documents are checked with xmllint and
# xmlsec1); the archive's tests named per S3 server; the tests that restart
# RabbitMQ, on their own; the long fault runs; the Odoo addon's plain
# tests; the deployment files. DTE_TEST_STRICT=1: a test that needs a tool
# or a server that is missing fails instead of skipping (shared/testenv).
test: prereqs-test services vet test-go test-s3 test-faults test-broker-restart test-odoo deploy-check

test test-go test-s3 test-faults test-broker-restart test-odoo deploy-check coldstart: export DTE_TEST_STRICT := 1

vet:
	$(GO) vet $(PKGS)

test-go:
	$(S3ENV) && $(GO) test -count=1 -timeout 20m $(PKGS)

# Which S3 servers and bucket kinds the archive was tested on, one line each.
test-s3:
	$(S3ENV) && scripts/test-s3.sh

# The long fault runs (tools/e2e/faults_test.go, about 7 minutes): S3
# stopped and the SII failing during a 300-document run, the dispatcher
# killed mid-run. -v prints the time each outage took to heal.
test-faults:
	$(S3ENV) && DTE_TEST_FAULTS=1 $(GO) test -count=1 -timeout 30m -v -run 'TestOutagesHealThemselves|TestDispatcherKilledMidRun' ./tools/e2e/

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

bench: bench-enqueue bench-dte bench-printout bench-pipeline

bench-enqueue: services
	$(S3ENV) && $(GO) test -run '^$$' -bench Enqueue -benchtime 3000x ./shared/stage/enqueue/

bench-dte:
	$(GO) test -run '^$$' -bench . -cpu 1 -benchtime 3s ./shared/dte/

bench-printout:
	$(GO) test -run '^$$' -bench Render -cpu 1 -benchtime 3s ./shared/printout/

bench-pipeline: build services
	$(S3ENV) && $(GO) test -run '^$$' -bench Pipeline -benchtime 1000x -timeout 30m ./tools/pipelinebench/

# The printed representation of each sample type, letter and ticket, with
# the cedible copies: what the tests render and read back with zxing-cpp.
print-samples:
	DTE_PRINT_SAMPLES=$(CURDIR)/out/print-samples $(GO) test -count=1 -run 'TestPrintedTimbre|TestManyLines' ./shared/printout/

clean:
	scripts/s3-server.sh stop || true
	scripts/s3-server.sh minio stop || true
	rm -rf out .run
