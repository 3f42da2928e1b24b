package main

import (
	"bytes"
	"flag"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cofferstore/coffer/bench"
)

func noEnv(string) string { return "" }

func envMap(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		in   []float64
		want float64
	}{
		{nil, 0},
		{[]float64{5}, 5},
		{[]float64{3, 1, 2}, 2},
		{[]float64{4, 1, 3, 2}, 2.5},
		{[]float64{10, 10, 1000}, 10}, // one outlier round does not move it
	} {
		in := slices.Clone(tc.in)
		if got := median(in); got != tc.want {
			t.Errorf("median(%v) = %v, want %v", tc.in, got, tc.want)
		}
		if !slices.Equal(in, tc.in) {
			t.Errorf("median modified its input: %v", in)
		}
	}
}

func TestRatioAndWorst(t *testing.T) {
	if got := ratio(250, 100); got != 2.5 {
		t.Errorf("ratio = %v", got)
	}
	if ratio(100, 0) != 0 || ratio(0, 100) != 0 {
		t.Error("a side that measured nothing must give no ratio")
	}
	rows := []row{{Ratio: 2}, {Ratio: 0}, {Ratio: 0.8}, {Ratio: 1.3}}
	if got := worst(rows); got != 2 {
		t.Errorf("worst = %d, want 2", got)
	}
	if got := worst([]row{{Ratio: 0}}); got != -1 {
		t.Errorf("worst without ratios = %d, want -1", got)
	}
}

func report(opsPerSec, p50, p99 float64, op string) *bench.Report {
	return &bench.Report{Ops: []bench.OpReport{{Op: op, OpsPerSec: opsPerSec, MiBPerSec: opsPerSec / 256, LatencyMs: bench.Latency{P50: p50, P99: p99}}}}
}

func TestNewRowMedians(t *testing.T) {
	w := lookupWorkload("put-4k")
	o := options{Concurrency: 16, LargeConcurrency: 4, Duration: time.Second, ListObjects: 10}
	cfg := o.benchConfig(w, sseS3, "")
	coffer := []*bench.Report{report(3000, 3, 30, "put"), report(1000, 5, 50, "put"), report(2000, 4, 40, "put")}
	minio := []*bench.Report{report(1000, 40, 80, "put"), report(1000, 40, 90, "put"), report(500, 60, 100, "put")}
	r := newRow(w, sseS3, cfg, coffer, minio, nil, nil)
	if r.Coffer.OpsPerSec != 2000 || r.MinIO.OpsPerSec != 1000 || r.Ratio != 2 {
		t.Fatalf("medians %v / %v ratio %v", r.Coffer.OpsPerSec, r.MinIO.OpsPerSec, r.Ratio)
	}
	if r.Coffer.P50Ms != 4 || r.Coffer.P99Ms != 40 || r.MinIO.P99Ms != 90 {
		t.Fatalf("latency medians %+v %+v", r.Coffer, r.MinIO)
	}
	if !slices.Equal(r.RoundRatios, []float64{3, 1, 4}) {
		t.Fatalf("round ratios %v", r.RoundRatios)
	}
	if r.Size != "4KiB" || r.Concurrency != 16 || r.Objects != 0 {
		t.Fatalf("row config %+v", r)
	}
}

func TestSummarizeMixed(t *testing.T) {
	rep := &bench.Report{Ops: []bench.OpReport{
		{Op: "put", OpsPerSec: 150}, {Op: "get", OpsPerSec: 450, LatencyMs: bench.Latency{P50: 1, P99: 9}},
		{Op: "head", OpsPerSec: 300}, {Op: "delete", OpsPerSec: 100},
	}}
	ops, _, p50, p99 := summarize(rep, "get")
	if ops != 1000 || p50 != 1 || p99 != 9 {
		t.Fatalf("summarize = %v %v %v", ops, p50, p99)
	}
}

func TestWriteTable(t *testing.T) {
	rows := []row{
		{Workload: "put-4k", SSE: "none", Ratio: 2.5,
			Coffer: side{OpsPerSec: 2500.4, P50Ms: 3.456, P99Ms: 35.2},
			MinIO:  side{OpsPerSec: 1000, P50Ms: 40, P99Ms: 131.4, Errors: 2}},
		{Workload: "put-64m", SSE: "sse-s3", Ratio: 0.9,
			Coffer: side{OpsPerSec: 2.7, P50Ms: 1250, P99Ms: 1400},
			MinIO:  side{OpsPerSec: 3, P50Ms: 1100, P99Ms: 1300}},
		{Workload: "list", SSE: "none", Coffer: side{OpsPerSec: 12}},
	}
	var md bytes.Buffer
	if err := writeTable(&md, rows, true); err != nil {
		t.Fatal(err)
	}
	want := `| workload | sse | coffer ops/s | MinIO ops/s | coffer/MinIO | coffer p50/p99 ms | MinIO p50/p99 ms | ≥ 1.25× | errors c/m |
|---|---|---|---|---|---|---|---|---|
| put-4k | none | 2,500 | 1,000 | 2.50× | 3.46 / 35.2 | 40.0 / 131 | yes | 0/2 |
| put-64m | sse-s3 | 2.70 | 3.00 | 0.90× | 1250 / 1400 | 1100 / 1300 | no | 0/0 |
| list | none | 12.0 | – | n/a | 0.00 / 0.00 | – | n/a | 0/0 |
`
	if md.String() != want {
		t.Errorf("markdown table:\n%s\nwant:\n%s", md.String(), want)
	}

	var txt bytes.Buffer
	if err := writeTable(&txt, rows, false); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(txt.String(), "\n"), "\n")
	if len(lines) != 4 {
		t.Fatalf("text table has %d lines:\n%s", len(lines), txt.String())
	}
	// Right-aligned columns: every line ends at the same width.
	for _, l := range lines[1:] {
		if len([]rune(l)) != len([]rune(lines[0])) {
			t.Errorf("ragged text table:\n%s", txt.String())
			break
		}
	}
	if !strings.Contains(lines[1], "2.50×") || !strings.Contains(lines[2], " no ") {
		t.Errorf("text table:\n%s", txt.String())
	}
}

func TestFormatRate(t *testing.T) {
	for in, want := range map[float64]string{0: "–", 3.14159: "3.14", 99.95: "100.0", 999.4: "999.4", 1234.5: "1,235", 1234567: "1,234,567"} {
		if got := formatRate(in); got != want {
			t.Errorf("formatRate(%v) = %q, want %q", in, got, want)
		}
	}
}

func TestParseOptionsDefaults(t *testing.T) {
	o, err := parseOptions(nil, noEnv, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if o.Duration != 10*time.Second || o.Warmup != 2*time.Second || o.Rounds != 3 || o.Drives != 4 || o.Parity != 2 ||
		o.ListObjects != 100_000 || o.Concurrency != 16 || o.LargeConcurrency != 4 || o.JSON || o.Quick {
		t.Fatalf("defaults %+v", o)
	}
	if !slices.Equal(o.Workloads, workloadNames()) || !slices.Equal(o.SSE, []string{"none", "sse-s3"}) {
		t.Fatalf("default selection %v %v", o.Workloads, o.SSE)
	}
}

func TestParseOptionsQuick(t *testing.T) {
	o, err := parseOptions([]string{"--quick", "--rounds", "2"}, envMap(map[string]string{"COFFER_COMPARE_LIST_OBJECTS": "500"}), &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	// --quick fills only what was not given by flag or environment.
	if o.Duration != 3*time.Second || o.Warmup != time.Second || o.Rounds != 2 || o.ListObjects != 500 {
		t.Fatalf("quick %+v", o)
	}
	if c := o.benchConfig(lookupWorkload("get-4k"), sseNone, "http://x"); c.Objects != 200 || c.Duration != 3*time.Second {
		t.Fatalf("quick get-4k config %+v", c)
	}
	if c := o.benchConfig(lookupWorkload("list"), sseNone, "http://x"); c.Objects != 500 || c.Concurrency != 16 {
		t.Fatalf("quick list config %+v", c)
	}
	if c := o.benchConfig(lookupWorkload("put-64m"), sseS3, "http://x"); c.Concurrency != 4 || c.SSE != sseS3 || c.Size.Min != 64<<20 {
		t.Fatalf("64 MiB config %+v", c)
	}
}

func TestParseOptionsSelection(t *testing.T) {
	o, err := parseOptions([]string{"--workloads", " mixed, put-4k ,mixed", "--sse", "sse-s3"}, noEnv, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(o.Workloads, []string{"put-4k", "mixed"}) || !slices.Equal(o.SSE, []string{"sse-s3"}) {
		t.Fatalf("selection %v %v", o.Workloads, o.SSE)
	}
	o, err = parseOptions([]string{"--workloads", "all"}, envMap(map[string]string{"COFFER_COMPARE_WORKLOADS": "list"}), &bytes.Buffer{})
	if err != nil || len(o.Workloads) != len(workloads) {
		t.Fatalf("flag must beat environment: %v %v", o.Workloads, err)
	}
}

func TestParseOptionsErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"--workloads", "put-4k,fsck"}, nil, `unknown workload "fsck"`},
		{[]string{"--sse", "sse-c"}, nil, `unknown SSE mode "sse-c"`},
		{[]string{"--parity", "3"}, nil, "--parity 3"},
		{[]string{"--drives", "6", "--parity", "4"}, nil, "--parity 4"},
		{[]string{"--drives", "2"}, nil, "--drives 2"},
		{[]string{"--rounds", "0"}, nil, "--rounds 0"},
		{[]string{"--duration", "0s"}, nil, "--duration"},
		{[]string{"--json", "--markdown"}, nil, "not both"},
		{[]string{"extra"}, nil, "unexpected arguments"},
		{nil, map[string]string{"COFFER_COMPARE_ROUNDS": "many"}, "COFFER_COMPARE_ROUNDS"},
	} {
		_, err := parseOptions(tc.args, envMap(tc.env), &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v %v: error %v, want one containing %q", tc.args, tc.env, err, tc.want)
		}
	}
	if _, err := parseOptions([]string{"-h"}, noEnv, &bytes.Buffer{}); err != flag.ErrHelp {
		t.Errorf("-h: %v", err)
	}
}

// Every flag has an environment variable (style rule 10).
func TestEveryFlagHasEnv(t *testing.T) {
	var usage bytes.Buffer
	if _, err := parseOptions([]string{"-h"}, noEnv, &usage); err != flag.ErrHelp {
		t.Fatal(err)
	}
	if strings.Contains(usage.String(), "()") {
		t.Errorf("a flag without an environment variable:\n%s", usage.String())
	}
	for name := range quickDefaults {
		if envFor[name] == "" {
			t.Errorf("--quick sets unknown flag %q", name)
		}
	}
}

func TestProcField(t *testing.T) {
	text := "processor\t: 0\nmodel name\t: AMD EPYC\nMemTotal:       24576000 kB\n"
	if got := procField(text, "model name"); got != "AMD EPYC" {
		t.Errorf("model name = %q", got)
	}
	if got := procField(text, "MemTotal"); got != "24576000 kB" {
		t.Errorf("MemTotal = %q", got)
	}
}
