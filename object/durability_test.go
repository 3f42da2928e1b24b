package object

import (
	"bufio"
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestRestartKeepsEverything reopens the engine and reads everything back.
func TestRestartKeepsEverything(t *testing.T) {
	drives := drivePaths(t, 5)
	e := openEngine(t, drives)
	e.MakeBucket(ctx, "bkt", MakeBucketOptions{})
	objs := map[string][]byte{}
	for i, n := range []int{0, 10, 200 << 10, 2 << 20} {
		k := fmt.Sprintf("k%d", i)
		objs[k] = randBytes(int64(i), n)
		mustPut(t, e, "bkt", k, objs[k])
	}
	e.Close()
	e = openEngine(t, drives)
	defer e.Close()
	for k, want := range objs {
		if got := mustGet(t, e, "bkt", k, GetOptions{}); !bytes.Equal(got, want) {
			t.Fatalf("%s differs after restart", k)
		}
	}
}

// TestDriveFailures: with up to m drives wiped, every object is byte-exact
// and heals; with more than m, reads fail cleanly.
func TestDriveFailures(t *testing.T) {
	drives := drivePaths(t, 6) // 3+3
	e := openEngine(t, drives)
	e.MakeBucket(ctx, "bkt", MakeBucketOptions{})
	rng := rand.New(rand.NewSource(1))
	objs := map[string][]byte{}
	for i := 0; i < 12; i++ {
		k := fmt.Sprintf("o%02d", i)
		objs[k] = randBytes(int64(i), rng.Intn(3<<20))
		mustPut(t, e, "bkt", k, objs[k])
	}
	e.Close()
	// Wipe three drives entirely (format, metadata and shards).
	for _, i := range []int{0, 2, 5} {
		if err := os.RemoveAll(drives[i]); err != nil {
			t.Fatal(err)
		}
	}
	e = openEngine(t, drives)
	for k, want := range objs {
		if got := mustGet(t, e, "bkt", k, GetOptions{}); !bytes.Equal(got, want) {
			t.Fatalf("%s differs with 3 drives wiped", k)
		}
	}
	if _, err := e.HealAll(ctx); err != nil {
		t.Fatalf("heal: %v", err)
	}
	e.Close()
	// After healing, three *other* drives may go.
	for _, i := range []int{1, 3, 4} {
		os.RemoveAll(filepath.Join(drives[i], "objects"))
	}
	e = openEngine(t, drives)
	for k, want := range objs {
		if got := mustGet(t, e, "bkt", k, GetOptions{}); !bytes.Equal(got, want) {
			t.Fatalf("%s differs after heal and a second loss", k)
		}
	}
	e.Close()
	// Four of six drives lose their shards: reads must fail, never lie.
	for _, i := range []int{0, 1, 3, 4} {
		os.RemoveAll(filepath.Join(drives[i], "objects"))
	}
	e = openEngine(t, drives)
	defer e.Close()
	for k, want := range objs {
		_, rc, err := e.GetObject(ctx, "bkt", k, GetOptions{})
		if err == nil {
			got, rerr := io.ReadAll(rc)
			rc.Close()
			err = rerr
			if err == nil && !bytes.Equal(got, want) {
				t.Fatalf("%s: wrong bytes with m+1 shards lost", k)
			}
		}
		if len(want) > DefaultInlineLimit && !errors.Is(err, ErrInsufficientReadQuorum) && !errors.Is(err, ErrCorruption) {
			t.Fatalf("%s: want quorum error, got %v", k, err)
		}
	}
}

const crashEnv = "COFFER_CRASH_CHILD_DRIVES"

// TestMain turns the test binary into the crash writer when asked to.
func TestMain(m *testing.M) {
	if dirs := os.Getenv(crashEnv); dirs != "" {
		crashChild(dirs)
		return
	}
	os.Exit(m.Run())
}

// crashChild is the writer process of TestCrashConsistency: it writes
// until killed and prints every acknowledged write.
func crashChild(dirs string) {
	e, err := Open(Config{Drives: strings.Split(dirs, ","), MasterKey: testMasterKey})
	if err != nil {
		fmt.Println("ERR", err)
		os.Exit(3)
	}
	e.MakeBucket(ctx, "crash", MakeBucketOptions{})
	seed, _ := strconv.ParseInt(os.Getenv("COFFER_CRASH_SEED"), 10, 64)
	rng := rand.New(rand.NewSource(seed))
	out := bufio.NewWriter(os.Stdout)
	for i := 0; ; i++ {
		n := []int{100, 50 << 10, 300 << 10, 1<<20 + 5}[rng.Intn(4)]
		data := randBytes(rng.Int63(), n)
		key := fmt.Sprintf("k%d", rng.Intn(20)) // overwrites exercise replacement
		sum := md5.Sum(data)
		fmt.Fprintf(out, "TRY %s %x\n", key, sum)
		out.Flush()
		if _, err := e.PutObject(ctx, "crash", key, bytes.NewReader(data), int64(n), PutOptions{}); err != nil {
			fmt.Fprintln(out, "ERR", err)
			out.Flush()
			continue
		}
		fmt.Fprintf(out, "ACK %s %x\n", key, sum)
		out.Flush()
	}
}

// TestCrashConsistency SIGKILLs a writer at random instants; after every
// crash, each key's content is the last acknowledged version or a newer
// in-flight one (fully), the ETag matches the bytes, and no temporary data
// is left after reopening.
func TestCrashConsistency(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test runs in the full suite")
	}
	drives := drivePaths(t, 4)
	rng := rand.New(rand.NewSource(time.Now().UnixNano()))
	iterations := 8
	// state is each key's content (MD5) as found after the previous crash.
	state := map[string]string{}
	for it := 0; it < iterations; it++ {
		cmd := exec.Command(os.Args[0])
		cmd.Env = append(os.Environ(), crashEnv+"="+strings.Join(drives, ","), "COFFER_CRASH_SEED="+strconv.Itoa(it))
		var stdout bytes.Buffer
		cmd.Stdout = &stdout
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(300+rng.Intn(900)) * time.Millisecond)
		cmd.Process.Kill()
		cmd.Wait()
		// allowed[key] holds the sums a key may have after the crash: its
		// last acknowledged write or any write attempted after it.
		allowed := map[string]map[string]bool{}
		for k, sum := range state {
			allowed[k] = map[string]bool{sum: true}
		}
		history := map[string][]string{}
		acks := 0
		for _, line := range strings.Split(stdout.String(), "\n") {
			var verb, key, sum string
			if n, _ := fmt.Sscanf(line, "%s %s %s", &verb, &key, &sum); n != 3 {
				continue
			}
			history[key] = append(history[key], verb+" "+sum)
			switch verb {
			case "ACK":
				allowed[key] = map[string]bool{sum: true}
				acks++
			case "TRY":
				if allowed[key] == nil {
					allowed[key] = map[string]bool{"absent": true}
				}
				allowed[key][sum] = true
			}
		}
		e := openEngine(t, drives)
		res, err := e.ListObjects(ctx, "crash", ListOptions{})
		if err != nil && !errors.Is(err, ErrNoSuchBucket) {
			t.Fatal(err)
		}
		for _, oi := range res.Objects {
			got := mustGet(t, e, "crash", oi.Key, GetOptions{})
			sum := md5.Sum(got)
			hexSum := hex.EncodeToString(sum[:])
			if hexSum != oi.ETag || int64(len(got)) != oi.Size {
				t.Fatalf("iteration %d: %s is partial or altered", it, oi.Key)
			}
			if a := allowed[oi.Key]; a != nil && !a[hexSum] {
				t.Fatalf("iteration %d: %s holds %s: neither its last acknowledged content nor a later write; history %v", it, oi.Key, hexSum, history[oi.Key])
			}
			delete(allowed, oi.Key)
			state[oi.Key] = hexSum
		}
		for key, a := range allowed {
			if !a["absent"] {
				t.Fatalf("iteration %d: acknowledged %s lost", it, key)
			}
		}
		if tmp, _ := e.set.ListTemp(); len(tmp) != 0 {
			t.Fatalf("iteration %d: %d temporary shard sets left after recovery", it, len(tmp))
		}
		e.Close()
		t.Logf("iteration %d: %d acknowledged writes in total, %d keys", it, acks, len(res.Objects))
	}
}
