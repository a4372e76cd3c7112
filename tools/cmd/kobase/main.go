// Command kobase makes `make images` work without a registry or a Docker
// daemon:
//
//	kobase base [-cache DIR] [-ref NAME] [-ca FILE] [-platform OS/ARCH]
//
// writes the small base image the function images are built on (a CA bundle,
// /etc/passwd with the nonroot user 65532, a world-writable /tmp, nothing
// else) into ko's on-disk cache, the OCI image layout DIR/img, and prints its
// reference pinned by digest. ko looks a base image up in that cache only
// when it is pinned by digest, so scripts/images.sh passes the printed
// reference in KO_DEFAULTBASEIMAGE. The image is reproducible: the same CA
// bundle gives the same digest.
//
//	kobase size [-max BYTES] LAYOUT...
//
// prints the size of each image in the OCI layouts ko wrote (compressed, as
// pulled, and uncompressed, as unpacked on a node) and fails when one is
// larger than -max.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// run dispatches to a subcommand and returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: kobase base [flags] | kobase size [-max BYTES] LAYOUT...")
		return 2
	}
	var err error
	switch args[0] {
	case "base":
		err = runBase(ctx, args[1:], stdout, stderr)
	case "size":
		err = runSize(ctx, args[1:], stdout, stderr)
	default:
		fmt.Fprintf(stderr, "kobase: unknown command %q\n", args[0])
		return 2
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 2
	default:
		fmt.Fprintln(stderr, "kobase "+args[0]+":", err)
		return 1
	}
}
