// Command compare measures coffer against MinIO on the same machine, with
// the same number of drives, the same parity and the same encryption
// setting, using the in-process `coffer bench` client (package bench) with
// one Config for both servers.
//
//	go run ./bench/compare [flags]
//
// For every selected workload and SSE mode it starts a fresh coffer and a
// fresh MinIO (new temporary drive directories each), then runs the
// workload --rounds times alternately, coffer then MinIO (A B A B …). The
// server not being measured is paused with SIGSTOP, so neither server's
// background work steals CPU from the other's run. It prints, per workload
// and SSE mode, the median ops/s of each server, the ratio of the medians
// (coffer/MinIO) and the median p50/p99 latencies.
//
// Encryption: coffer always encrypts at rest. "sse-s3" rows send
// x-amz-server-side-encryption: AES256 to both servers (MinIO gets its
// built-in single-key KMS, MINIO_KMS_SECRET_KEY, so that SSE-S3 works);
// "none" rows send no SSE header, so they compare encrypted coffer with
// unencrypted MinIO.
//
// MinIO is a benchmark peer only: it is never vendored. Unless --minio-bin
// names a binary, the harness installs it with
// `GOBIN=<cache> go install github.com/minio/minio@latest` into a cache
// directory under the system temporary directory (--minio-cache) and reuses
// it on later runs. When MinIO cannot be installed or started, the harness
// prints "MinIO unavailable: <why>", compares nothing and exits 0.
//
// Every run is bounded: each bench run by --warmup + --duration (plus its
// object preparation, bounded by --run-timeout), the whole comparison by
// --timeout. Temporary directories are removed and both servers stopped
// on exit, SIGINT and SIGTERM included; on Linux the servers also get
// SIGKILL if the harness dies without cleaning up.
//
// Exit status: 0 when the comparison ran (whatever the ratios) or MinIO was
// unavailable, 1 when the harness failed (coffer would not build or start,
// a run failed in every round), 2 on a usage error.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

// options is the parsed command line. parseOptions fills it; the zero value
// is not usable.
type options struct {
	Duration         time.Duration // measured phase per run; default 10s (--quick: 3s)
	Warmup           time.Duration // unmeasured lead-in per run; default 2s (--quick: 1s)
	Rounds           int           // runs per server per workload; default 3 (--quick: 1)
	Drives           int           // drive directories per server; default 4
	Parity           int           // parity shards on both servers; default 2
	Workloads        []string      // selected workload names, in table order; default all
	SSE              []string      // SSE modes, "none" and/or "sse-s3"; default both
	ListObjects      int           // objects for the list workload; default 100000 (--quick: 2000)
	Concurrency      int           // clients for the 4 KiB, 1 MiB, list and mixed workloads; default 16
	LargeConcurrency int           // clients for the 64 MiB workloads; default 4
	Quick            bool          // smoke-run defaults for the flags not given
	JSON             bool          // print the results as one JSON object
	Markdown         bool          // print the table as Markdown
	MinIOBin         string        // MinIO binary to use instead of installing one
	MinIOCache       string        // where the installed MinIO binary is cached
	CofferBin        string        // coffer binary to use instead of building one
	RunTimeout       time.Duration // bound on one bench run, preparation included; default 15m
	InstallTimeout   time.Duration // bound on installing MinIO; default 30m
	Timeout          time.Duration // bound on the whole comparison; default 3h
}

// envFor maps each flag to its environment variable. Flags win over the
// environment, the environment over the built-in default.
var envFor = map[string]string{
	"duration":          "COFFER_COMPARE_DURATION",
	"warmup":            "COFFER_COMPARE_WARMUP",
	"rounds":            "COFFER_COMPARE_ROUNDS",
	"drives":            "COFFER_COMPARE_DRIVES",
	"parity":            "COFFER_COMPARE_PARITY",
	"workloads":         "COFFER_COMPARE_WORKLOADS",
	"sse":               "COFFER_COMPARE_SSE",
	"list-objects":      "COFFER_COMPARE_LIST_OBJECTS",
	"concurrency":       "COFFER_COMPARE_CONCURRENCY",
	"large-concurrency": "COFFER_COMPARE_LARGE_CONCURRENCY",
	"quick":             "COFFER_COMPARE_QUICK",
	"json":              "COFFER_COMPARE_JSON",
	"markdown":          "COFFER_COMPARE_MARKDOWN",
	"minio-bin":         "COFFER_COMPARE_MINIO_BIN",
	"minio-cache":       "COFFER_COMPARE_MINIO_CACHE",
	"coffer-bin":        "COFFER_COMPARE_COFFER_BIN",
	"run-timeout":       "COFFER_COMPARE_RUN_TIMEOUT",
	"install-timeout":   "COFFER_COMPARE_INSTALL_TIMEOUT",
	"timeout":           "COFFER_COMPARE_TIMEOUT",
}

// quickDefaults are the values --quick gives the flags that were not set
// explicitly (by flag or environment).
var quickDefaults = map[string]string{
	"duration":     "3s",
	"warmup":       "1s",
	"rounds":       "1",
	"list-objects": "2000",
}

// listFlag is a comma-separated list of names from a fixed set.
type listFlag struct {
	dst   *[]string
	valid []string
	what  string
}

func (f listFlag) String() string {
	if f.dst == nil {
		return ""
	}
	return strings.Join(*f.dst, ",")
}

func (f listFlag) Set(s string) error {
	if strings.TrimSpace(s) == "all" {
		*f.dst = slices.Clone(f.valid)
		return nil
	}
	var out []string
	for name := range strings.SplitSeq(s, ",") {
		name = strings.ToLower(strings.TrimSpace(name))
		if name == "" {
			continue
		}
		if !slices.Contains(f.valid, name) {
			return fmt.Errorf("unknown %s %q (want %s or all)", f.what, name, strings.Join(f.valid, ", "))
		}
		if !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	if len(out) == 0 {
		return fmt.Errorf("no %s selected", f.what)
	}
	// Keep the canonical order so tables always read the same way.
	slices.SortFunc(out, func(a, b string) int { return slices.Index(f.valid, a) - slices.Index(f.valid, b) })
	*f.dst = out
	return nil
}

// parseOptions builds the options from args and the environment read
// through getenv. Usage and errors go to stderr; -h returns flag.ErrHelp.
func parseOptions(args []string, getenv func(string) string, stderr io.Writer) (options, error) {
	o := options{
		Workloads:  workloadNames(),
		SSE:        []string{sseNone, sseS3},
		MinIOCache: filepath.Join(os.TempDir(), "coffer-compare-minio"),
	}
	fs := flag.NewFlagSet("compare", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.DurationVar(&o.Duration, "duration", 10*time.Second, "measured phase of each run")
	fs.DurationVar(&o.Warmup, "warmup", 2*time.Second, "unmeasured warm-up before each run's measured phase")
	fs.IntVar(&o.Rounds, "rounds", 3, "runs per server and workload, alternating coffer, MinIO, coffer, …; medians are reported")
	fs.IntVar(&o.Drives, "drives", 4, "temporary drive directories per server (4..16)")
	fs.IntVar(&o.Parity, "parity", 2, "parity shards on both servers (1..drives/2)")
	fs.Var(listFlag{&o.Workloads, workloadNames(), "workload"}, "workloads", "comma list of workloads: "+strings.Join(workloadNames(), ",")+" (or all)")
	fs.Var(listFlag{&o.SSE, []string{sseNone, sseS3}, "SSE mode"}, "sse", "comma list of SSE modes: none,sse-s3")
	fs.IntVar(&o.ListObjects, "list-objects", 100_000, "objects prepared for the list workload")
	fs.IntVar(&o.Concurrency, "concurrency", 16, "parallel clients for the 4 KiB, 1 MiB, list and mixed workloads")
	fs.IntVar(&o.LargeConcurrency, "large-concurrency", 4, "parallel clients for the 64 MiB workloads")
	fs.BoolVar(&o.Quick, "quick", false, "smoke run: 3s runs, 1s warm-up, 1 round, 2000 list objects, fewer prepared objects (explicit flags still win)")
	fs.BoolVar(&o.JSON, "json", false, "print the results as one JSON object")
	fs.BoolVar(&o.Markdown, "markdown", false, "print the table as Markdown")
	fs.StringVar(&o.MinIOBin, "minio-bin", "", "MinIO server `binary` to use instead of installing one")
	fs.StringVar(&o.MinIOCache, "minio-cache", o.MinIOCache, "`directory` the installed MinIO binary is cached in")
	fs.StringVar(&o.CofferBin, "coffer-bin", "", "coffer `binary` to use instead of building ./cmd/coffer")
	fs.DurationVar(&o.RunTimeout, "run-timeout", 15*time.Minute, "bound on one bench run, object preparation included")
	fs.DurationVar(&o.InstallTimeout, "install-timeout", 30*time.Minute, "bound on installing MinIO")
	fs.DurationVar(&o.Timeout, "timeout", 3*time.Hour, "bound on the whole comparison")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: go run ./bench/compare [flags]\n\nEvery flag can also be set from the environment:\n")
		fs.VisitAll(func(f *flag.Flag) {
			fmt.Fprintf(stderr, "  --%s (%s)\n  \t%s (default %q)\n", f.Name, envFor[f.Name], f.Usage, f.DefValue)
		})
	}

	set := map[string]bool{}
	var envErr error
	fs.VisitAll(func(f *flag.Flag) {
		if v := getenv(envFor[f.Name]); v != "" {
			if err := fs.Set(f.Name, v); err != nil && envErr == nil {
				envErr = fmt.Errorf("%s: %w", envFor[f.Name], err)
			}
			set[f.Name] = true
		}
	})
	if envErr != nil {
		return options{}, envErr
	}
	if err := fs.Parse(args); err != nil {
		return options{}, err
	}
	if fs.NArg() > 0 {
		return options{}, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if o.Quick {
		for name, v := range quickDefaults {
			if !set[name] {
				if err := fs.Set(name, v); err != nil {
					return options{}, err
				}
			}
		}
	}
	return o, o.validate()
}

// validate checks the options and returns the first problem found.
func (o *options) validate() error {
	switch {
	case o.Duration <= 0:
		return errors.New("--duration must be positive")
	case o.Warmup < 0:
		return errors.New("--warmup must not be negative")
	case o.Rounds < 1 || o.Rounds > 100:
		return fmt.Errorf("--rounds %d: want 1..100", o.Rounds)
	case o.Drives < 4 || o.Drives > 16:
		return fmt.Errorf("--drives %d: want 4..16 (coffer's range)", o.Drives)
	case o.Parity < 1 || o.Parity > o.Drives/2:
		return fmt.Errorf("--parity %d: want 1..%d (half of --drives)", o.Parity, o.Drives/2)
	case o.ListObjects < 1 || o.ListObjects > 10_000_000:
		return fmt.Errorf("--list-objects %d: want 1..10000000", o.ListObjects)
	case o.Concurrency < 1 || o.Concurrency > 1024:
		return fmt.Errorf("--concurrency %d: want 1..1024", o.Concurrency)
	case o.LargeConcurrency < 1 || o.LargeConcurrency > 64:
		return fmt.Errorf("--large-concurrency %d: want 1..64", o.LargeConcurrency)
	case o.JSON && o.Markdown:
		return errors.New("give --json or --markdown, not both")
	case o.RunTimeout <= 0 || o.InstallTimeout <= 0 || o.Timeout <= 0:
		return errors.New("--run-timeout, --install-timeout and --timeout must be positive")
	}
	return nil
}

func main() {
	os.Exit(mainEnv(os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

// mainEnv runs the harness and returns its exit status.
func mainEnv(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	o, err := parseOptions(args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "compare: %v\n", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	return runComparison(ctx, &o, stdout, stderr)
}
