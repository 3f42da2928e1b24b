package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"
)

// ReportVersion is the version of the JSON report schema. It changes only
// when a field is removed or changes meaning; new fields may be added
// without a version change.
const ReportVersion = 1

// Report is the result of a run. With --json it is printed as one JSON
// object, schema version 1:
//
//	{
//	  "version": 1,                      // ReportVersion
//	  "endpoint": "http://127.0.0.1:9000",
//	  "bucket": "coffer-bench",
//	  "workload": "put",                 // put|get|mixed|list|delete|multipart
//	  "size": "4KiB",                    // fixed size or "MIN-MAX"
//	  "part_size": "5MiB",               // multipart only
//	  "mix": "get=45,head=30,put=15,delete=10", // mixed only
//	  "concurrency": 16,
//	  "sse": "none",                     // none|sse-s3|sse-c
//	  "objects": 100,                    // prepared objects (get|mixed|list|delete)
//	  "warmup_seconds": 2,
//	  "duration_seconds": 10.003,        // measured wall time
//	  "ops": [                           // one entry per operation type seen,
//	    {                                //   in the order put, get, head, delete,
//	      "op": "put",                   //   list, multipart, part
//	      "ops": 41234,                  // successful operations
//	      "bytes": 168894464,            // object bytes moved by them (list: reply bytes)
//	      "ops_per_sec": 4122.1,
//	      "mib_per_sec": 16.1,
//	      "latency_ms": {"min": 0.4, "mean": 3.8, "p50": 3.5, "p90": 5.9, "p99": 11.2, "max": 40.1},
//	      "errors": 0,                   // failed operations (not in ops or latency)
//	      "error_samples": ["PutObject k: 503 SlowDown: ..."] // first few, omitted when none
//	    }
//	  ],
//	  "errors": 0                        // sum of errors over all ops
//	}
//
// Latency covers successful operations of the measured phase only; for
// multipart, "multipart" is the whole create-parts-complete sequence and
// "part" one UploadPart. Percentiles are within 0.4% of a sample value.
type Report struct {
	Version         int        `json:"version"`
	Endpoint        string     `json:"endpoint"`
	Bucket          string     `json:"bucket"`
	Workload        string     `json:"workload"`
	Size            string     `json:"size"`
	PartSize        string     `json:"part_size,omitempty"`
	Mix             string     `json:"mix,omitempty"`
	Concurrency     int        `json:"concurrency"`
	SSE             string     `json:"sse"`
	Objects         int        `json:"objects,omitempty"`
	WarmupSeconds   float64    `json:"warmup_seconds"`
	DurationSeconds float64    `json:"duration_seconds"`
	Ops             []OpReport `json:"ops"`
	Errors          int64      `json:"errors"`
}

// OpReport is the result for one operation type.
type OpReport struct {
	Op           string   `json:"op"`
	Ops          int64    `json:"ops"`
	Bytes        int64    `json:"bytes"`
	OpsPerSec    float64  `json:"ops_per_sec"`
	MiBPerSec    float64  `json:"mib_per_sec"`
	LatencyMs    Latency  `json:"latency_ms"`
	Errors       int64    `json:"errors"`
	ErrorSamples []string `json:"error_samples,omitempty"`
}

// Latency summarises one operation type's latency, in milliseconds.
type Latency struct {
	Min  float64 `json:"min"`
	Mean float64 `json:"mean"`
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	Max  float64 `json:"max"`
}

func ms(ns int64) float64 { return float64(ns) / 1e6 }

// buildReport turns merged statistics into a Report.
func buildReport(cfg *Config, stats []opStats, elapsed, warmup time.Duration) *Report {
	r := &Report{
		Version:         ReportVersion,
		Endpoint:        cfg.Endpoint,
		Bucket:          cfg.Bucket,
		Workload:        cfg.Workload,
		Size:            cfg.Size.String(),
		Concurrency:     cfg.Concurrency,
		SSE:             cfg.SSE,
		WarmupSeconds:   warmup.Seconds(),
		DurationSeconds: elapsed.Seconds(),
		Ops:             []OpReport{},
	}
	switch cfg.Workload {
	case WorkloadMultipart:
		r.PartSize = FormatSize(cfg.PartSize)
	case WorkloadMixed:
		r.Mix = cfg.Mix.String()
	}
	switch cfg.Workload {
	case WorkloadGet, WorkloadMixed, WorkloadList:
		r.Objects = cfg.Objects
	case WorkloadDelete:
		r.Objects = cfg.Objects
		if cfg.Ops > 0 {
			r.Objects = int(cfg.Ops)
		}
	}
	secs := elapsed.Seconds()
	for k := range stats {
		s := &stats[k]
		h := &s.hist
		if h.n == 0 && s.errors == 0 {
			continue
		}
		o := OpReport{Op: opKind(k).String(), Ops: int64(h.n), Bytes: s.bytes, Errors: s.errors, ErrorSamples: s.errSamples}
		if secs > 0 {
			o.OpsPerSec = float64(h.n) / secs
			o.MiBPerSec = float64(s.bytes) / secs / (1 << 20)
		}
		if h.n > 0 {
			o.LatencyMs = Latency{
				Min: ms(h.min), Mean: h.sum / float64(h.n) / 1e6,
				P50: ms(h.quantile(0.50)), P90: ms(h.quantile(0.90)), P99: ms(h.quantile(0.99)), Max: ms(h.max),
			}
		}
		r.Ops = append(r.Ops, o)
		r.Errors += s.errors
	}
	return r
}

// WriteJSON writes the report as one indented JSON object.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteText writes the report as a human-readable table.
func (r *Report) WriteText(w io.Writer) error {
	fmt.Fprintf(w, "workload %s  size %s  concurrency %d  sse %s", r.Workload, r.Size, r.Concurrency, r.SSE)
	if r.Mix != "" {
		fmt.Fprintf(w, "  mix %s", r.Mix)
	}
	if r.PartSize != "" {
		fmt.Fprintf(w, "  part-size %s", r.PartSize)
	}
	fmt.Fprintf(w, "\nendpoint %s  bucket %s  measured %.2fs after %.1fs warm-up\n\n", r.Endpoint, r.Bucket, r.DurationSeconds, r.WarmupSeconds)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "op\tops\tops/s\tMiB/s\tp50 ms\tp90 ms\tp99 ms\tmax ms\terrors\t")
	for _, o := range r.Ops {
		l := o.LatencyMs
		fmt.Fprintf(tw, "%s\t%d\t%.1f\t%.2f\t%.3f\t%.3f\t%.3f\t%.3f\t%d\t\n",
			o.Op, o.Ops, o.OpsPerSec, o.MiBPerSec, l.P50, l.P90, l.P99, l.Max, o.Errors)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, o := range r.Ops {
		for _, e := range o.ErrorSamples {
			fmt.Fprintf(w, "  %s error: %s\n", o.Op, e)
		}
	}
	return nil
}
