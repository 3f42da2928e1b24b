// Package s3api is coffer's S3 HTTP surface on valyala/fasthttp: routing
// (path-style and virtual-hosted-style), SigV4 authentication through the
// sigv4 package, XML codecs, the one S3 error table and the operation
// handlers. It reaches storage only through object.Layer and knows nothing
// of drives.
//
// Request bodies are streamed (fasthttp StreamRequestBody): object data is
// never buffered whole; only small XML bodies are read into memory, under a
// hard cap.
package s3api

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/minio/sha256-simd"
	"github.com/valyala/fasthttp"

	"github.com/cofferstore/coffer/iam"
	"github.com/cofferstore/coffer/object"
	"github.com/cofferstore/coffer/s3api/sigv4"
)

// AuthenticateFunc verifies a request's signature; it has the signature of
// sigv4.Verify, which is the default.
type AuthenticateFunc func(r *sigv4.Request, lookup sigv4.CredentialLookup, region string, now time.Time) (*sigv4.Result, error)

// Config configures a Server. The zero value of every optional field has a
// documented default.
type Config struct {
	// Region is the region this endpoint serves and signs for; default
	// "us-east-1".
	Region string
	// Domain, when non-empty, enables virtual-hosted-style addressing:
	// a Host of "<bucket>.<Domain>" addresses bucket. Path-style addressing
	// always works.
	Domain string
	// Credentials looks up the secret of an access key. Required unless
	// Authenticate is replaced.
	Credentials sigv4.CredentialLookup
	// RootAccessKey is the access key of the root principal; its canonical
	// id owns every bucket until access control lands.
	RootAccessKey string
	// Logger receives request errors and operational messages; nil
	// discards them. Secrets are never logged.
	Logger *slog.Logger
	// Now returns the current time (signature clock checks); default
	// time.Now.
	Now func() time.Time
	// AllowInsecureSSEC accepts SSE-C keys on plain-HTTP connections.
	// Default false: a request carrying SSE-C headers over plain HTTP is
	// refused with 400 InvalidRequest, as S3 refuses it, because the key
	// crossed the network in clear. Set it only where TLS is terminated in
	// front of coffer or for tests (cmd sets it from --insecure).
	AllowInsecureSSEC bool
	// Authenticate replaces signature verification; default a
	// sigv4.Verifier over Credentials and Region (sigv4.Verify with a
	// signing-key cache).
	// It exists for unit tests: production code MUST leave it nil.
	Authenticate AuthenticateFunc
	// Resolve maps access keys to secrets and principals (tenants, users,
	// root). When nil, Credentials is used and every caller is treated as
	// one root principal (unit tests).
	Resolve Resolver
	// Authorizer decides every request; nil allows all (unit tests).
	Authorizer Authorizer
	// Mounts routes requests whose path starts with a mount's Prefix to
	// its Handler instead of the S3 API (e.g. the admin API). Prefixes
	// must not be valid path-style bucket paths (start them with "/_").
	Mounts []Mount
	// LifecycleDay is the length of a lifecycle day for the
	// x-amz-expiration header; default 24h. Shorter days are for tests
	// only and MUST match the object layer's LifecycleOptions.Day.
	LifecycleDay time.Duration
	// Metrics are further metric sources (background jobs: lifecycle,
	// secure delete, …) appended to GET /metrics after the HTTP metrics.
	Metrics []MetricsSource
	// StallTimeout ends a connection whose request body or response body
	// makes no progress for this long (a client that stops sending an
	// upload or stops reading a download), so that stalled transfers do
	// not hold their buffers forever. It bounds each read and write, not
	// the whole transfer: large objects over slow links are fine. Default
	// DefaultStallTimeout; negative disables it.
	StallTimeout time.Duration
	// MaxDataRequests bounds the requests streaming object data at once
	// (admission.go); 0 or negative: no bound. RequestWait is how long a
	// request waits for a slot before 503 SlowDown; default
	// DefaultRequestWait.
	MaxDataRequests int
	RequestWait     time.Duration
}

// DefaultStallTimeout is Config.StallTimeout's default.
const DefaultStallTimeout = 2 * time.Minute

// Mount is a handler served beside the S3 API under a path prefix.
type Mount struct {
	Prefix  string
	Handler fasthttp.RequestHandler
}

// Server serves the S3 API over an object.Layer. Create it with New; it is
// safe for concurrent use.
type Server struct {
	layer   object.Layer
	cfg     Config
	log     *slog.Logger
	auth    AuthenticateFunc
	metrics *metrics
	admit   *admission // nil: unlimited
	srv     *fasthttp.Server

	reqBase uint64        // random base of request ids
	reqSeq  atomic.Uint64 // request id counter
	hostID  string        // x-amz-id-2 prefix
}

// maxObjectSize is the largest single PUT (and part) S3 accepts: 5 GiB.
const maxObjectSize = 5 << 30

// New returns a Server for layer configured by cfg.
func New(layer object.Layer, cfg Config) *Server {
	if cfg.Credentials == nil && cfg.Resolve != nil {
		resolve := cfg.Resolve
		cfg.Credentials = func(ak string) (string, bool) {
			secret, _, ok := resolve(ak)
			return secret, ok
		}
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{layer: layer, cfg: cfg, log: log, auth: cfg.Authenticate, metrics: newMetrics(),
		admit: newAdmission(cfg.MaxDataRequests, cfg.RequestWait)}
	if s.auth == nil {
		v := sigv4.NewVerifier(cfg.Credentials, cfg.Region, 0) // caches signing keys
		s.auth = func(r *sigv4.Request, _ sigv4.CredentialLookup, _ string, now time.Time) (*sigv4.Result, error) {
			return v.Verify(r, now)
		}
	}
	var b [16]byte
	_, _ = rand.Read(b[:])
	s.reqBase = binary.BigEndian.Uint64(b[:8])
	s.hostID = hex.EncodeToString(b[8:])
	s.srv = &fasthttp.Server{
		Handler:            s.Handler(),
		Name:               "coffer",
		StreamRequestBody:  true,
		MaxRequestBodySize: 6 << 30, // 5 GiB payload plus aws-chunked framing
		ReadBufferSize:     64 << 10,
		WriteBufferSize:    64 << 10,
		IdleTimeout:        2 * time.Minute,
		// The headers and the first 8 KiB of a body, which fasthttp reads
		// before the handler runs, must arrive within the stall timeout;
		// the handler's body reads then move the deadline (stall.go).
		ReadTimeout:           s.stallTimeout(),
		NoDefaultContentType:  true,
		CloseOnShutdown:       true,
		DisableKeepalive:      false,
		Logger:                fasthttpLogger{log},
		ErrorHandler:          s.transportError,
		SecureErrorLogMessage: true,
	}
	return s
}

// Handler returns the request handler, for callers that run their own
// fasthttp.Server.
func (s *Server) Handler() fasthttp.RequestHandler { return s.handle }

// Serve accepts connections on ln until Shutdown; TLS, when wanted, is the
// listener's business. It returns nil after a Shutdown.
func (s *Server) Serve(ln net.Listener) error { return s.srv.Serve(ln) }

// Shutdown stops accepting connections and waits for in-flight requests to
// finish, or for ctx to end.
func (s *Server) Shutdown(ctx context.Context) error { return s.srv.ShutdownWithContext(ctx) }

type fasthttpLogger struct{ l *slog.Logger }

func (f fasthttpLogger) Printf(format string, args ...any) {
	f.l.Debug("fasthttp", "msg", fmt.Sprintf(format, args...))
}

// transportError answers requests fasthttp could not parse.
func (s *Server) transportError(ctx *fasthttp.RequestCtx, err error) {
	code := "InvalidRequest"
	if _, ok := err.(*fasthttp.ErrSmallBuffer); ok {
		code = "RequestHeaderSectionTooLarge"
	} else if err == fasthttp.ErrBodyTooLarge {
		code = "EntityTooLarge"
	}
	r := &request{s: s, ctx: ctx, id: s.newRequestID()}
	s.writeError(r, errCode(code, ""))
}

// newRequestID returns a unique 16-hex-digit request id.
func (s *Server) newRequestID() string {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], s.reqBase+s.reqSeq.Add(1))
	return strings.ToUpper(hex.EncodeToString(b[:]))
}

// request is the per-request state handed to operation handlers.
type request struct {
	s       *Server
	ctx     *fasthttp.RequestCtx
	c       context.Context
	id      string
	api     string
	bucket  string
	key     string
	path    string // raw path as sent
	query   queryValues
	auth    *sigv4.Result
	chunked *sigv4.ChunkedReader
	owner   string // canonical id of the caller
	// principal is the authenticated caller.
	principal iam.Principal
	// release gives back the request's admission slot (admission.go);
	// nil when it holds none or handed it to its response body.
	release func()
}

// handle is the fasthttp entry point.
func (s *Server) handle(ctx *fasthttp.RequestCtx) {
	for _, m := range s.cfg.Mounts {
		if strings.HasPrefix(string(ctx.Path()), m.Prefix) {
			m.Handler(ctx)
			return
		}
	}
	start := time.Now()
	s.metrics.inflight.Add(1)
	defer s.metrics.inflight.Add(-1)

	r := &request{s: s, ctx: ctx, id: s.newRequestID(), c: context.Background()}
	api := "unknown"
	defer func() {
		if r.release != nil {
			r.release() // not handed to a response body (guardBody)
		}
		if p := recover(); p != nil {
			// A bug must cost one request, not the process.
			s.log.Error("handler panic", "request_id", r.id, "api", r.api, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			s.writeError(r, errCode("InternalError", ""))
		}
		s.metrics.observe(api, ctx.Response.StatusCode(), time.Since(start))
	}()
	s.setCommonHeaders(r)
	var err error
	api, err = s.serve(r)
	if err != nil {
		s.writeError(r, err)
		r.discardBody()
	}
}

// maxDiscard bounds how much of an unread request body is read and thrown
// away after an early error.
const maxDiscard = 64 << 20

// discardBody reads what is left of a request body after an early error, so
// that a client still sending its body receives the error response instead
// of a connection reset. Beyond maxDiscard bytes (or on a read error) the
// connection is closed after the response, as net/http does.
func (r *request) discardBody() {
	body := r.guardedBodyStream()
	if body == nil {
		return
	}
	n, err := io.CopyN(io.Discard, body, maxDiscard)
	if (err == nil && n == maxDiscard) || (err != nil && err != io.EOF) {
		r.ctx.SetConnectionClose()
	}
}

func (s *Server) setCommonHeaders(r *request) {
	h := &r.ctx.Response.Header
	h.Set("x-amz-request-id", r.id)
	h.Set("x-amz-id-2", base64.StdEncoding.EncodeToString([]byte(s.hostID+r.id)))
}

// serve parses, authenticates and dispatches; it returns the api label for
// metrics and the handler's error.
func (s *Server) serve(r *request) (string, error) {
	ctx := r.ctx
	uri := string(ctx.Request.Header.RequestURI())
	if i := strings.Index(uri, "://"); i >= 0 && i < 6 { // absolute-form
		uri = uri[i+3:]
		if j := strings.IndexByte(uri, '/'); j >= 0 {
			uri = uri[j:]
		} else {
			uri = "/"
		}
	}
	rawPath, rawQuery, _ := strings.Cut(uri, "?")
	r.path = rawPath
	r.query = parseQuery(rawQuery)

	method := string(ctx.Method())
	signed := isSigned(ctx, r.query)
	if method == "GET" || method == "HEAD" {
		if !signed {
			switch rawPath {
			case "/health/live", "/health/ready", "/metrics":
				return s.serveInternal(r, rawPath)
			}
		}
	}

	bucket, key, err := s.splitPath(string(ctx.Host()), rawPath)
	if err != nil {
		return "unknown", err
	}
	r.bucket, r.key = bucket, key
	api, h := route(r, method)
	r.api = api
	if len(key) > 1024 {
		h = func(*request) error { return errCode("KeyTooLongError", "") }
	}

	if err := s.authenticate(r, rawPath, rawQuery); err != nil {
		return api, err
	}
	if err := s.authorize(r); err != nil {
		return api, err
	}
	if v := r.header("x-amz-expected-bucket-owner"); v != "" && v != r.owner {
		return api, errCode("AccessDenied", "")
	}
	if isDataAPI(api) {
		if r.release = s.admit.acquire(); r.release == nil {
			return api, errCode("SlowDown", "")
		}
	}
	return api, h(r)
}

// isSigned reports whether the request carries any signature.
func isSigned(ctx *fasthttp.RequestCtx, q queryValues) bool {
	return len(ctx.Request.Header.Peek("Authorization")) > 0 || q.has("X-Amz-Signature") || q.has("X-Amz-Credential")
}

// splitPath returns the bucket and key a request addresses.
func (s *Server) splitPath(host, rawPath string) (bucket, key string, err error) {
	p, err := pathUnescape(rawPath)
	if err != nil {
		return "", "", errCode("InvalidURI", "Couldn't parse the specified URI.")
	}
	if s.cfg.Domain != "" {
		h := host
		if hh, _, e := net.SplitHostPort(host); e == nil {
			h = hh
		}
		h = strings.ToLower(h)
		if suffix := "." + strings.ToLower(s.cfg.Domain); strings.HasSuffix(h, suffix) && len(h) > len(suffix) {
			return h[:len(h)-len(suffix)], strings.TrimPrefix(p, "/"), nil
		}
	}
	p = strings.TrimPrefix(p, "/")
	bucket, key, _ = strings.Cut(p, "/")
	return bucket, key, nil
}

// pathUnescape percent-decodes a path ('+' stays '+').
func pathUnescape(s string) (string, error) {
	if !strings.Contains(s, "%") {
		return s, nil
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b.WriteByte(s[i])
			continue
		}
		if i+2 >= len(s) {
			return "", errCode("InvalidURI", "")
		}
		v, err := strconv.ParseUint(s[i+1:i+3], 16, 8)
		if err != nil {
			return "", errCode("InvalidURI", "")
		}
		b.WriteByte(byte(v))
		i += 2
	}
	return b.String(), nil
}

// authenticate verifies the signature and prepares the body reader.
func (s *Server) authenticate(r *request, rawPath, rawQuery string) error {
	ctx := r.ctx
	sr := &sigv4.Request{
		Method:   string(ctx.Method()),
		RawPath:  rawPath,
		RawQuery: rawQuery,
		Host:     string(ctx.Host()),
	}
	for k, v := range ctx.Request.Header.AllInOrder() {
		sr.Headers = append(sr.Headers, [2]string{string(k), string(v)})
	}
	res, err := s.auth(sr, s.cfg.Credentials, s.cfg.Region, s.cfg.Now())
	if err != nil {
		return err
	}
	if res == nil || (res.Anonymous && s.cfg.Authorizer == nil) {
		return errCode("AccessDenied", "")
	}
	r.auth = res
	if res.Anonymous {
		// An unsigned request: only a bucket policy can allow it (the
		// Authorizer decides); r.principal stays the anonymous zero value.
		r.owner = ""
		return nil
	}
	if s.cfg.Resolve != nil {
		_, p, ok := s.cfg.Resolve(res.AccessKey)
		if !ok {
			return errCode("InvalidAccessKeyId", "")
		}
		r.principal = p
	} else {
		r.principal = iam.Principal{Tenant: iam.RootTenant, Root: true, AccessKey: res.AccessKey, CanonicalID: canonicalID(res.AccessKey)}
	}
	r.owner = r.principal.CanonicalID
	switch res.Mode {
	case sigv4.PayloadStreamingSigned, sigv4.PayloadStreamingUnsignedTrail, sigv4.PayloadStreamingSignedTrail:
		r.chunked = sigv4.NewChunkedReader(r.rawBody(), res)
	}
	return nil
}

// canonicalID derives the stable 64-hex canonical user id of an access key.
func canonicalID(accessKey string) string {
	sum := sha256.Sum256([]byte("coffer-canonical-id:" + accessKey))
	return hex.EncodeToString(sum[:])
}

// rawBody is the request body as received.
func (r *request) rawBody() io.Reader {
	if s := r.guardedBodyStream(); s != nil {
		return s
	}
	return bytes.NewReader(r.ctx.Request.Body())
}

// body is the request payload: aws-chunked framing removed and verified.
func (r *request) body() io.Reader {
	if r.chunked != nil {
		return r.chunked
	}
	return r.rawBody()
}

// bodySize is the payload size: x-amz-decoded-content-length for aws-chunked
// bodies, Content-Length otherwise; MissingContentLength when unknown.
func (r *request) bodySize() (int64, error) {
	if r.chunked != nil {
		if r.auth.DecodedLength >= 0 {
			return r.auth.DecodedLength, nil
		}
		v := r.header("x-amz-decoded-content-length")
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return 0, errCode("MissingContentLength", "")
		}
		return n, nil
	}
	n := r.ctx.Request.Header.ContentLength()
	if n < 0 {
		return 0, errCode("MissingContentLength", "")
	}
	return int64(n), nil
}

// expectSHA256 is the signed payload digest to verify, or nil.
func (r *request) expectSHA256() []byte {
	if r.auth != nil && r.auth.Mode == sigv4.PayloadSHA256 {
		return r.auth.PayloadSHA256
	}
	return nil
}

// header returns a request header's value.
func (r *request) header(name string) string {
	return string(r.ctx.Request.Header.Peek(name))
}

// setHeader sets a response header.
func (r *request) setHeader(name, value string) {
	r.ctx.Response.Header.Set(name, value)
}

// writeXML writes a 200-class XML response.
func (r *request) writeXML(status int, v any) error {
	b, err := encodeXML(v)
	if err != nil {
		return err
	}
	r.ctx.SetStatusCode(status)
	r.ctx.Response.Header.SetContentType("application/xml")
	r.ctx.SetBody(b)
	return nil
}

// writeStatus writes an empty response with status.
func (r *request) writeStatus(status int) error {
	r.ctx.SetStatusCode(status)
	return nil
}

// writeError writes err as an S3 error response.
func (s *Server) writeError(r *request, err error) {
	e, known := errorFor(err)
	if !known {
		s.log.Error("request failed", "request_id", r.id, "api", r.api, "bucket", r.bucket, "key", r.key, "err", err)
	}
	ctx := r.ctx
	ctx.Response.Reset()
	s.setCommonHeaders(r)
	var he *headerError
	if asHeaderError(err, &he) {
		for _, h := range he.headers {
			ctx.Response.Header.Set(h[0], h[1])
		}
	}
	if e.Status == http.StatusServiceUnavailable {
		// Quorum loss is transient (a drive returning, a heal finishing):
		// tell clients when to retry, as S3 does with 503s.
		ctx.Response.Header.Set("Retry-After", "5")
	}
	ctx.SetStatusCode(e.Status)
	if ctx.IsHead() || e.Status == 304 {
		return
	}
	resource := r.path
	if resource == "" {
		resource = string(ctx.Path())
	}
	b, _ := encodeXML(errorResponse{Code: e.Code, Message: e.Message, Resource: resource, RequestID: r.id})
	ctx.Response.Header.SetContentType("application/xml")
	ctx.SetBody(b)
}
