package s3api

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The metrics below are served unauthenticated at GET /metrics in the
// Prometheus text format. Label values are bounded: api is one of the
// operation names of route (or "unknown"/"NotImplemented"), code is the HTTP
// status code.
//
//	coffer_http_requests_total{api,code}          counter
//	coffer_http_request_duration_seconds{api}     histogram
//	coffer_http_inflight_requests                 gauge

// MetricsSource writes further metrics in the Prometheus text format
// (complete families with their # HELP and # TYPE lines) to the /metrics
// response. Its metric names MUST start with "coffer_" and not clash with
// another source's. It is called once per scrape and must not block.
type MetricsSource interface {
	WriteMetrics(w io.Writer)
}

// durationBuckets are the histogram bucket upper bounds in seconds.
var durationBuckets = []float64{0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300}

type histogram struct {
	counts []uint64 // per bucket, non-cumulative; last is +Inf
	sum    float64
	count  uint64
}

type metrics struct {
	inflight atomic.Int64

	mu        sync.Mutex
	requests  map[[2]string]uint64
	durations map[string]*histogram
}

func newMetrics() *metrics {
	return &metrics{requests: map[[2]string]uint64{}, durations: map[string]*histogram{}}
}

func (m *metrics) observe(api string, code int, d time.Duration) {
	if api == "" {
		api = "unknown"
	}
	sec := d.Seconds()
	i, _ := slices.BinarySearch(durationBuckets, sec)
	m.mu.Lock()
	m.requests[[2]string{api, strconv.Itoa(code)}]++
	h := m.durations[api]
	if h == nil {
		h = &histogram{counts: make([]uint64, len(durationBuckets)+1)}
		m.durations[api] = h
	}
	h.counts[i]++
	h.sum += sec
	h.count++
	m.mu.Unlock()
}

// write renders the metrics in the Prometheus text exposition format.
func (m *metrics) write(b *strings.Builder) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b.WriteString("# HELP coffer_http_requests_total S3 API requests by operation and HTTP status code.\n")
	b.WriteString("# TYPE coffer_http_requests_total counter\n")
	keys := make([][2]string, 0, len(m.requests))
	for k := range m.requests {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b [2]string) int {
		if c := strings.Compare(a[0], b[0]); c != 0 {
			return c
		}
		return strings.Compare(a[1], b[1])
	})
	for _, k := range keys {
		fmt.Fprintf(b, "coffer_http_requests_total{api=%q,code=%q} %d\n", k[0], k[1], m.requests[k])
	}
	b.WriteString("# HELP coffer_http_request_duration_seconds Time to serve S3 API requests.\n")
	b.WriteString("# TYPE coffer_http_request_duration_seconds histogram\n")
	apis := make([]string, 0, len(m.durations))
	for k := range m.durations {
		apis = append(apis, k)
	}
	slices.Sort(apis)
	for _, api := range apis {
		h := m.durations[api]
		var cum uint64
		for i, le := range durationBuckets {
			cum += h.counts[i]
			fmt.Fprintf(b, "coffer_http_request_duration_seconds_bucket{api=%q,le=%q} %d\n", api, strconv.FormatFloat(le, 'g', -1, 64), cum)
		}
		cum += h.counts[len(durationBuckets)]
		fmt.Fprintf(b, "coffer_http_request_duration_seconds_bucket{api=%q,le=\"+Inf\"} %d\n", api, cum)
		fmt.Fprintf(b, "coffer_http_request_duration_seconds_sum{api=%q} %s\n", api, strconv.FormatFloat(h.sum, 'g', -1, 64))
		fmt.Fprintf(b, "coffer_http_request_duration_seconds_count{api=%q} %d\n", api, h.count)
	}
	b.WriteString("# HELP coffer_http_inflight_requests S3 API requests being served.\n")
	b.WriteString("# TYPE coffer_http_inflight_requests gauge\n")
	fmt.Fprintf(b, "coffer_http_inflight_requests %d\n", m.inflight.Load())
	b.WriteString("# HELP coffer_runtime_gomaxprocs Go scheduler slots (GOMAXPROCS) of the server process.\n")
	b.WriteString("# TYPE coffer_runtime_gomaxprocs gauge\n")
	fmt.Fprintf(b, "coffer_runtime_gomaxprocs %d\n", runtime.GOMAXPROCS(0))
	b.WriteString("# HELP coffer_runtime_goroutines Goroutines in the server process.\n")
	b.WriteString("# TYPE coffer_runtime_goroutines gauge\n")
	fmt.Fprintf(b, "coffer_runtime_goroutines %d\n", runtime.NumGoroutine())
}

// serveInternal answers the unauthenticated endpoints: /health/live (the
// process serves HTTP), /health/ready (the object layer answers
// ListBuckets) and /metrics. They are reached only by unsigned GET/HEAD
// requests, so signed requests for a bucket named "health" or "metrics"
// still reach S3.
func (s *Server) serveInternal(r *request, path string) (string, error) {
	ctx := r.ctx
	switch path {
	case "/health/live":
		ctx.SetStatusCode(200)
		return "HealthLive", nil
	case "/health/ready":
		c, cancel := context.WithTimeout(r.c, 5*time.Second)
		defer cancel()
		if _, err := s.layer.ListBuckets(c); err != nil {
			s.log.Warn("readiness check failed", "err", err)
			ctx.SetStatusCode(503)
		} else {
			ctx.SetStatusCode(200)
		}
		return "HealthReady", nil
	}
	var b strings.Builder
	s.metrics.write(&b)
	s.admit.writeMetrics(&b)
	for _, src := range s.cfg.Metrics {
		src.WriteMetrics(&b)
	}
	ctx.SetStatusCode(200)
	ctx.Response.Header.SetContentType("text/plain; version=0.0.4; charset=utf-8")
	ctx.SetBodyString(b.String())
	return "Metrics", nil
}
