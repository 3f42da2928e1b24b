package main

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/cofferstore/coffer/iam"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/cofferstore/coffer/s3api/sigv4"
)

// rootCredentials are the root principal's access key and secret.
type rootCredentials struct {
	AccessKey string `json:"accessKey"`
	SecretKey string `json:"secretKey"`
}

// credentialsFile is the name of the generated credentials file in the
// config directory.
const credentialsFile = "root-credentials"

// loadRootCredentials returns the root credentials: from COFFER_ROOT_USER and
// COFFER_ROOT_PASSWORD (or COFFER_ROOT_PASSWORD_FILE) when set, else from
// <configDir>/root-credentials, generating that file (0600) on first start.
// The secret is written to stdout only on the start that generated it.
func loadRootCredentials(getenv func(string) string, configDir string, stdout io.Writer) (rootCredentials, error) {
	user, pass := getenv("COFFER_ROOT_USER"), getenv("COFFER_ROOT_PASSWORD")
	if f := getenv("COFFER_ROOT_PASSWORD_FILE"); f != "" {
		if pass != "" {
			return rootCredentials{}, errors.New("set COFFER_ROOT_PASSWORD or COFFER_ROOT_PASSWORD_FILE, not both")
		}
		b, err := os.ReadFile(f)
		if err != nil {
			return rootCredentials{}, fmt.Errorf("root password file: %w", err)
		}
		pass = strings.TrimRight(string(b), "\r\n")
	}
	if user != "" || pass != "" {
		if user == "" || pass == "" {
			return rootCredentials{}, errors.New("COFFER_ROOT_USER and COFFER_ROOT_PASSWORD must be set together")
		}
		if len(user) < 3 || len(pass) < 8 {
			return rootCredentials{}, errors.New("COFFER_ROOT_USER needs at least 3 characters and COFFER_ROOT_PASSWORD at least 8")
		}
		fmt.Fprintf(stdout, "Root access key: %s (from the environment)\n", user)
		return rootCredentials{AccessKey: user, SecretKey: pass}, nil
	}
	path := filepath.Join(configDir, credentialsFile)
	b, err := os.ReadFile(path)
	if err == nil {
		var c rootCredentials
		if err := json.Unmarshal(b, &c); err != nil || c.AccessKey == "" || c.SecretKey == "" {
			return rootCredentials{}, fmt.Errorf("%s: not a valid credentials file", path)
		}
		fmt.Fprintf(stdout, "Root access key: %s (secret in %s)\n", c.AccessKey, path)
		return c, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return rootCredentials{}, err
	}
	c := rootCredentials{
		AccessKey: randomString(20, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"),
		SecretKey: randomString(40, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"),
	}
	if err := os.MkdirAll(configDir, 0o700); err != nil {
		return rootCredentials{}, err
	}
	data, _ := json.MarshalIndent(c, "", "  ")
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return rootCredentials{}, err
	}
	if _, err := f.Write(append(data, '\n')); err != nil {
		f.Close()
		os.Remove(path)
		return rootCredentials{}, err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return rootCredentials{}, err
	}
	if err := f.Close(); err != nil {
		return rootCredentials{}, err
	}
	fmt.Fprintf(stdout, "Generated root credentials (shown only this once; stored in %s):\n  access key: %s\n  secret key: %s\n", path, c.AccessKey, c.SecretKey)
	return c, nil
}

// randomString returns n characters drawn uniformly from alphabet with
// crypto/rand.
func randomString(n int, alphabet string) string {
	out := make([]byte, n)
	limit := 256 - 256%len(alphabet)
	var buf [1]byte
	for i := 0; i < n; {
		if _, err := rand.Read(buf[:]); err != nil {
			panic(err) // crypto/rand never fails on supported platforms
		}
		if int(buf[0]) >= limit {
			continue
		}
		out[i] = alphabet[int(buf[0])%len(alphabet)]
		i++
	}
	return string(out)
}

// lookup returns the sigv4 credential lookup for the root principal; the
// access key is compared in constant time.
func (c rootCredentials) lookup() sigv4.CredentialLookup {
	return func(accessKey string) (string, bool) {
		if subtle.ConstantTimeCompare([]byte(accessKey), []byte(c.AccessKey)) == 1 {
			return c.SecretKey, true
		}
		return "", false
	}
}

// resolver resolves access keys to secrets and principals: root from the
// server's configuration, everyone else from the identity store.
func resolver(c rootCredentials, ids *iam.IAM) func(string) (string, iam.Principal, bool) {
	root := iam.Principal{Tenant: iam.RootTenant, Root: true, AccessKey: c.AccessKey, CanonicalID: iam.CanonicalID(iam.RootTenant)}
	return func(accessKey string) (string, iam.Principal, bool) {
		if subtle.ConstantTimeCompare([]byte(accessKey), []byte(c.AccessKey)) == 1 {
			return c.SecretKey, root, true
		}
		return ids.Lookup(accessKey)
	}
}
