// Command coffer is the coffer S3-compatible object storage server.
//
//	coffer server [flags] [DRIVE ...]   run the S3 server
//	coffer admin [flags] COMMAND        administration client (coffer admin -h)
//	coffer bench [flags]                load generator against any S3 endpoint
//
// This package parses flags and environment variables and wires the
// packages together; it holds no logic of its own.
package main

import (
	"fmt"
	"io"
	"os"

	"github.com/cofferstore/coffer/bench"
)

const usage = `usage: coffer <command> [arguments]

commands:
  server [flags] [DRIVE ...]   run the S3 server (coffer server -h for flags)
  admin [flags] COMMAND        administration client (coffer admin -h)
  bench [flags]                load generator against any S3 endpoint (coffer bench -h)
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr, os.Getenv))
}

// run dispatches a subcommand and returns the process exit code.
func run(args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "server":
		return runServer(args[1:], stdout, stderr, getenv)
	case "bench":
		return bench.MainEnv(args[1:], getenv, stdout, stderr)
	case "admin":
		return runAdmin(args[1:], stdout, stderr, getenv)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "coffer: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
}
