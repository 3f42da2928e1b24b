package bench

import (
	"bytes"
	"encoding/json"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

// runMain runs MainEnv against endpoint with test credentials and returns
// the exit code, the decoded JSON report, and stderr.
func runMain(t *testing.T, endpoint string, args ...string) (int, Report, string) {
	t.Helper()
	env := map[string]string{
		"COFFER_ENDPOINT":   endpoint,
		"COFFER_ACCESS_KEY": testAccessKey,
		"COFFER_SECRET_KEY": testSecretKey,
	}
	var stdout, stderr bytes.Buffer
	args = append([]string{"--json", "--progress=false", "--warmup=0"}, args...)
	code := MainEnv(args, func(k string) string { return env[k] }, &stdout, &stderr)
	var rep Report
	if stdout.Len() > 0 {
		if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
			t.Fatalf("report is not JSON: %v\n%s", err, stdout.String())
		}
	}
	return code, rep, stderr.String()
}

func opReport(t *testing.T, rep Report, op string) OpReport {
	t.Helper()
	for _, o := range rep.Ops {
		if o.Op == op {
			return o
		}
	}
	t.Fatalf("report has no %q entry: %+v", op, rep.Ops)
	return OpReport{}
}

func checkClean(t *testing.T, f *fakeS3, code int, rep Report, stderr string) {
	t.Helper()
	if code != 0 || rep.Errors != 0 || f.badAuth.Load() != 0 {
		t.Fatalf("exit %d, %d errors, %d bad signatures; report %+v; stderr %s", code, rep.Errors, f.badAuth.Load(), rep.Ops, stderr)
	}
}

func TestEndToEndWorkloads(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want map[string]int64 // op -> exact successful count (-1: at least one)
		sse  string
	}{
		{"put", []string{"--workload=put", "--ops=50", "--size=4KiB-64KiB"}, map[string]int64{"put": 50}, ""},
		{"put-sse-s3", []string{"--workload=put", "--ops=20", "--sse=sse-s3"}, map[string]int64{"put": 20}, ""},
		{"get", []string{"--workload=get", "--ops=60", "--objects=10", "--size=1KiB-3KiB"}, map[string]int64{"get": 60}, ""},
		{"get-sse-c", []string{"--workload=get", "--ops=30", "--objects=5", "--sse=sse-c"}, map[string]int64{"get": 30}, ""},
		{"mixed", []string{"--workload=mixed", "--ops=400", "--objects=20", "--concurrency=8", "--size=1KiB-8KiB"},
			map[string]int64{"get": -1, "head": -1, "put": -1, "delete": -1}, ""},
		{"mixed-sse-c", []string{"--workload=mixed", "--ops=200", "--objects=10", "--sse=sse-c", "--mix=get=1,put=1,delete=1"},
			map[string]int64{"get": -1, "put": -1, "delete": -1}, ""},
		{"list", []string{"--workload=list", "--ops=12", "--objects=2500", "--size=16", "--concurrency=2"}, map[string]int64{"list": 12}, ""},
		{"delete", []string{"--workload=delete", "--ops=40"}, map[string]int64{"delete": 40}, ""},
		{"multipart", []string{"--workload=multipart", "--ops=6", "--size=2500KiB", "--part-size=1MiB", "--concurrency=2"},
			map[string]int64{"multipart": 6, "part": 18}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, url := newFakeS3(t)
			code, rep, stderr := runMain(t, url, tc.args...)
			checkClean(t, f, code, rep, stderr)
			for op, want := range tc.want {
				o := opReport(t, rep, op)
				if (want >= 0 && o.Ops != want) || o.Ops == 0 {
					t.Errorf("%s: %d ops, want %d", op, o.Ops, want)
				}
				if o.LatencyMs.P50 <= 0 || o.LatencyMs.P50 > o.LatencyMs.P99 || o.LatencyMs.P99 > o.LatencyMs.Max {
					t.Errorf("%s: implausible latency %+v", op, o.LatencyMs)
				}
			}
			if rep.Version != ReportVersion || rep.Workload == "" || rep.DurationSeconds <= 0 {
				t.Errorf("report header: %+v", rep)
			}
		})
	}
}

func TestEndToEndServerState(t *testing.T) {
	f, url := newFakeS3(t)
	code, rep, stderr := runMain(t, url, "--workload=delete", "--ops=25", "--bucket=other")
	checkClean(t, f, code, rep, stderr)
	if f.count("CreateBucket") != 1 || f.count("PutObject") != 25 || f.count("DeleteObject") != 25 {
		t.Fatalf("calls: create %d put %d delete %d", f.count("CreateBucket"), f.count("PutObject"), f.count("DeleteObject"))
	}
	f.mu.Lock()
	left := len(f.buckets["other"])
	f.mu.Unlock()
	if left != 0 {
		t.Fatalf("%d objects left after the delete workload", left)
	}
	// The bucket exists now: a second run must not create it again.
	code, rep, stderr = runMain(t, url, "--workload=put", "--ops=3", "--bucket=other")
	checkClean(t, f, code, rep, stderr)
	if f.count("CreateBucket") != 1 {
		t.Fatalf("bucket created again")
	}
	// The multipart objects assembled by the fake have the requested size.
	code, rep, stderr = runMain(t, url, "--workload=multipart", "--ops=1", "--size=3MiB", "--part-size=1MiB", "--bucket=mp")
	checkClean(t, f, code, rep, stderr)
	f.mu.Lock()
	for k, o := range f.buckets["mp"] {
		if len(o.data) != 3<<20 {
			t.Errorf("%s: %d bytes, want 3MiB", k, len(o.data))
		}
	}
	f.mu.Unlock()
}

func TestEndToEndErrorsReported(t *testing.T) {
	f, url := newFakeS3(t)
	env := map[string]string{"COFFER_ENDPOINT": url, "COFFER_ACCESS_KEY": testAccessKey, "COFFER_SECRET_KEY": "wrong"}
	var stdout, stderr bytes.Buffer
	code := MainEnv([]string{"--ops=5", "--warmup=0", "--progress=false"}, func(k string) string { return env[k] }, &stdout, &stderr)
	// Bucket creation fails first: the run cannot start.
	if code != 1 || !strings.Contains(stderr.String(), "HeadBucket: 403") {
		t.Fatalf("exit %d, stderr %q", code, stderr.String())
	}
	if f.badAuth.Load() == 0 {
		t.Fatal("fake saw no bad signature")
	}

	// Failed operations are counted, sampled with their status, and make
	// the exit status 1; they do not enter ops or latency.
	f.failGet.Store(true)
	code, rep, _ := runMain(t, url, "--workload=get", "--ops=10", "--objects=3")
	o := opReport(t, rep, "get")
	if code != 1 || rep.Errors != 10 || o.Errors != 10 || o.Ops != 0 || len(o.ErrorSamples) == 0 ||
		!strings.Contains(o.ErrorSamples[0], "GetObject coffer-bench/") || !strings.Contains(o.ErrorSamples[0], "503 SlowDown") {
		t.Fatalf("exit %d, report %+v", code, rep)
	}
}

func TestTextReport(t *testing.T) {
	f, url := newFakeS3(t)
	env := map[string]string{"COFFER_ENDPOINT": url, "COFFER_ACCESS_KEY": testAccessKey, "COFFER_SECRET_KEY": testSecretKey}
	var stdout, stderr bytes.Buffer
	code := MainEnv([]string{"--ops=30", "--duration=5s", "--warmup=0", "--concurrency=4"}, func(k string) string { return env[k] }, &stdout, &stderr)
	if code != 0 || f.badAuth.Load() != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	out := stdout.String()
	for _, want := range []string{"workload put", "p99 ms", "put  ", "30"} {
		if !strings.Contains(out, want) {
			t.Errorf("text report lacks %q:\n%s", want, out)
		}
	}
}

// The null-server tests measure the client's own ceiling: the generator
// against an in-process server that answers 200 at once (GET with a 4 KiB
// body, without looking at the request). The figure is logged, and it is
// what `coffer bench` can at best report on this machine; the CPU time per
// operation covers client and null server together (same process).
//
//	go test ./bench -run NullServer -v

const nullBody = 4 << 10

func nullNetHTTP(t *testing.T) string {
	body := make([]byte, nullBody)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == "GET" && r.URL.RawQuery == "" {
			w.Header().Set("Content-Length", strconv.Itoa(nullBody))
			_, _ = w.Write(body)
		}
	})}
	return serveNull(t, func(ln net.Listener) { _ = srv.Serve(ln) }, func() { _ = srv.Close() })
}

func nullFastHTTP(t *testing.T) string {
	body := make([]byte, nullBody)
	srv := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) {
		if ctx.IsGet() && len(ctx.URI().QueryString()) == 0 {
			ctx.Response.SetBodyRaw(body)
		}
	}}
	return serveNull(t, func(ln net.Listener) { _ = srv.Serve(ln) }, func() { _ = srv.Shutdown() })
}

func serveNull(t *testing.T, serve func(net.Listener), stop func()) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go serve(ln)
	t.Cleanup(stop)
	return "http://" + ln.Addr().String()
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func TestNullServerOverhead(t *testing.T) {
	if testing.Short() {
		t.Skip("2 s runs; skipped with -short")
	}
	for _, srv := range []struct {
		name  string
		start func(*testing.T) string
	}{{"net-http", nullNetHTTP}, {"fasthttp", nullFastHTTP}} {
		for _, workload := range []string{WorkloadPut, WorkloadGet} {
			t.Run(srv.name+"/"+workload, func(t *testing.T) {
				cfg := Config{
					Endpoint: srv.start(t), AccessKey: "ak", SecretKey: "sk", Region: "us-east-1",
					Bucket: "null", Workload: workload, Size: SizeDist{nullBody, nullBody}, PartSize: 5 << 20,
					Concurrency: 16, Duration: 2 * time.Second, Warmup: 200 * time.Millisecond,
					Mix: DefaultMix, Objects: 100, SSE: SSENone,
				}
				cpu0 := cpuTime()
				rep, err := Run(t.Context(), cfg, nil)
				cpu := cpuTime() - cpu0
				if err != nil {
					t.Fatal(err)
				}
				o := opReport(t, *rep, workload)
				if o.Errors != 0 || o.Ops == 0 {
					t.Fatalf("%+v", o)
				}
				t.Logf("%s %s 4KiB c=16: %.0f ops/s, %.1f MiB/s, p50 %.3f ms, p99 %.3f ms; process CPU %.1f µs/op (client+server)",
					srv.name, workload, o.OpsPerSec, o.MiBPerSec, o.LatencyMs.P50, o.LatencyMs.P99,
					float64(cpu.Microseconds())/float64(o.Ops))
			})
		}
	}
}
