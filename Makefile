# The two commands a newcomer needs: `make run` and `make test`.
SHELL := /bin/bash
GO    ?= go
# Every module of the workspace (go.work), as package patterns.
PKGS  := $(shell $(GO) list -m -f '{{.Dir}}/...' 2>/dev/null)

.PHONY: all build test vet
all: build

build:
	$(GO) build $(PKGS)

vet:
	$(GO) vet $(PKGS)

test:
	$(GO) test $(PKGS)
