package s3api

import (
	"bytes"
	"encoding/xml"
	"errors"

	"github.com/cofferstore/coffer/iam/acl"
	"github.com/cofferstore/coffer/iam/policy"
)

// Names of the bucket configuration documents this file keeps through
// object.Layer.SetBucketConfig.
const (
	configPolicy            = "policy"
	configPublicAccessBlock = "public-access-block"
)

// publicAccessBlock returns the bucket's Block Public Access settings: all
// on unless configured otherwise (as AWS sets new buckets since 2023).
func publicAccessBlock(configs map[string][]byte) acl.PublicAccessBlock {
	if raw, ok := configs[configPublicAccessBlock]; ok {
		if pab, err := acl.ParsePublicAccessBlock(bytes.NewReader(raw)); err == nil {
			return pab
		}
	}
	return acl.DefaultPublicAccessBlock()
}

// putBucketPolicy: PUT /bucket?policy.
func putBucketPolicy(r *request) error {
	bi, err := r.s.layer.GetBucketInfo(r.c, r.bucket)
	if err != nil {
		return err
	}
	body, err := r.readBody(policy.MaxSize)
	if err != nil {
		return err
	}
	p, err := policy.ParseBucket(body, r.bucket)
	if err != nil {
		return errCode("MalformedPolicy", policyMessage(err))
	}
	if p.IsPublic() && publicAccessBlock(bi.Configs).BlockPublicPolicy {
		return errCode("AccessDenied", "The bucket policy is public and BlockPublicPolicy is on.")
	}
	if err := r.s.layer.SetBucketConfig(r.c, r.bucket, configPolicy, body); err != nil {
		return err
	}
	return r.writeStatus(204)
}

// policyMessage is the client-facing text of a policy parse error.
func policyMessage(err error) string {
	msg := err.Error()
	if errors.Is(err, policy.ErrMalformedPolicy) && len(msg) > 300 {
		msg = msg[:300]
	}
	return msg
}

// getBucketPolicy: GET /bucket?policy.
func getBucketPolicy(r *request) error {
	bi, err := r.s.layer.GetBucketInfo(r.c, r.bucket)
	if err != nil {
		return err
	}
	raw, ok := bi.Configs[configPolicy]
	if !ok {
		return errCode("NoSuchBucketPolicy", "")
	}
	r.ctx.SetStatusCode(200)
	r.ctx.Response.Header.SetContentType("application/json")
	r.ctx.SetBody(raw)
	return nil
}

// deleteBucketPolicy: DELETE /bucket?policy.
func deleteBucketPolicy(r *request) error {
	if err := r.s.layer.SetBucketConfig(r.c, r.bucket, configPolicy, nil); err != nil {
		return err
	}
	return r.writeStatus(204)
}

type policyStatus struct {
	XMLName  xml.Name `xml:"PolicyStatus"`
	NS       string   `xml:"xmlns,attr"`
	IsPublic bool     `xml:"IsPublic"`
}

// getBucketPolicyStatus: GET /bucket?policyStatus.
func getBucketPolicyStatus(r *request) error {
	bi, err := r.s.layer.GetBucketInfo(r.c, r.bucket)
	if err != nil {
		return err
	}
	raw, ok := bi.Configs[configPolicy]
	if !ok {
		return errCode("NoSuchBucketPolicy", "")
	}
	p, err := policy.ParseBucket(raw, r.bucket)
	if err != nil {
		return err
	}
	return r.writeXML(200, policyStatus{NS: s3NS, IsPublic: p.IsPublic()})
}

// putPublicAccessBlock: PUT /bucket?publicAccessBlock.
func putPublicAccessBlock(r *request) error {
	body, err := r.readBody(64 << 10)
	if err != nil {
		return err
	}
	pab, err := acl.ParsePublicAccessBlock(bytes.NewReader(body))
	if err != nil {
		return errCode("MalformedXML", "")
	}
	if err := r.s.layer.SetBucketConfig(r.c, r.bucket, configPublicAccessBlock, pab.XML()); err != nil {
		return err
	}
	return r.writeStatus(200)
}

// getPublicAccessBlock: GET /bucket?publicAccessBlock.
func getPublicAccessBlock(r *request) error {
	bi, err := r.s.layer.GetBucketInfo(r.c, r.bucket)
	if err != nil {
		return err
	}
	r.ctx.SetStatusCode(200)
	r.ctx.Response.Header.SetContentType("application/xml")
	r.ctx.SetBody(publicAccessBlock(bi.Configs).XML())
	return nil
}

// deletePublicAccessBlock: DELETE /bucket?publicAccessBlock (back to the
// default: everything blocked).
func deletePublicAccessBlock(r *request) error {
	if err := r.s.layer.SetBucketConfig(r.c, r.bucket, configPublicAccessBlock, nil); err != nil {
		return err
	}
	return r.writeStatus(204)
}
