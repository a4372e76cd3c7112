package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
)

// newFlags makes a command's FlagSet. Its usage goes to the FlagSet's
// output: standard error, except when the user asked for it with -h
// (parseArgs), when it goes to standard output.
func newFlags(env *cliEnv, name, usageLine string) *flag.FlagSet {
	fs := flag.NewFlagSet("dte "+name, flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: dte %s %s\n", name, usageLine)
		fs.PrintDefaults()
	}
	return fs
}

// parseArgs parses a command's arguments with flags anywhere among them,
// the way the README writes them (`dte envelope DTE.xml --out envio.xml`):
// the standard flag package stops at the first argument that is not a
// flag, so parsing resumes after each one. "--" ends the flags; what
// follows is positional even when it starts with "-". Afterwards fs.Args()
// holds the positional arguments, in order.
//
// It returns flag.ErrHelp after printing the usage to standard output when
// -h or -help was given (the command then exits 0), and an exitError with
// code 2 after printing the problem and the usage to standard error for a
// bad flag.
func parseArgs(env *cliEnv, fs *flag.FlagSet, args []string) error {
	out := fs.Output()
	fs.SetOutput(io.Discard) // the errors are reported below, once
	positional, err := parseInterleaved(fs, args)
	fs.SetOutput(out)
	switch {
	case errors.Is(err, flag.ErrHelp):
		fs.SetOutput(env.stdout)
		fs.Usage()
		fs.SetOutput(out)
		return flag.ErrHelp
	case err != nil:
		fmt.Fprintf(out, "%s: %v\n", fs.Name(), err)
		fs.Usage()
		return exitError{code: 2}
	}
	// Parsing "--" and the positional arguments sets fs.Args() to them
	// and changes no flag.
	return fs.Parse(append([]string{"--"}, positional...))
}

func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if used := len(args) - len(rest); used > 0 && args[used-1] == "--" {
			return append(positional, rest...), nil
		}
		if len(rest) == 0 {
			return positional, nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}
