// Package admin is coffer's administration API and its client: JSON over
// HTTP under a reserved path prefix on the S3 port, authenticated with
// SigV4 like every S3 request. Root may call everything; a tenant
// administrator may manage its own tenant's users, keys and policies; any
// other caller is refused (403), and a tenant administrator naming another
// tenant gets the same answer as for a tenant that does not exist.
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
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/cofferstore/coffer/iam"
	"github.com/cofferstore/coffer/lock"
	"github.com/cofferstore/coffer/offboard"
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

// Resolver maps an access key to its secret and principal (root included).
type Resolver func(accessKey string) (secret string, p iam.Principal, ok bool)

// BucketCounter reports how many buckets a tenant owns (a tenant that owns
// buckets cannot be deleted).
type BucketCounter func(ctx context.Context, tenant string) (int, error)

// Server serves the admin API.
type Server struct {
	km       KeyManager
	ids      *iam.IAM
	buckets  BucketCounter
	resolve  Resolver
	verifier *sigv4.Verifier
	log      *slog.Logger
	now      func() time.Time
	// Clock reports the compliance clock (nil: the endpoint answers 404).
	Clock func() lock.ClockStatus
	// Compliance serves verify and the retention report (nil: those
	// endpoints answer 404).
	Compliance Compliance
	// Offboard serves tenant shredding and the signing key (nil: tenant
	// delete refuses a tenant that owns buckets and deletes only its
	// identities; shred and signing-key answer 404).
	Offboard Offboarder
	// Lifecycle serves the lifecycle preview, run and status endpoints
	// (nil: they answer 404). Bucket scoping needs Compliance.
	Lifecycle Lifecycle
	// PolicyValidator checks identity policy documents before they are
	// stored (default: well-formed JSON with a Statement); the server sets
	// the full policy parser.
	PolicyValidator func(doc []byte) error
}

// NewServer returns the admin API over km and ids. Requests are verified
// with resolve in region.
func NewServer(km KeyManager, ids *iam.IAM, buckets BucketCounter, resolve Resolver, region string, log *slog.Logger) *Server {
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	lookup := func(ak string) (string, bool) {
		secret, _, ok := resolve(ak)
		return secret, ok
	}
	return &Server{km: km, ids: ids, buckets: buckets, resolve: resolve, verifier: sigv4.NewVerifier(lookup, region, 0), log: log, now: time.Now, PolicyValidator: basicPolicyCheck}
}

// Handle serves one admin request.
func (s *Server) Handle(ctx *fasthttp.RequestCtx) {
	res, err := s.serve(ctx)
	ctx.Response.Header.SetContentType("application/json")
	if sb, ok := res.(streamBody); ok && err == nil {
		s.stream(ctx, sb)
		return
	}
	if err != nil {
		var ae *Error
		if !errors.As(err, &ae) {
			ae = classify(err)
			if ae.Status == http.StatusInternalServerError {
				s.log.Error("admin request failed", "path", string(ctx.Path()), "err", err)
			}
		}
		ctx.SetStatusCode(ae.Status)
		b, _ := json.Marshal(errorBody(ae, err))
		ctx.SetBody(b)
		return
	}
	b, _ := json.MarshalIndent(res, "", "  ")
	ctx.SetStatusCode(http.StatusOK)
	ctx.SetBody(append(b, '\n'))
}

func classify(err error) *Error {
	switch {
	case errors.As(err, new(*offboard.BlockedError)):
		return &Error{http.StatusConflict, "TenantHasRetainedData", err.Error() + "; nothing was destroyed"}
	case errors.Is(err, iam.ErrNotEmpty):
		return &Error{http.StatusConflict, "TenantNotEmpty", err.Error()}
	case errors.Is(err, iam.ErrOffboarding):
		return &Error{http.StatusConflict, "TenantOffboarding", err.Error()}
	case errors.Is(err, ErrConflict), errors.Is(err, iam.ErrExists):
		return &Error{http.StatusConflict, "Conflict", err.Error()}
	case errors.Is(err, ErrNotFound), errors.Is(err, iam.ErrNotFound):
		return &Error{http.StatusNotFound, "NotFound", err.Error()}
	case errors.Is(err, ErrInvalid), errors.Is(err, iam.ErrInvalid):
		return &Error{http.StatusBadRequest, "InvalidArgument", err.Error()}
	}
	return &Error{http.StatusInternalServerError, "InternalError", "internal error"}
}

// authenticate verifies the SigV4 signature and the payload hash and
// returns the caller; only root and tenant administrators get through.
func (s *Server) authenticate(ctx *fasthttp.RequestCtx, body []byte) (iam.Principal, error) {
	req := &sigv4.Request{
		Method: string(ctx.Method()), Host: string(ctx.Host()),
	}
	uri := string(ctx.Request.Header.RequestURI())
	req.RawPath, req.RawQuery, _ = strings.Cut(uri, "?")
	for k, v := range ctx.Request.Header.All() {
		req.Headers = append(req.Headers, [2]string{string(k), string(v)})
	}
	res, err := s.verifier.Verify(req, s.now())
	if err != nil {
		var se *sigv4.Error
		if errors.As(err, &se) {
			return iam.Principal{}, &Error{se.Status, se.Code, se.Message}
		}
		return iam.Principal{}, err
	}
	denied := &Error{http.StatusForbidden, "AccessDenied", "the admin API requires root or a tenant administrator"}
	if res.Anonymous {
		return iam.Principal{}, denied
	}
	_, p, ok := s.resolve(res.AccessKey)
	if !ok || (!p.Root && !p.Admin) {
		return iam.Principal{}, denied
	}
	switch res.Mode {
	case sigv4.PayloadSHA256:
		sum := sha256.Sum256(body)
		if subtle.ConstantTimeCompare(sum[:], res.PayloadSHA256) != 1 {
			return iam.Principal{}, &Error{http.StatusBadRequest, "XAmzContentSHA256Mismatch", "the payload hash does not match"}
		}
	case sigv4.PayloadUnsigned:
	default:
		return iam.Principal{}, &Error{http.StatusBadRequest, "InvalidRequest", "streaming payloads are not accepted by the admin API"}
	}
	return p, nil
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
	Tenant    string `json:"tenant"`
	User      string `json:"user,omitempty"`
	Role      string `json:"role"` // "root" or "tenant-admin"
}

func (s *Server) serve(ctx *fasthttp.RequestCtx) (any, error) {
	body, err := readBody(ctx)
	if err != nil {
		return nil, err
	}
	p, err := s.authenticate(ctx, body)
	if err != nil {
		return nil, err
	}
	c := context.Background()
	route := strings.TrimPrefix(string(ctx.Path()), Prefix)
	method := string(ctx.Method())
	q := func(name string) string { return string(ctx.QueryArgs().Peek(name)) }
	decode := func(v any) error {
		if err := json.Unmarshal(body, v); err != nil {
			return &Error{http.StatusBadRequest, "MalformedJSON", "the request body is not valid JSON"}
		}
		return nil
	}
	rootOnly := func() error {
		if !p.Root {
			return &Error{http.StatusForbidden, "AccessDenied", "only root may do this"}
		}
		return nil
	}
	// scope resolves the tenant a request acts on: root names any tenant
	// (default its own), a tenant admin only its own (another tenant reads
	// as not found, so the API is no existence oracle).
	scope := func(t string) (string, error) {
		if p.Root {
			if t == "" {
				return p.Tenant, nil
			}
			return t, nil
		}
		if t != "" && t != p.Tenant {
			return "", fmt.Errorf("%w: tenant %q", iam.ErrNotFound, t)
		}
		return p.Tenant, nil
	}
	// scopeBucket allows root any bucket and a tenant admin only its
	// tenant's; a foreign bucket reads as a missing one (no existence
	// oracle).
	scopeBucket := func(bucket string) error {
		if bucket == "" {
			return &Error{http.StatusBadRequest, "InvalidArgument", "bucket is required"}
		}
		owner, err := s.Compliance.BucketTenant(c, bucket)
		if err != nil {
			return err
		}
		if !p.Root && owner != p.Tenant {
			return fmt.Errorf("%w: bucket %q", ErrNotFound, bucket)
		}
		return nil
	}
	// decodeScoped decodes the body into v, then scopes its tenant field.
	decodeScoped := func(v any, tenant *string) (string, error) {
		if err := decode(v); err != nil {
			return "", err
		}
		return scope(*tenant)
	}
	switch {
	case route == "whoami" && method == "GET":
		role := "tenant-admin"
		if p.Root {
			role = "root"
		}
		return WhoAmI{AccessKey: p.AccessKey, Tenant: p.Tenant, User: p.User, Role: role}, nil

	case route == "clock" && method == "GET" && s.Clock != nil:
		st := s.Clock()
		out := ClockReport{Compliance: st.Compliance, Wall: st.Wall, LagSeconds: st.Lag.Seconds(), CatchingUp: st.CatchingUp, Persisted: st.Persisted}
		if st.PersistErr != nil {
			out.PersistError = st.PersistErr.Error()
		}
		return out, nil

	case (route == "verify" || route == "retention/report") && method == "GET" && s.Compliance != nil:
		bucket := q("bucket")
		if err := scopeBucket(bucket); err != nil {
			return nil, err
		}
		if route == "retention/report" {
			return s.Compliance.RetentionReport(c, bucket)
		}
		limit := 0
		if l := q("limit"); l != "" {
			n, err := strconv.Atoi(l)
			if err != nil || n < 0 {
				return nil, &Error{http.StatusBadRequest, "InvalidArgument", "limit must be a non-negative integer"}
			}
			limit = n
		}
		return s.Compliance.Verify(c, bucket, q("key"), q("version"), limit, q("marker"))

	case (route == "retention/policy" || route == "retention/lock" || route == "legal-hold") && s.Compliance != nil:
		ra, ok := s.Compliance.(RetentionAdmin)
		if !ok {
			break
		}
		// The bucket comes from the query (GET) or the body; scope as verify.
		var upd RetentionPolicyUpdate
		var lh legalHoldRequest
		bucket := q("bucket")
		if method != "GET" {
			if err := decode(&upd); err != nil {
				return nil, err
			}
			if err := decode(&lh); err != nil {
				return nil, err
			}
			bucket = upd.Bucket
		}
		if err := scopeBucket(bucket); err != nil {
			return nil, err
		}
		switch {
		case route == "retention/policy" && method == "GET":
			return ra.RetentionPolicy(c, bucket)
		case route == "retention/policy" && method == "PUT":
			return ra.SetRetentionPolicy(c, upd, p.ARN())
		case route == "retention/lock" && method == "POST":
			return ra.LockRetentionPolicy(c, bucket, p.ARN())
		case route == "legal-hold" && method == "PUT":
			if lh.Key == "" {
				return nil, &Error{http.StatusBadRequest, "InvalidArgument", "key is required"}
			}
			return ra.SetLegalHold(c, bucket, lh.Key, lh.VersionID, lh.On, p.ARN())
		}

	case (strings.HasPrefix(route, "deletions/") || route == "buckets/secure-delete") && s.Compliance != nil:
		dl, ok := s.Compliance.(DeletionLog)
		if !ok {
			break
		}
		return s.serveDeletions(c, dl, p, route, method, q, decode, rootOnly, scope, scopeBucket)
	case strings.HasPrefix(route, "lifecycle/") && s.Lifecycle != nil && s.Compliance != nil:
		return s.serveLifecycle(c, p, route, method, q("bucket"), decode, scopeBucket)

	case strings.HasPrefix(route, "kms/"):
		if err := rootOnly(); err != nil {
			return nil, err
		}
		return s.serveKMS(c, route, method, body)

	case route == "tenants" && method == "POST":
		if err := rootOnly(); err != nil {
			return nil, err
		}
		var in struct{ ID string }
		if err := decode(&in); err != nil {
			return nil, err
		}
		t, key, err := s.ids.CreateTenant(c, in.ID)
		if err != nil {
			return nil, err
		}
		return TenantCreated{Tenant: t, AdminKey: key}, nil
	case route == "tenants" && method == "GET":
		if p.Root {
			return s.ids.Tenants(), nil
		}
		t, err := s.ids.Tenant(p.Tenant)
		return []iam.Tenant{t}, err
	case route == "tenants/info" && method == "GET":
		t, err := scope(q("tenant"))
		if err != nil {
			return nil, err
		}
		return s.ids.Tenant(t)
	case route == "signing-key" && method == "GET" && s.Offboard != nil:
		return s.Offboard.PublicKey(), nil
	case route == "tenants/certificate" && method == "GET" && s.Offboard != nil:
		if err := rootOnly(); err != nil {
			return nil, err
		}
		if c, ok := s.Offboard.Certificate(q("tenant")); ok {
			return c, nil
		}
		return nil, fmt.Errorf("%w: no certificate for tenant %q", ErrNotFound, q("tenant"))
	case route == "tenants" && method == "DELETE" && s.Offboard != nil:
		if err := rootOnly(); err != nil {
			return nil, err
		}
		return s.serveTenantDelete(c, p, q("tenant"), q("shred") == "true")
	case route == "tenants" && method == "DELETE":
		if err := rootOnly(); err != nil {
			return nil, err
		}
		t := q("tenant")
		if _, err := s.ids.Tenant(t); err != nil {
			return nil, err
		}
		n, err := s.buckets(c, t)
		if err != nil {
			return nil, err
		}
		if n > 0 {
			return nil, &Error{http.StatusConflict, "TenantNotEmpty", fmt.Sprintf("tenant %q still owns %d buckets", t, n)}
		}
		return map[string]string{"deleted": t}, s.ids.DeleteTenant(t)

	case route == "users" && method == "POST":
		var in struct {
			Tenant, Name string
			Admin        bool
		}
		t, err := decodeScoped(&in, &in.Tenant)
		if err != nil {
			return nil, err
		}
		return s.ids.CreateUser(t, in.Name, in.Admin)
	case route == "users" && method == "GET":
		t, err := scope(q("tenant"))
		if err != nil {
			return nil, err
		}
		return s.ids.Users(t), nil
	case route == "users" && method == "DELETE":
		t, err := scope(q("tenant"))
		if err != nil {
			return nil, err
		}
		return map[string]string{"deleted": q("name")}, s.ids.DeleteUser(t, q("name"))
	case route == "users/disable" && method == "POST":
		var in struct {
			Tenant, Name string
			Disabled     bool
		}
		t, err := decodeScoped(&in, &in.Tenant)
		if err != nil {
			return nil, err
		}
		return s.ids.SetUserDisabled(t, in.Name, in.Disabled)

	case route == "keys" && method == "POST":
		var in struct {
			Tenant, User string
			Expires      *time.Time
		}
		t, err := decodeScoped(&in, &in.Tenant)
		if err != nil {
			return nil, err
		}
		return s.ids.CreateKey(c, t, in.User, in.Expires)
	case route == "keys" && method == "GET":
		t, err := scope(q("tenant"))
		if err != nil {
			return nil, err
		}
		return s.ids.Keys(t, q("user")), nil
	case route == "keys/revoke" && method == "POST":
		var in struct{ Tenant, AccessKey string }
		t, err := decodeScoped(&in, &in.Tenant)
		if err != nil {
			return nil, err
		}
		return s.ids.RevokeKey(t, in.AccessKey)

	case route == "policy" && method == "PUT":
		var in struct {
			Tenant, User, Name string
			Document           json.RawMessage
		}
		t, err := decodeScoped(&in, &in.Tenant)
		if err != nil {
			return nil, err
		}
		if in.Name == "" {
			in.Name = "default"
		}
		var doc json.RawMessage
		if len(in.Document) > 0 && string(in.Document) != "null" {
			if err := s.PolicyValidator(in.Document); err != nil {
				return nil, &Error{http.StatusBadRequest, "MalformedPolicy", err.Error()}
			}
			doc = in.Document
		}
		return s.ids.SetPolicy(t, in.User, in.Name, doc)
	case route == "policy" && method == "GET":
		t, err := scope(q("tenant"))
		if err != nil {
			return nil, err
		}
		u, err := s.ids.User(t, q("user"))
		if err != nil {
			return nil, err
		}
		return u.Policies, nil
	}
	return nil, &Error{http.StatusNotFound, "NoSuchEndpoint", "unknown admin endpoint " + method + " " + route}
}

// ClockReport is the answer of the clock endpoint: the compliance clock
// that retention is judged by, next to the system's wall clock.
type ClockReport struct {
	Compliance   time.Time `json:"compliance_time"`
	Wall         time.Time `json:"wall_time"`
	LagSeconds   float64   `json:"lag_seconds"` // wall - compliance
	CatchingUp   bool      `json:"catching_up"`
	Persisted    time.Time `json:"persisted"`
	PersistError string    `json:"persist_error,omitempty"`
}

// TenantCreated is the answer of tenant creation: the tenant and the access
// key of its first administrator (the secret is shown only here).
type TenantCreated struct {
	Tenant   iam.Tenant `json:"tenant"`
	AdminKey iam.NewKey `json:"admin_key"`
}

// basicPolicyCheck is the default PolicyValidator: well-formed JSON with a
// Statement.
func basicPolicyCheck(doc []byte) error {
	var v map[string]any
	if err := json.Unmarshal(doc, &v); err != nil {
		return err
	}
	if _, ok := v["Statement"]; !ok {
		return errors.New("policy has no Statement")
	}
	return nil
}

// serveKMS serves the kms/ endpoints (root only).
func (s *Server) serveKMS(c context.Context, route, method string, body []byte) (any, error) {
	var kr keyRequest
	decode := func() error {
		if err := json.Unmarshal(body, &kr); err != nil {
			return &Error{http.StatusBadRequest, "MalformedJSON", "the request body is not valid JSON"}
		}
		if kr.Name == "" {
			return &Error{http.StatusBadRequest, "InvalidArgument", "name is required"}
		}
		return nil
	}
	switch {
	case route == "kms/keys" && method == "GET":
		return s.km.ListKeys(c, "")
	case route == "kms/keys" && method == "POST":
		if err := decode(); err != nil {
			return nil, err
		}
		return s.km.CreateKey(c, kr.Tenant, kr.Name)
	case route == "kms/keys/rotate" && method == "POST":
		if err := decode(); err != nil {
			return nil, err
		}
		return s.km.RotateKey(c, kr.Tenant, kr.Name)
	case route == "kms/status" && method == "GET":
		return s.km.KeyStatus(c)
	}
	return nil, &Error{http.StatusNotFound, "NoSuchEndpoint", "unknown admin endpoint " + method + " " + route}
}

// Compliance is what the admin API needs from the storage engine for the
// compliance commands (verify, retention report). The object engine
// implements it.
type Compliance interface {
	// BucketTenant returns the tenant that owns bucket (an error wrapping
	// ErrNotFound when there is no such bucket).
	BucketTenant(ctx context.Context, bucket string) (string, error)
	// Verify re-reads up to limit versions of bucket (of key when not "",
	// the one version versionID when not "") after marker and compares
	// them with their recorded digests and evidence.
	Verify(ctx context.Context, bucket, key, versionID string, limit int, marker string) (VerifyReport, error)
	// RetentionReport summarises the retention and legal holds of the
	// bucket's versions, judged by the compliance clock.
	RetentionReport(ctx context.Context, bucket string) (RetentionReport, error)
}

// VerifyResult is the verification of one version.
type VerifyResult struct {
	Key       string `json:"key"`
	VersionID string `json:"version_id"`
	Size      int64  `json:"size"`
	OK        bool   `json:"ok"`
	// Evidence says whether a SHA-256 evidence record was compared.
	Evidence bool   `json:"evidence"`
	Problem  string `json:"problem,omitempty"`
}

// VerifyReport is the answer of the verify endpoint. When Truncated, the
// next call passes NextMarker as its marker.
type VerifyReport struct {
	Bucket     string         `json:"bucket"`
	Checked    int            `json:"checked"`
	Failed     int            `json:"failed"`
	Results    []VerifyResult `json:"results"`
	Truncated  bool           `json:"truncated"`
	NextMarker string         `json:"next_marker,omitempty"`
}

// RetentionReport is the answer of the retention report endpoint. A
// version is under retention when its retain-until date is after the
// compliance clock's now.
type RetentionReport struct {
	Bucket   string    `json:"bucket"`
	AsOf     time.Time `json:"as_of"` // the compliance clock's time
	Versions int64     `json:"versions"`
	Bytes    int64     `json:"bytes"`
	// Retained: versions whose retention has not expired (any mode).
	Retained            int64      `json:"retained"`
	RetainedBytes       int64      `json:"retained_bytes"`
	Compliance          int64      `json:"compliance_mode"`
	Governance          int64      `json:"governance_mode"`
	EarliestRetainUntil *time.Time `json:"earliest_retain_until,omitempty"`
	LatestRetainUntil   *time.Time `json:"latest_retain_until,omitempty"`
	LegalHold           int64      `json:"legal_hold"`
	LegalHoldBytes      int64      `json:"legal_hold_bytes"`
	// Unreadable counts version records that could not be decoded.
	Unreadable int64 `json:"unreadable,omitempty"`
}
