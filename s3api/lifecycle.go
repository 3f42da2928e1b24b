package s3api

import (
	"github.com/cofferstore/coffer/lifecycle"
	"github.com/cofferstore/coffer/object"
)

// maxLifecycleBody bounds a PutBucketLifecycleConfiguration body (1000
// rules with long IDs and tag filters fit).
const maxLifecycleBody = 2 << 20

// putBucketLifecycle: PUT /bucket?lifecycle. As S3 requires, the body
// carries Content-MD5 or an x-amz-checksum-*; it is validated
// (lifecycle.Parse) and stored normalised, every rule named.
func putBucketLifecycle(r *request) error {
	if _, err := r.s.layer.GetBucketInfo(r.c, r.bucket); err != nil {
		return err
	}
	cs, err := r.parseChecksums()
	if err != nil {
		return err
	}
	b, err := r.readBody(maxLifecycleBody)
	if err != nil {
		return err
	}
	if err := r.verifySmallBody(b, cs, true); err != nil {
		return err
	}
	cfg, err := lifecycle.Parse(b)
	if err != nil {
		return lifecycleError(err)
	}
	if err := r.s.layer.SetBucketConfig(r.c, r.bucket, object.LifecycleConfigName, cfg.Marshal()); err != nil {
		return err
	}
	return r.writeStatus(200)
}

// lifecycleError turns a lifecycle validation error into its S3 error.
func lifecycleError(err error) error {
	if le, ok := err.(*lifecycle.Error); ok {
		return errCode(le.Code, le.Message)
	}
	return err
}

// getBucketLifecycle: GET /bucket?lifecycle.
func getBucketLifecycle(r *request) error {
	bi, err := r.s.layer.GetBucketInfo(r.c, r.bucket)
	if err != nil {
		return err
	}
	raw, ok := bi.Configs[object.LifecycleConfigName]
	if !ok {
		return errCode("NoSuchLifecycleConfiguration", "")
	}
	r.ctx.SetStatusCode(200)
	r.ctx.Response.Header.SetContentType("application/xml")
	r.ctx.SetBody(raw)
	return nil
}

// deleteBucketLifecycle: DELETE /bucket?lifecycle (204 whether or not a
// configuration existed, as S3).
func deleteBucketLifecycle(r *request) error {
	if _, err := r.s.layer.GetBucketInfo(r.c, r.bucket); err != nil {
		return err
	}
	if err := r.s.layer.SetBucketConfig(r.c, r.bucket, object.LifecycleConfigName, nil); err != nil {
		return err
	}
	return r.writeStatus(204)
}

// setExpirationHeader sets x-amz-expiration on a response about the
// current version info when a current-version Expiration rule of the
// bucket will expire it.
func (r *request) setExpirationHeader(info object.ObjectInfo) {
	if !info.IsLatest || info.DeleteMarker {
		return
	}
	bi, err := r.s.layer.GetBucketInfo(r.c, r.bucket)
	if err != nil {
		return
	}
	raw, ok := bi.Configs[object.LifecycleConfigName]
	if !ok {
		return
	}
	cfg, err := lifecycle.Parse(raw)
	if err != nil {
		return
	}
	day := r.s.cfg.LifecycleDay
	if day <= 0 {
		day = lifecycle.DefaultDay
	}
	v := lifecycle.Version{Key: r.key, Size: info.Size, Tags: info.Tags, ModTime: info.ModTime}
	if h := cfg.ExpirationHeader(v, day); h != "" {
		r.setHeader("x-amz-expiration", h)
	}
}
