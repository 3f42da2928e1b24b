package s3api

import (
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"
)

// Admission of data requests. The requests that stream object data —
// GetObject, PutObject, UploadPart, UploadPartCopy, CopyObject — hold
// buffers for as long as they run (a GET about 2.3 MiB until its body is
// sent, a PUT up to about 10 MiB), so their number is what bounds the
// server's memory under load. Each takes one of Config.MaxDataRequests
// slots after it is authenticated and authorized, and gives it back when
// its handler returns, or for a GET when fasthttp closes the response body
// after sending it. A request that finds no free slot waits up to
// Config.RequestWait and then fails with 503 SlowDown, which S3 clients
// retry with backoff. Other requests (listings, HEAD, metadata) are small
// and not counted.

// isDataAPI reports whether operation api takes an admission slot.
func isDataAPI(api string) bool {
	switch api {
	case "GetObject", "PutObject", "UploadPart", "UploadPartCopy", "CopyObject":
		return true
	}
	return false
}

// DefaultRequestWait is Config.RequestWait's default.
const DefaultRequestWait = 10 * time.Second

// admission is a counting semaphore with a bounded wait.
type admission struct {
	slots    chan struct{}
	wait     time.Duration
	waiting  atomic.Int64
	rejected atomic.Int64
}

// newAdmission returns the admission of limit slots (nil, admitting
// everything, when limit <= 0).
func newAdmission(limit int, wait time.Duration) *admission {
	if limit <= 0 {
		return nil
	}
	if wait <= 0 {
		wait = DefaultRequestWait
	}
	return &admission{slots: make(chan struct{}, limit), wait: wait}
}

// acquire takes a slot, waiting up to a.wait for one. It returns the
// function that gives the slot back (idempotent), or nil when no slot
// became free in time.
func (a *admission) acquire() func() {
	if a == nil {
		return func() {}
	}
	select {
	case a.slots <- struct{}{}:
	default:
		a.waiting.Add(1)
		t := time.NewTimer(a.wait)
		select {
		case a.slots <- struct{}{}:
			t.Stop()
			a.waiting.Add(-1)
		case <-t.C:
			a.waiting.Add(-1)
			a.rejected.Add(1)
			return nil
		}
	}
	var once sync.Once
	return func() { once.Do(func() { <-a.slots }) }
}

// writeMetrics writes the admission metrics (nothing when unlimited).
func (a *admission) writeMetrics(w io.Writer) {
	if a == nil {
		return
	}
	fmt.Fprintf(w, "# HELP coffer_http_data_requests Requests streaming object data that hold an admission slot.\n# TYPE coffer_http_data_requests gauge\ncoffer_http_data_requests %d\n", len(a.slots))
	fmt.Fprintf(w, "# HELP coffer_http_data_requests_limit Admission slots for requests streaming object data.\n# TYPE coffer_http_data_requests_limit gauge\ncoffer_http_data_requests_limit %d\n", cap(a.slots))
	fmt.Fprintf(w, "# HELP coffer_http_data_requests_waiting Requests waiting for an admission slot.\n# TYPE coffer_http_data_requests_waiting gauge\ncoffer_http_data_requests_waiting %d\n", a.waiting.Load())
	fmt.Fprintf(w, "# HELP coffer_http_data_requests_rejected_total Requests refused with 503 SlowDown after waiting for an admission slot.\n# TYPE coffer_http_data_requests_rejected_total counter\ncoffer_http_data_requests_rejected_total %d\n", a.rejected.Load())
}
