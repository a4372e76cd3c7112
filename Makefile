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
# The crypto of the functions that sign (sign, submit): std (Go's own, CGO
# off) or boringcrypto (GOEXPERIMENT=boringcrypto, cgo linked statically:
# RSA about 1.5 times faster, see make bench-signer). make build, images
# and coldstart honour it, e.g. make images CRYPTO=boringcrypto.
CRYPTO    ?= std
export CRYPTO

.PHONY: help run build test test-go test-s3 test-faults test-broker-restart test-odoo test-odoo-plain \
        test-odoo-framework vet services rabbitmq s3 minio prereqs-run prereqs-test deploy-check \
        images coldstart bench bench-enqueue load-enqueue bench-dte bench-signer bench-printout bench-notify \
        bench-pipeline bench-dashboard print-samples fuzz-verify clean

help:
	@echo "make run            run the pipeline locally and send the sample invoices"
	@echo "make test           every test CI runs (starts RabbitMQ and the S3 server if needed)"
	@echo "make test-faults    the long fault runs alone (S3 and SII outages, the dispatcher killed)"
	@echo "make bench          benchmarks: enqueue (in process and from outside), DTE signing, the whole pipeline, the dashboard"
	@echo "make bench-signer   DTE signing per core: Go, Go on BoringCrypto, Python lxml+xmlsec"
	@echo "make load-enqueue   enqueue at RATE=500/s for DURATION=60s from a separate load generator"
	@echo "make build          the dte command and the function binaries, into out/"
	@echo "make deploy-check   kn/, stack.yml, openfaas/ and deploy/observability checked offline"
	@echo "make images         OCI images of the functions with ko (out/images, or KO_DOCKER_REPO)"
	@echo "make coldstart      cold start time and memory of each function"
	@echo "make prereqs-test   check and install what make test needs (make prereqs-run: make run)"
	@echo "make print-samples  printed DTEs of every type (PDF and PNG) in out/print-samples"
	@echo "make fuzz-verify    differential fuzz of dte verify against xmlsec1 and xmllint (FUZZTIME, default 10m)"

# --- run -------------------------------------------------------------------

# With a real Odoo (odoo/README.md, "Try it"):
#   make run ODOO_URL=http://127.0.0.1:18069/api/dte/callback ODOO_DB=dte_demo ISSUERS=76086428-5
# Secrets come from the environment (ENQUEUE_SECRET, CALLBACK_SECRET); any
# other `dte local` flag goes in LOCAL_FLAGS (ports, --amqp-url, ...).
ODOO_URL    ?=
ODOO_DB     ?=
ISSUERS     ?=
LOCAL_FLAGS ?=
LOCAL_ARGS  := $(if $(ODOO_URL),--odoo-url '$(ODOO_URL)') $(if $(ODOO_DB),--odoo-db '$(ODOO_DB)') \
               $(if $(ISSUERS),--issuer '$(ISSUERS)') $(LOCAL_FLAGS)

# The prerequisites first: building dte needs gcc and libxml2's headers.
# Only the servers the pipeline uses: MinIO is for the archive's tests.
run: prereqs-run build rabbitmq s3
	$(S3ENV) && out/dte local $(LOCAL_ARGS)

prereqs-run:
	scripts/prereqs.sh run

prereqs-test:
	scripts/prereqs.sh test

build:
	@mkdir -p out
	$(GO) build -o out/dte ./tools/cmd/dte
	for f in $(FUNCTIONS); do scripts/gobuild.sh $$f out/$$f || exit 1; done

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
# RabbitMQ, on their own; the long fault runs; the Odoo addon's plain tests
# and, when ODOO_SRC names an Odoo 19.0 tree, its Odoo-framework tests and the
# odoo/README.md walk-through in a real Odoo; the deployment files.
# DTE_TEST_STRICT=1: a test that needs a tool or a server that is missing
# fails instead of skipping (shared/testenv).
test: prereqs-test services vet test-go test-s3 test-faults test-broker-restart test-odoo deploy-check

test test-go test-s3 test-faults test-broker-restart test-odoo test-odoo-plain test-odoo-framework deploy-check coldstart: export DTE_TEST_STRICT := 1

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

test-odoo: test-odoo-plain test-odoo-framework

test-odoo-plain:
	odoo/run-plain-tests.sh

# Needs ODOO_SRC (says plainly that it did not run otherwise); installs the
# Debian packages Odoo needs when missing (scripts/odoo-deps.sh).
test-odoo-framework:
	scripts/odoo-test.sh

deploy-check:
	scripts/deploy-check.sh

images:
	scripts/images.sh

coldstart: services
	$(S3ENV) && DTE_COLDSTART_STRICT=1 DTE_COLDSTART_RUNS=5 $(GO) test -count=1 -run TestColdStart -v ./tools/coldstart/

# --- benchmarks --------------------------------------------------------------

bench: bench-enqueue load-enqueue bench-dte bench-signer bench-printout bench-notify bench-pipeline bench-dashboard

bench-enqueue: services
	$(S3ENV) && $(GO) test -run '^$$' -bench Enqueue -benchtime 3000x ./shared/stage/enqueue/
	$(GO) test -run '^$$' -bench 'HandlerNoBroker|Parse' -benchmem ./shared/stage/enqueue/ ./shared/request/

bench-dte:
	$(GO) test -run '^$$' -bench . -cpu 1 -benchtime 3s ./shared/dte/

# One DTE built, stamped and signed per operation, one core each, in one
# run: shared/dte in the standard build and on BoringCrypto, and the Python
# peers (/usr/bin/python3 with Debian's python3-lxml, python3-xmlsec and
# python3-cryptography). Each first signs the same request at the same time
# and must write the same document. SIGNER_ROUNDS, SIGNER_SECONDS.
SIGNER_ROUNDS  ?= 5
SIGNER_SECONDS ?= 3
bench-signer:
	@mkdir -p out/signerbench
	CGO_ENABLED=0 $(GO) build -trimpath -o out/signerbench/std ./tools/cmd/signerbench
	CGO_ENABLED=1 GOEXPERIMENT=boringcrypto $(GO) build -trimpath -o out/signerbench/boringcrypto ./tools/cmd/signerbench
	out/signerbench/std -go std=out/signerbench/std -boring boringcrypto=out/signerbench/boringcrypto \
	  -python /usr/bin/python3 -rounds $(SIGNER_ROUNDS) -for $(SIGNER_SECONDS) -json out/signerbench/report.json

# enqueue driven from outside (dte load, a separate process) at a fixed
# rate against the real RabbitMQ, in a virtual host of its own: the README's
# enqueue figures. RATE (500), DURATION (60s).
load-enqueue: build rabbitmq s3
	scripts/load-enqueue.sh

bench-printout:
	$(GO) test -run '^$$' -bench Render -cpu 1 -benchtime 3s ./shared/printout/

# notify's CPU per accepted document with and without what the customer
# receives (the printed DTE, the receiver's EnvioDTE): rendering's cost.
bench-notify:
	$(GO) test -run '^$$' -bench NotifyAccepted -cpu 1 -benchtime 3s ./shared/stage/notify/

# 1,000 facturas at once, 1,000 at a steady 20/s, and sign and submit as 1, 2
# and 4 processes each; -v prints per run the S3 calls per document of each
# function and the CPU per 1,000 documents of each process (RabbitMQ's and
# the S3 server's included). DTE_BENCH_PROFILE=DIR records perf profiles of
# the functions and the benchmark's process (perf report -i DIR/sign.data).
bench-pipeline: build services
	$(S3ENV) && $(GO) test -v -run '^$$' -bench Pipeline -benchtime 1000x -timeout 60m ./tools/pipelinebench/

# The dashboard: its process's CPU fed 100 documents/s (600 events/s) for
# 30 s, and a page load with 1,000,000 documents in its projection (filling
# them takes a few minutes and about 1 GB in the temporary folder).
bench-dashboard: services
	$(S3ENV) && $(GO) test -run '^$$' -bench DashboardFeed -benchtime 1x -timeout 20m -v ./tools/dashboardbench/
	$(GO) test -run '^$$' -bench PageLoad -benchtime 20x -timeout 60m -v ./shared/dashboard/

# The printed representation of each sample type, letter and ticket, with
# the cedible copies: what the tests render and read back with zxing-cpp.
print-samples:
	DTE_PRINT_SAMPLES=$(CURDIR)/out/print-samples $(GO) test -count=1 -run 'TestPrintedTimbre|TestManyLines' ./shared/printout/

# --- fuzzing (not part of make test; the seeds run there) -------------------

FUZZTIME ?= 10m

# Whatever the verifier accepts, xmlsec1 must verify and xmllint validate.
# Minimization is capped: every accepted input starts xmllint and xmlsec1.
fuzz-verify:
	$(GO) test ./tools/adversarial -run '^$$' -fuzz FuzzDifferential -fuzztime $(FUZZTIME) -fuzzminimizetime 5x

clean:
	scripts/s3-server.sh stop || true
	scripts/s3-server.sh minio stop || true
	rm -rf out .run
