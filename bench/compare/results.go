package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/cofferstore/coffer/bench"
)

// goalRatio is the goal: coffer at least 1.25× MinIO everywhere.
const goalRatio = 1.25

// resultsVersion is the version of the --json schema; it changes only when
// a field is removed or changes meaning.
const resultsVersion = 1

// results is everything the comparison measured; --json prints it as is.
type results struct {
	Version      int     `json:"version"`
	Date         string  `json:"date"` // RFC 3339, UTC, start of the comparison
	MinIOVersion string  `json:"minio_version"`
	Machine      machine `json:"machine"`
	Drives       int     `json:"drives"`
	Parity       int     `json:"parity"`
	Rounds       int     `json:"rounds"`
	Duration     float64 `json:"duration_seconds"` // measured phase per run
	Warmup       float64 `json:"warmup_seconds"`
	ListObjects  int     `json:"list_objects"`
	Rows         []row   `json:"rows"`
}

// row is one workload under one SSE mode.
type row struct {
	Workload    string    `json:"workload"`
	Description string    `json:"description"`
	SSE         string    `json:"sse"`
	Size        string    `json:"size"`
	Concurrency int       `json:"concurrency"`
	Objects     int       `json:"objects,omitempty"` // prepared objects (get, list, mixed)
	LatencyOp   string    `json:"latency_op"`        // operation of the p50/p99 columns
	Coffer      side      `json:"coffer"`
	MinIO       side      `json:"minio"`
	Ratio       float64   `json:"ratio"`        // median coffer ops/s ÷ median MinIO ops/s; 0 when not computable
	RoundRatios []float64 `json:"round_ratios"` // coffer/MinIO of each round where both ran
}

// side is one server's results for a row; every figure is the median over
// the rounds that ran.
type side struct {
	OpsPerSec float64   `json:"ops_per_sec"`
	MiBPerSec float64   `json:"mib_per_sec"`
	P50Ms     float64   `json:"p50_ms"`
	P99Ms     float64   `json:"p99_ms"`
	Rounds    []float64 `json:"rounds_ops_per_sec"` // ops/s of each successful round
	Errors    int64     `json:"errors"`             // failed operations over all rounds
	Failures  []string  `json:"failures,omitempty"` // rounds that could not run
}

// summarize returns a report's total ops/s and MiB/s over all operation
// types, and the p50/p99 latency of latencyOp (0 when absent).
func summarize(rep *bench.Report, latencyOp string) (ops, mib, p50, p99 float64) {
	for _, o := range rep.Ops {
		ops += o.OpsPerSec
		mib += o.MiBPerSec
		if o.Op == latencyOp {
			p50, p99 = o.LatencyMs.P50, o.LatencyMs.P99
		}
	}
	return ops, mib, p50, p99
}

// newSide reduces one server's reports to medians.
func newSide(reps []*bench.Report, latencyOp string, failures []string) side {
	var ops, mib, p50, p99 []float64
	s := side{Rounds: []float64{}, Failures: failures}
	for _, r := range reps {
		o, m, a, b := summarize(r, latencyOp)
		ops, mib, p50, p99 = append(ops, o), append(mib, m), append(p50, a), append(p99, b)
		s.Errors += r.Errors
	}
	s.Rounds = append(s.Rounds, ops...)
	s.OpsPerSec, s.MiBPerSec, s.P50Ms, s.P99Ms = median(ops), median(mib), median(p50), median(p99)
	return s
}

// newRow builds a row from both servers' reports; cfg is the Config both
// got (its endpoint unset).
func newRow(w workload, sse string, cfg bench.Config, coffer, minio []*bench.Report, cofferFails, minioFails []string) row {
	r := row{
		Workload: w.Name, Description: w.Description, SSE: sse, Size: cfg.Size.String(),
		Concurrency: cfg.Concurrency, LatencyOp: w.LatencyOp,
		Coffer: newSide(coffer, w.LatencyOp, cofferFails), MinIO: newSide(minio, w.LatencyOp, minioFails),
		RoundRatios: []float64{},
	}
	if w.Kind != bench.WorkloadPut {
		r.Objects = cfg.Objects
	}
	r.Ratio = ratio(r.Coffer.OpsPerSec, r.MinIO.OpsPerSec)
	// Rounds pair up only when neither side failed one.
	if len(r.Coffer.Failures) == 0 && len(r.MinIO.Failures) == 0 {
		for i := range min(len(r.Coffer.Rounds), len(r.MinIO.Rounds)) {
			r.RoundRatios = append(r.RoundRatios, ratio(r.Coffer.Rounds[i], r.MinIO.Rounds[i]))
		}
	}
	return r
}

// median returns the median of xs (the mean of the middle two for an even
// count), or 0 for none. xs is not modified.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// ratio returns a/b, or 0 when either side measured nothing.
func ratio(a, b float64) float64 {
	if a <= 0 || b <= 0 || math.IsNaN(a) || math.IsNaN(b) {
		return 0
	}
	return a / b
}

// worst returns the index of the row with the lowest computable ratio, or
// -1 when there is none.
func worst(rows []row) int {
	w := -1
	for i, r := range rows {
		if r.Ratio > 0 && (w < 0 || r.Ratio < rows[w].Ratio) {
			w = i
		}
	}
	return w
}

// writeResults prints res as JSON, Markdown or text, per the options.
func writeResults(w io.Writer, res *results, o *options) error {
	if o.JSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	fmt.Fprintf(w, "coffer vs %s\n", res.MinIOVersion)
	fmt.Fprintf(w, "machine: %d CPUs (%s), %d GiB RAM, %s, %s\n", res.Machine.CPUs, res.Machine.CPU, res.Machine.MemGiB, res.Machine.OS, res.Machine.Go)
	fmt.Fprintf(w, "%d drives, parity %d on both; %d round(s) of %gs after %gs warm-up, alternating coffer/MinIO, medians; list over %d objects\n",
		res.Drives, res.Parity, res.Rounds, res.Duration, res.Warmup, res.ListObjects)
	fmt.Fprintf(w, "encryption: coffer always encrypts at rest; \"none\" rows compare encrypted coffer with unencrypted MinIO,\n"+
		"\"sse-s3\" rows send SSE-S3 to both (MinIO with its built-in single-key KMS)\n\n")
	if err := writeTable(w, res.Rows, o.Markdown); err != nil {
		return err
	}
	var miss []string
	for _, r := range res.Rows {
		if r.Ratio < goalRatio {
			miss = append(miss, r.Workload+"/"+r.SSE)
		}
		for _, f := range r.Coffer.Failures {
			fmt.Fprintf(w, "  %s %s coffer %s\n", r.Workload, r.SSE, f)
		}
		for _, f := range r.MinIO.Failures {
			fmt.Fprintf(w, "  %s %s MinIO %s\n", r.Workload, r.SSE, f)
		}
	}
	fmt.Fprintln(w)
	if len(miss) == 0 {
		fmt.Fprintf(w, "every row meets the %.2f× goal\n", goalRatio)
	} else {
		fmt.Fprintf(w, "below the %.2f× goal (%d of %d): %s\n", goalRatio, len(miss), len(res.Rows), strings.Join(miss, ", "))
	}
	if i := worst(res.Rows); i >= 0 {
		r := res.Rows[i]
		fmt.Fprintf(w, "worst ratio: %s %s at %.2f× — the workload to profile: run it with `coffer bench` against `coffer server --pprof-address 127.0.0.1:6061` and fetch /debug/pprof/profile\n",
			r.Workload, r.SSE, r.Ratio)
	}
	return nil
}

// writeTable prints one line per row: medians, the ratio and the goal mark.
func writeTable(w io.Writer, rows []row, markdown bool) error {
	header := []string{"workload", "sse", "coffer ops/s", "MinIO ops/s", "coffer/MinIO", "coffer p50/p99 ms", "MinIO p50/p99 ms", "≥ 1.25×", "errors c/m"}
	lines := [][]string{}
	for _, r := range rows {
		lines = append(lines, []string{
			r.Workload, r.SSE,
			formatRate(r.Coffer.OpsPerSec), formatRate(r.MinIO.OpsPerSec),
			formatRatio(r.Ratio),
			formatLatency(r.Coffer), formatLatency(r.MinIO),
			goalMark(r.Ratio),
			strconv.FormatInt(r.Coffer.Errors, 10) + "/" + strconv.FormatInt(r.MinIO.Errors, 10),
		})
	}
	if markdown {
		fmt.Fprintf(w, "| %s |\n|%s\n", strings.Join(header, " | "), strings.Repeat("---|", len(header)))
		for _, l := range lines {
			fmt.Fprintf(w, "| %s |\n", strings.Join(l, " | "))
		}
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, strings.Join(header, "\t")+"\t")
	for _, l := range lines {
		fmt.Fprintln(tw, strings.Join(l, "\t")+"\t")
	}
	return tw.Flush()
}

// formatRate prints ops/s with thousands separators from 1,000 up, one
// decimal from 10 and two below.
func formatRate(x float64) string {
	switch {
	case x <= 0:
		return "–"
	case x < 10:
		return strconv.FormatFloat(x, 'f', 2, 64)
	case x < 1000:
		return strconv.FormatFloat(x, 'f', 1, 64)
	}
	s := strconv.FormatInt(int64(math.Round(x)), 10)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func formatRatio(r float64) string {
	if r <= 0 {
		return "n/a"
	}
	return strconv.FormatFloat(r, 'f', 2, 64) + "×"
}

func formatLatency(s side) string {
	if s.OpsPerSec <= 0 {
		return "–"
	}
	return formatMs(s.P50Ms) + " / " + formatMs(s.P99Ms)
}

// formatMs prints a latency with three significant digits at most.
func formatMs(ms float64) string {
	switch {
	case ms < 10:
		return strconv.FormatFloat(ms, 'f', 2, 64)
	case ms < 100:
		return strconv.FormatFloat(ms, 'f', 1, 64)
	}
	return strconv.FormatFloat(ms, 'f', 0, 64)
}

func goalMark(r float64) string {
	switch {
	case r <= 0:
		return "n/a"
	case r >= goalRatio:
		return "yes"
	}
	return "no"
}
