package kms

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// MasterKeyFile is the name of the generated master key in the data
// directory (development only).
const MasterKeyFile = "master.key"

// LoadMasterKey returns the 32-byte master key, taken from the first source
// that is set:
//
//  1. envValue (the content of COFFER_MASTER_KEY): standard base64 of 32
//     bytes, surrounding white space ignored;
//  2. file (--master-key-file): a file holding the same base64 text;
//  3. dataDir/master.key: generated with crypto/rand and written (mode 0600,
//     atomically) on first start, read back on later starts. Both cases
//     call warn with a message that production must keep the master key
//     elsewhere, because a key stored next to the data it protects protects
//     nothing against theft of the disks.
//
// Errors never contain key material. A malformed or truncated source is an
// error, never a reason to fall through to the next source or to generate a
// new key. warn may be nil. The caller should Zero the key when done.
func LoadMasterKey(envValue, file, dataDir string, warn func(string)) ([]byte, error) {
	if warn == nil {
		warn = func(string) {}
	}
	if envValue != "" {
		k, err := decodeMasterKey([]byte(envValue))
		if err != nil {
			return nil, fmt.Errorf("kms: COFFER_MASTER_KEY: %w", err)
		}
		return k, nil
	}
	if file != "" {
		return readMasterKeyFile(file)
	}
	if dataDir == "" {
		return nil, fmt.Errorf("kms: no master key given and no data directory to generate one in: %w", ErrInvalidInput)
	}
	path := filepath.Join(dataDir, MasterKeyFile)
	k, err := readMasterKeyFile(path)
	if err == nil {
		warn(fmt.Sprintf("WARNING: using the development master key %s stored in the data directory; production must keep the master key elsewhere (COFFER_MASTER_KEY or --master-key-file)", path))
		return k, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	k, err = generateMasterKeyFile(dataDir, path)
	if err != nil {
		return nil, err
	}
	warn(fmt.Sprintf("WARNING: no master key configured: generated a new one in %s. This is for development only; production must keep the master key elsewhere (COFFER_MASTER_KEY or --master-key-file) and back it up: without it all data is lost", path))
	return k, nil
}

func readMasterKeyFile(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("kms: read master key: %w", err)
	}
	defer Zero(b)
	k, err := decodeMasterKey(b)
	if err != nil {
		return nil, fmt.Errorf("kms: master key file %s: %w", path, err)
	}
	return k, nil
}

// decodeMasterKey decodes base64 text of exactly 32 bytes. Its errors do not
// quote the input.
func decodeMasterKey(text []byte) ([]byte, error) {
	text = bytes.TrimSpace(text)
	k := make([]byte, base64.StdEncoding.DecodedLen(len(text)))
	n, err := base64.StdEncoding.Decode(k, text)
	if err != nil || n != 32 {
		Zero(k)
		return nil, fmt.Errorf("must be standard base64 of exactly 32 bytes: %w", ErrInvalidInput)
	}
	return k[:32:32], nil
}

// generateMasterKeyFile writes a new random key to path via a temporary file
// and a hard link, so that a crash never leaves a truncated key and two
// concurrent starts agree on one key.
func generateMasterKeyFile(dataDir, path string) ([]byte, error) {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("kms: generate master key: %w", err)
	}
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		return nil, fmt.Errorf("kms: generate master key: %w", err)
	}
	text := make([]byte, base64.StdEncoding.EncodedLen(32)+1)
	base64.StdEncoding.Encode(text, k)
	text[len(text)-1] = '\n'
	defer Zero(text)
	tmp, err := os.CreateTemp(dataDir, ".master.key-*")
	if err != nil {
		Zero(k)
		return nil, fmt.Errorf("kms: generate master key: %w", err)
	}
	defer os.Remove(tmp.Name())
	err = tmp.Chmod(0o600)
	if err == nil {
		_, err = tmp.Write(text)
	}
	if err == nil {
		err = tmp.Sync()
	}
	err = errors.Join(err, tmp.Close())
	if err == nil {
		err = os.Link(tmp.Name(), path)
	}
	if errors.Is(err, fs.ErrExist) {
		// Another process won the race: use its key.
		Zero(k)
		return readMasterKeyFile(path)
	}
	if err == nil {
		err = syncDir(dataDir)
	}
	if err != nil {
		Zero(k)
		return nil, fmt.Errorf("kms: generate master key: %w", err)
	}
	return k, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	return errors.Join(d.Sync(), d.Close())
}
