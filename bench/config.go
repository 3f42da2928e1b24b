// Package bench is the load generator behind `coffer bench`: it drives any
// S3 endpoint with one workload at a time and reports throughput, latency
// percentiles and errors per operation type.
//
// Workloads (--workload):
//
//   - put: PutObject of unique keys.
//   - get: GetObject of random keys among --objects prepared objects; each
//     body is drained and its length checked.
//   - mixed: GET/HEAD/PUT/DELETE by the --mix ratio over a prepared pool;
//     PUT refills deleted keys, and no GET or HEAD races a write of its key.
//   - list: ListObjectsV2 pages of 1000 keys over --objects prepared
//     objects; each full listing is checked for the right key count.
//   - delete: prepares --ops (else --objects) objects, then deletes each once.
//   - multipart: CreateMultipartUpload, parts of --part-size, Complete.
//
// Every run is bounded: by --duration, --ops, or both (whichever ends
// first); a run with neither is refused (ErrUnbounded). Operations started
// during --warmup are run but not measured. Objects live under a
// per-run prefix "coffer-bench/<id>/" in --bucket and are not removed.
//
// The client is built for low overhead: fasthttp with one pooled
// connection per worker, an in-package SigV4 signer (header auth,
// path-style, real payload SHA-256), and request bodies sliced from one
// random buffer whose prefix hashes are computed once, up front. Size
// ranges are quantized to 64 distinct sizes for that reason.
//
// Exit status of Main: 0 when the run completed without errors, 1 when it
// could not start or any operation failed, 2 on a usage error.
package bench

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

// Workload names accepted by --workload.
const (
	WorkloadPut       = "put"
	WorkloadGet       = "get"
	WorkloadMixed     = "mixed"
	WorkloadList      = "list"
	WorkloadDelete    = "delete"
	WorkloadMultipart = "multipart"
)

// SSE modes accepted by --sse.
const (
	SSENone = "none"   // no encryption headers
	SSES3   = "sse-s3" // x-amz-server-side-encryption: AES256 on writes
	SSEC    = "sse-c"  // customer key headers (one random key per run) on writes and reads
)

// Config is one benchmark run. ParseFlags fills it from flags and the
// environment; Validate checks it. The zero value is not usable.
type Config struct {
	Endpoint           string        // S3 endpoint, scheme://host[:port]; default http://127.0.0.1:9000
	AccessKey          string        // access key id
	SecretKey          string        // secret access key; MUST NOT be printed
	Region             string        // SigV4 region; default us-east-1
	Bucket             string        // bucket, created when missing; default coffer-bench
	InsecureSkipVerify bool          // skip TLS certificate verification
	Workload           string        // one of the Workload* names; default put
	Size               SizeDist      // object size; default 4KiB
	PartSize           int64         // multipart part size; default 5MiB
	Concurrency        int           // parallel requests; default 16
	Duration           time.Duration // measured phase bound; 0 = none (then Ops must be set)
	Ops                int64         // measured operations bound; 0 = none (then Duration must be set)
	Warmup             time.Duration // unmeasured lead-in; default 2s (ignored by delete)
	Mix                Mix           // mixed workload ratio; default DefaultMix
	Objects            int           // objects prepared for get, mixed and list; default 100
	SSE                string        // one of the SSE* modes; default none
	JSON               bool          // print the report as JSON
	Progress           bool          // print a progress line every second to stderr; default true
}

// envFor maps each flag to its environment variable. Flags win over the
// environment, the environment wins over the built-in default.
var envFor = map[string][]string{
	"endpoint":             {"COFFER_ENDPOINT"},
	"access-key":           {"COFFER_ACCESS_KEY", "AWS_ACCESS_KEY_ID"},
	"secret-key":           {"COFFER_SECRET_KEY", "AWS_SECRET_ACCESS_KEY"},
	"secret-key-file":      {"COFFER_SECRET_KEY_FILE"},
	"region":               {"COFFER_BENCH_REGION"},
	"bucket":               {"COFFER_BENCH_BUCKET"},
	"insecure-skip-verify": {"COFFER_BENCH_INSECURE_SKIP_VERIFY"},
	"workload":             {"COFFER_BENCH_WORKLOAD"},
	"size":                 {"COFFER_BENCH_SIZE"},
	"part-size":            {"COFFER_BENCH_PART_SIZE"},
	"concurrency":          {"COFFER_BENCH_CONCURRENCY"},
	"duration":             {"COFFER_BENCH_DURATION"},
	"ops":                  {"COFFER_BENCH_OPS"},
	"warmup":               {"COFFER_BENCH_WARMUP"},
	"mix":                  {"COFFER_BENCH_MIX"},
	"objects":              {"COFFER_BENCH_OBJECTS"},
	"sse":                  {"COFFER_BENCH_SSE"},
	"json":                 {"COFFER_BENCH_JSON"},
	"progress":             {"COFFER_BENCH_PROGRESS"},
}

// sizeFlag and mixFlag adapt the parsers to flag.Value.
type sizeFlag struct{ d *SizeDist }

func (f sizeFlag) String() string {
	if f.d == nil {
		return ""
	}
	return f.d.String()
}

func (f sizeFlag) Set(s string) (err error) { *f.d, err = ParseSizeDist(s); return err }

type byteFlag struct{ n *int64 }

func (f byteFlag) String() string {
	if f.n == nil {
		return ""
	}
	return FormatSize(*f.n)
}

func (f byteFlag) Set(s string) (err error) { *f.n, err = ParseSize(s); return err }

type mixFlag struct{ m *Mix }

func (f mixFlag) String() string {
	if f.m == nil {
		return ""
	}
	return f.m.String()
}

func (f mixFlag) Set(s string) (err error) { *f.m, err = ParseMix(s); return err }

// ParseFlags builds a Config from args (without the "bench" word) and the
// environment read through getenv, then validates it. Usage and errors go
// to stderr. It returns flag.ErrHelp for -h.
func ParseFlags(args []string, getenv func(string) string, stderr io.Writer) (Config, error) {
	c := Config{
		Size:     SizeDist{Min: 4 << 10, Max: 4 << 10},
		PartSize: 5 << 20,
		Mix:      DefaultMix,
	}
	var secretFile string
	fs := flag.NewFlagSet("coffer bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.Endpoint, "endpoint", "http://127.0.0.1:9000", "S3 `URL`, scheme://host[:port]")
	fs.StringVar(&c.AccessKey, "access-key", "", "access key id")
	fs.StringVar(&c.SecretKey, "secret-key", "", "secret access key (prefer --secret-key-file or the environment)")
	fs.StringVar(&secretFile, "secret-key-file", "", "`file` holding the secret access key")
	fs.StringVar(&c.Region, "region", "us-east-1", "SigV4 region")
	fs.StringVar(&c.Bucket, "bucket", "coffer-bench", "bucket to use (created if missing)")
	fs.BoolVar(&c.InsecureSkipVerify, "insecure-skip-verify", false, "skip TLS certificate verification")
	fs.StringVar(&c.Workload, "workload", WorkloadPut, "put, get, mixed, list, delete or multipart")
	fs.Var(sizeFlag{&c.Size}, "size", "object size, fixed (4KiB) or uniform range (4KiB-1MiB)")
	fs.Var(byteFlag{&c.PartSize}, "part-size", "multipart part size")
	fs.IntVar(&c.Concurrency, "concurrency", 16, "parallel requests")
	fs.DurationVar(&c.Duration, "duration", 10*time.Second, "length of the measured phase (0: bounded by --ops only)")
	fs.Int64Var(&c.Ops, "ops", 0, "number of measured operations (0: bounded by --duration only)")
	fs.DurationVar(&c.Warmup, "warmup", 2*time.Second, "unmeasured warm-up before the measured phase")
	fs.Var(mixFlag{&c.Mix}, "mix", "mixed workload ratio, get=45,head=30,put=15,delete=10")
	fs.IntVar(&c.Objects, "objects", 100, "objects prepared for get, mixed and list")
	fs.StringVar(&c.SSE, "sse", SSENone, "server-side encryption: none, sse-s3 or sse-c")
	fs.BoolVar(&c.JSON, "json", false, "print the report as one JSON object")
	fs.BoolVar(&c.Progress, "progress", true, "print a progress line every second to stderr")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: coffer bench [flags]\n\nEvery flag can also be set from the environment:\n")
		fs.VisitAll(func(f *flag.Flag) {
			fmt.Fprintf(stderr, "  --%s (%s)\n  \t%s (default %q)\n", f.Name, strings.Join(envFor[f.Name], ", "), f.Usage, f.DefValue)
		})
	}

	var envErr error
	fs.VisitAll(func(f *flag.Flag) {
		for _, name := range envFor[f.Name] {
			if v := getenv(name); v != "" {
				if err := fs.Set(f.Name, v); err != nil && envErr == nil {
					envErr = fmt.Errorf("%s: %w", name, err)
				}
				return
			}
		}
	})
	if envErr != nil {
		return Config{}, envErr
	}
	if err := fs.Parse(args); err != nil {
		return Config{}, err
	}
	if fs.NArg() > 0 {
		return Config{}, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	if secretFile != "" {
		if c.SecretKey != "" && isSetByFlag(fs, "secret-key") {
			return Config{}, errors.New("give --secret-key or --secret-key-file, not both")
		}
		b, err := os.ReadFile(secretFile)
		if err != nil {
			return Config{}, fmt.Errorf("secret key file: %w", err)
		}
		c.SecretKey = strings.TrimSpace(string(b))
	}
	return c, c.Validate()
}

func isSetByFlag(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// ErrUnbounded is returned by Validate for a run with neither a duration
// nor an operation count.
var ErrUnbounded = errors.New("refusing an unbounded run: set --duration or --ops (or both)")

// Validate checks the configuration and returns the first problem found.
func (c *Config) Validate() error {
	switch c.Workload {
	case WorkloadPut, WorkloadGet, WorkloadMixed, WorkloadList, WorkloadDelete, WorkloadMultipart:
	default:
		return fmt.Errorf("unknown workload %q", c.Workload)
	}
	switch c.SSE {
	case SSENone, SSES3, SSEC:
	default:
		return fmt.Errorf("unknown --sse mode %q (want none, sse-s3 or sse-c)", c.SSE)
	}
	if c.Duration < 0 || c.Ops < 0 || c.Warmup < 0 {
		return errors.New("--duration, --ops and --warmup must not be negative")
	}
	if c.Duration == 0 && c.Ops == 0 {
		return ErrUnbounded
	}
	if c.Concurrency < 1 || c.Concurrency > 4096 {
		return fmt.Errorf("--concurrency %d: want 1..4096", c.Concurrency)
	}
	if c.Objects < 1 {
		return fmt.Errorf("--objects %d: want at least 1", c.Objects)
	}
	if c.Workload == WorkloadMultipart {
		if c.PartSize < 1 || c.PartSize > 1<<30 {
			return errors.New("--part-size: want 1B..1GiB")
		}
		if (c.Size.Max+c.PartSize-1)/c.PartSize > 10000 {
			return fmt.Errorf("--size %s: more than 10000 parts of %s", c.Size, FormatSize(c.PartSize))
		}
	} else if c.Size.Max > 1<<30 {
		return fmt.Errorf("--size %s: the shared payload buffer is limited to 1GiB (use --workload multipart)", c.Size)
	}
	if c.Mix.total() == 0 {
		return errors.New("--mix: all weights are zero")
	}
	if c.Bucket == "" {
		return errors.New("--bucket must not be empty")
	}
	if c.AccessKey == "" || c.SecretKey == "" {
		return errors.New("credentials missing: set --access-key and --secret-key (or COFFER_ACCESS_KEY / COFFER_SECRET_KEY)")
	}
	return nil
}

// Main runs `coffer bench` with args (the arguments after "bench"),
// reading the environment from os.Getenv, and returns the exit status.
func Main(args []string, stdout, stderr io.Writer) int {
	return MainEnv(args, os.Getenv, stdout, stderr)
}

// MainEnv is Main with an explicit environment lookup, for callers (and
// tests) that pass their own.
func MainEnv(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	cfg, err := ParseFlags(args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "coffer bench: %v\n", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := Run(ctx, cfg, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "coffer bench: %v\n", err)
		return 1
	}
	if cfg.JSON {
		err = rep.WriteJSON(stdout)
	} else {
		err = rep.WriteText(stdout)
	}
	if err != nil {
		fmt.Fprintf(stderr, "coffer bench: %v\n", err)
		return 1
	}
	if rep.Errors > 0 {
		return 1
	}
	return 0
}
