// Package admin is coffer's administration API and its client: JSON over
// HTTP under a reserved path prefix on the S3 port, authenticated with
// SigV4 like every S3 request. Only the root account may call it for now;
// tenant administrators arrive with the access-control issue.
//
// The prefix "/_coffer/admin/v1/" can never collide with a path-style S3
// request, because "_" is not allowed in bucket names.
package admin

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/cofferstore/coffer/s3api/sigv4"
	"github.com/valyala/fasthttp"
)

// Prefix is the path prefix of every admin endpoint.
const Prefix = "/_coffer/admin/v1/"

// maxBody bounds admin request bodies.
const maxBody = 64 << 10

// KeyManager is what the admin API needs from the storage engine to manage
// tenant keys. The object engine implements it.
type KeyManager interface {
	// CreateKey creates a tenant key (ErrKeyExists-style errors are
	// reported as 409 by matching IsConflict).
	CreateKey(ctx context.Context, tenant, name string) (KeyStatus, error)
	// ListKeys lists the keys of one tenant ("" = all).
	ListKeys(ctx context.Context, tenant string) ([]KeyStatus, error)
	// RotateKey makes a new key version and starts re-sealing the data
	// keys sealed under older versions (no object data is rewritten).
	RotateKey(ctx context.Context, tenant, name string) (KeyStatus, error)
	// KeyStatus reports every key with the number of data keys sealed
	// under each version and the progress of re-sealing.
	KeyStatus(ctx context.Context) ([]KeyStatus, error)
}

// KeyStatus describes a tenant key. It never carries key material.
type KeyStatus struct {
	Tenant   string          `json:"tenant"`
	Name     string          `json:"name"`
	Current  int             `json:"current_version"`
	Created  time.Time       `json:"created"`
	Versions []VersionStatus `json:"versions"`
	// Rewrap reports the background re-seal job after a rotation.
	Rewrap *RewrapStatus `json:"rewrap,omitempty"`
}

// VersionStatus is one key version and how many data keys it seals.
type VersionStatus struct {
	Version int   `json:"version"`
	Objects int64 `json:"objects"`
}

// RewrapStatus is the progress of re-sealing data keys after a rotation.
type RewrapStatus struct {
	Running  bool   `json:"running"`
	Done     int64  `json:"done"`
	Failed   int64  `json:"failed"`
	LastErr  string `json:"last_error,omitempty"`
	Finished bool   `json:"finished"`
}

// Error is an admin API error, as JSON {"code": ..., "message": ...}.
type Error struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// ErrConflict, ErrNotFound and ErrInvalid classify KeyManager errors for
// HTTP status mapping; a KeyManager wraps its errors with them.
var (
	ErrConflict = errors.New("admin: conflict")
	ErrNotFound = errors.New("admin: not found")
	ErrInvalid  = errors.New("admin: invalid argument")
)

// Server serves the admin API.
type Server struct {
	km       KeyManager
	verifier *sigv4.Verifier
	root     string
	log      *slog.Logger
	now      func() time.Time
}

// NewServer returns the admin API over km. Requests are verified with
// lookup in region; only rootAccessKey is authorised.
func NewServer(km KeyManager, lookup sigv4.CredentialLookup, region, rootAccessKey string, log *slog.Logger) *Server {
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &Server{km: km, verifier: sigv4.NewVerifier(lookup, region, 0), root: rootAccessKey, log: log, now: time.Now}
}

// Handle serves one admin request.
func (s *Server) Handle(ctx *fasthttp.RequestCtx) {
	res, err := s.serve(ctx)
	ctx.Response.Header.SetContentType("application/json")
	if err != nil {
		var ae *Error
		if !errors.As(err, &ae) {
			ae = classify(err)
			if ae.Status == http.StatusInternalServerError {
				s.log.Error("admin request failed", "path", string(ctx.Path()), "err", err)
			}
		}
		ctx.SetStatusCode(ae.Status)
		b, _ := json.Marshal(ae)
		ctx.SetBody(b)
		return
	}
	b, _ := json.MarshalIndent(res, "", "  ")
	ctx.SetStatusCode(http.StatusOK)
	ctx.SetBody(append(b, '\n'))
}

func classify(err error) *Error {
	switch {
	case errors.Is(err, ErrConflict):
		return &Error{http.StatusConflict, "Conflict", err.Error()}
	case errors.Is(err, ErrNotFound):
		return &Error{http.StatusNotFound, "NotFound", err.Error()}
	case errors.Is(err, ErrInvalid):
		return &Error{http.StatusBadRequest, "InvalidArgument", err.Error()}
	}
	return &Error{http.StatusInternalServerError, "InternalError", "internal error"}
}

// authenticate verifies the SigV4 signature and the payload hash, and
// allows only root.
func (s *Server) authenticate(ctx *fasthttp.RequestCtx, body []byte) error {
	req := &sigv4.Request{
		Method: string(ctx.Method()), Host: string(ctx.Host()),
	}
	uri := string(ctx.Request.Header.RequestURI())
	req.RawPath, req.RawQuery, _ = strings.Cut(uri, "?")
	ctx.Request.Header.VisitAll(func(k, v []byte) {
		req.Headers = append(req.Headers, [2]string{string(k), string(v)})
	})
	res, err := s.verifier.Verify(req, s.now())
	if err != nil {
		var se *sigv4.Error
		if errors.As(err, &se) {
			return &Error{se.Status, se.Code, se.Message}
		}
		return err
	}
	if res.Anonymous || subtle.ConstantTimeCompare([]byte(res.AccessKey), []byte(s.root)) != 1 {
		return &Error{http.StatusForbidden, "AccessDenied", "the admin API requires the root account"}
	}
	switch res.Mode {
	case sigv4.PayloadSHA256:
		sum := sha256.Sum256(body)
		if subtle.ConstantTimeCompare(sum[:], res.PayloadSHA256) != 1 {
			return &Error{http.StatusBadRequest, "XAmzContentSHA256Mismatch", "the payload hash does not match"}
		}
	case sigv4.PayloadUnsigned:
	default:
		return &Error{http.StatusBadRequest, "InvalidRequest", "streaming payloads are not accepted by the admin API"}
	}
	return nil
}

// readBody reads the (small) request body.
func readBody(ctx *fasthttp.RequestCtx) ([]byte, error) {
	var r io.Reader = ctx.RequestBodyStream()
	if r == nil {
		if len(ctx.Request.Body()) > maxBody {
			return nil, &Error{http.StatusRequestEntityTooLarge, "EntityTooLarge", "admin request body too large"}
		}
		return ctx.Request.Body(), nil
	}
	b, err := io.ReadAll(io.LimitReader(r, maxBody+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxBody {
		return nil, &Error{http.StatusRequestEntityTooLarge, "EntityTooLarge", "admin request body too large"}
	}
	return b, nil
}

// keyRequest is the body of key create and rotate.
type keyRequest struct {
	Tenant string `json:"tenant"`
	Name   string `json:"name"`
}

// WhoAmI is the answer of the whoami endpoint.
type WhoAmI struct {
	AccessKey string `json:"access_key"`
	Role      string `json:"role"`
}

func (s *Server) serve(ctx *fasthttp.RequestCtx) (any, error) {
	body, err := readBody(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.authenticate(ctx, body); err != nil {
		return nil, err
	}
	c := context.Background()
	route := strings.TrimPrefix(string(ctx.Path()), Prefix)
	method := string(ctx.Method())
	decode := func() (keyRequest, error) {
		var kr keyRequest
		if err := json.Unmarshal(body, &kr); err != nil {
			return kr, &Error{http.StatusBadRequest, "MalformedJSON", "the request body is not valid JSON"}
		}
		if kr.Name == "" {
			return kr, &Error{http.StatusBadRequest, "InvalidArgument", "name is required"}
		}
		return kr, nil
	}
	switch {
	case route == "whoami" && method == "GET":
		return WhoAmI{AccessKey: s.root, Role: "root"}, nil
	case route == "kms/keys" && method == "GET":
		return s.km.ListKeys(c, string(ctx.QueryArgs().Peek("tenant")))
	case route == "kms/keys" && method == "POST":
		kr, err := decode()
		if err != nil {
			return nil, err
		}
		return s.km.CreateKey(c, kr.Tenant, kr.Name)
	case route == "kms/keys/rotate" && method == "POST":
		kr, err := decode()
		if err != nil {
			return nil, err
		}
		return s.km.RotateKey(c, kr.Tenant, kr.Name)
	case route == "kms/status" && method == "GET":
		return s.km.KeyStatus(c)
	}
	return nil, &Error{http.StatusNotFound, "NoSuchEndpoint", "unknown admin endpoint " + method + " " + route}
}
