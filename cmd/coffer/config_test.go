package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestDefaults(t *testing.T) {
	c, err := parseServerConfig(nil, env(nil), &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if c.Address != "127.0.0.1:9000" || c.Region != "us-east-1" || c.Parity != 0 || c.Insecure || c.ConfigDir != "coffer-data" || !c.defaultDrives {
		t.Fatalf("defaults %+v", c)
	}
	want := []string{"coffer-data/drive1", "coffer-data/drive2", "coffer-data/drive3", "coffer-data/drive4"}
	if strings.Join(c.Drives, ",") != strings.Join(want, ",") {
		t.Fatalf("drives %v", c.Drives)
	}
}

func TestEnvAndFlagPrecedence(t *testing.T) {
	e := env(map[string]string{
		"COFFER_ADDRESS": "127.0.0.1:7000", "COFFER_PARITY": "2", "COFFER_REGION": "eu-west-1",
		"COFFER_DOMAIN": "s3.local", "COFFER_CONFIG_DIR": "/etc/coffer", "COFFER_INLINE_LIMIT": "4096",
	})
	c, err := parseServerConfig(nil, e, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if c.Address != "127.0.0.1:7000" || c.Parity != 2 || c.Region != "eu-west-1" || c.Domain != "s3.local" || c.ConfigDir != "/etc/coffer" || c.InlineLimit != 4096 {
		t.Fatalf("env not applied: %+v", c)
	}
	c, err = parseServerConfig([]string{"--address", "localhost:8000", "--parity=1", "--region", "us-west-2", "--domain", "x.test",
		"--config-dir", "/srv/cfg", "--inline-limit", "-1", "/d/1", "/d/2", "/d/3", "/d/4"}, e, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if c.Address != "localhost:8000" || c.Parity != 1 || c.Region != "us-west-2" || c.Domain != "x.test" || c.ConfigDir != "/srv/cfg" || c.InlineLimit != -1 {
		t.Fatalf("flags do not beat env: %+v", c)
	}
	if len(c.Drives) != 4 || c.defaultDrives {
		t.Fatalf("drives %v", c.Drives)
	}
}

func TestConfigDirFromFirstDrive(t *testing.T) {
	c, err := parseServerConfig([]string{"/data/d1", "/data/d2", "/data/d3", "/data/d4"}, env(nil), &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if c.ConfigDir != "/data" {
		t.Fatalf("config dir %q", c.ConfigDir)
	}
}

func TestInvalidConfigs(t *testing.T) {
	cases := []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"/a", "/b", "/c"}, nil, "4 to 16 drives"},
		{nil, map[string]string{"COFFER_PARITY": "two"}, "COFFER_PARITY"},
		{nil, map[string]string{"COFFER_INSECURE": "perhaps"}, "COFFER_INSECURE"},
		{[]string{"--parity", "3"}, nil, "parity"},
		{[]string{"--tls-cert", "c.pem"}, nil, "together"},
		{[]string{"--address", "nonsense"}, nil, "address"},
		{nil, map[string]string{"COFFER_MASTER_KEY": "short"}, "master key"},
		{[]string{"--bogus"}, nil, "bogus"},
	}
	for _, c := range cases {
		_, err := parseServerConfig(c.args, env(c.env), &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v %v: err %v, want %q", c.args, c.env, err, c.want)
		}
	}
}

func TestNonLoopbackNeedsTLSOrInsecure(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:9000", ":9000", "10.1.2.3:9000", "example.com:9000", "[::]:9000"} {
		_, err := parseServerConfig([]string{"--address", addr}, env(nil), &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), "refusing") {
			t.Errorf("%s: err %v, want refusal", addr, err)
		}
		if _, err := parseServerConfig([]string{"--address", addr, "--insecure"}, env(nil), &bytes.Buffer{}); err != nil {
			t.Errorf("%s --insecure: %v", addr, err)
		}
		if _, err := parseServerConfig([]string{"--address", addr}, env(map[string]string{"COFFER_INSECURE": "true"}), &bytes.Buffer{}); err != nil {
			t.Errorf("%s COFFER_INSECURE: %v", addr, err)
		}
		if _, err := parseServerConfig([]string{"--address", addr, "--tls-cert", "c", "--tls-key", "k"}, env(nil), &bytes.Buffer{}); err != nil {
			t.Errorf("%s with TLS: %v", addr, err)
		}
		// An explicit --insecure=false beats COFFER_INSECURE=true.
		if _, err := parseServerConfig([]string{"--address", addr, "--insecure=false"}, env(map[string]string{"COFFER_INSECURE": "1"}), &bytes.Buffer{}); err == nil {
			t.Errorf("%s: --insecure=false did not beat the env", addr)
		}
	}
	for _, addr := range []string{"127.0.0.1:9000", "localhost:9000", "[::1]:9000", "127.8.9.10:1"} {
		if _, err := parseServerConfig([]string{"--address", addr}, env(nil), &bytes.Buffer{}); err != nil {
			t.Errorf("%s: %v", addr, err)
		}
	}
}

func TestMasterKey(t *testing.T) {
	key := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))
	c, err := parseServerConfig(nil, env(map[string]string{"COFFER_MASTER_KEY": key}), &bytes.Buffer{})
	if err != nil || len(c.MasterKey) != 32 {
		t.Fatalf("env key: %v", err)
	}
	f := filepath.Join(t.TempDir(), "mk")
	os.WriteFile(f, []byte(key+"\n"), 0o600)
	c, err = parseServerConfig([]string{"--master-key-file", f}, env(nil), &bytes.Buffer{})
	if err != nil || len(c.MasterKey) != 32 {
		t.Fatalf("file key: %v", err)
	}
	if _, err := parseServerConfig([]string{"--master-key-file", f}, env(map[string]string{"COFFER_MASTER_KEY": key}), &bytes.Buffer{}); err == nil {
		t.Fatal("both key sources accepted")
	}
}

func TestRootCredentialsGeneratedOnce(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cfg")
	var out bytes.Buffer
	c1, err := loadRootCredentials(env(nil), dir, &out)
	if err != nil {
		t.Fatal(err)
	}
	if len(c1.AccessKey) != 20 || len(c1.SecretKey) != 40 || strings.Trim(c1.AccessKey, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") != "" {
		t.Fatalf("generated %q / %d chars", c1.AccessKey, len(c1.SecretKey))
	}
	if !strings.Contains(out.String(), c1.SecretKey) {
		t.Fatal("secret not printed on the generating start")
	}
	st, err := os.Stat(filepath.Join(dir, credentialsFile))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("file mode %v %v", st, err)
	}
	var onDisk rootCredentials
	b, _ := os.ReadFile(filepath.Join(dir, credentialsFile))
	if json.Unmarshal(b, &onDisk) != nil || onDisk != c1 {
		t.Fatalf("file %s", b)
	}
	out.Reset()
	c2, err := loadRootCredentials(env(nil), dir, &out)
	if err != nil || c2 != c1 {
		t.Fatalf("reload %v %v", c2, err)
	}
	if strings.Contains(out.String(), c1.SecretKey) || !strings.Contains(out.String(), c1.AccessKey) {
		t.Fatalf("second start printed %q", out.String())
	}
	if s, ok := c1.lookup()(c1.AccessKey); !ok || s != c1.SecretKey {
		t.Fatal("lookup failed")
	}
	if _, ok := c1.lookup()("OTHER"); ok {
		t.Fatal("lookup accepted another key")
	}
}

func TestRootCredentialsFromEnv(t *testing.T) {
	var out bytes.Buffer
	c, err := loadRootCredentials(env(map[string]string{"COFFER_ROOT_USER": "admin", "COFFER_ROOT_PASSWORD": "password123"}), t.TempDir(), &out)
	if err != nil || c.AccessKey != "admin" || c.SecretKey != "password123" || strings.Contains(out.String(), "password123") {
		t.Fatalf("%v %v %q", c, err, out.String())
	}
	pf := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(pf, []byte("from-a-file\n"), 0o600)
	c, err = loadRootCredentials(env(map[string]string{"COFFER_ROOT_USER": "admin", "COFFER_ROOT_PASSWORD_FILE": pf}), t.TempDir(), &out)
	if err != nil || c.SecretKey != "from-a-file" {
		t.Fatalf("%v %v", c, err)
	}
	if _, err := loadRootCredentials(env(map[string]string{"COFFER_ROOT_USER": "admin"}), t.TempDir(), &out); err == nil {
		t.Fatal("user without password accepted")
	}
}

func TestSubcommands(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run(nil, &out, &errb, env(nil)); code != 2 || !strings.Contains(errb.String(), "server") {
		t.Fatalf("no args: %d %q", code, errb.String())
	}
	errb.Reset()
	if code := run([]string{"admin"}, &out, &errb, env(nil)); code != 2 || !strings.Contains(errb.String(), "kms key create") {
		t.Fatalf("admin: %d %q", code, errb.String())
	}
	// bench refuses an unbounded run before touching the network.
	errb.Reset()
	if code := run([]string{"bench", "--duration", "0", "--ops", "0"}, &out, &errb, env(nil)); code != 2 {
		t.Fatalf("unbounded bench: %d %q", code, errb.String())
	}
	errb.Reset()
	if code := run([]string{"server", "--address", "0.0.0.0:1"}, &out, &errb, env(nil)); code != 2 || !strings.Contains(errb.String(), "refusing") {
		t.Fatalf("server refusal: %d %q", code, errb.String())
	}
}

func TestCompressFlags(t *testing.T) {
	c, err := parseServerConfig(nil, env(map[string]string{"COFFER_COMPRESS": "true", "COFFER_COMPRESS_TYPES": "text/, application/json"}), &bytes.Buffer{})
	if err != nil || !c.Compress || len(c.CompressTypes) != 2 || c.CompressTypes[1] != "application/json" {
		t.Fatalf("env: %v %+v %q", err, c.Compress, c.CompressTypes)
	}
	c, err = parseServerConfig([]string{"--compress=false"}, env(map[string]string{"COFFER_COMPRESS": "true"}), &bytes.Buffer{})
	if err != nil || c.Compress {
		t.Fatalf("flag beats env: %v %v", err, c.Compress)
	}
	c, _ = parseServerConfig(nil, env(nil), &bytes.Buffer{})
	if c.Compress {
		t.Fatal("compression must default to off")
	}
}

func TestPprofAddressLoopbackOnly(t *testing.T) {
	if _, err := parseServerConfig([]string{"--pprof-address", "0.0.0.0:6060"}, env(nil), &bytes.Buffer{}); err == nil {
		t.Fatal("pprof on a public address accepted")
	}
	c, err := parseServerConfig(nil, env(map[string]string{"COFFER_PPROF_ADDRESS": "127.0.0.1:6060"}), &bytes.Buffer{})
	if err != nil || c.PprofAddress != "127.0.0.1:6060" {
		t.Fatalf("env: %v %q", err, c.PprofAddress)
	}
}

func TestSecureDeleteFlags(t *testing.T) {
	c, err := parseServerConfig(nil, env(nil), &bytes.Buffer{})
	if err != nil || c.SecureOverwrite || c.ShredInterval != 10*time.Second {
		t.Fatalf("defaults: %v %v %v", err, c.SecureOverwrite, c.ShredInterval)
	}
	c, err = parseServerConfig(nil, env(map[string]string{"COFFER_SECURE_OVERWRITE": "true", "COFFER_SHRED_INTERVAL": "1m"}), &bytes.Buffer{})
	if err != nil || !c.SecureOverwrite || c.ShredInterval != time.Minute {
		t.Fatalf("env: %v %v %v", err, c.SecureOverwrite, c.ShredInterval)
	}
	c, err = parseServerConfig([]string{"--secure-overwrite=false", "--shred-interval", "2s"}, env(map[string]string{"COFFER_SECURE_OVERWRITE": "true"}), &bytes.Buffer{})
	if err != nil || c.SecureOverwrite || c.ShredInterval != 2*time.Second {
		t.Fatalf("flags beat env: %v %v %v", err, c.SecureOverwrite, c.ShredInterval)
	}
	for _, bad := range []string{"0s", "-1s", "25h", "soon"} {
		if _, err := parseServerConfig([]string{"--shred-interval", bad}, env(nil), &bytes.Buffer{}); err == nil {
			t.Errorf("--shred-interval %s accepted", bad)
		}
	}
}

func TestLifecycleFlags(t *testing.T) {
	c, err := parseServerConfig(nil, env(nil), &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	o := c.lifecycleOptions()
	if o.Interval != 10*time.Minute || o.Rate != 100 || o.Day != 24*time.Hour {
		t.Fatalf("lifecycle defaults %+v", o)
	}
	e := env(map[string]string{"COFFER_LIFECYCLE_INTERVAL": "1s", "COFFER_LIFECYCLE_RATE": "7", "COFFER_LIFECYCLE_DAY_SECONDS": "2"})
	if c, err = parseServerConfig(nil, e, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	if o := c.lifecycleOptions(); o.Interval != time.Second || o.Rate != 7 || o.Day != 2*time.Second {
		t.Fatalf("lifecycle env %+v", o)
	}
	if c, err = parseServerConfig([]string{"--lifecycle-interval", "0", "--lifecycle-day-seconds", "1"}, e, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	if o := c.lifecycleOptions(); o.Interval >= 0 || o.Day != time.Second {
		t.Fatalf("lifecycle flags %+v", o)
	}
	for _, bad := range [][]string{{"--lifecycle-interval", "soon"}, {"--lifecycle-rate", "0"}, {"--lifecycle-day-seconds", "-1"}} {
		if _, err := parseServerConfig(bad, env(nil), &bytes.Buffer{}); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}

func TestStallTimeoutFlag(t *testing.T) {
	for _, c := range []struct {
		args []string
		env  map[string]string
		want time.Duration
	}{
		{nil, nil, 2 * time.Minute},
		{nil, map[string]string{"COFFER_STALL_TIMEOUT": "30s"}, 30 * time.Second},
		{[]string{"--stall-timeout", "5s"}, map[string]string{"COFFER_STALL_TIMEOUT": "30s"}, 5 * time.Second},
		{[]string{"--stall-timeout", "0"}, nil, -1}, // disabled
	} {
		cfg, err := parseServerConfig(c.args, env(c.env), &bytes.Buffer{})
		if err != nil {
			t.Errorf("%v %v: %v", c.args, c.env, err)
			continue
		}
		if cfg.StallTimeout != c.want {
			t.Errorf("%v %v: %v, want %v", c.args, c.env, cfg.StallTimeout, c.want)
		}
	}
	for _, bad := range []string{"-1s", "soon"} {
		if _, err := parseServerConfig([]string{"--stall-timeout", bad}, env(nil), &bytes.Buffer{}); err == nil {
			t.Errorf("--stall-timeout %s accepted", bad)
		}
	}
}

func TestAdmissionFlags(t *testing.T) {
	c, err := parseServerConfig(nil, env(nil), &bytes.Buffer{})
	if err != nil || c.MaxDataRequests != defaultMaxDataRequests(memTotal()) || c.RequestWait != 10*time.Second {
		t.Fatalf("defaults: %v %d %v", err, c.MaxDataRequests, c.RequestWait)
	}
	c, err = parseServerConfig([]string{"--max-data-requests", "3", "--request-wait", "250ms"}, env(map[string]string{"COFFER_MAX_DATA_REQUESTS": "9"}), &bytes.Buffer{})
	if err != nil || c.MaxDataRequests != 3 || c.RequestWait != 250*time.Millisecond {
		t.Fatalf("flags: %v %d %v", err, c.MaxDataRequests, c.RequestWait)
	}
	if _, err := parseServerConfig([]string{"--request-wait", "0s"}, env(nil), &bytes.Buffer{}); err == nil {
		t.Error("--request-wait 0s accepted")
	}
	for mem, want := range map[int64]int64{0: 256, 1 << 30: 51, 24 << 30: 1228, 1 << 40: 4096, 64 << 20: 16} {
		if got := defaultMaxDataRequests(mem); got != want {
			t.Errorf("defaultMaxDataRequests(%d) = %d, want %d", mem, got, want)
		}
	}
	if memTotal() <= 0 {
		t.Log("no /proc/meminfo: the default is the fixed 256")
	}
}

func TestProcsFlag(t *testing.T) {
	cpus := startCPUs
	for _, tc := range []struct {
		args []string
		env  map[string]string
		want int
	}{
		{nil, nil, procsPerCPU * cpus},
		{[]string{"--procs", "3"}, nil, 3},
		{nil, map[string]string{"COFFER_PROCS": "5"}, 5},
		{[]string{"--procs", "6"}, map[string]string{"COFFER_PROCS": "5"}, 6},
		// The operator's GOMAXPROCS is already applied by the runtime:
		// the server leaves it alone (0), unless --procs says otherwise.
		{nil, map[string]string{"GOMAXPROCS": "2"}, 0},
		{[]string{"--procs", "7"}, map[string]string{"GOMAXPROCS": "2"}, 7},
		// A GOMAXPROCS the runtime ignores does not disable the default.
		{nil, map[string]string{"GOMAXPROCS": "lots"}, procsPerCPU * cpus},
	} {
		c, err := parseServerConfig(tc.args, env(tc.env), &bytes.Buffer{})
		if err != nil || c.Procs != tc.want {
			t.Errorf("%v %v: err %v, config %+v, want procs %d", tc.args, tc.env, err, c, tc.want)
		}
	}
	for _, bad := range []string{"-1", "1025", "99999999"} {
		if _, err := parseServerConfig([]string{"--procs", bad}, env(nil), &bytes.Buffer{}); err == nil {
			t.Errorf("--procs %s accepted", bad)
		}
	}
	if n, _ := resolveProcs(0, env(nil), 0); n != procsPerCPU {
		t.Errorf("no CPU count: %d, want %d", n, procsPerCPU)
	}
	if n, _ := resolveProcs(0, env(nil), 512); n != maxProcs {
		t.Errorf("512 CPUs: %d, want the runtime's maximum %d", n, maxProcs)
	}
	// Changing GOMAXPROCS (as serve does) must not change the default.
	old := runtime.GOMAXPROCS(3 * cpus)
	defer runtime.GOMAXPROCS(old)
	if c, err := parseServerConfig(nil, env(nil), &bytes.Buffer{}); err != nil || c.Procs != procsPerCPU*cpus {
		t.Errorf("after GOMAXPROCS changed: %+v, %v; want %d", c, err, procsPerCPU*cpus)
	}
}

func TestScrubFlags(t *testing.T) {
	c, err := parseServerConfig(nil, env(nil), &bytes.Buffer{})
	if err != nil || c.ScrubInterval != 168*time.Hour || c.ScrubRate != 32<<20 {
		t.Fatalf("defaults: %v %v %d", err, c.ScrubInterval, c.ScrubRate)
	}
	c, err = parseServerConfig([]string{"--scrub-interval", "0"}, env(map[string]string{"COFFER_SCRUB_RATE": "8"}), &bytes.Buffer{})
	if err != nil || c.ScrubInterval >= 0 || c.ScrubRate != 8<<20 {
		t.Fatalf("disabled, env rate: %v %v %d", err, c.ScrubInterval, c.ScrubRate)
	}
	for _, args := range [][]string{{"--scrub-interval", "-1h"}, {"--scrub-interval", "weekly"}, {"--scrub-rate", "0"}} {
		if _, err := parseServerConfig(args, env(nil), &bytes.Buffer{}); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
}
