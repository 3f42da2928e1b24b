package s3api

import (
	"encoding/base64"
	"encoding/xml"
	"errors"
	"github.com/cofferstore/coffer/iam/acl"
	"strconv"
	"strings"

	"github.com/cofferstore/coffer/object"
)

// listAllMyBucketsResult is the ListBuckets response.
type listAllMyBucketsResult struct {
	XMLName xml.Name `xml:"ListAllMyBucketsResult"`
	NS      string   `xml:"xmlns,attr"`
	Owner   owner    `xml:"Owner"`
	Buckets struct {
		Bucket []bucketXML `xml:"Bucket"`
	} `xml:"Buckets"`
	ContinuationToken string `xml:"ContinuationToken,omitempty"`
	Prefix            string `xml:"Prefix,omitempty"`
}

type bucketXML struct {
	Name         string `xml:"Name"`
	CreationDate string `xml:"CreationDate"`
	BucketRegion string `xml:"BucketRegion,omitempty"`
}

// listBuckets: GET / (prefix, max-buckets and continuation-token supported).
func listBuckets(r *request) error {
	max := 10000
	if v := r.query.get("max-buckets"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 10000 {
			return errCode("InvalidArgument", "max-buckets must be an integer between 1 and 10000")
		}
		max = n
	}
	after := ""
	if v := r.query.get("continuation-token"); v != "" {
		b, err := base64.RawURLEncoding.DecodeString(v)
		if err != nil {
			return errCode("InvalidArgument", "The continuation token provided is incorrect")
		}
		after = string(b)
	}
	prefix := r.query.get("prefix")
	region := r.query.get("bucket-region")
	buckets, err := r.s.layer.ListBuckets(r.c)
	if err != nil {
		return err
	}
	res := listAllMyBucketsResult{NS: s3NS, Owner: owner{ID: r.owner}, Prefix: prefix}
	res.Buckets.Bucket = []bucketXML{}
	for _, b := range buckets {
		if b.Name <= after || !strings.HasPrefix(b.Name, prefix) {
			continue
		}
		if !r.principal.Root && b.Tenant != r.principal.Tenant {
			continue // a tenant lists only its own buckets
		}
		bregion := b.Region
		if bregion == "" {
			bregion = r.s.cfg.Region
		}
		if region != "" && region != bregion {
			continue
		}
		if len(res.Buckets.Bucket) == max {
			res.ContinuationToken = base64.RawURLEncoding.EncodeToString([]byte(res.Buckets.Bucket[max-1].Name))
			break
		}
		res.Buckets.Bucket = append(res.Buckets.Bucket, bucketXML{Name: b.Name, CreationDate: iso8601(b.Created), BucketRegion: bregion})
	}
	return r.writeXML(200, res)
}

// createBucket: PUT /bucket.
func createBucket(r *request) error {
	if err := r.checkUnsupported(); err != nil {
		return err
	}
	settings := acl.DefaultSettings(acl.Owner{ID: r.owner})
	if v := r.header("x-amz-object-ownership"); v != "" {
		if settings.Ownership = acl.Ownership(v); !settings.Ownership.Valid() {
			return errCode("InvalidArgument", "Invalid x-amz-object-ownership header")
		}
	}
	bucketACL, err := acl.ParseHeaders(r.header, acl.Bucket, settings.BucketOwner, settings.BucketOwner)
	if err != nil {
		return aclError(err)
	}
	if err := settings.CheckWrite(acl.OpCreateBucket, r.header("x-amz-acl"), bucketACL); err != nil {
		return aclError(err)
	}
	b, err := r.readBody(maxXMLBody)
	if err != nil {
		return err
	}
	loc, err := parseCreateBucket(b)
	if err != nil {
		return err
	}
	region := r.s.cfg.Region
	if loc != "" && loc != region {
		return errCode("IllegalLocationConstraintException",
			"The "+loc+" location constraint is incompatible for the region specific endpoint this request was sent to.")
	}
	opts := object.MakeBucketOptions{Region: region, Owner: r.owner, Tenant: r.principal.Tenant}
	switch v := strings.ToLower(r.header("x-amz-bucket-object-lock-enabled")); v {
	case "", "false":
	case "true":
		opts.ObjectLock = true
	default:
		return errCode("InvalidArgument", "x-amz-bucket-object-lock-enabled must be true or false")
	}
	err = r.s.layer.MakeBucket(r.c, r.bucket, opts)
	if errors.Is(err, object.ErrBucketExists) {
		info, ierr := r.s.layer.GetBucketInfo(r.c, r.bucket)
		if ierr == nil && (info.Owner == "" || info.Owner == r.owner) {
			return errCode("BucketAlreadyOwnedByYou", "")
		}
		return err
	}
	if err != nil {
		return err
	}
	if settings.Ownership != acl.DefaultOwnership {
		if err := r.s.layer.SetBucketConfig(r.c, r.bucket, configOwnership, acl.OwnershipControlsXML(settings.Ownership)); err != nil {
			return err
		}
	}
	if settings.Ownership.ACLsEnabled() && bucketACL != nil {
		if err := r.s.layer.SetBucketConfig(r.c, r.bucket, configACL, bucketACL.XML()); err != nil {
			return err
		}
	}
	r.setHeader("Location", "/"+r.bucket)
	return r.writeStatus(200)
}

// headBucket: HEAD /bucket.
func headBucket(r *request) error {
	info, err := r.s.layer.GetBucketInfo(r.c, r.bucket)
	if err != nil {
		return err
	}
	region := info.Region
	if region == "" {
		region = r.s.cfg.Region
	}
	r.setHeader("x-amz-bucket-region", region)
	return r.writeStatus(200)
}

// deleteBucket: DELETE /bucket (204).
func deleteBucket(r *request) error {
	if err := r.s.layer.DeleteBucket(r.c, r.bucket); err != nil {
		return err
	}
	return r.writeStatus(204)
}

// locationConstraint is the GetBucketLocation response.
type locationConstraint struct {
	XMLName xml.Name `xml:"LocationConstraint"`
	NS      string   `xml:"xmlns,attr"`
	Region  string   `xml:",chardata"`
}

// getBucketLocation: GET /bucket?location (empty for us-east-1, as S3).
func getBucketLocation(r *request) error {
	info, err := r.s.layer.GetBucketInfo(r.c, r.bucket)
	if err != nil {
		return err
	}
	region := info.Region
	if region == "" {
		region = r.s.cfg.Region
	}
	if region == "us-east-1" {
		region = ""
	}
	return r.writeXML(200, locationConstraint{NS: s3NS, Region: region})
}

// getBucketVersioning: GET /bucket?versioning.
func getBucketVersioning(r *request) error {
	info, err := r.s.layer.GetBucketInfo(r.c, r.bucket)
	if err != nil {
		return err
	}
	return r.writeXML(200, versioningConfiguration{NS: s3NS, Status: info.Versioning})
}

// putBucketVersioning: PUT /bucket?versioning.
func putBucketVersioning(r *request) error {
	b, err := r.readBody(maxXMLBody)
	if err != nil {
		return err
	}
	state, err := parseVersioning(b)
	if err != nil {
		return err
	}
	info, err := r.s.layer.GetBucketInfo(r.c, r.bucket)
	if err != nil {
		return err
	}
	if info.ObjectLock && state == object.VersioningSuspended {
		return errCode("InvalidBucketState", "An Object Lock configuration is present on this bucket, so the versioning state cannot be changed.")
	}
	if err := r.s.layer.SetBucketVersioning(r.c, r.bucket, state); err != nil {
		return err
	}
	return r.writeStatus(200)
}
