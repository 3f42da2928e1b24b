package s3api

import (
	"encoding/xml"
	"strconv"
	"strings"

	"github.com/cofferstore/coffer/object"
)

// getObjectAttributesResult is the GetObjectAttributes response.
type getObjectAttributesResult struct {
	XMLName      xml.Name         `xml:"GetObjectAttributesResponse"`
	NS           string           `xml:"xmlns,attr"`
	ETag         string           `xml:"ETag,omitempty"`
	Checksum     *attrChecksumXML `xml:"Checksum,omitempty"`
	ObjectParts  *objectPartsXML  `xml:"ObjectParts,omitempty"`
	StorageClass string           `xml:"StorageClass,omitempty"`
	ObjectSize   *int64           `xml:"ObjectSize,omitempty"`
}

type attrChecksumXML struct {
	checksumXML
	ChecksumType string `xml:"ChecksumType,omitempty"`
}

type objectPartsXML struct {
	PartsCount           int           `xml:"PartsCount"`
	PartNumberMarker     int           `xml:"PartNumberMarker"`
	NextPartNumberMarker int           `xml:"NextPartNumberMarker"`
	MaxParts             int           `xml:"MaxParts"`
	IsTruncated          bool          `xml:"IsTruncated"`
	Parts                []attrPartXML `xml:"Part"`
}

type attrPartXML struct {
	PartNumber int   `xml:"PartNumber"`
	Size       int64 `xml:"Size"`
	checksumXML
}

// objectAttributes are the names x-amz-object-attributes accepts.
var objectAttributes = map[string]bool{"ETag": true, "Checksum": true, "ObjectParts": true, "StorageClass": true, "ObjectSize": true}

// getObjectAttributes: GET /bucket/key?attributes.
func getObjectAttributes(r *request) error {
	want := map[string]bool{}
	for _, v := range r.ctx.Request.Header.PeekAll("x-amz-object-attributes") {
		for _, a := range strings.Split(string(v), ",") {
			a = strings.TrimSpace(a)
			if a == "" {
				continue
			}
			if !objectAttributes[a] {
				return errCode("InvalidArgument", "Invalid attribute name specified.")
			}
			want[a] = true
		}
	}
	if len(want) == 0 {
		return errCode("InvalidArgument", "The x-amz-object-attributes header specifying the attributes to be retrieved is either missing or empty")
	}
	maxP, marker := maxListKeys, 0
	if v := r.header("x-amz-max-parts"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return errCode("InvalidArgument", "Provided max-parts not an integer or within integer range")
		}
		maxP = min(n, maxListKeys)
	}
	if v := r.header("x-amz-part-number-marker"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return errCode("InvalidArgument", "Provided part-number-marker not an integer or within integer range")
		}
		marker = n
	}
	ck, err := r.parseReadSSE()
	if err != nil {
		return err
	}
	defer ck.wipe()
	info, err := r.s.layer.HeadObject(r.c, r.bucket, r.key, object.GetOptions{VersionID: r.query.get("versionId"), CustomerKey: ck.bytes()})
	if err != nil {
		return deleteMarkerError(err, info)
	}
	res := getObjectAttributesResult{NS: s3NS}
	if want["ETag"] {
		res.ETag = info.ETag
	}
	if want["StorageClass"] {
		res.StorageClass = storageClass(info.StorageClass)
	}
	if want["ObjectSize"] {
		size := info.Size
		res.ObjectSize = &size
	}
	if want["Checksum"] && len(info.Checksums) > 0 {
		c := &attrChecksumXML{checksumXML: checksumsXML(info.Checksums), ChecksumType: "FULL_OBJECT"}
		if info.PartsCount > 0 {
			c.ChecksumType = "COMPOSITE"
		}
		res.Checksum = c
	}
	if want["ObjectParts"] && info.PartsCount > 0 {
		op := &objectPartsXML{PartsCount: info.PartsCount, PartNumberMarker: marker, MaxParts: maxP}
		for _, p := range info.Parts {
			if p.Number <= marker {
				continue
			}
			if len(op.Parts) == maxP {
				op.IsTruncated = true
				break
			}
			op.Parts = append(op.Parts, attrPartXML{PartNumber: p.Number, Size: p.Size, checksumXML: checksumsXML(p.Checksums)})
			op.NextPartNumberMarker = p.Number
		}
		res.ObjectParts = op
	}
	r.setHeader("Last-Modified", httpDate(info.ModTime))
	if info.VersionID != "" {
		r.setHeader("x-amz-version-id", info.VersionID)
	}
	return r.writeXML(200, res)
}
