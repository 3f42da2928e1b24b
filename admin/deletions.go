package admin

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/cofferstore/coffer/iam"
	"github.com/valyala/fasthttp"
)

// DeletionRecord is the record of one destruction (a version, or an
// aborted multipart upload, crypto-shredded): what was destroyed, when by
// the compliance clock, on whose authority and how. Records form a hash
// chain: Seq numbers are contiguous from 1 and Prev is the Hash of the
// record before. A DeletionRecord MUST NOT carry key material.
type DeletionRecord struct {
	Seq       uint64    `json:"seq"`
	Time      time.Time `json:"time"`
	Tenant    string    `json:"tenant"`
	Bucket    string    `json:"bucket"`
	Key       string    `json:"key"`
	VersionID string    `json:"version_id,omitempty"`
	// UploadID is set for an aborted multipart upload (VersionID is then
	// empty).
	UploadID string `json:"upload_id,omitempty"`
	// Size is the plaintext size in bytes.
	Size int64 `json:"size"`
	// SHA256 is the hex SHA-256 of the plaintext, or "unknown" when none
	// was recorded at write time; SHA256Source says where it came from
	// ("evidence", "checksum" or "payload").
	SHA256       string `json:"sha256"`
	SHA256Source string `json:"sha256_source,omitempty"`
	ETag         string `json:"etag,omitempty"`
	// Actor is who asked (the principal's ARN), "unknown" when the path
	// does not know; Rule is the lifecycle rule id ("" for none); Path is
	// the removal path name given to the retention check.
	Actor string `json:"actor"`
	Rule  string `json:"rule,omitempty"`
	Path  string `json:"path"`
	// Method is "crypto-shred" or "crypto-shred+overwrite".
	Method string `json:"method"`
	// Prev and Hash are hex SHA-256 chain hashes.
	Prev string `json:"prev"`
	Hash string `json:"hash"`
}

// DeletionFilter selects records to export: Since is inclusive, Until
// exclusive (zero = no bound); empty Bucket or Tenant match all.
type DeletionFilter struct {
	Since, Until time.Time
	Bucket       string
	Tenant       string
}

// DeletionChainStatus is the result of verifying the deletion record chain.
type DeletionChainStatus struct {
	OK       bool   `json:"ok"`
	Records  uint64 `json:"records"`
	HeadSeq  uint64 `json:"head_seq"`
	HeadHash string `json:"head_hash"`
	Problem  string `json:"problem,omitempty"`
}

// SecureDeleteSetting is a bucket's opt-in to overwriting shard files
// before they are unlinked.
type SecureDeleteSetting struct {
	Bucket    string `json:"bucket"`
	Overwrite bool   `json:"overwrite"`
	// Server reports the server-wide --secure-overwrite flag, which
	// applies to every bucket whatever its own setting.
	Server bool `json:"server"`
}

// DeletionLog is what the admin API needs from the storage engine for
// deletion records and secure-delete settings. A Compliance that also
// implements it serves the deletions and bucket secure-delete endpoints.
type DeletionLog interface {
	// ExportDeletions calls fn for every record matching f, in sequence
	// order; it stops at fn's first error and returns it.
	ExportDeletions(ctx context.Context, f DeletionFilter, fn func(DeletionRecord) error) error
	// VerifyDeletions checks the whole chain (sequence, links, hashes and
	// the head).
	VerifyDeletions(ctx context.Context) (DeletionChainStatus, error)
	// BucketSecureDelete reports a bucket's setting.
	BucketSecureDelete(ctx context.Context, bucket string) (SecureDeleteSetting, error)
	// SetBucketSecureDelete changes it.
	SetBucketSecureDelete(ctx context.Context, bucket string, on bool) (SecureDeleteSetting, error)
}

// streamBody is an answer written as a stream (JSON lines) instead of one
// JSON document.
type streamBody func(w io.Writer) error

// exportLine is the last line of an export that failed midway.
type exportLine struct {
	Error string `json:"error"`
}

// ExportDeletions streams the deletion records matching f to fn, in
// sequence order. A tenant administrator sees only its tenant's records.
func (c *Client) ExportDeletions(ctx context.Context, f DeletionFilter, fn func(raw []byte, r DeletionRecord) error) error {
	q := url.Values{}
	if !f.Since.IsZero() {
		q.Set("since", f.Since.Format(time.RFC3339Nano))
	}
	if !f.Until.IsZero() {
		q.Set("until", f.Until.Format(time.RFC3339Nano))
	}
	if f.Bucket != "" {
		q.Set("bucket", f.Bucket)
	}
	if f.Tenant != "" {
		q.Set("tenant", f.Tenant)
	}
	resp, err := c.send(ctx, "GET", "deletions/export", q, nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var r DeletionRecord
		if err := json.Unmarshal(line, &r); err != nil {
			return fmt.Errorf("admin: decoding deletion record: %w", err)
		}
		if r.Seq == 0 {
			var e exportLine
			if json.Unmarshal(line, &e) == nil && e.Error != "" {
				return fmt.Errorf("admin: export failed on the server: %s", e.Error)
			}
			return fmt.Errorf("admin: malformed deletion record")
		}
		if err := fn(line, r); err != nil {
			return err
		}
	}
	return sc.Err()
}

// VerifyDeletions verifies the deletion record chain (root only).
func (c *Client) VerifyDeletions(ctx context.Context) (DeletionChainStatus, error) {
	var out DeletionChainStatus
	return out, c.do(ctx, "GET", "deletions/verify", nil, nil, &out)
}

// BucketSecureDelete returns a bucket's secure-delete setting.
func (c *Client) BucketSecureDelete(ctx context.Context, bucket string) (SecureDeleteSetting, error) {
	var out SecureDeleteSetting
	return out, c.do(ctx, "GET", "buckets/secure-delete", url.Values{"bucket": {bucket}}, nil, &out)
}

// SetBucketSecureDelete turns a bucket's overwrite-before-unlink on or off.
func (c *Client) SetBucketSecureDelete(ctx context.Context, bucket string, on bool) (SecureDeleteSetting, error) {
	var out SecureDeleteSetting
	return out, c.do(ctx, "PUT", "buckets/secure-delete", nil, secureDeleteRequest{Bucket: bucket, Overwrite: on}, &out)
}

type secureDeleteRequest struct {
	Bucket    string `json:"bucket"`
	Overwrite bool   `json:"overwrite"`
}

// serveDeletions serves deletions/export (JSON lines; root sees every
// record, a tenant administrator only its tenant's), deletions/verify
// (root only: the chain spans every tenant) and buckets/secure-delete
// (scoped like the other bucket endpoints).
func (s *Server) serveDeletions(c context.Context, dl DeletionLog, p iam.Principal, route, method string,
	q func(string) string, decode func(any) error, rootOnly func() error,
	scope func(string) (string, error), scopeBucket func(string) error) (any, error) {
	switch {
	case route == "deletions/export" && method == "GET":
		f := DeletionFilter{Bucket: q("bucket"), Tenant: q("tenant")}
		if !p.Root {
			t, err := scope(f.Tenant)
			if err != nil {
				return nil, err
			}
			f.Tenant = t
		}
		for name, dst := range map[string]*time.Time{"since": &f.Since, "until": &f.Until} {
			if v := q(name); v != "" {
				t, err := time.Parse(time.RFC3339Nano, v)
				if err != nil {
					return nil, &Error{http.StatusBadRequest, "InvalidArgument", name + " must be an RFC 3339 time"}
				}
				*dst = t
			}
		}
		return streamBody(func(w io.Writer) error {
			enc := json.NewEncoder(w)
			return dl.ExportDeletions(c, f, func(r DeletionRecord) error { return enc.Encode(r) })
		}), nil
	case route == "deletions/verify" && method == "GET":
		if err := rootOnly(); err != nil {
			return nil, err
		}
		return dl.VerifyDeletions(c)
	case route == "buckets/secure-delete" && method == "GET":
		if err := scopeBucket(q("bucket")); err != nil {
			return nil, err
		}
		return dl.BucketSecureDelete(c, q("bucket"))
	case route == "buckets/secure-delete" && method == "PUT":
		var in secureDeleteRequest
		if err := decode(&in); err != nil {
			return nil, err
		}
		if err := scopeBucket(in.Bucket); err != nil {
			return nil, err
		}
		return dl.SetBucketSecureDelete(c, in.Bucket, in.Overwrite)
	}
	return nil, &Error{http.StatusNotFound, "NoSuchEndpoint", "unknown admin endpoint " + method + " " + route}
}

// stream writes a streamed answer. The status is 200 once the first byte
// is out; an error after that ends the stream with an {"error": ...} line
// (its detail is logged, not sent).
func (s *Server) stream(ctx *fasthttp.RequestCtx, sb streamBody) {
	ctx.Response.Header.SetContentType("application/x-ndjson")
	ctx.SetStatusCode(http.StatusOK)
	ctx.SetBodyStreamWriter(func(w *bufio.Writer) {
		if err := sb(w); err != nil {
			s.log.Error("admin stream failed", "err", err)
			b, _ := json.Marshal(exportLine{Error: "internal error"})
			w.Write(append(b, '\n'))
		}
		w.Flush()
	})
}
