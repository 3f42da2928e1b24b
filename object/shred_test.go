package object

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cofferstore/coffer/admin"
	"github.com/cofferstore/coffer/metadata"
)

// needles are byte strings that betray a sealed data key: the base64 of
// its ciphertext (as it appears in a JSON record), cut into overlapping
// windows so that a block compressor splitting the run cannot hide it, the
// raw ciphertext, and the base64 of the seal's binding id.
func needles(rec *encRecord) [][]byte {
	var out [][]byte
	for _, raw := range [][]byte{rec.Sealed.Ciphertext, rec.Bind} {
		b64 := base64.StdEncoding.EncodeToString(raw)
		for i := 0; i+12 <= len(b64); i += 6 {
			out = append(out, []byte(b64[i:i+12]))
		}
		out = append(out, raw)
	}
	return out
}

// scanDrives returns the files under the drives (pebble tables, logs,
// MANIFEST, shard files, tmp — everything) that contain any needle.
func scanDrives(t *testing.T, drives []string, ns [][]byte) []string {
	t.Helper()
	var hits []string
	files := 0
	for _, d := range drives {
		err := filepath.WalkDir(d, func(p string, de fs.DirEntry, err error) error {
			if err != nil || de.IsDir() {
				return err
			}
			b, err := os.ReadFile(p)
			if errors.Is(err, fs.ErrNotExist) {
				return nil // deleted by pebble while we walked
			}
			if err != nil {
				return err
			}
			files++
			for _, n := range ns {
				if bytes.Contains(b, n) {
					hits = append(hits, strings.TrimPrefix(p, filepath.Dir(d)))
					break
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if files < 4*3 {
		t.Fatalf("scanned only %d files", files)
	}
	return hits
}

// flushAll forces every replica's memtable into tables (so the positive
// control scans what a disk image would hold).
func flushAll(t *testing.T, e *Engine) {
	t.Helper()
	if err := e.meta.(metadata.Purger).Purge(nil); err != nil {
		t.Fatal(err)
	}
}

// TestSecureDeleteLeavesNoSealedDEK is the acceptance test of R54: after
// a secure delete and the shred window, no file on any drive (metadata
// replicas' tables, logs, MANIFEST; shard files; tmp) holds the removed
// versions' sealed data keys, and the versions cannot be read back even
// with the master key, while the survivors still can.
func TestSecureDeleteLeavesNoSealedDEK(t *testing.T) {
	drives := drivePaths(t, 4)
	e, err := Open(Config{Drives: drives, MasterKey: testMasterKey, ShredInterval: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { e.Close() }()
	e.MakeBucket(ctx, "ver", MakeBucketOptions{})
	e.SetBucketVersioning(ctx, "ver", VersioningEnabled)
	e.MakeBucket(ctx, "plain", MakeBucketOptions{})
	marker := []byte("COFFER-SHRED-MARKER-5d1e")
	body := func(n int, seed int64) []byte {
		b := randBytes(seed, n)
		copy(b[n/2:], marker)
		return b
	}
	type victim struct {
		bucket, key, vid string
		enc              *encRecord
	}
	var gone []victim
	record := func(bucket, key, vid string) *encRecord {
		v, err := e.resolve(bucket, key, vid)
		if err != nil {
			t.Fatal(err)
		}
		return v.Enc
	}
	// A versioned inline version and a versioned shard-set version,
	// deleted by version id; a survivor of the same key.
	small := mustPut(t, e, "ver", "doc", body(1000, 1))
	big := mustPut(t, e, "ver", "doc", body(300<<10, 2))
	keep := mustPut(t, e, "ver", "doc", body(2000, 3))
	gone = append(gone, victim{"ver", "doc", small.VersionID, record("ver", "doc", small.VersionID)},
		victim{"ver", "doc", big.VersionID, record("ver", "doc", big.VersionID)})
	// The current version deleted by id: its L record copies the key too.
	cur := mustPut(t, e, "ver", "last", body(500, 4))
	gone = append(gone, victim{"ver", "last", cur.VersionID, record("ver", "last", cur.VersionID)})
	// An unversioned object overwritten, and another one deleted.
	mustPut(t, e, "plain", "over", body(400, 5))
	gone = append(gone, victim{"plain", "over", NullVersionID, record("plain", "over", NullVersionID)})
	mustPut(t, e, "plain", "del", body(200<<10, 7))
	gone = append(gone, victim{"plain", "del", NullVersionID, record("plain", "del", NullVersionID)})
	// An aborted multipart upload: its upload record held the key.
	up, err := e.NewMultipartUpload(ctx, "plain", "mp", PutOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.PutObjectPart(ctx, "plain", "mp", up, 1, bytes.NewReader(body(MinPartSize, 8)), MinPartSize, PartOptions{}); err != nil {
		t.Fatal(err)
	}
	upRec, err := e.upload("plain", "mp", up)
	if err != nil {
		t.Fatal(err)
	}
	gone = append(gone, victim{"plain", "mp", "", upRec.Enc})
	// A completed multipart version: its upload record, deleted at
	// completion, held the same sealed key; it reaches a table first.
	up2, err := e.NewMultipartUpload(ctx, "ver", "mpdone", PutOptions{})
	if err != nil {
		t.Fatal(err)
	}
	flushAll(t, e)
	pi, err := e.PutObjectPart(ctx, "ver", "mpdone", up2, 1, bytes.NewReader(body(1000, 10)), 1000, PartOptions{})
	if err != nil {
		t.Fatal(err)
	}
	done, err := e.CompleteMultipartUpload(ctx, "ver", "mpdone", up2, []CompletePart{{Number: 1, ETag: pi.ETag}}, CompleteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	gone = append(gone, victim{"ver", "mpdone", done.VersionID, record("ver", "mpdone", done.VersionID)})

	var all [][]byte
	for _, g := range gone {
		all = append(all, needles(g.enc)...)
	}
	// Positive control: the scanner finds every victim's key on disk now.
	flushAll(t, e)
	for _, g := range gone {
		if hits := scanDrives(t, drives, needles(g.enc)); len(hits) == 0 {
			t.Fatalf("control: sealed key of %s/%s %s not found before the delete", g.bucket, g.key, g.vid)
		}
	}

	for _, g := range append(gone[:3:3], gone[len(gone)-1]) {
		if _, err := e.DeleteObject(ctx, g.bucket, g.key, DeleteOptions{VersionID: g.vid, Actor: "arn:test"}); err != nil {
			t.Fatal(err)
		}
	}
	mustPut(t, e, "plain", "over", body(100, 9)) // replaces the null version again
	if _, err := e.DeleteObject(ctx, "plain", "del", DeleteOptions{Actor: "arn:test"}); err != nil {
		t.Fatal(err)
	}
	if err := e.AbortMultipartUpload(ctx, "plain", "mp", up, AbortOptions{Actor: "arn:coffer:iam::t:user/u"}); err != nil {
		t.Fatal(err)
	}

	// The window: the shred worker purges within ShredInterval.
	deadline := time.Now().Add(20 * time.Second)
	for e.shred.pending.Load() != 0 || e.shred.versions.Load() < int64(len(gone)) {
		if time.Now().After(deadline) {
			t.Fatalf("shred window not met: pending %d, purged %d", e.shred.pending.Load(), e.shred.versions.Load())
		}
		time.Sleep(20 * time.Millisecond)
	}
	// The GC deletes the shard files in the background too.
	for time.Now().Before(deadline) {
		if n, _ := countKeys(e, []byte{tagGarbage}); n == 0 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if hits := scanDrives(t, drives, all); len(hits) > 0 {
		t.Fatalf("sealed data keys of removed versions survive in %v", hits)
	}
	if hits := scanDrives(t, drives, [][]byte{marker}); len(hits) > 0 {
		t.Fatalf("plaintext marker on disk in %v", hits)
	}

	checkTablesKnown(t, e) // deletion records, garbage, KMS, clock, uploads
	// Even with the master key (a fresh engine over the same drives) no
	// removed version opens; the survivor does.
	e.Close()
	e, err = Open(Config{Drives: drives, MasterKey: testMasterKey})
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range gone {
		if g.vid == "" {
			if _, err := e.upload(g.bucket, g.key, up); err == nil {
				t.Error("aborted upload still present")
			}
			continue
		}
		if v, err := e.resolve(g.bucket, g.key, g.vid); err == nil && v.Enc != nil && bytes.Equal(v.Enc.Bind, g.enc.Bind) {
			t.Errorf("%s/%s %s: version still readable", g.bucket, g.key, g.vid)
		}
	}
	if got := mustGet(t, e, "ver", "doc", GetOptions{VersionID: keep.VersionID}); !bytes.Equal(got, body(2000, 3)) {
		t.Error("surviving version corrupted")
	}
	// Nothing in any replica's live keyspace carries a removed key either.
	n, err := countKeys(e, nil)
	if err != nil || n == 0 {
		t.Fatalf("keyspace scan: %d keys, %v", n, err)
	}
	e.scan(nil, nil, func(k, v []byte) error {
		for _, nd := range all {
			if bytes.Contains(v, nd) {
				t.Errorf("live record %q holds a removed sealed key", k)
				break
			}
		}
		return nil
	})
	// The deletion records: one per destruction, chained, no key material.
	var recs []admin.DeletionRecord
	if err := e.ExportDeletions(ctx, admin.DeletionFilter{}, func(r admin.DeletionRecord) error {
		recs = append(recs, r)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(recs) != len(gone) {
		t.Fatalf("%d deletion records, want %d: %+v", len(recs), len(gone), recs)
	}
	for _, r := range recs {
		raw := mustJSON(r)
		for _, nd := range all {
			if bytes.Contains(raw, nd) {
				t.Fatalf("deletion record %d carries key material", r.Seq)
			}
		}
	}
	if st, err := e.VerifyDeletions(ctx); err != nil || !st.OK || st.Records != uint64(len(gone)) {
		t.Fatalf("chain: %+v %v", st, err)
	}
	e.Close()
}

// countKeys counts the keys with prefix p (all keys when nil).
func countKeys(e *Engine, p []byte) (int, error) {
	var hi []byte
	if p != nil {
		hi = prefixEnd(p)
	}
	n := 0
	err := e.scan(p, hi, func(_, _ []byte) error { n++; return nil })
	return n, err
}

// checkTablesKnown fails when the store holds a key whose table prefix is
// not among TablePrefixes: a new table must be declared there, so that the
// composition test (cmd/coffer) can prove that no other package shares it.
func checkTablesKnown(t *testing.T, e *Engine) {
	t.Helper()
	known := TablePrefixes()
	seen := map[byte]bool{}
	if err := e.scan(nil, nil, func(k, _ []byte) error {
		if len(k) > 0 {
			seen[k[0]] = true
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for p := range seen {
		if _, ok := known[p]; !ok {
			t.Errorf("keys with table prefix %q, which TablePrefixes does not declare", p)
		}
	}
	if len(seen) < 5 {
		t.Errorf("only %d tables seen: the scan is not reading the store", len(seen))
	}
}
