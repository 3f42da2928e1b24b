package s3api

import (
	"crypto/md5"
	"crypto/subtle"
	"encoding/base64"
	"io"
	"strings"

	"github.com/cofferstore/coffer/object"
)

// Server-side encryption request and response headers.
const (
	hdrSSE          = "x-amz-server-side-encryption"
	hdrSSEKMSKeyID  = "x-amz-server-side-encryption-aws-kms-key-id"
	hdrSSEBucketKey = "x-amz-server-side-encryption-bucket-key-enabled"
	// hdrSSECPrefix and hdrCopySSECPrefix start the three SSE-C headers
	// (algorithm, key, key-MD5) of the object written or read and of a
	// copy source.
	hdrSSECPrefix     = "x-amz-server-side-encryption-customer-"
	hdrCopySSECPrefix = "x-amz-copy-source-server-side-encryption-customer-"
)

// Values of x-amz-server-side-encryption (and of SSEAlgorithm in a bucket's
// ServerSideEncryptionConfiguration).
const (
	sseAES256  = "AES256"       // SSE-S3; also the only SSE-C algorithm
	sseKMS     = "aws:kms"      // SSE-KMS
	sseKMSDSSE = "aws:kms:dsse" // dual-layer SSE-KMS: not supported
)

// sseCKeySize is the size of an SSE-C key (AES-256).
const sseCKeySize = 32

// maxKMSKeyIDLen bounds a KMS key id as AWS does (an ARN is at most 2048
// characters).
const maxKMSKeyIDLen = 2048

// Messages of SSE request errors, worded as AWS words them. None of them
// may ever contain key material.
const (
	msgSSECInsecure     = "Requests specifying Server Side Encryption with Customer provided keys must be made over a secure connection."
	msgSSECAlgorithm    = "Requests specifying Server Side Encryption with Customer provided keys must provide a valid encryption algorithm."
	msgSSECMissingKey   = "Requests specifying Server Side Encryption with Customer provided keys must provide an appropriate secret key."
	msgSSECInvalidKey   = "The secret key was invalid for the specified algorithm."
	msgSSECMissingMD5   = "Requests specifying Server Side Encryption with Customer provided keys must provide the client calculated MD5 of the secret key."
	msgSSECMD5Mismatch  = "The calculated MD5 hash of the key did not match the hash that was provided."
	msgSSECIncompatible = "Server Side Encryption with Customer provided key is incompatible with the encryption method specified."
	msgSSEKMSKeyNoKMS   = "Server Side Encryption with AWS KMS managed key requires HTTP header x-amz-server-side-encryption : aws:kms"
	msgSSEUnsupported   = "The encryption method specified is not supported"
	msgSSEDSSE          = "Dual-layer server-side encryption (aws:kms:dsse) is not supported."
	msgSSEBucketKey     = "The x-amz-server-side-encryption-bucket-key-enabled header value must be true or false."
	msgSSEOnRead        = "x-amz-server-side-encryption header is not supported for this operation."
)

// customerKey is an SSE-C key presented with a request. The key MUST be
// wiped (wipe) once the object layer is done with it, and MUST NOT reach a
// log, an error or a response; only the MD5 the client sent is echoed.
type customerKey struct {
	key []byte // sseCKeySize bytes
	md5 string // base64 MD5 of key, exactly as the client sent it
}

// bytes returns the key, nil for a nil receiver (no SSE-C headers).
func (k *customerKey) bytes() []byte {
	if k == nil {
		return nil
	}
	return k.key
}

// sentMD5 returns the MD5 the client sent, "" for a nil receiver.
func (k *customerKey) sentMD5() string {
	if k == nil {
		return ""
	}
	return k.md5
}

// wipe zeroes the key; safe on a nil receiver.
func (k *customerKey) wipe() {
	if k != nil {
		clear(k.key)
	}
}

// parseCustomerKey reads the three SSE-C headers starting with prefix
// (hdrSSECPrefix or hdrCopySSECPrefix). It returns nil when none is present
// and an error unless all three are present and consistent: algorithm
// AES256, a base64 key of 32 bytes, and the base64 MD5 of that key.
// SSE-C over plain HTTP is refused unless Config.AllowInsecureSSEC is set.
func (r *request) parseCustomerKey(prefix string) (*customerKey, error) {
	h := &r.ctx.Request.Header
	alg := h.Peek(prefix + "algorithm")
	b64 := h.Peek(prefix + "key")
	sum := h.Peek(prefix + "key-MD5")
	if len(alg) == 0 && len(b64) == 0 && len(sum) == 0 {
		return nil, nil
	}
	if !r.ctx.IsTLS() && !r.s.cfg.AllowInsecureSSEC {
		return nil, errCode("InvalidRequest", msgSSECInsecure)
	}
	if string(alg) != sseAES256 {
		return nil, errCode("InvalidArgument", msgSSECAlgorithm)
	}
	if len(b64) == 0 {
		return nil, errCode("InvalidArgument", msgSSECMissingKey)
	}
	// Decode from the header bytes directly: no immutable string copy of
	// the key is made here.
	key := make([]byte, base64.StdEncoding.DecodedLen(len(b64)))
	n, err := base64.StdEncoding.Decode(key, b64)
	if err != nil || n != sseCKeySize {
		clear(key)
		return nil, errCode("InvalidArgument", msgSSECInvalidKey)
	}
	key = key[:n]
	if len(sum) == 0 {
		clear(key)
		return nil, errCode("InvalidArgument", msgSSECMissingMD5)
	}
	want, err := base64.StdEncoding.DecodeString(string(sum))
	got := md5.Sum(key)
	if err != nil || subtle.ConstantTimeCompare(got[:], want) != 1 {
		clear(key)
		return nil, errCode("InvalidArgument", msgSSECMD5Mismatch)
	}
	return &customerKey{key: key, md5: string(sum)}, nil
}

// sseRequest is what the encryption headers of a write ask for.
type sseRequest struct {
	// sse goes to the object layer (Mode "" = the bucket default).
	sse object.SSE
	// customer is the SSE-C key, nil without SSE-C; the handler wipes it.
	customer *customerKey
	// bucketKey is the bucket-key header as sent ("true"/"false"), or "".
	bucketKey string
}

// parseWriteSSE reads the encryption headers of PutObject,
// CreateMultipartUpload and the destination of CopyObject.
// parseWriteOptions parses the metadata and encryption headers of a write
// (PutObject, CopyObject destination, CreateMultipartUpload), the ACL
// headers included (objectACLFor). The caller must defer
// sse.customer.wipe().
func (r *request) parseWriteOptions() (object.PutOptions, sseRequest, error) {
	opts, err := r.parsePutOptions()
	if err != nil {
		return opts, sseRequest{}, err
	}
	if opts.ACL, err = r.objectACLFor(); err != nil {
		return opts, sseRequest{}, err
	}
	sse, err := r.parseWriteSSE()
	opts.SSE = sse.sse
	return opts, sse, err
}

func (r *request) parseWriteSSE() (sseRequest, error) {
	var s sseRequest
	if v := r.header(hdrSSEBucketKey); v != "" {
		switch v = strings.ToLower(v); v {
		case "true", "false":
			s.bucketKey = v
		default:
			return s, errCode("InvalidArgument", msgSSEBucketKey)
		}
	}
	mode, keyID := r.header(hdrSSE), r.header(hdrSSEKMSKeyID)
	ck, err := r.parseCustomerKey(hdrSSECPrefix)
	if err != nil {
		return s, err
	}
	if ck != nil {
		if mode != "" || keyID != "" {
			ck.wipe()
			return s, errCode("InvalidArgument", msgSSECIncompatible)
		}
		s.sse = object.SSE{Mode: object.SSEC, CustomerKey: ck.key}
		s.customer = ck
		return s, nil
	}
	switch mode {
	case "":
		if keyID != "" {
			return s, errCode("InvalidArgument", msgSSEKMSKeyNoKMS)
		}
	case sseAES256:
		if keyID != "" {
			return s, errCode("InvalidArgument", msgSSEKMSKeyNoKMS)
		}
		s.sse.Mode = object.SSES3
	case sseKMS:
		if len(keyID) > maxKMSKeyIDLen {
			return s, errCode("InvalidArgument", "The x-amz-server-side-encryption-aws-kms-key-id value is longer than 2048 characters.")
		}
		s.sse = object.SSE{Mode: object.SSEKMS, KMSKeyID: keyID}
	case sseKMSDSSE:
		return s, errCode("InvalidArgument", msgSSEDSSE)
	default:
		return s, errCode("InvalidArgument", msgSSEUnsupported)
	}
	return s, nil
}

// parseReadSSE reads the SSE-C headers of GetObject, HeadObject and
// GetObjectAttributes. x-amz-server-side-encryption is refused on reads,
// as S3 refuses it.
func (r *request) parseReadSSE() (*customerKey, error) {
	if r.header(hdrSSE) != "" {
		return nil, errCode("InvalidArgument", msgSSEOnRead)
	}
	return r.parseCustomerKey(hdrSSECPrefix)
}

// encryptionOf is how a write with the given SSE request is reported
// before the layer has returned an ObjectInfo (Mode "" = not known here).
func encryptionOf(sse object.SSE) object.Encryption {
	return object.Encryption{Mode: sse.Mode, KMSKeyID: sse.KMSKeyID}
}

// bucketDefaultEncryption is how a bucket's default encryption is reported
// on objects written without SSE headers: nil means SSE-S3.
func bucketDefaultEncryption(be *object.BucketEncryption) object.Encryption {
	if be == nil || be.Mode == "" {
		return object.Encryption{Mode: object.SSES3}
	}
	return object.Encryption{Mode: be.Mode, KMSKeyID: be.KMSKeyID}
}

// setSSEHeaders writes the encryption response headers of a version
// encrypted as enc. customerMD5 is the SSE-C key MD5 the request carried
// (echoed, never derived from storage); bucketKey the bucket-key header as
// the request carried it.
func (r *request) setSSEHeaders(enc object.Encryption, customerMD5, bucketKey string) {
	switch enc.Mode {
	case object.SSES3:
		r.setHeader(hdrSSE, sseAES256)
	case object.SSEKMS:
		r.setHeader(hdrSSE, sseKMS)
		if enc.KMSKeyID != "" {
			r.setHeader(hdrSSEKMSKeyID, enc.KMSKeyID)
		}
	case object.SSEC:
		r.setHeader(hdrSSECPrefix+"algorithm", sseAES256)
		if customerMD5 != "" {
			r.setHeader(hdrSSECPrefix+"key-MD5", customerMD5)
		}
		return
	default:
		return
	}
	if bucketKey != "" {
		r.setHeader(hdrSSEBucketKey, bucketKey)
	}
}

// setPartSSEHeaders writes the encryption headers of UploadPart and
// UploadPartCopy from the upload's encryption (an SSE-C key MD5 is echoed
// from the request).
func (r *request) setPartSSEHeaders(enc object.Encryption, ck *customerKey) {
	if enc.Mode == "" && ck != nil {
		enc.Mode = object.SSEC // a layer that reports nothing (unit-test fake)
	}
	md5 := ""
	if ck != nil {
		md5 = ck.md5
	}
	r.setSSEHeaders(enc, md5, "")
}

// wipeOnClose wipes an SSE-C key when the streamed body it decrypts is
// closed (fasthttp closes a body stream after sending it).
type wipeOnClose struct {
	io.ReadCloser
	key *customerKey
}

// WriteTo passes the object reader's WriteTo through, so fasthttp's copy
// takes the decrypting stream's no-copy path.
func (w wipeOnClose) WriteTo(dst io.Writer) (int64, error) { return io.Copy(dst, w.ReadCloser) }

func (w wipeOnClose) Close() error {
	err := w.ReadCloser.Close()
	w.key.wipe()
	return err
}
