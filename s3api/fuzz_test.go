package s3api

import (
	"errors"
	"testing"

	"github.com/cofferstore/coffer/object"
)

func TestParseRange(t *testing.T) {
	cases := []struct {
		in   string
		want *object.Range
	}{
		{"bytes=0-0", &object.Range{Start: 0, End: 0}},
		{"bytes=10-20", &object.Range{Start: 10, End: 20}},
		{"bytes=10-", &object.Range{Start: 10, End: -1}},
		{"bytes=-5", &object.Range{Start: -1, End: -1, SuffixLength: 5}},
		{" bytes= 1 - 2 ", &object.Range{Start: 1, End: 2}},
		{"bytes=1-2,4-5", nil},
		{"bytes=2-1", nil},
		{"bytes=-", nil},
		{"bytes=a-b", nil},
		{"bytes=+1-2", nil},
		{"items=1-2", nil},
		{"bytes=1", nil},
		{"", nil},
		{"bytes=99999999999999999999-", nil},
	}
	for _, c := range cases {
		got := parseRange(c.in)
		if (got == nil) != (c.want == nil) || (got != nil && *got != *c.want) {
			t.Errorf("parseRange(%q) = %+v, want %+v", c.in, got, c.want)
		}
	}
}

// FuzzParseRange checks that any Range header parses without panicking and
// that what it accepts resolves to an in-bounds extent or ErrInvalidRange.
func FuzzParseRange(f *testing.F) {
	for _, s := range []string{"bytes=0-0", "bytes=-1", "bytes=5-", "bytes=1-2,3-4", "bytes=9-1", "bytes=--1", "bytes= 1 - 2"} {
		f.Add(s, int64(10))
	}
	f.Fuzz(func(t *testing.T, h string, size int64) {
		if size < 0 {
			size = -size
		}
		if size < 0 {
			return
		}
		r := parseRange(h)
		if r == nil {
			return
		}
		if r.Start >= 0 && r.End >= 0 && r.End < r.Start {
			t.Fatalf("%q: end before start %+v", h, r)
		}
		off, n, err := r.Resolve(size)
		if err != nil {
			if !errors.Is(err, object.ErrInvalidRange) {
				t.Fatalf("%q: %v", h, err)
			}
			return
		}
		if off < 0 || n <= 0 || off+n > size {
			t.Fatalf("%q size %d: extent %d+%d out of bounds", h, size, off, n)
		}
	})
}

// FuzzXMLBodies feeds arbitrary bytes to every XML request parser: none may
// panic, every failure must be an S3 error, and accepted documents must
// satisfy the parsers' invariants.
func FuzzXMLBodies(f *testing.F) {
	seeds := []string{
		`<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>"a"</ETag></Part></CompleteMultipartUpload>`,
		`<Delete><Quiet>true</Quiet><Object><Key>k</Key><VersionId>v</VersionId></Object></Delete>`,
		`<Tagging><TagSet><Tag><Key>k</Key><Value>v</Value></Tag></TagSet></Tagging>`,
		`<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>`,
		`<CreateBucketConfiguration><LocationConstraint>eu-west-1</LocationConstraint></CreateBucketConfiguration>`,
		`<ServerSideEncryptionConfiguration><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>AES256</SSEAlgorithm></ApplyServerSideEncryptionByDefault></Rule></ServerSideEncryptionConfiguration>`,
		`<ServerSideEncryptionConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>aws:kms</SSEAlgorithm><KMSMasterKeyID>testkey-1</KMSMasterKeyID></ApplyServerSideEncryptionByDefault><BucketKeyEnabled>true</BucketKeyEnabled></Rule></ServerSideEncryptionConfiguration>`,
		`<ServerSideEncryptionConfiguration><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>aws:kms:dsse</SSEAlgorithm></ApplyServerSideEncryptionByDefault></Rule><Rule/></ServerSideEncryptionConfiguration>`,
		`<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><Tagging>&a;</Tagging>`,
		``,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	isS3 := func(err error) bool {
		var se *s3Error
		return errors.As(err, &se)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if parts, err := parseComplete(b); err != nil {
			if !isS3(err) {
				t.Fatalf("complete: %v", err)
			}
		} else {
			if len(parts) == 0 || len(parts) > maxParts {
				t.Fatalf("complete: %d parts accepted", len(parts))
			}
			for _, p := range parts {
				if p.Number < 1 || p.Number > maxParts {
					t.Fatalf("complete: part %d accepted", p.Number)
				}
			}
		}
		if d, err := parseDelete(b); err != nil {
			if !isS3(err) {
				t.Fatalf("delete: %v", err)
			}
		} else if len(d.Objects) == 0 || len(d.Objects) > maxDeleteKeys {
			t.Fatalf("delete: %d keys accepted", len(d.Objects))
		}
		if tags, err := parseTagging(b, maxObjectTags); err != nil {
			if !isS3(err) {
				t.Fatalf("tagging: %v", err)
			}
		} else if validateTags(tags, maxObjectTags) != nil {
			t.Fatalf("tagging: invalid set accepted %v", tags)
		}
		if st, err := parseVersioning(b); err != nil {
			if !isS3(err) {
				t.Fatalf("versioning: %v", err)
			}
		} else if st != object.VersioningEnabled && st != object.VersioningSuspended {
			t.Fatalf("versioning: state %q accepted", st)
		}
		if _, err := parseCreateBucket(b); err != nil && !isS3(err) {
			t.Fatalf("create bucket: %v", err)
		}
		if enc, err := parseBucketEncryption(b); err != nil {
			if !isS3(err) {
				t.Fatalf("bucket encryption: %v", err)
			}
		} else {
			switch {
			case enc == nil:
				t.Fatal("bucket encryption: nil configuration accepted")
			case enc.Mode != object.SSES3 && enc.Mode != object.SSEKMS:
				t.Fatalf("bucket encryption: mode %q accepted", enc.Mode)
			case enc.Mode == object.SSES3 && enc.KMSKeyID != "":
				t.Fatalf("bucket encryption: SSE-S3 with key id %q accepted", enc.KMSKeyID)
			case len(enc.KMSKeyID) > maxKMSKeyIDLen:
				t.Fatalf("bucket encryption: %d-byte key id accepted", len(enc.KMSKeyID))
			}
		}
	})
}
