package object

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/cofferstore/coffer/metadata"
)

func TestSSECustomerKey(t *testing.T) {
	e := newEngine(t)
	e.MakeBucket(ctx, "ssec", MakeBucketOptions{})
	ck := bytes.Repeat([]byte{7}, 32)
	other := bytes.Repeat([]byte{8}, 32)
	for _, n := range []int{10, 300 << 10} {
		data := randBytes(int64(n), n)
		oi, err := e.PutObject(ctx, "ssec", "k", bytes.NewReader(data), int64(n), PutOptions{SSE: SSE{Mode: SSEC, CustomerKey: ck}})
		if err != nil || oi.Encryption.Mode != SSEC {
			t.Fatalf("put: %v %+v", err, oi.Encryption)
		}
		if _, _, err := e.GetObject(ctx, "ssec", "k", GetOptions{}); !errors.Is(err, ErrSSECustomerKeyMissing) {
			t.Fatalf("no key: %v", err)
		}
		if _, _, err := e.GetObject(ctx, "ssec", "k", GetOptions{CustomerKey: other}); !errors.Is(err, ErrSSECustomerKeyMismatch) {
			t.Fatalf("wrong key: %v", err)
		}
		if _, err := e.HeadObject(ctx, "ssec", "k", GetOptions{CustomerKey: other}); !errors.Is(err, ErrSSECustomerKeyMismatch) {
			t.Fatalf("head wrong key: %v", err)
		}
		if got := mustGet(t, e, "ssec", "k", GetOptions{CustomerKey: ck, Range: &Range{Start: 3, End: int64(n - 2)}}); !bytes.Equal(got, data[3:n-1]) {
			t.Fatal("ranged SSE-C read differs")
		}
	}
	mustPut(t, e, "ssec", "plain", []byte("x"))
	if _, _, err := e.GetObject(ctx, "ssec", "plain", GetOptions{CustomerKey: ck}); !errors.Is(err, ErrSSECustomerKeyNotExpected) {
		t.Fatalf("key for SSE-S3 object: %v", err)
	}
	if _, err := e.PutObject(ctx, "ssec", "bad", bytes.NewReader(nil), 0, PutOptions{SSE: SSE{Mode: SSEC, CustomerKey: ck[:16]}}); !errors.Is(err, ErrInvalidEncryption) {
		t.Fatalf("short key: %v", err)
	}
	// Multipart with SSE-C: every part needs the key.
	id, err := e.NewMultipartUpload(ctx, "ssec", "mp", PutOptions{SSE: SSE{Mode: SSEC, CustomerKey: ck}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.PutObjectPart(ctx, "ssec", "mp", id, 1, bytes.NewReader([]byte("a")), 1, PartOptions{}); !errors.Is(err, ErrSSECustomerKeyMissing) {
		t.Fatalf("part without key: %v", err)
	}
	p1 := randBytes(1, MinPartSize)
	a, err := e.PutObjectPart(ctx, "ssec", "mp", id, 1, bytes.NewReader(p1), int64(len(p1)), PartOptions{CustomerKey: ck})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := e.PutObjectPart(ctx, "ssec", "mp", id, 2, bytes.NewReader([]byte("tail")), 4, PartOptions{CustomerKey: ck})
	if _, err := e.CompleteMultipartUpload(ctx, "ssec", "mp", id, []CompletePart{{Number: 1, ETag: a.ETag}, {Number: 2, ETag: b.ETag}}, CompleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := mustGet(t, e, "ssec", "mp", GetOptions{CustomerKey: ck}); !bytes.Equal(got, append(p1, "tail"...)) {
		t.Fatal("SSE-C multipart differs")
	}
	// Copy SSE-C -> SSE-S3.
	if _, err := e.CopyObject(ctx, CopySource{Bucket: "ssec", Key: "mp", CustomerKey: ck}, "ssec", "copy", PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := mustGet(t, e, "ssec", "copy", GetOptions{}); !bytes.Equal(got, append(p1, "tail"...)) {
		t.Fatal("copy differs")
	}
}

func TestSSEKMS(t *testing.T) {
	e := newEngine(t)
	e.MakeBucket(ctx, "kms", MakeBucketOptions{})
	if _, err := e.PutObject(ctx, "kms", "k", bytes.NewReader([]byte("x")), 1, PutOptions{SSE: SSE{Mode: SSEKMS, KMSKeyID: "testkey-1"}}); !errors.Is(err, ErrNoSuchKMSKey) {
		t.Fatalf("unknown key: %v", err)
	}
	if _, err := e.CreateKey(ctx, "", "testkey-1"); err != nil {
		t.Fatal(err)
	}
	oi, err := e.PutObject(ctx, "kms", "k", bytes.NewReader([]byte("secret")), 6, PutOptions{SSE: SSE{Mode: SSEKMS, KMSKeyID: "testkey-1"}})
	if err != nil || oi.Encryption.KMSKeyID != "testkey-1" || oi.Encryption.Mode != SSEKMS {
		t.Fatalf("put: %v %+v", err, oi.Encryption)
	}
	big := randBytes(3, 2<<20)
	e.PutObject(ctx, "kms", "big", bytes.NewReader(big), int64(len(big)), PutOptions{SSE: SSE{Mode: SSEKMS, KMSKeyID: "testkey-1"}})
	// Bucket default SSE-KMS applies to writes without headers.
	if err := e.SetBucketEncryption(ctx, "kms", &BucketEncryption{Mode: SSEKMS, KMSKeyID: "nope"}); !errors.Is(err, ErrNoSuchKMSKey) {
		t.Fatalf("default with unknown key: %v", err)
	}
	e.SetBucketEncryption(ctx, "kms", &BucketEncryption{Mode: SSEKMS, KMSKeyID: "testkey-1"})
	oi = mustPut(t, e, "kms", "dflt", []byte("d"))
	if oi.Encryption.KMSKeyID != "testkey-1" {
		t.Fatalf("bucket default not applied: %+v", oi.Encryption)
	}
	// Rotation re-seals data keys without rewriting data; old versions go.
	st, err := e.RotateKey(ctx, "", "testkey-1")
	if err != nil || st.Current != 2 {
		t.Fatalf("rotate: %v %+v", err, st)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		ks, err := e.KeyStatus(ctx)
		if err != nil {
			t.Fatal(err)
		}
		done := false
		for _, k := range ks {
			if k.Name == "testkey-1" && len(k.Versions) == 1 && k.Versions[0].Version == 2 && k.Versions[0].Objects == 3 {
				done = true
			}
		}
		if done {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("re-seal did not finish: %+v", ks)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if got := mustGet(t, e, "kms", "k", GetOptions{}); string(got) != "secret" {
		t.Fatalf("after rotation: %q", got)
	}
	if got := mustGet(t, e, "kms", "big", GetOptions{}); !bytes.Equal(got, big) {
		t.Fatal("big object differs after rotation")
	}
}

// TestTransplantedKeyFails moves one object's sealed data key onto another
// object: the read fails with an integrity error, never returns bytes.
func TestTransplantedKeyFails(t *testing.T) {
	e := newEngine(t)
	e.MakeBucket(ctx, "tpl", MakeBucketOptions{})
	for _, n := range []int{100, 300 << 10} {
		mustPut(t, e, "tpl", "a", randBytes(1, n))
		mustPut(t, e, "tpl", "b", randBytes(2, n))
		va, _ := e.resolve("tpl", "a", "")
		vb, _ := e.resolve("tpl", "b", "")
		vb.Enc.Sealed, vb.Enc.Bind = va.Enc.Sealed, va.Enc.Bind
		b := metadata.NewBatch()
		b.Set(versionKey("tpl", "b", vb.VSort), vb.encode(true))
		b.Set(latestKey("tpl", "b"), vb.encode(false))
		if err := e.meta.Apply(b); err != nil {
			t.Fatal(err)
		}
		_, rc, err := e.GetObject(ctx, "tpl", "b", GetOptions{})
		if err == nil {
			_, err = readAllClose(rc)
		}
		if !errors.Is(err, ErrCorruption) {
			t.Fatalf("size %d: transplanted key: %v", n, err)
		}
	}
}

// TestNoPlaintextOnDisk writes objects containing a marker — inline,
// erasure-coded, multipart, compressible and not, with compression off and
// on — and scans every file on every drive (shards, temporary files,
// metadata replicas): neither the marker nor the compressible text around
// it ever appears.
func TestNoPlaintextOnDisk(t *testing.T) {
	for _, tc := range []struct {
		name     string
		compress CompressConfig
	}{{"plain", CompressConfig{}}, {"compressed", compressAll}} {
		t.Run(tc.name, func(t *testing.T) {
			drives := drivePaths(t, 4)
			e, err := Open(Config{Drives: drives, MasterKey: testMasterKey, Compress: tc.compress})
			if err != nil {
				t.Fatal(err)
			}
			e.MakeBucket(ctx, "mkr", MakeBucketOptions{})
			marker := []byte("COFFER-PLAINTEXT-MARKER-7f3a9c")
			compressible := func(n int) []byte {
				b := bytes.Repeat([]byte("aaaaaaaaaaaaaaaa"), n/16+1)[:n]
				copy(b[n/2:], marker)
				return b
			}
			random := func(n int) []byte {
				b := randBytes(int64(n), n)
				copy(b[n/3:], marker)
				return b
			}
			for name, data := range map[string][]byte{
				"small": compressible(100), "small-r": random(100),
				"mid": compressible(200 << 10), "mid-r": random(200 << 10),
			} {
				putText(t, e, "mkr", name, data, PutOptions{})
				if v, _ := e.resolve("mkr", name, ""); (v.Comp != nil) != tc.compress.Enabled {
					t.Fatalf("%s: compressed = %v, want %v", name, v.Comp != nil, tc.compress.Enabled)
				}
			}
			putMultipart(t, e, "mkr", "multi", PutOptions{ContentType: "text/plain"}, compressible(MinPartSize), random(MinPartSize), compressible(10<<20))
			if v, _ := e.resolve("mkr", "multi", ""); (v.Parts[0].Comp != nil) != tc.compress.Enabled {
				t.Fatal("multipart: compression not as configured")
			}
			e.Close()
			if hits := scanDrives(t, drives, [][]byte{marker, bytes.Repeat([]byte("a"), 64)}); len(hits) > 0 {
				t.Errorf("plaintext marker or run found in %v", hits)
			}
		})
	}
}

func readAllClose(rc interface {
	Read([]byte) (int, error)
	Close() error
}) ([]byte, error) {
	defer rc.Close()
	var out bytes.Buffer
	_, err := out.ReadFrom(rc)
	return out.Bytes(), err
}
