# syntax=docker/dockerfile:1
# The image of one function, chosen with the build argument FUNCTION
# (enqueue, sign, submit, notify or dashboard):
#
#   docker build --build-arg FUNCTION=sign -t dte-sign .    # from the repository root
#   scripts/images.sh docker [FUNCTION...]                  # the same, for each function
#
# OpenFaaS builds with it too (stack.yml, lang: dockerfile): faas-cli's
# context is the function's folder plus ./shared, ./functions and this file
# (configuration.copy), and build_args sets FUNCTION. Either way the build
# sees the repository's layout: the function's module requires shared
# through a relative replace to the repository's shared/, so no go.work is made or used
# (GOWORK=off). Knative images are built by ko instead (make images).
FROM golang:1.26-bookworm AS build
ARG FUNCTION
RUN test -n "${FUNCTION}" || { echo "build with --build-arg FUNCTION=enqueue|sign|submit|notify|dashboard" >&2; exit 1; }
WORKDIR /src
COPY shared/ shared/
COPY functions/${FUNCTION}/ functions/${FUNCTION}/
WORKDIR /src/functions/${FUNCTION}
# CRYPTO=std (default): Go's crypto, CGO off, every function. CRYPTO=boringcrypto:
# sign and submit, the functions that sign, on BoringCrypto (GOEXPERIMENT=boringcrypto,
# RSA about 1.5 times faster, make bench-signer); cgo, linked statically (this image
# has gcc and libc6-dev), so the distroless static base still needs no C library.
# enqueue, notify and dashboard sign nothing and stay CGO off. scripts/gobuild.sh builds the same.
#   docker build --build-arg FUNCTION=sign --build-arg CRYPTO=boringcrypto .
ARG CRYPTO=std
RUN --mount=type=cache,target=/root/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    case "${CRYPTO:-std}/${FUNCTION}" in \
    std/* | boringcrypto/enqueue | boringcrypto/notify | boringcrypto/dashboard) \
        CGO_ENABLED=0 GOOS=linux GOWORK=off go build -trimpath -ldflags="-s -w" -o /out/function . ;; \
    boringcrypto/*) CGO_ENABLED=1 GOEXPERIMENT=boringcrypto GOOS=linux GOWORK=off go build -trimpath -tags netgo,osusergo \
        -ldflags="-s -w -linkmode=external -extldflags=-static" -o /out/function . ;; \
    *) echo "CRYPTO=$CRYPTO: want std or boringcrypto" >&2; exit 2 ;; \
    esac

# Static binary on distroless: CA certificates and /tmp, no shell, user
# nonroot (65532). sign and submit carry their own zoneinfo (time/tzdata),
# for Chile time; enqueue and notify need none.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/function /usr/local/bin/function
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/function"]
