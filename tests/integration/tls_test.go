package integration

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// selfSigned is a self-signed ECDSA P-256 certificate for 127.0.0.1 written
// as PEM files.
type selfSigned struct {
	cert     *x509.Certificate
	certFile string
	keyFile  string
}

// writeSelfSigned generates a self-signed certificate valid for 127.0.0.1
// and writes cert.pem/key.pem under dir.
func writeSelfSigned(t *testing.T, dir, cn string) selfSigned {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: cn},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	ss := selfSigned{cert: cert, certFile: filepath.Join(dir, "cert.pem"), keyFile: filepath.Join(dir, "key.pem")}
	// Write to temporary names and rename, as an operator's tooling would, so
	// a reload never sees a cert of one pair and the key of another.
	for _, f := range []struct {
		path, typ string
		der       []byte
		mode      os.FileMode
	}{{ss.keyFile, "PRIVATE KEY", keyDER, 0o600}, {ss.certFile, "CERTIFICATE", der, 0o644}} {
		tmp := f.path + ".tmp"
		if err := os.WriteFile(tmp, pem.EncodeToMemory(&pem.Block{Type: f.typ, Bytes: f.der}), f.mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, f.path); err != nil {
			t.Fatal(err)
		}
	}
	return ss
}

// peerSerial opens a new TLS connection to addr trusting roots and returns
// the serial number of the certificate the server presents.
func peerSerial(addr string, roots *x509.CertPool) (*big.Int, error) {
	d := &tls.Dialer{NetDialer: &net.Dialer{Timeout: 5 * time.Second}, Config: &tls.Config{RootCAs: roots}}
	c, err := d.DialContext(context.Background(), "tcp", addr)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	st := c.(*tls.Conn).ConnectionState()
	if len(st.PeerCertificates) == 0 {
		return nil, errors.New("no peer certificate")
	}
	return st.PeerCertificates[0].SerialNumber, nil
}

// TestOpsTLSAndReload serves HTTPS with a self-signed certificate, drives it
// with aws-sdk-go-v2 trusting only that certificate, then replaces the
// certificate files, sends SIGHUP and checks that new connections see the
// new certificate (and that the SDK, trusting only the new one, works).
func TestOpsTLSAndReload(t *testing.T) {
	dir := t.TempDir()
	first := writeSelfSigned(t, dir, "coffer-first")
	roots := x509.NewCertPool()
	roots.AddCert(first.cert)
	s := startServerWith(t, newDrives(t, 4), serverOptions{
		Args: []string{"--tls-cert", first.certFile, "--tls-key", first.keyFile},
		TLS:  &tls.Config{RootCAs: roots},
	})
	if !strings.HasPrefix(s.Endpoint, "https://") {
		t.Fatalf("endpoint %s is not HTTPS", s.Endpoint)
	}
	if !strings.Contains(s.stdout.String(), "https://") {
		t.Errorf("startup banner does not announce https:\n%s", s.stdout.String())
	}
	c := s.s3Client(t)
	bucket := newBucket(t, c, "tls")
	data := randomBytes(t, 300*kib)
	putBytes(t, c, bucket, "obj", data)
	got, _ := getBytes(t, c, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("obj")})
	requireSameBytes(t, "GET over TLS", got, data)

	serial, err := peerSerial(s.Addr, roots)
	if err != nil {
		t.Fatalf("TLS dial with the first certificate: %v", err)
	}
	if serial.Cmp(first.cert.SerialNumber) != 0 {
		t.Fatalf("server presents serial %x, want %x", serial, first.cert.SerialNumber)
	}

	second := writeSelfSigned(t, dir, "coffer-second") // same file names
	if second.cert.SerialNumber.Cmp(first.cert.SerialNumber) == 0 {
		t.Fatal("generated the same serial twice")
	}
	both := x509.NewCertPool()
	both.AddCert(first.cert)
	both.AddCert(second.cert)
	if err := s.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		serial, err = peerSerial(s.Addr, both)
		if err == nil && serial.Cmp(second.cert.SerialNumber) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("5 s after SIGHUP new connections still see serial %x (err %v), want the new certificate's %x", serial, err, second.cert.SerialNumber)
		}
		time.Sleep(50 * time.Millisecond)
	}
	select {
	case <-s.exited:
		t.Fatalf("server exited after SIGHUP: %v", s.waitErr)
	default:
	}
	// A client trusting only the new certificate works end to end.
	newRoots := x509.NewCertPool()
	newRoots.AddCert(second.cert)
	c2 := s.s3Client(t, func(o *s3.Options) { o.HTTPClient = newHTTPSClient(newRoots) })
	got, _ = getBytes(t, c2, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("obj")})
	requireSameBytes(t, "GET over TLS after reload", got, data)

	// A reload that fails (a broken key file) keeps the current certificate.
	if err := os.WriteFile(second.keyFile, []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	serial, err = peerSerial(s.Addr, newRoots)
	if err != nil || serial.Cmp(second.cert.SerialNumber) != 0 {
		t.Errorf("after a failed reload: serial %x err %v, want the previous certificate %x", serial, err, second.cert.SerialNumber)
	}
}

// TestOpsPlainHTTPOffLoopbackRefused checks that the server refuses to
// start serving plain HTTP on a non-loopback address without --insecure:
// it exits non-zero, promptly, naming the problem and the way out.
func TestOpsPlainHTTPOffLoopbackRefused(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: skipped with -short")
	}
	drives := newDrives(t, 4)
	c, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	args := append([]string{"server", "--address", "0.0.0.0:0"}, drives...)
	cmd := exec.CommandContext(c, binPath, args...)
	cmd.Env = append(os.Environ(), "COFFER_ROOT_USER="+rootUser, "COFFER_ROOT_PASSWORD="+rootPassword)
	cmd.Dir = filepath.Dir(drives[0])
	out, err := cmd.CombinedOutput()
	if c.Err() != nil {
		t.Fatalf("coffer on 0.0.0.0:0 without TLS kept running (killed after 15 s); output:\n%s", tail(string(out), 4000))
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() == 0 {
		t.Fatalf("coffer on 0.0.0.0:0 without TLS: err %v, want a non-zero exit; output:\n%s", err, tail(string(out), 4000))
	}
	msg := string(out)
	for _, want := range []string{"0.0.0.0:0", "--tls-cert", "--insecure"} {
		if !strings.Contains(msg, want) {
			t.Errorf("refusal message does not mention %q:\n%s", want, msg)
		}
	}
	// Nothing was formatted: the refusal comes before the drives are touched.
	for _, d := range drives {
		if _, err := os.Stat(filepath.Join(d, "format.json")); err == nil {
			t.Errorf("%s was formatted by a server that refused to start", d)
		}
	}
}

// newHTTPSClient returns an HTTP client trusting only roots.
func newHTTPSClient(roots *x509.CertPool) *http.Client {
	return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}, Timeout: time.Minute}
}
