package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/cofferstore/coffer/bench"
)

// SSE modes compared. SSE-C is left out: the issue asks for runs with and
// without SSE-S3.
const (
	sseNone = bench.SSENone
	sseS3   = bench.SSES3
)

// Fixed credentials and bucket of the temporary servers. They guard
// loopback servers that live for one comparison, so they are not secrets.
const (
	rootUser     = "compareadmin"
	rootPassword = "comparesecret123"
	bucketName   = "coffer-compare"
	region       = "us-east-1"
)

// workload is one row group of the comparison: a bench workload with a
// fixed object size, concurrency and prepared-object count.
type workload struct {
	Name        string // e.g. "put-4k"
	Kind        string // bench workload: put, get, list or mixed
	Size        int64  // object size in bytes
	Large       bool   // uses --large-concurrency
	Objects     int    // prepared objects (get and mixed); list uses --list-objects
	QuickObjs   int    // prepared objects under --quick
	LatencyOp   string // operation whose p50/p99 the table shows
	Description string // for the table header
}

// workloads lists every workload in table order.
var workloads = []workload{
	{Name: "put-4k", Kind: bench.WorkloadPut, Size: 4 << 10, LatencyOp: "put", Description: "4 KiB PUT"},
	{Name: "get-4k", Kind: bench.WorkloadGet, Size: 4 << 10, Objects: 1000, QuickObjs: 200, LatencyOp: "get", Description: "4 KiB GET"},
	{Name: "put-1m", Kind: bench.WorkloadPut, Size: 1 << 20, LatencyOp: "put", Description: "1 MiB PUT"},
	{Name: "get-1m", Kind: bench.WorkloadGet, Size: 1 << 20, Objects: 64, QuickObjs: 16, LatencyOp: "get", Description: "1 MiB GET"},
	{Name: "put-64m", Kind: bench.WorkloadPut, Size: 64 << 20, Large: true, LatencyOp: "put", Description: "64 MiB PUT"},
	{Name: "get-64m", Kind: bench.WorkloadGet, Size: 64 << 20, Large: true, Objects: 8, QuickObjs: 4, LatencyOp: "get", Description: "64 MiB GET"},
	{Name: "list", Kind: bench.WorkloadList, Size: 1 << 10, LatencyOp: "list", Description: "LIST, 1000-key pages"},
	{Name: "mixed", Kind: bench.WorkloadMixed, Size: 4 << 10, Objects: 1000, QuickObjs: 200, LatencyOp: "get", Description: "mixed 45/30/15/10 GET/HEAD/PUT/DELETE, 4 KiB"},
}

func workloadNames() []string {
	out := make([]string, len(workloads))
	for i, w := range workloads {
		out[i] = w.Name
	}
	return out
}

func lookupWorkload(name string) workload {
	for _, w := range workloads {
		if w.Name == name {
			return w
		}
	}
	panic("unknown workload " + name) // names are validated by parseOptions
}

// benchConfig is the one Config both servers get for w; only the endpoint
// differs between them.
func (o *options) benchConfig(w workload, sse, endpoint string) bench.Config {
	c := bench.Config{
		Endpoint:    endpoint,
		AccessKey:   rootUser,
		SecretKey:   rootPassword,
		Region:      region,
		Bucket:      bucketName,
		Workload:    w.Kind,
		Size:        bench.SizeDist{Min: w.Size, Max: w.Size},
		PartSize:    5 << 20,
		Concurrency: o.Concurrency,
		Duration:    o.Duration,
		Warmup:      o.Warmup,
		Mix:         bench.DefaultMix,
		Objects:     max(w.Objects, 1),
		SSE:         sse,
	}
	if w.Large {
		c.Concurrency = o.LargeConcurrency
	}
	if o.Quick && w.QuickObjs > 0 {
		c.Objects = w.QuickObjs
	}
	if w.Kind == bench.WorkloadList {
		c.Objects = o.ListObjects
	}
	return c
}

// runComparison installs MinIO, builds coffer, runs every selected
// workload and SSE mode, and prints the results.
func runComparison(ctx context.Context, o *options, stdout, stderr io.Writer) int {
	minioBin := o.MinIOBin
	if minioBin == "" {
		ictx, cancel := context.WithTimeout(ctx, o.InstallTimeout)
		bin, err := installMinIO(ictx, o.MinIOCache, stderr)
		cancel()
		if err != nil {
			fmt.Fprintf(stdout, "MinIO unavailable: %v\ncompared nothing.\n", err)
			return 0
		}
		minioBin = bin
	}
	minioVersion, err := binaryVersion(ctx, minioBin)
	if err != nil {
		fmt.Fprintf(stdout, "MinIO unavailable: %s: %v\ncompared nothing.\n", minioBin, err)
		return 0
	}

	root, err := os.MkdirTemp("", "coffer-compare-")
	if err != nil {
		fmt.Fprintf(stderr, "compare: %v\n", err)
		return 1
	}
	defer os.RemoveAll(root)

	cofferBin := o.CofferBin
	if cofferBin == "" {
		fmt.Fprintln(stderr, "building coffer...")
		if cofferBin, err = buildCoffer(ctx, root); err != nil {
			fmt.Fprintf(stderr, "compare: building coffer: %v\n", err)
			return 1
		}
	}

	res := &results{
		Version:      resultsVersion,
		Date:         time.Now().UTC().Format(time.RFC3339),
		MinIOVersion: minioVersion,
		Machine:      describeMachine(),
		Drives:       o.Drives,
		Parity:       o.Parity,
		Rounds:       o.Rounds,
		Duration:     o.Duration.Seconds(),
		Warmup:       o.Warmup.Seconds(),
		ListObjects:  o.ListObjects,
	}
	total := len(o.Workloads) * len(o.SSE) * o.Rounds * 2
	step := 0
	for _, name := range o.Workloads {
		w := lookupWorkload(name)
		for _, sse := range o.SSE {
			r, err := compareOne(ctx, o, w, sse, cofferBin, minioBin, filepath.Join(root, w.Name+"-"+sse), &step, total, stderr)
			if r != nil {
				res.Rows = append(res.Rows, *r)
			}
			var unavailable *minioStartError
			switch {
			case errors.As(err, &unavailable):
				fmt.Fprintf(stdout, "MinIO unavailable: %v\ncompared nothing.\n", err)
				return 0
			case err != nil:
				fmt.Fprintf(stderr, "compare: %s %s: %v\n", w.Name, sse, err)
				if len(res.Rows) > 0 {
					_ = writeResults(stdout, res, o) // report what was measured
				}
				return 1
			}
		}
	}
	if err := writeResults(stdout, res, o); err != nil {
		fmt.Fprintf(stderr, "compare: %v\n", err)
		return 1
	}
	return 0
}

// compareOne starts a fresh coffer and a fresh MinIO under dir, runs w with
// sse on each, alternately, o.Rounds times, stops both servers and removes
// dir. The server not being measured is paused.
func compareOne(ctx context.Context, o *options, w workload, sse, cofferBin, minioBin, dir string, step *int, total int, stderr io.Writer) (*row, error) {
	defer os.RemoveAll(dir)
	coffer, err := startCoffer(ctx, cofferBin, filepath.Join(dir, "coffer"), o.Drives, o.Parity)
	if err != nil {
		return nil, err
	}
	defer coffer.stop()
	minio, err := startMinIO(ctx, minioBin, filepath.Join(dir, "minio"), o.Drives, o.Parity)
	if err != nil {
		return nil, &minioStartError{err}
	}
	defer minio.stop()
	servers := []*server{coffer, minio}
	for _, s := range servers {
		if err := s.pause(); err != nil {
			return nil, err
		}
	}

	reports := [2][]*bench.Report{}
	fails := [2][]string{}
	for round := range o.Rounds {
		for i, s := range servers {
			*step++
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			if err := s.resume(); err != nil {
				return nil, err
			}
			cfg := o.benchConfig(w, sse, s.endpoint)
			rctx, cancel := context.WithTimeout(ctx, o.RunTimeout)
			rep, err := bench.Run(rctx, cfg, nil)
			timedOut := errors.Is(rctx.Err(), context.DeadlineExceeded)
			cancel()
			if perr := s.pause(); perr != nil && err == nil {
				err = perr
			}
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			if err == nil && timedOut {
				err = fmt.Errorf("run cut short by --run-timeout %s", o.RunTimeout)
			}
			if err != nil {
				fails[i] = append(fails[i], fmt.Sprintf("round %d: %v", round+1, err))
				fmt.Fprintf(stderr, "[%d/%d] %-7s %-6s round %d/%d %-6s failed: %v\n", *step, total, w.Name, sse, round+1, o.Rounds, s.name, err)
				if s.exited() {
					return nil, fmt.Errorf("%s exited; log tail:\n%s", s.name, s.logTail())
				}
				continue
			}
			reports[i] = append(reports[i], rep)
			ops, _, p50, p99 := summarize(rep, w.LatencyOp)
			fmt.Fprintf(stderr, "[%d/%d] %-7s %-6s round %d/%d %-6s %10.1f ops/s  p50 %.2f ms  p99 %.2f ms  errors %d\n",
				*step, total, w.Name, sse, round+1, o.Rounds, s.name, ops, p50, p99, rep.Errors)
		}
	}
	cfg := o.benchConfig(w, sse, "")
	r := newRow(w, sse, cfg, reports[0], reports[1], fails[0], fails[1])
	if len(reports[0]) == 0 && len(reports[1]) == 0 {
		return &r, fmt.Errorf("every run failed: coffer %v; MinIO %v", fails[0], fails[1])
	}
	return &r, nil
}

// minioStartError marks a MinIO that would not start: the comparison then
// reports MinIO as unavailable instead of failing.
type minioStartError struct{ err error }

func (e *minioStartError) Error() string { return "starting MinIO: " + e.err.Error() }
func (e *minioStartError) Unwrap() error { return e.err }

// machine describes where the comparison ran.
type machine struct {
	CPUs   int    `json:"cpus"`
	CPU    string `json:"cpu,omitempty"`
	MemGiB int    `json:"mem_gib,omitempty"`
	OS     string `json:"os"`
	Go     string `json:"go"`
}

func describeMachine() machine {
	m := machine{CPUs: runtime.NumCPU(), OS: runtime.GOOS + "/" + runtime.GOARCH, Go: runtime.Version()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		m.CPU = procField(string(b), "model name")
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb int
		if _, err := fmt.Sscanf(procField(string(b), "MemTotal"), "%d kB", &kb); err == nil {
			m.MemGiB = (kb + 1<<19) >> 20
		}
	}
	return m
}
