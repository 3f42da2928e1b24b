package bench

import (
	"bytes"
	"crypto/md5"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"html"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/valyala/fasthttp"
)

// maxCapture bounds how much of a response body is kept for parsing (list
// pages, multipart replies, error documents).
const maxCapture = 8 << 20

// client is the shared, immutable part of the S3 client: the connection
// pool, the endpoint and the per-run headers. Workers use it through a conn.
type client struct {
	hc        *fasthttp.HostClient
	host      string // Host header value
	bucket    string
	cfg       *Config
	sseWrite  []header // headers for PUT / CreateMultipartUpload
	sseRead   []header // headers for GET / HEAD / UploadPart
	emptyHash string
}

// newClient builds the HTTP client for cfg. The connection pool holds up
// to conns connections.
func newClient(cfg *Config, conns int) (*client, error) {
	u, err := url.Parse(cfg.Endpoint)
	if err != nil {
		return nil, fmt.Errorf("endpoint %q: %w", cfg.Endpoint, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("endpoint %q: scheme must be http or https", cfg.Endpoint)
	}
	if u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		return nil, fmt.Errorf("endpoint %q: want scheme://host[:port] with no path", cfg.Endpoint)
	}
	addr := u.Host
	if u.Port() == "" {
		port := "80"
		if u.Scheme == "https" {
			port = "443"
		}
		addr = net.JoinHostPort(u.Hostname(), port)
	}
	c := &client{
		host:      u.Host,
		bucket:    cfg.Bucket,
		cfg:       cfg,
		emptyHash: emptySHA256,
		hc: &fasthttp.HostClient{
			Addr:                      addr,
			IsTLS:                     u.Scheme == "https",
			MaxConns:                  conns,
			MaxConnWaitTimeout:        time.Minute,
			ReadTimeout:               2 * time.Minute,
			WriteTimeout:              2 * time.Minute,
			StreamResponseBody:        true,
			NoDefaultUserAgentHeader:  true,
			DisablePathNormalizing:    true,
			MaxIdemponentCallAttempts: 1,
			RetryIfErr:                func(*fasthttp.Request, int, error) (bool, bool) { return false, false },
			ReadBufferSize:            64 << 10,
			WriteBufferSize:           64 << 10,
		},
	}
	if c.hc.IsTLS {
		c.hc.TLSConfig = &tls.Config{InsecureSkipVerify: cfg.InsecureSkipVerify, ServerName: u.Hostname()} //nolint:gosec // opt-in flag
	}
	switch cfg.SSE {
	case SSES3:
		c.sseWrite = []header{{"x-amz-server-side-encryption", "AES256"}}
	case SSEC:
		var key [32]byte
		if _, err := rand.Read(key[:]); err != nil {
			return nil, err
		}
		sum := md5.Sum(key[:])
		h := []header{
			{"x-amz-server-side-encryption-customer-algorithm", "AES256"},
			{"x-amz-server-side-encryption-customer-key", base64.StdEncoding.EncodeToString(key[:])},
			{"x-amz-server-side-encryption-customer-key-md5", base64.StdEncoding.EncodeToString(sum[:])},
		}
		c.sseWrite, c.sseRead = h, h
	}
	return c, nil
}

// emptySHA256 is the hex SHA-256 of an empty body.
const emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

// OpError is a failed S3 request: the HTTP status and S3 error code when
// the server answered, or the transport error when it did not.
type OpError struct {
	Op      string // S3 operation, e.g. "PutObject"
	Key     string // object key ("" for bucket operations)
	Status  int    // HTTP status, 0 on transport errors
	Code    string // S3 error code from the body, if any
	Message string // S3 error message, or the transport error text
}

// Error renders "PutObject k: 403 SignatureDoesNotMatch: message".
func (e *OpError) Error() string {
	s := e.Op
	if e.Key != "" {
		s += " " + e.Key
	}
	s += ": "
	if e.Status != 0 {
		s += strconv.Itoa(e.Status) + " "
	}
	if e.Code != "" {
		s += e.Code
		if e.Message != "" {
			s += ": "
		}
	}
	return s + e.Message
}

// conn is one worker's view of the client, with its own signer and reused
// request/response objects. Not safe for concurrent use.
type conn struct {
	c       *client
	sg      *signer
	req     *fasthttp.Request
	resp    *fasthttp.Response
	uri     []byte
	hdrs    []header
	readBuf []byte
	capture []byte
	now     func() time.Time
}

func (c *client) newConn() *conn {
	return &conn{
		c:       c,
		sg:      newSigner(c.cfg.AccessKey, c.cfg.SecretKey, c.cfg.Region),
		req:     fasthttp.AcquireRequest(),
		resp:    fasthttp.AcquireResponse(),
		readBuf: make([]byte, 256<<10),
		now:     time.Now,
	}
}

// request is one S3 call. query must be sorted by name.
type request struct {
	op       string
	method   string
	key      string
	query    []queryParam
	headers  []header
	body     []byte
	bodyHash string // hex SHA-256 of body; "" means empty body
	capture  bool   // keep the response body in conn.capture
}

// result is what came back: the status, body bytes read, and for
// capture requests the body itself (valid until the next call).
type result struct {
	status int
	n      int64
	body   []byte
	etag   string
}

// do sends r, reads the whole response and returns an *OpError for any
// non-2xx status or transport failure.
func (w *conn) do(r *request) (result, error) {
	req, resp := w.req, w.resp
	req.Reset()
	req.Header.SetMethod(r.method)
	// fasthttp carries SkipBody over from one call to the next (it is set
	// for HEAD): clear it, or the next GET leaves its body on the wire.
	resp.SkipBody = false

	u := append(w.uri[:0], '/')
	u = appendURIEncode(u, w.c.bucket, false)
	if r.key != "" {
		u = append(u, '/')
		u = appendURIEncode(u, r.key, true)
	}
	pathLen := len(u)
	if len(r.query) > 0 {
		u = append(u, '?')
		u = appendQuery(u, r.query)
	}
	w.uri = u
	req.SetRequestURIBytes(u)
	req.Header.SetHost(w.c.host)

	payloadHash := r.bodyHash
	if payloadHash == "" {
		payloadHash = w.c.emptyHash
	}
	amzDate := w.sg.date(w.now())
	w.hdrs = append(w.hdrs[:0],
		header{"host", w.c.host},
		header{"x-amz-date", amzDate},
		header{"x-amz-content-sha256", payloadHash})
	w.hdrs = append(w.hdrs, r.headers...)
	for _, h := range w.hdrs[1:] {
		req.Header.Set(h.name, h.value)
	}
	req.Header.Set("authorization", w.sg.sign(r.method, string(u[:pathLen]), r.query, w.hdrs, payloadHash, amzDate))
	if r.body != nil {
		req.SetBodyRaw(r.body)
	}

	if err := w.c.hc.Do(req, resp); err != nil {
		return result{}, &OpError{Op: r.op, Key: r.key, Message: clip(err.Error())}
	}
	res := result{status: resp.StatusCode()}
	var err error
	capture := r.capture || res.status >= 300
	if bs := resp.BodyStream(); bs != nil {
		res.n, err = w.readBody(bs, capture)
		_ = resp.CloseBodyStream()
	}
	if capture {
		res.body = w.capture
	}
	if etag := resp.Header.Peek("ETag"); len(etag) > 0 {
		res.etag = string(etag)
	}
	if err != nil {
		return res, &OpError{Op: r.op, Key: r.key, Status: res.status, Message: "reading body: " + clip(err.Error())}
	}
	if res.status >= 300 {
		return res, errorFromBody(r, res.status, res.body)
	}
	return res, nil
}

// readBody drains the body, counting bytes; with capture it also keeps up
// to maxCapture bytes of it.
func (w *conn) readBody(r io.Reader, capture bool) (int64, error) {
	w.capture = w.capture[:0]
	var n int64
	for {
		k, err := r.Read(w.readBuf)
		n += int64(k)
		if capture && len(w.capture)+k <= maxCapture {
			w.capture = append(w.capture, w.readBuf[:k]...)
		}
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}

// errorFromBody builds an OpError from an S3 error document.
func errorFromBody(r *request, status int, body []byte) *OpError {
	e := &OpError{Op: r.op, Key: r.key, Status: status}
	e.Code = clip(xmlText(body, "Code"))
	e.Message = clip(xmlText(body, "Message"))
	if e.Code == "" && e.Message == "" {
		e.Message = statusText(status)
	}
	return e
}

func statusText(status int) string { return fasthttp.StatusMessage(status) }

// xmlText returns the unescaped text of the first <tag>…</tag> in body.
// The generator parses only flat, well-known S3 replies, so a scan is
// enough and far cheaper than encoding/xml on 1000-key list pages.
func xmlText(body []byte, tag string) string {
	v, _ := xmlTextFrom(body, tag, 0)
	return v
}

// xmlTextFrom is xmlText starting at offset from; it also returns the
// offset just past the closing tag (or -1 when absent).
func xmlTextFrom(body []byte, tag string, from int) (string, int) {
	open, closing := "<"+tag+">", "</"+tag+">"
	i := bytes.Index(body[from:], []byte(open))
	if i < 0 {
		return "", -1
	}
	start := from + i + len(open)
	j := bytes.Index(body[start:], []byte(closing))
	if j < 0 {
		return "", -1
	}
	raw := body[start : start+j]
	next := start + j + len(closing)
	if bytes.IndexByte(raw, '&') < 0 {
		return string(raw), next
	}
	return html.UnescapeString(string(raw)), next
}

// clip shortens s to at most 200 bytes for error reports (transport
// errors can quote whole response buffers).
func clip(s string) string {
	const max = 200
	if len(s) <= max {
		return s
	}
	return strings.ToValidUTF8(s[:max], "") + "..."
}

// errIncomplete reports a 200 reply that carried an S3 <Error> document
// (CompleteMultipartUpload can fail that way).
var errIncomplete = errors.New("reply carried an S3 error document")
