package s3api

import (
	"net/url"
	"sort"
	"strconv"
	"unicode/utf8"

	"github.com/cofferstore/coffer/object"
)

// Tag limits as S3 enforces them.
const (
	maxObjectTags  = 10
	maxBucketTags  = 50
	maxTagKeyLen   = 128
	maxTagValueLen = 256
)

// validateTags checks a tag set against S3's limits (InvalidTag).
func validateTags(tags map[string]string, max int) error {
	if len(tags) > max {
		return errCode("InvalidTag", "The number of tags exceeds the limit of "+strconv.Itoa(max)+" tags")
	}
	for k, v := range tags {
		if k == "" || utf8.RuneCountInString(k) > maxTagKeyLen || !utf8.ValidString(k) {
			return errCode("InvalidTag", "The TagKey you have provided is invalid")
		}
		if utf8.RuneCountInString(v) > maxTagValueLen || !utf8.ValidString(v) {
			return errCode("InvalidTag", "The TagValue you have provided is invalid")
		}
	}
	return nil
}

// parseTagHeader parses x-amz-tagging (URL query encoding).
func parseTagHeader(v string) (map[string]string, error) {
	q, err := url.ParseQuery(v)
	if err != nil {
		return nil, errCode("InvalidArgument", "The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query parameters without tag name duplicates.")
	}
	tags := make(map[string]string, len(q))
	for k, vs := range q {
		if len(vs) != 1 {
			return nil, errCode("InvalidTag", "Cannot provide multiple Tags with the same key")
		}
		tags[k] = vs[0]
	}
	if err := validateTags(tags, maxObjectTags); err != nil {
		return nil, err
	}
	return tags, nil
}

// taggingDoc renders a tag map as a Tagging document, sorted by key.
func taggingDoc(tags map[string]string) tagging {
	t := tagging{NS: s3NS}
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		t.TagSet.Tags = append(t.TagSet.Tags, tagXML{Key: k, Value: tags[k]})
	}
	return t
}

// getObjectTagging: GET /bucket/key?tagging.
func getObjectTagging(r *request) error {
	info, err := r.s.layer.HeadObject(r.c, r.bucket, r.key, object.GetOptions{VersionID: r.query.get("versionId"), MetadataOnly: true})
	if err != nil {
		return err
	}
	if info.VersionID != "" {
		r.setHeader("x-amz-version-id", info.VersionID)
	}
	return r.writeXML(200, taggingDoc(info.Tags))
}

// putObjectTagging: PUT /bucket/key?tagging.
func putObjectTagging(r *request) error {
	b, err := r.readBody(maxXMLBody)
	if err != nil {
		return err
	}
	tags, err := parseTagging(b, maxObjectTags)
	if err != nil {
		return err
	}
	info, err := r.s.layer.PutObjectTags(r.c, r.bucket, r.key, r.query.get("versionId"), tags)
	if err != nil {
		return err
	}
	if info.VersionID != "" {
		r.setHeader("x-amz-version-id", info.VersionID)
	}
	return r.writeStatus(200)
}

// deleteObjectTagging: DELETE /bucket/key?tagging (204).
func deleteObjectTagging(r *request) error {
	info, err := r.s.layer.PutObjectTags(r.c, r.bucket, r.key, r.query.get("versionId"), nil)
	if err != nil {
		return err
	}
	if info.VersionID != "" {
		r.setHeader("x-amz-version-id", info.VersionID)
	}
	return r.writeStatus(204)
}

// getBucketTagging: GET /bucket?tagging; NoSuchTagSet when none is set.
func getBucketTagging(r *request) error {
	info, err := r.s.layer.GetBucketInfo(r.c, r.bucket)
	if err != nil {
		return err
	}
	if len(info.Tags) == 0 {
		return errCode("NoSuchTagSet", "")
	}
	return r.writeXML(200, taggingDoc(info.Tags))
}

// putBucketTagging: PUT /bucket?tagging (204, as S3).
func putBucketTagging(r *request) error {
	b, err := r.readBody(maxXMLBody)
	if err != nil {
		return err
	}
	tags, err := parseTagging(b, maxBucketTags)
	if err != nil {
		return err
	}
	if err := r.s.layer.SetBucketTags(r.c, r.bucket, tags); err != nil {
		return err
	}
	return r.writeStatus(204)
}

// deleteBucketTagging: DELETE /bucket?tagging (204).
func deleteBucketTagging(r *request) error {
	if err := r.s.layer.SetBucketTags(r.c, r.bucket, nil); err != nil {
		return err
	}
	return r.writeStatus(204)
}
