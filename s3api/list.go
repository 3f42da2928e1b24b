package s3api

import (
	"encoding/base64"
	"encoding/xml"
	"net/url"
	"strconv"
	"strings"

	"github.com/cofferstore/coffer/object"
)

// maxListKeys is the default and largest page size of every listing.
const maxListKeys = 1000

// listParams are the parameters common to the listings.
type listParams struct {
	prefix, delimiter string
	maxKeys           int
	encode            bool // encoding-type=url
}

// parseListParams reads prefix, delimiter, encoding-type and the page size
// parameter named maxName.
func (r *request) parseListParams(maxName string) (listParams, error) {
	p := listParams{prefix: r.query.get("prefix"), delimiter: r.query.get("delimiter"), maxKeys: maxListKeys}
	switch r.query.get("encoding-type") {
	case "":
	case "url":
		p.encode = true
	default:
		return p, errCode("InvalidArgument", "Invalid Encoding Method specified in Request")
	}
	if r.query.has(maxName) {
		n, err := strconv.Atoi(r.query.get(maxName))
		if err != nil || n < 0 {
			return p, errCode("InvalidArgument", "Provided "+maxName+" not an integer or within integer range")
		}
		p.maxKeys = min(n, maxListKeys)
	}
	return p, nil
}

// s3URLEncode encodes a listing value as S3 does for encoding-type=url:
// query escaping (space as '+') with '/' kept.
func s3URLEncode(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "%2F", "/")
}

// enc applies the listing's encoding to a value.
func (p listParams) enc(s string) string {
	if p.encode {
		return s3URLEncode(s)
	}
	return s
}

// ownerOf returns the Owner element of an object.
func (r *request) ownerOf(id string) *owner {
	if id == "" {
		id = r.owner
	}
	return &owner{ID: id}
}

type objectXML struct {
	Key          string   `xml:"Key"`
	LastModified string   `xml:"LastModified"`
	ETag         string   `xml:"ETag"`
	ChecksumAlgo []string `xml:"ChecksumAlgorithm,omitempty"`
	Size         int64    `xml:"Size"`
	Owner        *owner   `xml:"Owner,omitempty"`
	StorageClass string   `xml:"StorageClass"`
}

type prefixXML struct {
	Prefix string `xml:"Prefix"`
}

// listBucketResult is the ListObjects (v1) and ListObjectsV2 response.
type listBucketResult struct {
	XMLName               xml.Name    `xml:"ListBucketResult"`
	NS                    string      `xml:"xmlns,attr"`
	Name                  string      `xml:"Name"`
	Prefix                string      `xml:"Prefix"`
	Marker                *string     `xml:"Marker,omitempty"`
	NextMarker            string      `xml:"NextMarker,omitempty"`
	ContinuationToken     string      `xml:"ContinuationToken,omitempty"`
	NextContinuationToken string      `xml:"NextContinuationToken,omitempty"`
	StartAfter            string      `xml:"StartAfter,omitempty"`
	KeyCount              *int        `xml:"KeyCount,omitempty"`
	MaxKeys               int         `xml:"MaxKeys"`
	Delimiter             string      `xml:"Delimiter,omitempty"`
	EncodingType          string      `xml:"EncodingType,omitempty"`
	IsTruncated           bool        `xml:"IsTruncated"`
	Contents              []objectXML `xml:"Contents"`
	CommonPrefixes        []prefixXML `xml:"CommonPrefixes"`
}

// fill renders a layer listing page into res.
func (r *request) fill(res *listBucketResult, p listParams, lr object.ListResult, withOwner bool) {
	for _, o := range lr.Objects {
		x := objectXML{Key: p.enc(o.Key), LastModified: iso8601(o.ModTime), ETag: quoteETag(o.ETag), Size: o.Size, StorageClass: storageClass(o.StorageClass)}
		for alg := range o.Checksums {
			x.ChecksumAlgo = append(x.ChecksumAlgo, alg)
		}
		if withOwner {
			x.Owner = r.ownerOf(o.Owner)
		}
		res.Contents = append(res.Contents, x)
	}
	for _, cp := range lr.CommonPrefixes {
		res.CommonPrefixes = append(res.CommonPrefixes, prefixXML{Prefix: p.enc(cp)})
	}
	res.IsTruncated = lr.IsTruncated
	if p.encode {
		res.EncodingType = "url"
	}
	res.Prefix, res.Delimiter = p.enc(p.prefix), p.enc(p.delimiter)
}

func storageClass(s string) string {
	if s == "" {
		return "STANDARD"
	}
	return s
}

// list calls the layer, answering max-keys=0 without a scan.
func (r *request) list(p listParams, marker string) (object.ListResult, error) {
	if p.maxKeys == 0 {
		_, err := r.s.layer.GetBucketInfo(r.c, r.bucket)
		return object.ListResult{}, err
	}
	return r.s.layer.ListObjects(r.c, r.bucket, object.ListOptions{Prefix: p.prefix, Delimiter: p.delimiter, Marker: marker, MaxKeys: p.maxKeys})
}

// listObjectsV1: GET /bucket.
func listObjectsV1(r *request) error {
	p, err := r.parseListParams("max-keys")
	if err != nil {
		return err
	}
	marker := r.query.get("marker")
	lr, err := r.list(p, marker)
	if err != nil {
		return err
	}
	encMarker := p.enc(marker)
	res := listBucketResult{NS: s3NS, Name: r.bucket, Marker: &encMarker, MaxKeys: p.maxKeys}
	r.fill(&res, p, lr, true)
	if lr.IsTruncated && p.delimiter != "" {
		res.NextMarker = p.enc(lr.NextMarker)
	}
	return r.writeXML(200, res)
}

// listObjectsV2: GET /bucket?list-type=2.
func listObjectsV2(r *request) error {
	p, err := r.parseListParams("max-keys")
	if err != nil {
		return err
	}
	startAfter := r.query.get("start-after")
	marker := startAfter
	token := r.query.get("continuation-token")
	if r.query.has("continuation-token") {
		b, err := base64.RawURLEncoding.DecodeString(token)
		if err != nil || token == "" {
			return errCode("InvalidArgument", "The continuation token provided is incorrect")
		}
		if string(b) > marker {
			marker = string(b)
		}
	}
	lr, err := r.list(p, marker)
	if err != nil {
		return err
	}
	res := listBucketResult{NS: s3NS, Name: r.bucket, MaxKeys: p.maxKeys, ContinuationToken: token, StartAfter: p.enc(startAfter)}
	r.fill(&res, p, lr, r.query.get("fetch-owner") == "true")
	n := len(res.Contents) + len(res.CommonPrefixes)
	res.KeyCount = &n
	if lr.IsTruncated {
		next := lr.NextMarker
		if next == "" && len(lr.Objects) > 0 {
			next = lr.Objects[len(lr.Objects)-1].Key
		}
		res.NextContinuationToken = base64.RawURLEncoding.EncodeToString([]byte(next))
	}
	return r.writeXML(200, res)
}

// versionXML is a Version or DeleteMarker entry of ListObjectVersions; the
// element name is set per entry so the two kinds stay interleaved in order.
type versionXML struct {
	XMLName      xml.Name
	Key          string `xml:"Key"`
	VersionID    string `xml:"VersionId"`
	IsLatest     bool   `xml:"IsLatest"`
	LastModified string `xml:"LastModified"`
	ETag         string `xml:"ETag,omitempty"`
	Size         *int64 `xml:"Size,omitempty"`
	Owner        *owner `xml:"Owner,omitempty"`
	StorageClass string `xml:"StorageClass,omitempty"`
}

// listVersionsResult is the ListObjectVersions response.
type listVersionsResult struct {
	XMLName             xml.Name     `xml:"ListVersionsResult"`
	NS                  string       `xml:"xmlns,attr"`
	Name                string       `xml:"Name"`
	Prefix              string       `xml:"Prefix"`
	KeyMarker           string       `xml:"KeyMarker"`
	VersionIDMarker     string       `xml:"VersionIdMarker"`
	NextKeyMarker       string       `xml:"NextKeyMarker,omitempty"`
	NextVersionIDMarker string       `xml:"NextVersionIdMarker,omitempty"`
	MaxKeys             int          `xml:"MaxKeys"`
	Delimiter           string       `xml:"Delimiter,omitempty"`
	EncodingType        string       `xml:"EncodingType,omitempty"`
	IsTruncated         bool         `xml:"IsTruncated"`
	Entries             []versionXML `xml:",any"`
	CommonPrefixes      []prefixXML  `xml:"CommonPrefixes"`
}

// listObjectVersions: GET /bucket?versions.
func listObjectVersions(r *request) error {
	p, err := r.parseListParams("max-keys")
	if err != nil {
		return err
	}
	keyMarker, vidMarker := r.query.get("key-marker"), r.query.get("version-id-marker")
	if vidMarker != "" && keyMarker == "" {
		return errCode("InvalidArgument", "A version-id marker cannot be specified without a key marker.")
	}
	var lr object.ListVersionsResult
	if p.maxKeys == 0 {
		_, err = r.s.layer.GetBucketInfo(r.c, r.bucket)
	} else {
		lr, err = r.s.layer.ListObjectVersions(r.c, r.bucket, object.ListVersionsOptions{
			Prefix: p.prefix, Delimiter: p.delimiter, KeyMarker: keyMarker, VersionIDMarker: vidMarker, MaxKeys: p.maxKeys,
		})
	}
	if err != nil {
		return err
	}
	res := listVersionsResult{NS: s3NS, Name: r.bucket, Prefix: p.enc(p.prefix), KeyMarker: p.enc(keyMarker), VersionIDMarker: vidMarker,
		MaxKeys: p.maxKeys, Delimiter: p.enc(p.delimiter), IsTruncated: lr.IsTruncated}
	if p.encode {
		res.EncodingType = "url"
	}
	if lr.IsTruncated {
		res.NextKeyMarker, res.NextVersionIDMarker = p.enc(lr.NextKeyMarker), nullVersion(lr.NextVersionIDMarker)
	}
	for _, v := range lr.Versions {
		e := versionXML{Key: p.enc(v.Key), VersionID: nullVersion(v.VersionID), IsLatest: v.IsLatest, LastModified: iso8601(v.ModTime), Owner: r.ownerOf(v.Owner)}
		if v.DeleteMarker {
			e.XMLName = xml.Name{Local: "DeleteMarker"}
		} else {
			size := v.Size
			e.XMLName, e.ETag, e.Size, e.StorageClass = xml.Name{Local: "Version"}, quoteETag(v.ETag), &size, storageClass(v.StorageClass)
		}
		res.Entries = append(res.Entries, e)
	}
	for _, cp := range lr.CommonPrefixes {
		res.CommonPrefixes = append(res.CommonPrefixes, prefixXML{Prefix: p.enc(cp)})
	}
	return r.writeXML(200, res)
}

// nullVersion spells the empty version id as S3 does in listings.
func nullVersion(v string) string {
	if v == "" {
		return object.NullVersionID
	}
	return v
}
