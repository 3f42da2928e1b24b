package main

import (
	"context"
	"crypto/rand"
	"debug/buildinfo"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// startTimeout bounds how long a server may take to answer after start.
const startTimeout = 90 * time.Second

// server is one running coffer or MinIO process.
type server struct {
	name     string // "coffer" or "minio"
	endpoint string // http://127.0.0.1:PORT
	cmd      *exec.Cmd
	logPath  string
	done     chan struct{} // closed when the process has exited
	stopOnce sync.Once
}

// exited reports whether the process has ended.
func (s *server) exited() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// pause stops the process (SIGSTOP) so that it uses no CPU while the other
// server is measured; resume continues it.
func (s *server) pause() error  { return signalProcess(s.cmd.Process, sigStop) }
func (s *server) resume() error { return signalProcess(s.cmd.Process, sigCont) }

// stop resumes the process, asks it to exit (SIGTERM), and kills it after
// 15 seconds. It is safe to call more than once.
func (s *server) stop() {
	s.stopOnce.Do(func() {
		if s.exited() {
			return
		}
		_ = signalProcess(s.cmd.Process, sigCont)
		_ = signalProcess(s.cmd.Process, sigTerm)
		select {
		case <-s.done:
		case <-time.After(15 * time.Second):
			_ = s.cmd.Process.Kill()
			<-s.done
		}
	})
}

// logTail returns the last lines of the server's log, for error messages.
func (s *server) logTail() string {
	b, err := os.ReadFile(s.logPath)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > 15 {
		lines = lines[len(lines)-15:]
	}
	return strings.Join(lines, "\n")
}

// startProcess starts bin with args and env (added to a copy of the
// harness's environment without any COFFER_ or MINIO_ variable), logging
// to dir/NAME.log, then polls readyPath on its port until it answers with
// a status ready accepts.
func startProcess(ctx context.Context, name, bin, dir string, port int, args, env []string, readyPath string, ready func(int) bool) (*server, error) {
	logPath := filepath.Join(dir, name+".log")
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logf.Close() // the child holds its own descriptor
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = sysProcAttr()
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "COFFER_") && !strings.HasPrefix(kv, "MINIO_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &server{name: name, endpoint: "http://127.0.0.1:" + strconv.Itoa(port), cmd: cmd, logPath: logPath, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(s.done) }()

	deadline := time.Now().Add(startTimeout)
	hc := &http.Client{Timeout: 2 * time.Second}
	for {
		if err := ctx.Err(); err != nil {
			s.stop()
			return nil, err
		}
		if s.exited() {
			return nil, fmt.Errorf("%s exited during start (%v); log tail:\n%s", name, cmd.ProcessState, s.logTail())
		}
		if res, err := hc.Get(s.endpoint + readyPath); err == nil {
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if ready(res.StatusCode) {
				return s, nil
			}
		}
		if time.Now().After(deadline) {
			s.stop()
			return nil, fmt.Errorf("%s not ready after %s; log tail:\n%s", name, startTimeout, s.logTail())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// makeDrives creates n drive directories d1..dN under dir.
func makeDrives(dir string, n int) ([]string, error) {
	drives := make([]string, n)
	for i := range drives {
		drives[i] = filepath.Join(dir, "d"+strconv.Itoa(i+1))
		if err := os.MkdirAll(drives[i], 0o700); err != nil {
			return nil, err
		}
	}
	return drives, nil
}

// startCoffer starts `coffer server` on a free loopback port with drives
// dir/d1..dN and the given parity, with the fixed root credentials and a
// random master key.
func startCoffer(ctx context.Context, bin, dir string, drives, parity int) (*server, error) {
	paths, err := makeDrives(dir, drives)
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	key, err := randomKey()
	if err != nil {
		return nil, err
	}
	args := append([]string{"server", "--address", "127.0.0.1:" + strconv.Itoa(port), "--parity", strconv.Itoa(parity)}, paths...)
	env := []string{"COFFER_ROOT_USER=" + rootUser, "COFFER_ROOT_PASSWORD=" + rootPassword, "COFFER_MASTER_KEY=" + key}
	// Any HTTP answer (an unsigned GET / is refused with 403) means it serves.
	return startProcess(ctx, "coffer", bin, dir, port, args, env, "/", func(int) bool { return true })
}

// startMinIO starts `minio server` on a free loopback port with drives
// dir/d1...dN (ellipsis syntax), storage class EC:parity, the fixed root
// credentials and MinIO's built-in single-key KMS so that SSE-S3 works.
// MINIO_CI_CD lets MinIO use drive directories on the root disk, which it
// refuses otherwise; the console and update checks are off.
func startMinIO(ctx context.Context, bin, dir string, drives, parity int) (*server, error) {
	if _, err := makeDrives(dir, drives); err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	consolePort, err := freePort()
	if err != nil {
		return nil, err
	}
	key, err := randomKey()
	if err != nil {
		return nil, err
	}
	args := []string{"server", "--quiet", "--address", "127.0.0.1:" + strconv.Itoa(port),
		"--console-address", "127.0.0.1:" + strconv.Itoa(consolePort),
		filepath.Join(dir, "d{1..."+strconv.Itoa(drives)+"}")}
	env := []string{
		"MINIO_ROOT_USER=" + rootUser,
		"MINIO_ROOT_PASSWORD=" + rootPassword,
		"MINIO_STORAGE_CLASS_STANDARD=EC:" + strconv.Itoa(parity),
		"MINIO_KMS_SECRET_KEY=coffer-compare-key:" + key,
		"MINIO_BROWSER=off",
		"MINIO_UPDATE=off",
		"MINIO_CI_CD=on",
	}
	return startProcess(ctx, "minio", bin, dir, port, args, env, "/minio/health/cluster", func(code int) bool { return code == http.StatusOK })
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// randomKey returns base64 of 32 random bytes.
func randomKey() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(b), nil
}

// installMinIO returns the cached MinIO binary in cache, installing it
// first with `GOBIN=cache go install github.com/minio/minio@VERSION`: @latest,
// then the newest version the module proxy lists, then @master. It never
// touches the coffer module (the go command runs in cache).
func installMinIO(ctx context.Context, cache string, stderr io.Writer) (string, error) {
	bin := filepath.Join(cache, "minio")
	if st, err := os.Stat(bin); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
		fmt.Fprintf(stderr, "MinIO: using the cached binary %s\n", bin)
		return bin, nil
	}
	if err := os.MkdirAll(cache, 0o755); err != nil {
		return "", err
	}
	versions := []string{"latest"}
	if out, err := goCmd(ctx, cache, nil, "list", "-m", "-versions", "github.com/minio/minio"); err == nil {
		if f := strings.Fields(string(out)); len(f) > 1 {
			versions = append(versions, f[len(f)-1])
		}
	}
	versions = append(versions, "master")
	var errs []string
	for _, v := range versions {
		fmt.Fprintf(stderr, "MinIO: installing github.com/minio/minio@%s into %s (compiles for several minutes)...\n", v, cache)
		out, err := goCmd(ctx, cache, []string{"GOBIN=" + cache, "GOFLAGS="}, "install", "github.com/minio/minio@"+v)
		if err == nil {
			return bin, nil
		}
		errs = append(errs, fmt.Sprintf("@%s: %v: %s", v, err, lastLines(string(out), 3)))
		if ctx.Err() != nil {
			break
		}
	}
	return "", fmt.Errorf("go install github.com/minio/minio failed: %s", strings.Join(errs, "; "))
}

// goCmd runs the go command in dir, at low priority when nice exists, and
// returns its combined output.
func goCmd(ctx context.Context, dir string, env []string, args ...string) ([]byte, error) {
	name := "go"
	if nice, err := exec.LookPath("nice"); err == nil {
		name, args = nice, append([]string{"-n", "10", "go"}, args...)
	}
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	return cmd.CombinedOutput()
}

// buildCoffer builds ./cmd/coffer of the module the harness runs in into
// dir and returns the binary's path.
func buildCoffer(ctx context.Context, dir string) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", err
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("not inside the coffer module: run from the repository or give --coffer-bin")
	}
	bin := filepath.Join(dir, "coffer")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/coffer")
	cmd.Dir = filepath.Dir(gomod)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("%v: %s", err, lastLines(string(out), 10))
	}
	return bin, nil
}

// binaryVersion names the MinIO build: its module path and version from
// the Go build information (`go install` builds report only
// "DEVELOPMENT.GOGET" from --version), else the first line of --version.
// Running --version also proves the binary starts.
func binaryVersion(ctx context.Context, bin string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "--version").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("%v: %s", err, lastLines(string(out), 3))
	}
	if bi, err := buildinfo.ReadFile(bin); err == nil && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Path + " " + bi.Main.Version, nil
	}
	first, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	return strings.TrimSpace(first), nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}

// procField returns the value of the first "name : value" line in a
// /proc file.
func procField(text, name string) string {
	for line := range strings.SplitSeq(text, "\n") {
		k, v, ok := strings.Cut(line, ":")
		if ok && strings.TrimSpace(k) == name {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
