package object

import (
	"bytes"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cofferstore/coffer/lock"
	"github.com/cofferstore/coffer/metadata"
)

// setLock writes a lock state into a version record directly (the S3
// retention APIs arrive with the Object Lock issue).
func setLock(t *testing.T, e *Engine, bucket, key, versionID string, s lock.State) {
	t.Helper()
	v, err := e.resolve(bucket, key, versionID)
	if err != nil {
		t.Fatal(err)
	}
	if v.Inline && v.data == nil {
		v, _ = e.versionBySort(bucket, key, v.VSort)
	}
	v.Lock = s
	b := metadata.NewBatch()
	b.Set(versionKey(bucket, key, v.VSort), v.encode(true))
	if err := e.meta.Apply(b); err != nil {
		t.Fatal(err)
	}
}

// TestRetentionPaths enumerates every path that removes or overwrites a
// version and checks that each refuses a version under legal hold or
// compliance retention, leaving its bytes intact.
func TestRetentionPaths(t *testing.T) {
	e := newEngine(t)
	states := map[string]lock.State{
		"legal hold": {LegalHold: true},
		"compliance": {Mode: lock.ModeCompliance, RetainUntil: time.Now().Add(time.Hour)},
		"governance": {Mode: lock.ModeGovernance, RetainUntil: time.Now().Add(time.Hour)},
	}
	paths := map[string]func(bucket string) error{
		"PutObject.replaceNull": func(b string) error {
			_, err := e.PutObject(ctx, b, "k", bytes.NewReader([]byte("new")), 3, PutOptions{})
			return err
		},
		"CopyObject.replaceNull": func(b string) error {
			mustPut(t, e, b, "src", []byte("src"))
			_, err := e.CopyObject(ctx, CopySource{Bucket: b, Key: "src"}, b, "k", PutOptions{})
			return err
		},
		"CompleteMultipartUpload.replaceNull": func(b string) error {
			id, _ := e.NewMultipartUpload(ctx, b, "k", PutOptions{})
			p, err := e.PutObjectPart(ctx, b, "k", id, 1, bytes.NewReader([]byte("p")), 1, PartOptions{})
			if err != nil {
				return err
			}
			_, err = e.CompleteMultipartUpload(ctx, b, "k", id, []CompletePart{{Number: 1, ETag: p.ETag}}, CompleteOptions{})
			return err
		},
		"DeleteObject.unversioned": func(b string) error {
			_, err := e.DeleteObject(ctx, b, "k", DeleteOptions{})
			return err
		},
		"DeleteObject.version": func(b string) error {
			_, err := e.DeleteObject(ctx, b, "k", DeleteOptions{VersionID: NullVersionID})
			return err
		},
		"DeleteObject.suspendedNull": func(b string) error {
			if err := e.SetBucketVersioning(ctx, b, VersioningSuspended); err != nil {
				return err
			}
			_, err := e.DeleteObject(ctx, b, "k", DeleteOptions{})
			return err
		},
	}
	i := 0
	for pname, path := range paths {
		for sname, st := range states {
			i++
			bucket := "ret" + strings.Repeat("x", i%5) + string(rune('a'+i%26)) + string(rune('a'+i/26))
			if err := e.MakeBucket(ctx, bucket, MakeBucketOptions{}); err != nil {
				t.Fatal(err)
			}
			mustPut(t, e, bucket, "k", []byte("protected"))
			setLock(t, e, bucket, "k", NullVersionID, st)
			if err := path(bucket); !errors.Is(err, ErrObjectLocked) {
				t.Errorf("%s on %s: err = %v, want ErrObjectLocked", pname, sname, err)
			}
			if got := mustGet(t, e, bucket, "k", GetOptions{VersionID: NullVersionID}); string(got) != "protected" {
				t.Errorf("%s on %s: protected version altered: %q", pname, sname, got)
			}
		}
	}
}

// TestRemovalPathsCallRetentionCheck is structural: every function in this
// package that calls removeVersion (the only code that deletes a version
// record) also calls checkRemove. A new removal path without the check
// fails here.
func TestRemovalPathsCallRetentionCheck(t *testing.T) {
	files, _ := filepath.Glob("*.go")
	fset := token.NewFileSet()
	seen := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		file, err := parser.ParseFile(fset, f, src, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range file.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Body == nil || fn.Name.Name == "removeVersion" {
				continue
			}
			calls := map[string]bool{}
			ast.Inspect(fn.Body, func(n ast.Node) bool {
				if c, ok := n.(*ast.CallExpr); ok {
					if s, ok := c.Fun.(*ast.SelectorExpr); ok {
						calls[s.Sel.Name] = true
					}
				}
				return true
			})
			if calls["removeVersion"] {
				seen++
				if !calls["checkRemove"] {
					t.Errorf("%s: %s removes a version without checkRemove", f, fn.Name.Name)
				}
			}
		}
	}
	if seen < 2 {
		t.Fatalf("found only %d removal paths: the scan is broken", seen)
	}
}

// TestRetentionPathsWithBypass: the governance bypass opens GOVERNANCE
// retention only. Every path that accepts a bypass MUST still refuse a
// version under legal hold or COMPLIANCE retention, and the retention
// rewrite paths (PutObjectRetention shortening or removing) MUST refuse
// COMPLIANCE with or without bypass.
func TestRetentionPathsWithBypass(t *testing.T) {
	e := newEngine(t)
	now := time.Now()
	states := map[string]lock.State{
		"legal hold": {LegalHold: true},
		"compliance": {Mode: lock.ModeCompliance, RetainUntil: now.Add(time.Hour)},
		"governance": {Mode: lock.ModeGovernance, RetainUntil: now.Add(time.Hour)},
	}
	type path struct {
		fn      func(bucket, vid string) error
		refuses map[string]bool // state name -> must refuse
	}
	paths := map[string]path{
		"DeleteObject.version+bypass": {fn: func(b, vid string) error {
			_, err := e.DeleteObject(ctx, b, "k", DeleteOptions{VersionID: vid, BypassGovernance: true})
			return err
		}, refuses: map[string]bool{"legal hold": true, "compliance": true}},
		"DeleteObject.version": {fn: func(b, vid string) error {
			_, err := e.DeleteObject(ctx, b, "k", DeleteOptions{VersionID: vid})
			return err
		}, refuses: map[string]bool{"legal hold": true, "compliance": true, "governance": true}},
		"PutObjectRetention.remove": {fn: func(b, vid string) error {
			_, err := e.PutObjectRetention(ctx, b, "k", vid, "", time.Time{}, false)
			return err
		}, refuses: map[string]bool{"compliance": true, "governance": true}},
		"PutObjectRetention.shorten+bypass": {fn: func(b, vid string) error {
			_, err := e.PutObjectRetention(ctx, b, "k", vid, lock.ModeCompliance, now.Add(time.Minute), true)
			return err
		}, refuses: map[string]bool{"compliance": true}},
		"PutObjectRetention.toGovernance+bypass": {fn: func(b, vid string) error {
			_, err := e.PutObjectRetention(ctx, b, "k", vid, lock.ModeGovernance, now.Add(2*time.Hour), true)
			return err
		}, refuses: map[string]bool{"compliance": true}},
	}
	i := 0
	for pname, p := range paths {
		for sname, st := range states {
			i++
			bucket := fmt.Sprintf("retbypass-%d", i)
			if err := e.MakeBucket(ctx, bucket, MakeBucketOptions{ObjectLock: true}); err != nil {
				t.Fatal(err)
			}
			vid := mustPut(t, e, bucket, "k", []byte("protected")).VersionID
			setLock(t, e, bucket, "k", vid, st)
			err := p.fn(bucket, vid)
			if p.refuses[sname] {
				if !errors.Is(err, ErrObjectLocked) {
					t.Errorf("%s on %s: err = %v, want ErrObjectLocked", pname, sname, err)
				}
				info, herr := e.HeadObject(ctx, bucket, "k", GetOptions{VersionID: vid})
				if herr != nil || info.Lock != st && !(st.RetainUntil.Equal(info.Lock.RetainUntil) && st.Mode == info.Lock.Mode && st.LegalHold == info.Lock.LegalHold) {
					t.Errorf("%s on %s: protected version altered: %+v, %v", pname, sname, info.Lock, herr)
				}
			} else if err != nil {
				t.Errorf("%s on %s: err = %v, want success", pname, sname, err)
			}
		}
	}
}
