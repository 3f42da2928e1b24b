package bench

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func envMap(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

var creds = map[string]string{"COFFER_ACCESS_KEY": "ak", "COFFER_SECRET_KEY": "sk"}

func TestParseFlagsDefaults(t *testing.T) {
	c, err := ParseFlags(nil, envMap(creds), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		Endpoint: "http://127.0.0.1:9000", AccessKey: "ak", SecretKey: "sk", Region: "us-east-1",
		Bucket: "coffer-bench", Workload: "put", Size: SizeDist{4096, 4096}, PartSize: 5 << 20,
		Concurrency: 16, Duration: 10 * time.Second, Warmup: 2 * time.Second, Mix: DefaultMix,
		Objects: 100, SSE: "none", Progress: true,
	}
	if c != want {
		t.Fatalf("defaults\n got %+v\nwant %+v", c, want)
	}
}

func TestParseFlagsEnvAndFlags(t *testing.T) {
	env := map[string]string{
		"COFFER_ENDPOINT": "https://s3.example:9443", "AWS_ACCESS_KEY_ID": "awsak", "AWS_SECRET_ACCESS_KEY": "awssk",
		"COFFER_BENCH_WORKLOAD": "mixed", "COFFER_BENCH_SIZE": "4KiB-1MiB", "COFFER_BENCH_CONCURRENCY": "4",
		"COFFER_BENCH_MIX": "get=1,put=1", "COFFER_BENCH_SSE": "sse-c", "COFFER_BENCH_JSON": "true",
		"COFFER_BENCH_OPS": "500", "COFFER_BENCH_INSECURE_SKIP_VERIFY": "1", "COFFER_BENCH_PROGRESS": "false",
	}
	// Flags override the environment.
	c, err := ParseFlags([]string{"--concurrency=8", "--duration=0", "--region", "eu-west-1"}, envMap(env), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.Endpoint != "https://s3.example:9443" || c.AccessKey != "awsak" || c.SecretKey != "awssk" ||
		c.Workload != "mixed" || c.Size != (SizeDist{4 << 10, 1 << 20}) || c.Concurrency != 8 ||
		c.Mix != (Mix{Get: 1, Put: 1}) || c.SSE != SSEC || !c.JSON || c.Ops != 500 || c.Duration != 0 ||
		!c.InsecureSkipVerify || c.Progress || c.Region != "eu-west-1" {
		t.Fatalf("got %+v", c)
	}
	// COFFER_* credentials win over AWS_*.
	env["COFFER_ACCESS_KEY"] = "cak"
	if c, _ = ParseFlags(nil, envMap(env), io.Discard); c.AccessKey != "cak" {
		t.Fatalf("access key %q", c.AccessKey)
	}
}

func TestParseFlagsSecretFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(p, []byte("filesecret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := ParseFlags([]string{"--access-key=a", "--secret-key-file", p}, envMap(nil), io.Discard)
	if err != nil || c.SecretKey != "filesecret" {
		t.Fatalf("%v %q", err, c.SecretKey)
	}
	if _, err := ParseFlags([]string{"--access-key=a", "--secret-key=x", "--secret-key-file", p}, envMap(nil), io.Discard); err == nil {
		t.Fatal("both --secret-key and --secret-key-file accepted")
	}
}

func TestParseFlagsErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"--workload=scan"}, creds, "unknown workload"},
		{[]string{"--sse=kms"}, creds, "unknown --sse"},
		{[]string{"--size=4XB"}, creds, "unknown unit"},
		{[]string{"--size=1MiB-4KiB"}, creds, "minimum exceeds maximum"},
		{[]string{"--mix=get=1,scan=2"}, creds, "unknown operation"},
		{[]string{"--concurrency=0"}, creds, "--concurrency"},
		{[]string{"--size=2GiB"}, creds, "1GiB"},
		{[]string{"extra"}, creds, "unexpected arguments"},
		{nil, nil, "credentials missing"},
		{nil, map[string]string{"COFFER_ACCESS_KEY": "a", "COFFER_SECRET_KEY": "s", "COFFER_BENCH_OPS": "many"}, "COFFER_BENCH_OPS"},
	} {
		_, err := ParseFlags(tc.args, envMap(tc.env), io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v %v: error %v, want %q", tc.args, tc.env, err, tc.want)
		}
	}
}

func TestUnboundedRunRefused(t *testing.T) {
	_, err := ParseFlags([]string{"--duration=0"}, envMap(creds), io.Discard)
	if !errors.Is(err, ErrUnbounded) {
		t.Fatalf("ParseFlags: %v, want ErrUnbounded", err)
	}
	cfg := Config{Endpoint: "http://127.0.0.1:1", AccessKey: "a", SecretKey: "s", Bucket: "b", Workload: "put",
		SSE: "none", Concurrency: 1, Objects: 1, Mix: DefaultMix, Size: SizeDist{1, 1}}
	if _, err := Run(t.Context(), cfg, nil); !errors.Is(err, ErrUnbounded) {
		t.Fatalf("Run: %v, want ErrUnbounded", err)
	}
	var stderr strings.Builder
	code := MainEnv([]string{"--duration=0", "--ops=0"}, envMap(creds), io.Discard, &stderr)
	if code != 2 || !strings.Contains(stderr.String(), "unbounded") {
		t.Fatalf("exit %d, stderr %q", code, stderr.String())
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{
		"0": 0, "4096": 4096, "4KiB": 4096, "4kib": 4096, "4K": 4096, "1MiB": 1 << 20, "64MiB": 64 << 20,
		"1GiB": 1 << 30, "10KB": 10000, "1.5MiB": 3 << 19, " 2 MiB ": 2 << 20, "5b": 5,
	} {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "KiB", "4QiB", "1.2.3", "-1"} {
		if _, err := ParseSize(in); err == nil {
			t.Errorf("ParseSize(%q) accepted", in)
		}
	}
	for _, n := range []int64{4096, 1 << 20, 64 << 20, 1000, 3 << 19} {
		if got, _ := ParseSize(FormatSize(n)); got != n {
			t.Errorf("FormatSize(%d) = %q does not round-trip", n, FormatSize(n))
		}
	}
}

func TestParseSizeDist(t *testing.T) {
	d, err := ParseSizeDist("4KiB-1MiB")
	if err != nil || d != (SizeDist{4096, 1 << 20}) || d.String() != "4KiB-1MiB" {
		t.Fatalf("%+v %v", d, err)
	}
	s := d.Sizes()
	if len(s) != distSteps || s[0] != 4096 || s[len(s)-1] != 1<<20 {
		t.Fatalf("sizes %v", s)
	}
	for i := 1; i < len(s); i++ {
		if s[i] <= s[i-1] {
			t.Fatalf("sizes not ascending: %v", s)
		}
	}
	if d, _ := ParseSizeDist("1MiB"); d != (SizeDist{1 << 20, 1 << 20}) || len(d.Sizes()) != 1 {
		t.Fatalf("fixed: %+v", d)
	}
	if got := (SizeDist{10, 13}).Sizes(); len(got) != 4 || got[0] != 10 || got[3] != 13 {
		t.Fatalf("narrow range: %v", got)
	}
}

func TestParseMix(t *testing.T) {
	m, err := ParseMix("get=45,head=30,put=15,delete=10")
	if err != nil || m != DefaultMix || m.String() != "get=45,head=30,put=15,delete=10" {
		t.Fatalf("%+v %v", m, err)
	}
	m, err = ParseMix(" GET=3 , delete=1 ")
	if err != nil || m != (Mix{Get: 3, Delete: 1}) {
		t.Fatalf("%+v %v", m, err)
	}
	// pick maps draws onto the ratio exactly.
	counts := map[opKind]int{}
	for r := range DefaultMix.total() {
		counts[DefaultMix.pick(r)]++
	}
	if counts[opGet] != 45 || counts[opHead] != 30 || counts[opPut] != 15 || counts[opDelete] != 10 {
		t.Fatalf("pick distribution %v", counts)
	}
	for _, bad := range []string{"get", "get=-1", "get=0", "get=1,get=2", "list=1", "get=x"} {
		if _, err := ParseMix(bad); err == nil {
			t.Errorf("ParseMix(%q) accepted", bad)
		}
	}
}

func TestPayloadHashes(t *testing.T) {
	p := newPayload(1, []int64{4096, 0, 100, 4096})
	for _, n := range []int64{0, 100, 4096} {
		body, sum := p.body(n)
		if int64(len(body)) != n || sum != sha256Hex(body) {
			t.Errorf("size %d: len %d, hash mismatch %v", n, len(body), sum != sha256Hex(body))
		}
	}
	if got := partSizes([]int64{0, 5, 10, 12}, 5); !slices.Equal(got, []int64{0, 5, 5, 5, 2}) {
		t.Fatalf("partSizes %v", got)
	}
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
