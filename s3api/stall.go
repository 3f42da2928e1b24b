package s3api

import (
	"io"
	"time"

	"github.com/valyala/fasthttp"
)

// Stalled transfers. A client that stops sending an upload or stops
// reading a download would otherwise hold its request's buffers (a GET
// holds two erasure blocks and a decryption run, about 2.3 MiB) for as
// long as the TCP connection lives. Every read of a request body and every
// write of a streamed response body first moves the connection's deadline
// Config.StallTimeout ahead, so only a transfer that makes no progress for
// that long fails, however long the whole transfer takes. fasthttp clears
// deadlines set by a handler once the response is written.

// stallMinBody is the largest response body sent without stall deadlines
// (the default inline limit).
const stallMinBody = 128 << 10

// stallTimeout returns the configured stall timeout (0: disabled).
func (s *Server) stallTimeout() time.Duration {
	switch d := s.cfg.StallTimeout; {
	case d < 0:
		return 0
	case d == 0:
		return DefaultStallTimeout
	default:
		return d
	}
}

// stallReader is a request body whose every Read must progress within d.
type stallReader struct {
	r   io.Reader
	ctx *fasthttp.RequestCtx
	d   time.Duration
}

func (s stallReader) Read(p []byte) (int, error) {
	_ = s.ctx.SetReadDeadline(time.Now().Add(s.d)) // fails only without a connection (tests)
	return s.r.Read(p)
}

// bodyGuard is a streamed response body (GetObject's). When d > 0 every
// write of it to the connection must progress within d; it keeps the
// body's WriteTo (the decrypting stream's copy-free path). Close gives the
// request's admission slot back, if it holds one: fasthttp closes the body
// after sending it, or after failing to.
type bodyGuard struct {
	io.ReadCloser
	ctx     *fasthttp.RequestCtx
	d       time.Duration
	release func()
}

// WriteTo implements io.WriterTo.
func (b *bodyGuard) WriteTo(w io.Writer) (int64, error) {
	if b.d <= 0 {
		return io.Copy(w, b.ReadCloser)
	}
	return io.Copy(stallWriter{w: w, ctx: b.ctx, d: b.d}, b.ReadCloser)
}

// Close closes the body and gives the admission slot back.
func (b *bodyGuard) Close() error {
	err := b.ReadCloser.Close()
	if b.release != nil {
		b.release()
	}
	return err
}

// stallWriter moves the write deadline before every write.
type stallWriter struct {
	w   io.Writer
	ctx *fasthttp.RequestCtx
	d   time.Duration
}

func (s stallWriter) Write(p []byte) (int, error) {
	_ = s.ctx.SetWriteDeadline(time.Now().Add(s.d))
	return s.w.Write(p)
}

// guardBody wraps a streamed response body of length bytes: stall
// deadlines, and the request's admission slot, which the body now holds
// until it is closed. Bodies of at most stallMinBody bytes get no
// deadlines: they come from inline data (no erasure buffers to pin) and
// the two deadline updates per response would cost small GETs a few
// percent of their throughput.
func (r *request) guardBody(rc io.ReadCloser, length int64) io.ReadCloser {
	g := &bodyGuard{ReadCloser: rc, ctx: r.ctx, release: r.release}
	if length > stallMinBody {
		g.d = r.s.stallTimeout()
	}
	r.release = nil
	return g
}

// guardedBodyStream returns the request body stream, wrapped so that a
// stalled upload ends, or nil when the body is not streamed.
func (r *request) guardedBodyStream() io.Reader {
	s := r.ctx.RequestBodyStream()
	if s == nil {
		return nil
	}
	if d := r.s.stallTimeout(); d > 0 {
		return stallReader{r: s, ctx: r.ctx, d: d}
	}
	return s
}
