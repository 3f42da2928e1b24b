package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// writeCert writes a self-signed certificate for cn and its key.
func writeCert(t *testing.T, dir, cn string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), DNSNames: []string{cn}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(key)
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
	return certFile, keyFile
}

func TestCertReload(t *testing.T) {
	dir := t.TempDir()
	cf, kf := writeCert(t, dir, "one.test")
	r, err := newCertReloader(cf, kf)
	if err != nil {
		t.Fatal(err)
	}
	leaf := func() string {
		c, _ := r.getCertificate(nil)
		x, err := x509.ParseCertificate(c.Certificate[0])
		if err != nil {
			t.Fatal(err)
		}
		return x.Subject.CommonName
	}
	if leaf() != "one.test" {
		t.Fatal("initial cert")
	}
	writeCert(t, dir, "two.test")
	if err := r.reload(); err != nil || leaf() != "two.test" {
		t.Fatalf("reload: %v %s", err, leaf())
	}
	os.WriteFile(cf, []byte("garbage"), 0o600)
	if err := r.reload(); err == nil || leaf() != "two.test" {
		t.Fatalf("bad reload must keep the previous cert: %v %s", err, leaf())
	}
	if _, err := newCertReloader(cf, kf); err == nil {
		t.Fatal("bad initial cert accepted")
	}
}
