package main

import (
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/cofferstore/coffer/object"
)

// serverConfig is the parsed configuration of `coffer server`.
type serverConfig struct {
	Drives      []string
	Address     string
	Parity      int
	Region      string
	Domain      string
	TLSCert     string
	TLSKey      string
	Insecure    bool
	ConfigDir   string
	InlineLimit int64
	// PprofAddress, when set, serves net/http/pprof on this loopback
	// address (profiling for benchmarks; never on a public address).
	PprofAddress string
	// Compress turns on compression at rest of the CompressTypes (nil: the
	// object layer's default list).
	Compress      bool
	CompressTypes []string
	// BufferedIO writes shard files through the page cache instead of
	// with O_DIRECT.
	BufferedIO bool
	// SecureOverwrite overwrites every deleted shard file before unlink;
	// ShredInterval bounds how long a removed version's sealed data key
	// survives in the metadata files (0: the object layer's default).
	SecureOverwrite bool
	ShredInterval   time.Duration
	// StallTimeout ends a connection whose upload or download makes no
	// progress for this long (negative: never).
	StallTimeout time.Duration
	// MaxDataRequests bounds the requests streaming object data at once
	// (negative: no bound; 0 is replaced by a default sized from memory);
	// RequestWait is how long one waits for a slot before 503 SlowDown.
	MaxDataRequests int64
	RequestWait     time.Duration
	// Procs is the GOMAXPROCS the server sets (0: leave the runtime's
	// choice, because the operator set GOMAXPROCS); see resolveProcs.
	Procs int
	// ScrubInterval is the time between the starts of two scrub passes
	// (negative: none); ScrubRate bounds the bytes verified per second.
	ScrubInterval time.Duration
	ScrubRate     int64
	// LifecycleInterval is the time between background lifecycle runs
	// (0: the default; negative: only runs asked for by `admin lifecycle
	// run`).
	LifecycleInterval time.Duration
	// LifecycleRate bounds lifecycle actions per second (0: the default).
	LifecycleRate int64
	// LifecycleDaySeconds is the length of a lifecycle day in seconds:
	// 86400 in production; smaller values are for tests only.
	LifecycleDaySeconds int64
	// MasterKey is the decoded master key (32 bytes) or nil when none was
	// given. It is validated here; the object layer does not take it yet.
	MasterKey []byte
	// defaultDrives is true when no DRIVE was given and the defaults under
	// ./coffer-data are used (and created).
	defaultDrives bool
}

// envOr returns the environment variable's value, or def when unset.
func envOr(getenv func(string) string, name, def string) string {
	if v := getenv(name); v != "" {
		return v
	}
	return def
}

// parseServerConfig parses the flags of `coffer server` with environment
// variables as defaults: an explicitly given flag beats its variable, which
// beats the built-in default. It touches no files except reading the master
// key file.
func parseServerConfig(args []string, getenv func(string) string, output io.Writer) (*serverConfig, error) {
	fs := flag.NewFlagSet("coffer server", flag.ContinueOnError)
	fs.SetOutput(output)
	fs.Usage = func() {
		fmt.Fprintln(output, "usage: coffer server [flags] [DRIVE ...]\n\nDRIVE: 4..16 drive directories (none: ./coffer-data/drive{1..4}).\nEvery flag can also be set by the environment variable shown.\n\nflags:")
		fs.PrintDefaults()
	}
	c := &serverConfig{}
	var envErr error
	envInt := func(name string, def int64) int64 {
		v := getenv(name)
		if v == "" {
			return def
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			envErr = errors.Join(envErr, fmt.Errorf("%s=%q: not an integer", name, v))
			return def
		}
		return n
	}
	envBool := func(name string) bool {
		v := getenv(name)
		if v == "" {
			return false
		}
		b, err := strconv.ParseBool(v)
		if err != nil {
			envErr = errors.Join(envErr, fmt.Errorf("%s=%q: not a boolean", name, v))
		}
		return b
	}
	fs.StringVar(&c.Address, "address", envOr(getenv, "COFFER_ADDRESS", "127.0.0.1:9000"), "`HOST:PORT` to listen on (env COFFER_ADDRESS); a non-loopback address needs TLS or --insecure")
	parity := fs.Int("parity", int(envInt("COFFER_PARITY", 0)), "parity shards per object; 0 picks the default for the drive count (env COFFER_PARITY)")
	fs.StringVar(&c.Region, "region", envOr(getenv, "COFFER_REGION", "us-east-1"), "region this endpoint serves (env COFFER_REGION)")
	fs.StringVar(&c.Domain, "domain", getenv("COFFER_DOMAIN"), "domain for virtual-hosted-style requests, bucket.`DOMAIN` (env COFFER_DOMAIN)")
	fs.StringVar(&c.TLSCert, "tls-cert", getenv("COFFER_TLS_CERT"), "TLS certificate `file` (PEM), reloaded on SIGHUP (env COFFER_TLS_CERT)")
	fs.StringVar(&c.TLSKey, "tls-key", getenv("COFFER_TLS_KEY"), "TLS private key `file` (PEM), reloaded on SIGHUP (env COFFER_TLS_KEY)")
	fs.BoolVar(&c.Insecure, "insecure", envBool("COFFER_INSECURE"), "allow plain HTTP on a non-loopback address (env COFFER_INSECURE)")
	fs.StringVar(&c.ConfigDir, "config-dir", getenv("COFFER_CONFIG_DIR"), "`directory` of server state such as root-credentials; default ./coffer-data without drives, else the parent of the first drive (env COFFER_CONFIG_DIR)")
	fs.StringVar(&c.PprofAddress, "pprof-address", getenv("COFFER_PPROF_ADDRESS"), "serve Go profiling (net/http/pprof) on this loopback HOST:PORT; off by default (env COFFER_PPROF_ADDRESS)")
	fs.Int64Var(&c.InlineLimit, "inline-limit", envInt("COFFER_INLINE_LIMIT", 0), "largest object stored inline in metadata, in bytes; 0 = default 128 KiB, <0 disables (env COFFER_INLINE_LIMIT)")
	fs.BoolVar(&c.Compress, "compress", envBool("COFFER_COMPRESS"), "compress new objects of compressible content types at rest, before encryption (env COFFER_COMPRESS)")
	fs.BoolVar(&c.BufferedIO, "buffered-io", envBool("COFFER_BUFFERED_IO"), "write shard files through the page cache instead of with O_DIRECT (env COFFER_BUFFERED_IO)")
	compressTypes := fs.String("compress-types", getenv("COFFER_COMPRESS_TYPES"), "comma-separated Content-Type `prefixes` to compress; empty = text/ and common text formats such as application/json (env COFFER_COMPRESS_TYPES)")
	fs.BoolVar(&c.SecureOverwrite, "secure-overwrite", envBool("COFFER_SECURE_OVERWRITE"), "overwrite deleted shard files with random bytes and fsync before unlinking them, in every bucket (env COFFER_SECURE_OVERWRITE)")
	shredInterval := fs.String("shred-interval", envOr(getenv, "COFFER_SHRED_INTERVAL", "10s"), "longest `duration` a removed version's sealed data key may stay in metadata files before it is purged from every replica (env COFFER_SHRED_INTERVAL)")
	fs.Int64Var(&c.MaxDataRequests, "max-data-requests", envInt("COFFER_MAX_DATA_REQUESTS", 0), "requests streaming object data (GET, PUT, part uploads, copies) served at once; 0 = sized from memory, negative = unbounded (env COFFER_MAX_DATA_REQUESTS)")
	procs := fs.Int64("procs", envInt("COFFER_PROCS", 0), "Go scheduler slots (GOMAXPROCS) for the server; 0 = 4 per available CPU, or GOMAXPROCS from the environment when set (env COFFER_PROCS)")
	requestWait := fs.String("request-wait", envOr(getenv, "COFFER_REQUEST_WAIT", "10s"), "how long a data request waits for a free slot before 503 SlowDown (env COFFER_REQUEST_WAIT)")
	stall := fs.String("stall-timeout", envOr(getenv, "COFFER_STALL_TIMEOUT", "2m"), "end a connection whose request or response body makes no progress for this `duration`; 0 disables (env COFFER_STALL_TIMEOUT)")
	scrubInterval := fs.String("scrub-interval", envOr(getenv, "COFFER_SCRUB_INTERVAL", "168h"), "`duration` between the starts of two scrub passes, which verify every shard on every drive and repair what is missing or corrupt; 0 disables (env COFFER_SCRUB_INTERVAL)")
	scrubRate := fs.Int64("scrub-rate", envInt("COFFER_SCRUB_RATE", 32), "MiB of stored shard data the scrubber verifies per second at most (env COFFER_SCRUB_RATE)")
	lcInterval := fs.String("lifecycle-interval", envOr(getenv, "COFFER_LIFECYCLE_INTERVAL", "10m"), "`DURATION` between background lifecycle runs; 0 or negative: runs only on `coffer admin lifecycle run` (env COFFER_LIFECYCLE_INTERVAL)")
	fs.Int64Var(&c.LifecycleRate, "lifecycle-rate", envInt("COFFER_LIFECYCLE_RATE", 100), "lifecycle actions (expirations, aborts) per second at most (env COFFER_LIFECYCLE_RATE)")
	fs.Int64Var(&c.LifecycleDaySeconds, "lifecycle-day-seconds", envInt("COFFER_LIFECYCLE_DAY_SECONDS", 86400), "TEST ONLY: length of a lifecycle day in seconds; scales every Days value and the rounding of due times (env COFFER_LIFECYCLE_DAY_SECONDS)")
	masterKeyFile := fs.String("master-key-file", getenv("COFFER_MASTER_KEY_FILE"), "`file` holding the base64 master key (env COFFER_MASTER_KEY_FILE; COFFER_MASTER_KEY holds the key itself)")
	if envErr != nil {
		return nil, envErr
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	c.Parity = *parity
	d, err := time.ParseDuration(*shredInterval)
	if err != nil || d <= 0 || d > 24*time.Hour {
		return nil, fmt.Errorf("--shred-interval %q: want a duration above 0 and at most 24h", *shredInterval)
	}
	c.ShredInterval = d
	d, err = time.ParseDuration(*stall)
	if err != nil || d < 0 {
		return nil, fmt.Errorf("--stall-timeout %q: want a duration, 0 to disable", *stall)
	}
	if c.StallTimeout = d; d == 0 {
		c.StallTimeout = -1
	}
	if c.RequestWait, err = time.ParseDuration(*requestWait); err != nil || c.RequestWait <= 0 {
		return nil, fmt.Errorf("--request-wait %q: want a duration above 0", *requestWait)
	}
	if c.MaxDataRequests == 0 {
		c.MaxDataRequests = defaultMaxDataRequests(memTotal())
	}
	if c.Procs, err = resolveProcs(*procs, getenv, startCPUs); err != nil {
		return nil, err
	}
	d, err = time.ParseDuration(*scrubInterval)
	if err != nil || d < 0 {
		return nil, fmt.Errorf("--scrub-interval %q: want a duration, 0 to disable", *scrubInterval)
	}
	if c.ScrubInterval = d; d == 0 {
		c.ScrubInterval = -1
	}
	if *scrubRate <= 0 || *scrubRate > 1<<20 {
		return nil, fmt.Errorf("--scrub-rate %d: want MiB per second above 0", *scrubRate)
	}
	c.ScrubRate = *scrubRate << 20
	d, err = time.ParseDuration(*lcInterval)
	if err != nil {
		return nil, fmt.Errorf("--lifecycle-interval %q: %v", *lcInterval, err)
	}
	if c.LifecycleInterval = d; d <= 0 {
		c.LifecycleInterval = -1
	}
	if c.LifecycleRate <= 0 {
		return nil, fmt.Errorf("--lifecycle-rate %d: must be positive", c.LifecycleRate)
	}
	if c.LifecycleDaySeconds <= 0 {
		return nil, fmt.Errorf("--lifecycle-day-seconds %d: must be positive", c.LifecycleDaySeconds)
	}
	for _, t := range strings.Split(*compressTypes, ",") {
		if t = strings.TrimSpace(t); t != "" {
			c.CompressTypes = append(c.CompressTypes, t)
		}
	}
	c.Drives = fs.Args()
	if len(c.Drives) == 0 {
		c.defaultDrives = true
		for i := 1; i <= 4; i++ {
			c.Drives = append(c.Drives, filepath.Join("coffer-data", "drive"+strconv.Itoa(i)))
		}
	} else if len(c.Drives) < 4 || len(c.Drives) > 16 {
		return nil, fmt.Errorf("need 4 to 16 drives, got %d", len(c.Drives))
	}
	if c.ConfigDir == "" {
		if c.defaultDrives {
			c.ConfigDir = "coffer-data"
		} else {
			c.ConfigDir = filepath.Dir(filepath.Clean(c.Drives[0]))
		}
	}
	if c.Parity < 0 || (c.Parity > 0 && c.Parity > len(c.Drives)/2) {
		return nil, fmt.Errorf("--parity %d: must be between 1 and half the drive count (%d)", c.Parity, len(c.Drives)/2)
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return nil, errors.New("--tls-cert and --tls-key must be given together")
	}
	host, _, err := net.SplitHostPort(c.Address)
	if err != nil {
		return nil, fmt.Errorf("--address %q: %v", c.Address, err)
	}
	if c.TLSCert == "" && !c.Insecure && !isLoopback(host) {
		return nil, fmt.Errorf("refusing to serve plain HTTP on non-loopback address %q: give --tls-cert/--tls-key, or --insecure to allow it", c.Address)
	}
	if c.PprofAddress != "" {
		host, _, err := net.SplitHostPort(c.PprofAddress)
		if err != nil || !isLoopback(host) {
			return nil, fmt.Errorf("--pprof-address %q must be a loopback HOST:PORT", c.PprofAddress)
		}
	}
	key, err := loadMasterKey(getenv("COFFER_MASTER_KEY"), *masterKeyFile)
	if err != nil {
		return nil, err
	}
	c.MasterKey = key
	return c, nil
}

// isLoopback reports whether host certainly names only the loopback
// interface. An empty host (all interfaces) and other names are not.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// loadMasterKey decodes the master key from the environment value or the
// key file (base64 of 32 bytes). The key is never logged or echoed.
func loadMasterKey(env, file string) ([]byte, error) {
	v := env
	if file != "" {
		if env != "" {
			return nil, errors.New("give the master key either in COFFER_MASTER_KEY or with --master-key-file, not both")
		}
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("master key file: %w", err)
		}
		v = strings.TrimSpace(string(b))
	}
	if v == "" {
		return nil, nil
	}
	k, err := base64.StdEncoding.DecodeString(v)
	if err != nil || len(k) != 32 {
		return nil, errors.New("master key must be base64 of exactly 32 bytes")
	}
	return k, nil
}

// lifecycleOptions returns the object layer's lifecycle scheduler options.
func (c *serverConfig) lifecycleOptions() object.LifecycleOptions {
	return object.LifecycleOptions{
		Interval: c.LifecycleInterval,
		Rate:     float64(c.LifecycleRate),
		Day:      time.Duration(c.LifecycleDaySeconds) * time.Second,
	}
}
