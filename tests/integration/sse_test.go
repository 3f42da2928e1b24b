package integration

import (
	"bytes"
	"crypto/md5"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// kmsTestTenant is the built-in tenant (object.DefaultTenant) that owns
// every bucket until access control lands.
const kmsTestTenant = "root"

// sseCKey is an SSE-C key in the form aws-sdk-go-v2 takes it: the SDK
// neither encodes the key nor computes its MD5.
type sseCKey struct {
	key, md5 string // base64
}

func newSSECKey(t *testing.T) sseCKey {
	t.Helper()
	raw := randomBytes(t, 32)
	sum := md5.Sum(raw)
	return sseCKey{key: base64.StdEncoding.EncodeToString(raw), md5: base64.StdEncoding.EncodeToString(sum[:])}
}

// sseCAlgorithm is the only SSE-C algorithm.
var sseCAlgorithm = aws.String("AES256")

// startTLSServer starts coffer serving HTTPS with a fresh self-signed
// certificate (its clients trust only that certificate); extra flags are
// passed through.
func startTLSServer(t *testing.T, extra ...string) *server {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test: skipped with -short")
	}
	cert := writeSelfSigned(t, t.TempDir(), "coffer-sse")
	roots := x509.NewCertPool()
	roots.AddCert(cert.cert)
	return startServerWith(t, newDrives(t, 4), serverOptions{
		Args: append([]string{"--tls-cert", cert.certFile, "--tls-key", cert.keyFile}, extra...),
		TLS:  &tls.Config{RootCAs: roots},
	})
}

// createKMSKey creates the SSE-KMS key name for tenant with the admin CLI,
// `coffer admin kms key create NAME --tenant T`, authenticating as root
// through COFFER_ENDPOINT, COFFER_ACCESS_KEY and COFFER_SECRET_KEY.
func createKMSKey(t *testing.T, srv *server, tenant, name string) {
	t.Helper()
	cmd := exec.CommandContext(ctx(t), binPath, "admin", "kms", "key", "create", name, "--tenant", tenant)
	cmd.Env = append(os.Environ(),
		"COFFER_ENDPOINT="+srv.Endpoint, "COFFER_ACCESS_KEY="+srv.AccessKey, "COFFER_SECRET_KEY="+srv.SecretKey)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("coffer admin kms key create %s --tenant %s: %v\n%s", name, tenant, err, out)
	}
}

// errMessage extracts the S3 error message from an SDK error.
func errMessage(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorMessage()
	}
	return ""
}

// requireSSES3 checks that a response reports SSE-S3.
func requireSSES3(t *testing.T, what string, got types.ServerSideEncryption, keyID *string) {
	t.Helper()
	if got != types.ServerSideEncryptionAes256 || keyID != nil {
		t.Errorf("%s: x-amz-server-side-encryption %q (key id %v), want AES256 without a key id", what, got, aws.ToString(keyID))
	}
}

// requireSSEC checks that a response reports SSE-C with key k.
func requireSSEC(t *testing.T, what string, alg, keyMD5 *string, sse types.ServerSideEncryption, k sseCKey) {
	t.Helper()
	if aws.ToString(alg) != "AES256" || aws.ToString(keyMD5) != k.md5 || sse != "" {
		t.Errorf("%s: customer-algorithm %q key-MD5 %q sse %q, want AES256, %q and no x-amz-server-side-encryption",
			what, aws.ToString(alg), aws.ToString(keyMD5), sse, k.md5)
	}
}

// TestSSES3ByDefault: every object is encrypted; without headers the
// response says AES256, as AWS answers for every bucket since 2023.
func TestSSES3ByDefault(t *testing.T) {
	s := startServer(t)
	c := s.s3Client(t)
	bucket := newBucket(t, c, "sse-s3")
	data := randomBytes(t, 10*kib)

	out := putBytes(t, c, bucket, "default", data)
	requireSSES3(t, "PUT without SSE headers", out.ServerSideEncryption, out.SSEKMSKeyId)
	got, g := getBytes(t, c, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("default")})
	requireSameBytes(t, "GET default", got, data)
	requireSSES3(t, "GET default", g.ServerSideEncryption, g.SSEKMSKeyId)
	h, err := c.HeadObject(ctx(t), &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String("default")})
	if err != nil {
		t.Fatal(err)
	}
	requireSSES3(t, "HEAD default", h.ServerSideEncryption, h.SSEKMSKeyId)

	out = putBytes(t, c, bucket, "explicit", data, func(in *s3.PutObjectInput) {
		in.ServerSideEncryption = types.ServerSideEncryptionAes256
	})
	requireSSES3(t, "PUT AES256", out.ServerSideEncryption, out.SSEKMSKeyId)
	_, g = getBytes(t, c, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("explicit")})
	requireSSES3(t, "GET AES256", g.ServerSideEncryption, g.SSEKMSKeyId)

	cp, err := c.CopyObject(ctx(t), &s3.CopyObjectInput{Bucket: aws.String(bucket), Key: aws.String("copy"), CopySource: aws.String(bucket + "/default")})
	if err != nil {
		t.Fatal(err)
	}
	requireSSES3(t, "CopyObject", cp.ServerSideEncryption, cp.SSEKMSKeyId)

	cu, err := c.CreateMultipartUpload(ctx(t), &s3.CreateMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String("mp")})
	if err != nil {
		t.Fatal(err)
	}
	requireSSES3(t, "CreateMultipartUpload", cu.ServerSideEncryption, cu.SSEKMSKeyId)
	up, err := c.UploadPart(ctx(t), &s3.UploadPartInput{Bucket: aws.String(bucket), Key: aws.String("mp"), UploadId: cu.UploadId,
		PartNumber: aws.Int32(1), Body: strings.NewReader("part"), ContentLength: aws.Int64(4)})
	if err != nil {
		t.Fatal(err)
	}
	done, err := c.CompleteMultipartUpload(ctx(t), &s3.CompleteMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String("mp"), UploadId: cu.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{PartNumber: aws.Int32(1), ETag: up.ETag}}}})
	if err != nil {
		t.Fatal(err)
	}
	requireSSES3(t, "CompleteMultipartUpload", done.ServerSideEncryption, done.SSEKMSKeyId)

	// aws:kms:dsse is refused, as is a key id without aws:kms.
	_, err = c.PutObject(ctx(t), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("dsse"), Body: strings.NewReader("x"),
		ServerSideEncryption: types.ServerSideEncryptionAwsKmsDsse})
	requireAPIError(t, err, http.StatusBadRequest, "InvalidArgument")
	_, err = c.PutObject(ctx(t), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("keyid"), Body: strings.NewReader("x"),
		ServerSideEncryption: types.ServerSideEncryptionAes256, SSEKMSKeyId: aws.String("testkey-1")})
	requireAPIError(t, err, http.StatusBadRequest, "InvalidArgument")
}

// TestSSECOverTLS drives SSE-C end to end over HTTPS: round trip, wrong
// and missing keys, HEAD and range reads, multipart with a key on every
// part, and copies between SSE-C and SSE-S3 in both directions.
func TestSSECOverTLS(t *testing.T) {
	s := startTLSServer(t)
	c := s.s3Client(t)
	bucket := newBucket(t, c, "sse-c")
	k, wrong := newSSECKey(t), newSSECKey(t)
	data := randomBytes(t, 300*kib)

	out := putBytes(t, c, bucket, "obj", data, func(in *s3.PutObjectInput) {
		in.SSECustomerAlgorithm, in.SSECustomerKey, in.SSECustomerKeyMD5 = sseCAlgorithm, &k.key, &k.md5
	})
	requireSSEC(t, "PUT", out.SSECustomerAlgorithm, out.SSECustomerKeyMD5, out.ServerSideEncryption, k)

	withKey := func(key sseCKey) func(*s3.GetObjectInput) {
		return func(in *s3.GetObjectInput) {
			in.SSECustomerAlgorithm, in.SSECustomerKey, in.SSECustomerKeyMD5 = sseCAlgorithm, &key.key, &key.md5
		}
	}
	get := func(key string, mods ...func(*s3.GetObjectInput)) (*s3.GetObjectOutput, error) {
		in := &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}
		for _, m := range mods {
			m(in)
		}
		return c.GetObject(ctx(t), in)
	}

	t.Run("RoundTrip", func(t *testing.T) {
		in := &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("obj")}
		withKey(k)(in)
		got, g := getBytes(t, c, in)
		requireSameBytes(t, "SSE-C GET", got, data)
		requireSSEC(t, "GET", g.SSECustomerAlgorithm, g.SSECustomerKeyMD5, g.ServerSideEncryption, k)
	})
	t.Run("MissingKey", func(t *testing.T) {
		_, err := get("obj")
		requireAPIError(t, err, http.StatusBadRequest, "InvalidRequest")
		_, err = c.HeadObject(ctx(t), &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String("obj")})
		requireAPIError(t, err, http.StatusBadRequest)
	})
	t.Run("WrongKey", func(t *testing.T) {
		_, err := get("obj", withKey(wrong))
		requireAPIError(t, err, http.StatusForbidden, "AccessDenied")
		if m := errMessage(err); strings.Contains(m, k.key) || strings.Contains(m, wrong.key) {
			t.Fatalf("error message carries key material: %q", m)
		}
		_, err = c.HeadObject(ctx(t), &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String("obj"),
			SSECustomerAlgorithm: sseCAlgorithm, SSECustomerKey: &wrong.key, SSECustomerKeyMD5: &wrong.md5})
		requireAPIError(t, err, http.StatusForbidden)
	})
	t.Run("BadHeaders", func(t *testing.T) {
		_, err := get("obj", func(in *s3.GetObjectInput) {
			in.SSECustomerAlgorithm, in.SSECustomerKey, in.SSECustomerKeyMD5 = sseCAlgorithm, &k.key, &wrong.md5
		})
		requireAPIError(t, err, http.StatusBadRequest, "InvalidArgument")
		if m := errMessage(err); m != "The calculated MD5 hash of the key did not match the hash that was provided." {
			t.Errorf("MD5 mismatch message %q", m)
		}
		short := base64.StdEncoding.EncodeToString(randomBytes(t, 16))
		_, err = get("obj", func(in *s3.GetObjectInput) {
			in.SSECustomerAlgorithm, in.SSECustomerKey, in.SSECustomerKeyMD5 = sseCAlgorithm, &short, &k.md5
		})
		requireAPIError(t, err, http.StatusBadRequest, "InvalidArgument")
		_, err = c.PutObject(ctx(t), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("both"), Body: strings.NewReader("x"),
			ServerSideEncryption: types.ServerSideEncryptionAes256, SSECustomerAlgorithm: sseCAlgorithm, SSECustomerKey: &k.key, SSECustomerKeyMD5: &k.md5})
		requireAPIError(t, err, http.StatusBadRequest, "InvalidArgument")
	})
	t.Run("HeadWithKey", func(t *testing.T) {
		h, err := c.HeadObject(ctx(t), &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String("obj"),
			SSECustomerAlgorithm: sseCAlgorithm, SSECustomerKey: &k.key, SSECustomerKeyMD5: &k.md5})
		if err != nil {
			t.Fatal(err)
		}
		requireSSEC(t, "HEAD", h.SSECustomerAlgorithm, h.SSECustomerKeyMD5, h.ServerSideEncryption, k)
		if aws.ToInt64(h.ContentLength) != int64(len(data)) {
			t.Errorf("HEAD Content-Length %d, want %d", aws.ToInt64(h.ContentLength), len(data))
		}
	})
	t.Run("RangeWithKey", func(t *testing.T) {
		in := &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("obj"), Range: aws.String("bytes=70000-200000")}
		withKey(k)(in)
		got, g := getBytes(t, c, in)
		requireSameBytes(t, "SSE-C range GET", got, data[70000:200001])
		if aws.ToString(g.ContentRange) != "bytes 70000-200000/307200" {
			t.Errorf("Content-Range %q", aws.ToString(g.ContentRange))
		}
	})
	t.Run("KeyForPlainObject", func(t *testing.T) {
		putBytes(t, c, bucket, "plain", []byte("plain"))
		_, err := get("plain", withKey(k))
		requireAPIError(t, err, http.StatusBadRequest, "InvalidRequest")
	})
	t.Run("Multipart", func(t *testing.T) {
		key := "mp"
		cu, err := c.CreateMultipartUpload(ctx(t), &s3.CreateMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key),
			SSECustomerAlgorithm: sseCAlgorithm, SSECustomerKey: &k.key, SSECustomerKeyMD5: &k.md5})
		if err != nil {
			t.Fatal(err)
		}
		requireSSEC(t, "CreateMultipartUpload", cu.SSECustomerAlgorithm, cu.SSECustomerKeyMD5, cu.ServerSideEncryption, k)
		parts := [][]byte{randomBytes(t, 5*mib), randomBytes(t, 1*mib+123)}
		upload := func(n int32, key *sseCKey) (*s3.UploadPartOutput, error) {
			in := &s3.UploadPartInput{Bucket: aws.String(bucket), Key: aws.String("mp"), UploadId: cu.UploadId, PartNumber: aws.Int32(n),
				Body: bytes.NewReader(parts[n-1]), ContentLength: aws.Int64(int64(len(parts[n-1])))}
			if key != nil {
				in.SSECustomerAlgorithm, in.SSECustomerKey, in.SSECustomerKeyMD5 = sseCAlgorithm, &key.key, &key.md5
			}
			return c.UploadPart(ctx(t), in)
		}
		_, err = upload(1, nil)
		requireAPIError(t, err, http.StatusBadRequest, "InvalidRequest")
		_, err = upload(1, &wrong)
		requireAPIError(t, err, http.StatusForbidden, "AccessDenied")
		var done []types.CompletedPart
		for n := int32(1); n <= 2; n++ {
			up, err := upload(n, &k)
			if err != nil {
				t.Fatalf("UploadPart %d: %v", n, err)
			}
			requireSSEC(t, "UploadPart", up.SSECustomerAlgorithm, up.SSECustomerKeyMD5, up.ServerSideEncryption, k)
			done = append(done, types.CompletedPart{PartNumber: aws.Int32(n), ETag: up.ETag})
		}
		co, err := c.CompleteMultipartUpload(ctx(t), &s3.CompleteMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key), UploadId: cu.UploadId,
			MultipartUpload: &types.CompletedMultipartUpload{Parts: done}})
		if err != nil {
			t.Fatal(err)
		}
		if co.ServerSideEncryption != "" {
			t.Errorf("CompleteMultipartUpload of an SSE-C upload reports %q", co.ServerSideEncryption)
		}
		in := &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}
		withKey(k)(in)
		got, _ := getBytes(t, c, in)
		requireSameBytes(t, "SSE-C multipart GET", got, append(append([]byte{}, parts[0]...), parts[1]...))
		_, err = get(key)
		requireAPIError(t, err, http.StatusBadRequest, "InvalidRequest")
		in = &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), PartNumber: aws.Int32(2)}
		withKey(k)(in)
		got, _ = getBytes(t, c, in)
		requireSameBytes(t, "SSE-C GET partNumber=2", got, parts[1])
	})
	t.Run("UploadPartCopy", func(t *testing.T) {
		k2 := newSSECKey(t)
		cu, err := c.CreateMultipartUpload(ctx(t), &s3.CreateMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String("upc"),
			SSECustomerAlgorithm: sseCAlgorithm, SSECustomerKey: &k2.key, SSECustomerKeyMD5: &k2.md5})
		if err != nil {
			t.Fatal(err)
		}
		in := &s3.UploadPartCopyInput{Bucket: aws.String(bucket), Key: aws.String("upc"), UploadId: cu.UploadId, PartNumber: aws.Int32(1),
			CopySource: aws.String(bucket + "/obj"), CopySourceRange: aws.String("bytes=0-99999"),
			SSECustomerAlgorithm: sseCAlgorithm, SSECustomerKey: &k2.key, SSECustomerKeyMD5: &k2.md5}
		_, err = c.UploadPartCopy(ctx(t), in)
		requireAPIError(t, err, http.StatusBadRequest, "InvalidRequest")
		in.CopySourceSSECustomerAlgorithm, in.CopySourceSSECustomerKey, in.CopySourceSSECustomerKeyMD5 = sseCAlgorithm, &k.key, &k.md5
		pc, err := c.UploadPartCopy(ctx(t), in)
		if err != nil {
			t.Fatal(err)
		}
		requireSSEC(t, "UploadPartCopy", pc.SSECustomerAlgorithm, pc.SSECustomerKeyMD5, pc.ServerSideEncryption, k2)
		_, err = c.CompleteMultipartUpload(ctx(t), &s3.CompleteMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String("upc"), UploadId: cu.UploadId,
			MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{PartNumber: aws.Int32(1), ETag: pc.CopyPartResult.ETag}}}})
		if err != nil {
			t.Fatal(err)
		}
		gin := &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("upc")}
		withKey(k2)(gin)
		got, _ := getBytes(t, c, gin)
		requireSameBytes(t, "UploadPartCopy SSE-C -> SSE-C", got, data[:100000])
	})
	t.Run("CopyBetweenModes", func(t *testing.T) {
		// SSE-C source -> SSE-S3 destination.
		_, err := c.CopyObject(ctx(t), &s3.CopyObjectInput{Bucket: aws.String(bucket), Key: aws.String("as-s3"), CopySource: aws.String(bucket + "/obj")})
		requireAPIError(t, err, http.StatusBadRequest, "InvalidRequest")
		cp, err := c.CopyObject(ctx(t), &s3.CopyObjectInput{Bucket: aws.String(bucket), Key: aws.String("as-s3"), CopySource: aws.String(bucket + "/obj"),
			CopySourceSSECustomerAlgorithm: sseCAlgorithm, CopySourceSSECustomerKey: &k.key, CopySourceSSECustomerKeyMD5: &k.md5})
		if err != nil {
			t.Fatal(err)
		}
		requireSSES3(t, "CopyObject SSE-C -> SSE-S3", cp.ServerSideEncryption, cp.SSEKMSKeyId)
		got, g := getBytes(t, c, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("as-s3")})
		requireSameBytes(t, "GET SSE-S3 copy", got, data)
		requireSSES3(t, "GET SSE-S3 copy", g.ServerSideEncryption, g.SSEKMSKeyId)

		// ... and back, under another key.
		k3 := newSSECKey(t)
		cp, err = c.CopyObject(ctx(t), &s3.CopyObjectInput{Bucket: aws.String(bucket), Key: aws.String("as-c"), CopySource: aws.String(bucket + "/as-s3"),
			SSECustomerAlgorithm: sseCAlgorithm, SSECustomerKey: &k3.key, SSECustomerKeyMD5: &k3.md5})
		if err != nil {
			t.Fatal(err)
		}
		requireSSEC(t, "CopyObject SSE-S3 -> SSE-C", cp.SSECustomerAlgorithm, cp.SSECustomerKeyMD5, cp.ServerSideEncryption, k3)
		_, err = get("as-c", withKey(k))
		requireAPIError(t, err, http.StatusForbidden, "AccessDenied")
		in := &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("as-c")}
		withKey(k3)(in)
		got, _ = getBytes(t, c, in)
		requireSameBytes(t, "GET SSE-C copy", got, data)

		// Re-keying in place: copy onto itself with new SSE-C headers.
		k4 := newSSECKey(t)
		_, err = c.CopyObject(ctx(t), &s3.CopyObjectInput{Bucket: aws.String(bucket), Key: aws.String("as-c"), CopySource: aws.String(bucket + "/as-c"),
			CopySourceSSECustomerAlgorithm: sseCAlgorithm, CopySourceSSECustomerKey: &k3.key, CopySourceSSECustomerKeyMD5: &k3.md5,
			SSECustomerAlgorithm: sseCAlgorithm, SSECustomerKey: &k4.key, SSECustomerKeyMD5: &k4.md5})
		if err != nil {
			t.Fatal(err)
		}
		_, err = get("as-c", withKey(k3))
		requireAPIError(t, err, http.StatusForbidden, "AccessDenied")
		in = &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("as-c")}
		withKey(k4)(in)
		got, _ = getBytes(t, c, in)
		requireSameBytes(t, "GET re-keyed copy", got, data)
	})
}

// TestSSECPlainHTTP: SSE-C over plain HTTP is refused (the key crossed the
// network in clear) unless the server runs with --insecure.
func TestSSECPlainHTTP(t *testing.T) {
	k := newSSECKey(t)
	put := func(c *s3.Client, bucket string) error {
		_, err := c.PutObject(ctx(t), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("c"), Body: strings.NewReader("secret"),
			SSECustomerAlgorithm: sseCAlgorithm, SSECustomerKey: &k.key, SSECustomerKeyMD5: &k.md5})
		return err
	}
	t.Run("Refused", func(t *testing.T) {
		s := startServer(t)
		c := s.s3Client(t)
		bucket := newBucket(t, c, "ssec-http")
		err := put(c, bucket)
		requireAPIError(t, err, http.StatusBadRequest, "InvalidRequest")
		if m := errMessage(err); m != "Requests specifying Server Side Encryption with Customer provided keys must be made over a secure connection." {
			t.Errorf("message %q", m)
		}
		putBytes(t, c, bucket, "plain", []byte("x"))
		_, err = c.GetObject(ctx(t), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("plain"),
			SSECustomerAlgorithm: sseCAlgorithm, SSECustomerKey: &k.key, SSECustomerKeyMD5: &k.md5})
		requireAPIError(t, err, http.StatusBadRequest, "InvalidRequest")
		_, err = c.HeadObject(ctx(t), &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String("c")})
		requireAPIError(t, err, http.StatusNotFound)
	})
	t.Run("Insecure", func(t *testing.T) {
		s := startServerWith(t, newDrives(t, 4), serverOptions{Args: []string{"--insecure"}})
		c := s.s3Client(t)
		bucket := newBucket(t, c, "ssec-insecure")
		if err := put(c, bucket); err != nil {
			t.Fatalf("SSE-C PUT over plain HTTP with --insecure: %v", err)
		}
		got, _ := getBytes(t, c, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("c"),
			SSECustomerAlgorithm: sseCAlgorithm, SSECustomerKey: &k.key, SSECustomerKeyMD5: &k.md5})
		requireSameBytes(t, "SSE-C GET with --insecure", got, []byte("secret"))
	})
}

// TestBucketEncryptionConfig: Get/Put/DeleteBucketEncryption.
func TestBucketEncryptionConfig(t *testing.T) {
	s := startServer(t)
	c := s.s3Client(t)
	bucket := newBucket(t, c, "bucket-enc")
	getRule := func() types.ServerSideEncryptionRule {
		t.Helper()
		out, err := c.GetBucketEncryption(ctx(t), &s3.GetBucketEncryptionInput{Bucket: aws.String(bucket)})
		if err != nil {
			t.Fatalf("GetBucketEncryption: %v", err)
		}
		if out.ServerSideEncryptionConfiguration == nil || len(out.ServerSideEncryptionConfiguration.Rules) != 1 ||
			out.ServerSideEncryptionConfiguration.Rules[0].ApplyServerSideEncryptionByDefault == nil {
			t.Fatalf("GetBucketEncryption: %+v", out.ServerSideEncryptionConfiguration)
		}
		return out.ServerSideEncryptionConfiguration.Rules[0]
	}
	if r := getRule(); r.ApplyServerSideEncryptionByDefault.SSEAlgorithm != types.ServerSideEncryptionAes256 {
		t.Fatalf("default rule %+v", r.ApplyServerSideEncryptionByDefault)
	}
	put := func(alg types.ServerSideEncryption, keyID *string, bucketKey bool) error {
		_, err := c.PutBucketEncryption(ctx(t), &s3.PutBucketEncryptionInput{Bucket: aws.String(bucket),
			ServerSideEncryptionConfiguration: &types.ServerSideEncryptionConfiguration{Rules: []types.ServerSideEncryptionRule{{
				ApplyServerSideEncryptionByDefault: &types.ServerSideEncryptionByDefault{SSEAlgorithm: alg, KMSMasterKeyID: keyID},
				BucketKeyEnabled:                   aws.Bool(bucketKey),
			}}}})
		return err
	}
	requireAPIError(t, put(types.ServerSideEncryptionAwsKms, aws.String("no-such-key-for-coffer"), false), http.StatusBadRequest, "KMS.NotFoundException")
	requireAPIError(t, put(types.ServerSideEncryptionAwsKmsDsse, nil, false), http.StatusBadRequest, "InvalidArgument")
	if err := put(types.ServerSideEncryptionAes256, nil, true); err != nil {
		t.Fatalf("PutBucketEncryption AES256: %v", err)
	}
	if r := getRule(); r.ApplyServerSideEncryptionByDefault.SSEAlgorithm != types.ServerSideEncryptionAes256 || !aws.ToBool(r.BucketKeyEnabled) {
		t.Fatalf("after PUT: %+v bucket key %v", r.ApplyServerSideEncryptionByDefault, aws.ToBool(r.BucketKeyEnabled))
	}
	out := putBytes(t, c, bucket, "obj", []byte("x"))
	requireSSES3(t, "PUT under an AES256 default", out.ServerSideEncryption, out.SSEKMSKeyId)
	del, err := c.DeleteBucketEncryption(ctx(t), &s3.DeleteBucketEncryptionInput{Bucket: aws.String(bucket)})
	if err != nil {
		t.Fatalf("DeleteBucketEncryption: %v", err)
	}
	if st := rawStatus(del.ResultMetadata); st != http.StatusNoContent {
		t.Errorf("DeleteBucketEncryption status %d, want 204", st)
	}
	if r := getRule(); r.ApplyServerSideEncryptionByDefault.SSEAlgorithm != types.ServerSideEncryptionAes256 || aws.ToBool(r.BucketKeyEnabled) {
		t.Fatalf("after DELETE: %+v", r.ApplyServerSideEncryptionByDefault)
	}
	_, err = c.GetBucketEncryption(ctx(t), &s3.GetBucketEncryptionInput{Bucket: aws.String(bucketName("absent"))})
	requireAPIError(t, err, http.StatusNotFound, "NoSuchBucket")
}

// TestSSEKMSUnknownKey: an SSE-KMS write naming a key the tenant does not
// have fails with 400 KMS.NotFoundException and stores nothing.
func TestSSEKMSUnknownKey(t *testing.T) {
	s := startServer(t)
	c := s.s3Client(t)
	bucket := newBucket(t, c, "kms-unknown")
	_, err := c.PutObject(ctx(t), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("k"), Body: strings.NewReader("x"),
		ServerSideEncryption: types.ServerSideEncryptionAwsKms, SSEKMSKeyId: aws.String("no-such-key-for-coffer")})
	requireAPIError(t, err, http.StatusBadRequest, "KMS.NotFoundException")
	_, err = c.HeadObject(ctx(t), &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String("k")})
	requireAPIError(t, err, http.StatusNotFound)
	_, err = c.CreateMultipartUpload(ctx(t), &s3.CreateMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String("k"),
		ServerSideEncryption: types.ServerSideEncryptionAwsKms, SSEKMSKeyId: aws.String("no-such-key-for-coffer")})
	requireAPIError(t, err, http.StatusBadRequest, "KMS.NotFoundException")
}

// TestSSEKMSKeyEcho creates "testkey-1" with the admin CLI and checks that
// SSE-KMS writes under it echo the key id exactly on PUT, HEAD, GET, copy,
// multipart and through the bucket default.
func TestSSEKMSKeyEcho(t *testing.T) {
	s := startServer(t)
	createKMSKey(t, s, kmsTestTenant, "testkey-1")
	c := s.s3Client(t)
	bucket := newBucket(t, c, "kms-echo")
	requireKMS := func(what string, sse types.ServerSideEncryption, keyID *string) {
		t.Helper()
		if sse != types.ServerSideEncryptionAwsKms || aws.ToString(keyID) != "testkey-1" {
			t.Errorf("%s: x-amz-server-side-encryption %q key id %q, want aws:kms and testkey-1", what, sse, aws.ToString(keyID))
		}
	}
	data := randomBytes(t, 200*kib)
	out := putBytes(t, c, bucket, "k", data, func(in *s3.PutObjectInput) {
		in.ServerSideEncryption, in.SSEKMSKeyId, in.BucketKeyEnabled = types.ServerSideEncryptionAwsKms, aws.String("testkey-1"), aws.Bool(true)
	})
	requireKMS("PUT", out.ServerSideEncryption, out.SSEKMSKeyId)
	if !aws.ToBool(out.BucketKeyEnabled) {
		t.Error("PUT did not echo x-amz-server-side-encryption-bucket-key-enabled")
	}
	h, err := c.HeadObject(ctx(t), &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String("k")})
	if err != nil {
		t.Fatal(err)
	}
	requireKMS("HEAD", h.ServerSideEncryption, h.SSEKMSKeyId)
	got, g := getBytes(t, c, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("k")})
	requireSameBytes(t, "SSE-KMS GET", got, data)
	requireKMS("GET", g.ServerSideEncryption, g.SSEKMSKeyId)

	cp, err := c.CopyObject(ctx(t), &s3.CopyObjectInput{Bucket: aws.String(bucket), Key: aws.String("copy"), CopySource: aws.String(bucket + "/k"),
		ServerSideEncryption: types.ServerSideEncryptionAwsKms, SSEKMSKeyId: aws.String("testkey-1")})
	if err != nil {
		t.Fatal(err)
	}
	requireKMS("CopyObject", cp.ServerSideEncryption, cp.SSEKMSKeyId)

	// The bucket default applies to writes without SSE headers.
	_, err = c.PutBucketEncryption(ctx(t), &s3.PutBucketEncryptionInput{Bucket: aws.String(bucket),
		ServerSideEncryptionConfiguration: &types.ServerSideEncryptionConfiguration{Rules: []types.ServerSideEncryptionRule{{
			ApplyServerSideEncryptionByDefault: &types.ServerSideEncryptionByDefault{SSEAlgorithm: types.ServerSideEncryptionAwsKms, KMSMasterKeyID: aws.String("testkey-1")},
		}}}})
	if err != nil {
		t.Fatalf("PutBucketEncryption aws:kms testkey-1: %v", err)
	}
	ge, err := c.GetBucketEncryption(ctx(t), &s3.GetBucketEncryptionInput{Bucket: aws.String(bucket)})
	if err != nil {
		t.Fatal(err)
	}
	if d := ge.ServerSideEncryptionConfiguration.Rules[0].ApplyServerSideEncryptionByDefault; d.SSEAlgorithm != types.ServerSideEncryptionAwsKms || aws.ToString(d.KMSMasterKeyID) != "testkey-1" {
		t.Errorf("GetBucketEncryption %+v", d)
	}
	out = putBytes(t, c, bucket, "by-default", []byte("x"))
	requireKMS("PUT under the bucket default", out.ServerSideEncryption, out.SSEKMSKeyId)
	cu, err := c.CreateMultipartUpload(ctx(t), &s3.CreateMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String("mp")})
	if err != nil {
		t.Fatal(err)
	}
	requireKMS("CreateMultipartUpload under the bucket default", cu.ServerSideEncryption, cu.SSEKMSKeyId)
	up, err := c.UploadPart(ctx(t), &s3.UploadPartInput{Bucket: aws.String(bucket), Key: aws.String("mp"), UploadId: cu.UploadId,
		PartNumber: aws.Int32(1), Body: strings.NewReader("part"), ContentLength: aws.Int64(4)})
	if err != nil {
		t.Fatal(err)
	}
	done, err := c.CompleteMultipartUpload(ctx(t), &s3.CompleteMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String("mp"), UploadId: cu.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{PartNumber: aws.Int32(1), ETag: up.ETag}}}})
	if err != nil {
		t.Fatal(err)
	}
	requireKMS("CompleteMultipartUpload", done.ServerSideEncryption, done.SSEKMSKeyId)
}
