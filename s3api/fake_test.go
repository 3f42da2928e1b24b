package s3api

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/cofferstore/coffer/object"
)

// fakeLayer is a small in-memory object.Layer for unit tests: unversioned
// objects only, multipart with in-memory parts.
type fakeLayer struct {
	mu      sync.Mutex
	buckets map[string]*fakeBucket
	uploads map[string]*fakeUpload
	seq     int
	now     time.Time
	failAll error
	// block, when non-nil, makes ListBuckets wait for it to be closed.
	block chan struct{}

	// kmsKeys are the SSE-KMS key ids that exist; others fail with
	// ErrNoSuchKMSKey.
	kmsKeys map[string]bool
	// The last SSE options each kind of call received. Key slices are
	// copies; the *Ref fields keep the slice the handler passed, so tests
	// can check that s3api wiped it after use.
	lastPutSSE     object.SSE
	lastGetKey     []byte
	lastGetKeyRef  []byte
	lastPartKey    []byte
	lastPartKeyRef []byte
	lastCopySrcKey []byte
}

type fakeBucket struct {
	info    object.BucketInfo
	objects map[string]*fakeObject
}

type fakeObject struct {
	info object.ObjectInfo
	data []byte
	// customerKey is the SSE-C key (the fake keeps it; the real layer
	// keeps only a MAC).
	customerKey []byte
}

type fakeUpload struct {
	bucket, key string
	opts        object.PutOptions
	parts       map[int]*fakeObject
	enc         object.Encryption
	customerKey []byte
}

func newFakeLayer() *fakeLayer {
	return &fakeLayer{buckets: map[string]*fakeBucket{}, uploads: map[string]*fakeUpload{},
		now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), kmsKeys: map[string]bool{"testkey-1": true}}
}

func (f *fakeLayer) bucket(name string) (*fakeBucket, error) {
	if f.failAll != nil {
		return nil, f.failAll
	}
	b, ok := f.buckets[name]
	if !ok {
		return nil, object.ErrNoSuchBucket
	}
	return b, nil
}

func (f *fakeLayer) MakeBucket(_ context.Context, name string, opts object.MakeBucketOptions) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.buckets[name]; ok {
		return object.ErrBucketExists
	}
	if len(name) < 3 || strings.ToLower(name) != name {
		return object.ErrInvalidBucketName
	}
	f.buckets[name] = &fakeBucket{info: object.BucketInfo{Name: name, Created: f.now, Region: opts.Region, Owner: opts.Owner, ObjectLock: opts.ObjectLock},
		objects: map[string]*fakeObject{}}
	return nil
}

func (f *fakeLayer) GetBucketInfo(_ context.Context, name string) (object.BucketInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	b, err := f.bucket(name)
	if err != nil {
		return object.BucketInfo{}, err
	}
	return b.info, nil
}

func (f *fakeLayer) ListBuckets(context.Context) ([]object.BucketInfo, error) {
	if f.block != nil {
		<-f.block
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failAll != nil {
		return nil, f.failAll
	}
	var out []object.BucketInfo
	for _, b := range f.buckets {
		out = append(out, b.info)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func (f *fakeLayer) DeleteBucket(_ context.Context, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	b, err := f.bucket(name)
	if err != nil {
		return err
	}
	if len(b.objects) > 0 {
		return object.ErrBucketNotEmpty
	}
	delete(f.buckets, name)
	return nil
}

func (f *fakeLayer) SetBucketTags(_ context.Context, name string, tags map[string]string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	b, err := f.bucket(name)
	if err != nil {
		return err
	}
	b.info.Tags = tags
	return nil
}

func (f *fakeLayer) SetBucketVersioning(_ context.Context, name, state string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	b, err := f.bucket(name)
	if err != nil {
		return err
	}
	b.info.Versioning = state
	return nil
}

func (f *fakeLayer) SetBucketEncryption(_ context.Context, name string, enc *object.BucketEncryption) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	b, err := f.bucket(name)
	if err != nil {
		return err
	}
	if enc != nil && enc.Mode == object.SSEKMS && enc.KMSKeyID != "" && !f.kmsKeys[enc.KMSKeyID] {
		return object.ErrNoSuchKMSKey
	}
	b.info.Encryption = enc
	return nil
}

func (f *fakeLayer) SetBucketConfig(_ context.Context, name, cfg string, value []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	b, err := f.bucket(name)
	if err != nil {
		return err
	}
	if value == nil {
		delete(b.info.Configs, cfg)
		return nil
	}
	if b.info.Configs == nil {
		b.info.Configs = map[string][]byte{}
	}
	b.info.Configs[cfg] = value
	return nil
}

// resolveSSE applies a write's SSE request (or the bucket default) as the
// real layer does, returning the version's encryption and SSE-C key copy.
func (f *fakeLayer) resolveSSE(bucket string, sse object.SSE) (object.Encryption, []byte, error) {
	f.lastPutSSE = sse
	f.lastPutSSE.CustomerKey = bytes.Clone(sse.CustomerKey)
	if sse.Mode == "" {
		if b := f.buckets[bucket]; b != nil && b.info.Encryption != nil {
			sse = object.SSE{Mode: b.info.Encryption.Mode, KMSKeyID: b.info.Encryption.KMSKeyID}
		} else {
			sse.Mode = object.SSES3
		}
	}
	switch sse.Mode {
	case object.SSES3:
	case object.SSEKMS:
		if sse.KMSKeyID != "" && !f.kmsKeys[sse.KMSKeyID] {
			return object.Encryption{}, nil, object.ErrNoSuchKMSKey
		}
	case object.SSEC:
		if len(sse.CustomerKey) != 32 {
			return object.Encryption{}, nil, object.ErrInvalidEncryption
		}
		return object.Encryption{Mode: object.SSEC}, bytes.Clone(sse.CustomerKey), nil
	default:
		return object.Encryption{}, nil, object.ErrInvalidEncryption
	}
	return object.Encryption{Mode: sse.Mode, KMSKeyID: sse.KMSKeyID}, nil, nil
}

// checkCustomerKey applies the layer's SSE-C read rules.
func checkCustomerKey(enc object.Encryption, stored, given []byte) error {
	switch {
	case enc.Mode != object.SSEC && given != nil:
		return object.ErrSSECustomerKeyNotExpected
	case enc.Mode == object.SSEC && given == nil:
		return object.ErrSSECustomerKeyMissing
	case enc.Mode == object.SSEC && !bytes.Equal(stored, given):
		return object.ErrSSECustomerKeyMismatch
	}
	return nil
}

func (f *fakeLayer) store(bucket, key string, r io.Reader, size int64, opts object.PutOptions) (*fakeObject, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	if size >= 0 && int64(len(data)) != size {
		return nil, object.ErrIncompleteBody
	}
	sum := md5.Sum(data)
	if opts.ExpectMD5 != nil && !bytes.Equal(opts.ExpectMD5, sum[:]) {
		return nil, object.ErrBadDigest
	}
	o := &fakeObject{data: data, info: object.ObjectInfo{
		Bucket: bucket, Key: key, Size: int64(len(data)), ModTime: f.now, ETag: hex.EncodeToString(sum[:]), IsLatest: true,
		ContentType: opts.ContentType, ContentEncoding: opts.ContentEncoding, ContentDisposition: opts.ContentDisposition,
		ContentLanguage: opts.ContentLanguage, CacheControl: opts.CacheControl, Expires: opts.Expires,
		UserMeta: opts.UserMeta, Tags: opts.Tags, ACL: opts.ACL, StorageClass: opts.StorageClass,
	}}
	if opts.ChecksumAlgorithm != "" {
		got := checksumOf(opts.ChecksumAlgorithm, data)
		want := opts.ExpectChecksum
		if opts.TrailingChecksum != nil {
			want = opts.TrailingChecksum()
		}
		if want != "" && want != got {
			return nil, object.ErrChecksumMismatch
		}
		o.info.Checksums = map[string]string{opts.ChecksumAlgorithm: got}
	}
	return o, nil
}

func (f *fakeLayer) PutObject(_ context.Context, bucket, key string, r io.Reader, size int64, opts object.PutOptions) (object.ObjectInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	b, err := f.bucket(bucket)
	if err != nil {
		return object.ObjectInfo{}, err
	}
	cur := b.objects[key]
	if opts.IfNoneMatchStar && cur != nil {
		return object.ObjectInfo{}, object.ErrPreconditionFailed
	}
	if opts.IfMatch != "" && (cur == nil || cur.info.ETag != opts.IfMatch) {
		return object.ObjectInfo{}, object.ErrPreconditionFailed
	}
	enc, ck, err := f.resolveSSE(bucket, opts.SSE)
	if err != nil {
		return object.ObjectInfo{}, err
	}
	o, err := f.store(bucket, key, r, size, opts)
	if err != nil {
		return object.ObjectInfo{}, err
	}
	o.info.Encryption, o.customerKey = enc, ck
	if b.info.Versioning == object.VersioningEnabled {
		f.seq++
		o.info.VersionID = fmt.Sprintf("v%d", f.seq)
	}
	b.objects[key] = o
	return o.info, nil
}

func (f *fakeLayer) get(bucket, key string, opts object.GetOptions) (*fakeObject, error) {
	b, err := f.bucket(bucket)
	if err != nil {
		return nil, err
	}
	o, ok := b.objects[key]
	if !ok {
		return nil, object.ErrNoSuchKey
	}
	if opts.VersionID != "" && opts.VersionID != o.info.VersionID {
		return nil, object.ErrNoSuchVersion
	}
	if err := checkCustomerKey(o.info.Encryption, o.customerKey, opts.CustomerKey); err != nil {
		return nil, err
	}
	return o, nil
}

func (f *fakeLayer) GetObject(_ context.Context, bucket, key string, opts object.GetOptions) (object.ObjectInfo, io.ReadCloser, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lastGetKey, f.lastGetKeyRef = bytes.Clone(opts.CustomerKey), opts.CustomerKey
	o, err := f.get(bucket, key, opts)
	if err != nil {
		return object.ObjectInfo{}, nil, err
	}
	data := o.data
	if opts.PartNumber > 0 {
		off, size, ok := partExtent(o.info, opts.PartNumber)
		if !ok && !(opts.PartNumber == 1 && o.info.PartsCount == 0) {
			return o.info, nil, object.ErrInvalidPartNumber
		}
		if ok {
			data = data[off : off+size]
		}
	}
	if opts.Range != nil {
		off, n, err := opts.Range.Resolve(o.info.Size)
		if err != nil {
			return o.info, nil, err
		}
		data = data[off : off+n]
	}
	return o.info, io.NopCloser(bytes.NewReader(data)), nil
}

func (f *fakeLayer) HeadObject(_ context.Context, bucket, key string, opts object.GetOptions) (object.ObjectInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lastGetKey, f.lastGetKeyRef = bytes.Clone(opts.CustomerKey), opts.CustomerKey
	o, err := f.get(bucket, key, opts)
	if err != nil {
		return object.ObjectInfo{}, err
	}
	return o.info, nil
}

func (f *fakeLayer) DeleteObject(_ context.Context, bucket, key string, opts object.DeleteOptions) (object.DeleteResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	b, err := f.bucket(bucket)
	if err != nil {
		return object.DeleteResult{}, err
	}
	if key == "locked" {
		return object.DeleteResult{}, object.ErrObjectLocked
	}
	if _, ok := b.objects[key]; !ok {
		return object.DeleteResult{}, object.ErrNoSuchKey
	}
	delete(b.objects, key)
	return object.DeleteResult{}, nil
}

func (f *fakeLayer) CopyObject(_ context.Context, src object.CopySource, dstBucket, dstKey string, opts object.PutOptions) (object.ObjectInfo, error) {
	f.mu.Lock()
	f.lastCopySrcKey = bytes.Clone(src.CustomerKey)
	s, err := f.get(src.Bucket, src.Key, object.GetOptions{VersionID: src.VersionID, CustomerKey: src.CustomerKey})
	f.mu.Unlock()
	if err != nil {
		return object.ObjectInfo{}, err
	}
	if src.IfMatch != "" && src.IfMatch != s.info.ETag {
		return object.ObjectInfo{}, object.ErrPreconditionFailed
	}
	if src.IfNoneMatch != "" && src.IfNoneMatch == s.info.ETag {
		return object.ObjectInfo{}, object.ErrNotModified
	}
	if !opts.MetadataReplace {
		opts.ContentType, opts.UserMeta = s.info.ContentType, s.info.UserMeta
	}
	if !opts.TagsReplace {
		opts.Tags = s.info.Tags
	}
	return f.PutObject(context.Background(), dstBucket, dstKey, bytes.NewReader(s.data), s.info.Size, opts)
}

func (f *fakeLayer) PutObjectTags(_ context.Context, bucket, key, versionID string, tags map[string]string) (object.ObjectInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	o, err := f.get(bucket, key, object.GetOptions{VersionID: versionID})
	if err != nil {
		return object.ObjectInfo{}, err
	}
	o.info.Tags = tags
	return o.info, nil
}

func (f *fakeLayer) PutObjectACL(_ context.Context, bucket, key, versionID string, acl []byte) (object.ObjectInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	o, err := f.get(bucket, key, object.GetOptions{VersionID: versionID})
	if err != nil {
		return object.ObjectInfo{}, err
	}
	o.info.ACL = acl
	return o.info, nil
}

func (f *fakeLayer) ListObjects(_ context.Context, bucket string, opts object.ListOptions) (object.ListResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	b, err := f.bucket(bucket)
	if err != nil {
		return object.ListResult{}, err
	}
	keys := make([]string, 0, len(b.objects))
	for k := range b.objects {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var res object.ListResult
	seen := map[string]bool{}
	for _, k := range keys {
		if !strings.HasPrefix(k, opts.Prefix) || k <= opts.Marker {
			continue
		}
		entry := k
		isPrefix := false
		if opts.Delimiter != "" {
			if i := strings.Index(k[len(opts.Prefix):], opts.Delimiter); i >= 0 {
				entry, isPrefix = k[:len(opts.Prefix)+i+len(opts.Delimiter)], true
			}
		}
		if isPrefix && (seen[entry] || entry <= opts.Marker) {
			continue
		}
		if len(res.Objects)+len(res.CommonPrefixes) == opts.MaxKeys {
			res.IsTruncated = true
			break
		}
		if isPrefix {
			seen[entry] = true
			res.CommonPrefixes = append(res.CommonPrefixes, entry)
		} else {
			res.Objects = append(res.Objects, b.objects[k].info)
		}
		res.NextMarker = entry
	}
	return res, nil
}

func (f *fakeLayer) ListObjectVersions(ctx context.Context, bucket string, opts object.ListVersionsOptions) (object.ListVersionsResult, error) {
	lr, err := f.ListObjects(ctx, bucket, object.ListOptions{Prefix: opts.Prefix, Delimiter: opts.Delimiter, Marker: opts.KeyMarker, MaxKeys: opts.MaxKeys})
	if err != nil {
		return object.ListVersionsResult{}, err
	}
	res := object.ListVersionsResult{Versions: lr.Objects, CommonPrefixes: lr.CommonPrefixes}
	res.Versions = append(res.Versions, object.ObjectInfo{Key: "zz-deleted", VersionID: "dm1", DeleteMarker: true, IsLatest: true, ModTime: f.now})
	return res, nil
}

func (f *fakeLayer) NewMultipartUpload(_ context.Context, bucket, key string, opts object.PutOptions) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, err := f.bucket(bucket); err != nil {
		return "", err
	}
	enc, ck, err := f.resolveSSE(bucket, opts.SSE)
	if err != nil {
		return "", err
	}
	f.seq++
	id := fmt.Sprintf("upload%d", f.seq)
	f.uploads[id] = &fakeUpload{bucket: bucket, key: key, opts: opts, parts: map[int]*fakeObject{}, enc: enc, customerKey: ck}
	return id, nil
}

func (f *fakeLayer) upload(bucket, key, id string) (*fakeUpload, error) {
	u, ok := f.uploads[id]
	if !ok || u.bucket != bucket || u.key != key {
		return nil, object.ErrNoSuchUpload
	}
	return u, nil
}

func (f *fakeLayer) PutObjectPart(_ context.Context, bucket, key, id string, n int, r io.Reader, size int64, opts object.PartOptions) (object.PartInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	u, err := f.upload(bucket, key, id)
	if err != nil {
		return object.PartInfo{}, err
	}
	f.lastPartKey, f.lastPartKeyRef = bytes.Clone(opts.CustomerKey), opts.CustomerKey
	if err := checkCustomerKey(u.enc, u.customerKey, opts.CustomerKey); err != nil {
		return object.PartInfo{}, err
	}
	o, err := f.store(bucket, key, r, size, object.PutOptions{ExpectMD5: opts.ExpectMD5})
	if err != nil {
		return object.PartInfo{}, err
	}
	u.parts[n] = o
	return object.PartInfo{Number: n, Size: o.info.Size, ETag: o.info.ETag, ModTime: f.now}, nil
}

func (f *fakeLayer) CompleteMultipartUpload(_ context.Context, bucket, key, id string, parts []object.CompletePart, opts object.CompleteOptions) (object.ObjectInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	u, err := f.upload(bucket, key, id)
	if err != nil {
		return object.ObjectInfo{}, err
	}
	var data []byte
	var infoParts []object.ObjectPart
	prev := 0
	for _, p := range parts {
		if p.Number <= prev {
			return object.ObjectInfo{}, object.ErrInvalidPartOrder
		}
		prev = p.Number
		po, ok := u.parts[p.Number]
		if !ok || po.info.ETag != p.ETag {
			return object.ObjectInfo{}, object.ErrInvalidPart
		}
		data = append(data, po.data...)
		infoParts = append(infoParts, object.ObjectPart{Number: p.Number, Size: po.info.Size, ETag: po.info.ETag})
	}
	b := f.buckets[bucket]
	o := &fakeObject{data: data, info: object.ObjectInfo{Bucket: bucket, Key: key, Size: int64(len(data)), ModTime: f.now,
		ETag: fmt.Sprintf("%x-%d", md5.Sum(data), len(parts)), PartsCount: len(parts), Parts: infoParts, IsLatest: true,
		ContentType: u.opts.ContentType, Encryption: u.enc}, customerKey: u.customerKey}
	b.objects[key] = o
	delete(f.uploads, id)
	return o.info, nil
}

func (f *fakeLayer) AbortMultipartUpload(_ context.Context, bucket, key, id string, _ object.AbortOptions) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, err := f.upload(bucket, key, id); err != nil {
		return err
	}
	delete(f.uploads, id)
	return nil
}

func (f *fakeLayer) ListParts(_ context.Context, bucket, key, id string, marker, max int) (object.ListPartsResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	u, err := f.upload(bucket, key, id)
	if err != nil {
		return object.ListPartsResult{}, err
	}
	var res object.ListPartsResult
	var nums []int
	for n := range u.parts {
		if n > marker {
			nums = append(nums, n)
		}
	}
	sort.Ints(nums)
	for _, n := range nums {
		if len(res.Parts) == max {
			res.IsTruncated = true
			break
		}
		p := u.parts[n]
		res.Parts = append(res.Parts, object.PartInfo{Number: n, Size: p.info.Size, ETag: p.info.ETag, ModTime: f.now})
		res.NextPartNumberMarker = n
	}
	return res, nil
}

func (f *fakeLayer) ListMultipartUploads(_ context.Context, bucket string, opts object.ListUploadsOptions) (object.ListUploadsResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, err := f.bucket(bucket); err != nil {
		return object.ListUploadsResult{}, err
	}
	var res object.ListUploadsResult
	for id, u := range f.uploads {
		if u.bucket == bucket && strings.HasPrefix(u.key, opts.Prefix) {
			res.Uploads = append(res.Uploads, object.UploadInfo{Key: u.key, UploadID: id, Initiated: f.now})
		}
	}
	sort.Slice(res.Uploads, func(i, j int) bool { return res.Uploads[i].UploadID < res.Uploads[j].UploadID })
	return res, nil
}

// SetObjectLockConfig records the configuration without the engine's
// checks (object/retention.go owns the rules).
func (f *fakeLayer) SetObjectLockConfig(_ context.Context, name string, enabled bool, def *object.LockDefault) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	b, err := f.bucket(name)
	if err != nil {
		return err
	}
	b.info.ObjectLock, b.info.ObjectLockDefault = enabled, def
	return nil
}

// PutObjectRetention stores the retention without the engine's rules.
func (f *fakeLayer) PutObjectRetention(_ context.Context, bucket, key, versionID string, mode string, until time.Time, _ bool) (object.ObjectInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	o, err := f.get(bucket, key, object.GetOptions{VersionID: versionID})
	if err != nil {
		return object.ObjectInfo{}, err
	}
	o.info.Lock.Mode, o.info.Lock.RetainUntil = mode, until
	return o.info, nil
}

// PutObjectLegalHold stores the legal hold.
func (f *fakeLayer) PutObjectLegalHold(_ context.Context, bucket, key, versionID string, on bool) (object.ObjectInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	o, err := f.get(bucket, key, object.GetOptions{VersionID: versionID})
	if err != nil {
		return object.ObjectInfo{}, err
	}
	o.info.Lock.LegalHold = on
	return o.info, nil
}

func (f *fakeLayer) Close() error { return nil }

var _ object.Layer = (*fakeLayer)(nil)

var errFake = fmt.Errorf("fake failure")
