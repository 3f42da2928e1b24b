package s3api

import (
	"encoding/xml"
	"strings"
	"time"

	"github.com/cofferstore/coffer/lock"
	"github.com/cofferstore/coffer/object"
)

// Object Lock: Put/GetObjectLockConfiguration on buckets, Put/Get
// ObjectRetention and ObjectLegalHold on versions, the x-amz-object-lock-*
// write headers and the governance bypass.

// Object Lock request headers.
const (
	hdrLockMode      = "x-amz-object-lock-mode"
	hdrLockUntil     = "x-amz-object-lock-retain-until-date"
	hdrLockLegalHold = "x-amz-object-lock-legal-hold"
	hdrBypass        = "x-amz-bypass-governance-retention"
)

// Messages AWS sends for Object Lock request errors.
const (
	msgLockBothHeaders = "x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be supplied"
	msgLockMode        = "Unknown wormMode directive."
	msgLockDate        = "The retain until date must be provided in ISO 8601 format"
	msgLockPast        = "The retain until date must be in the future!"
	msgLockLegalHold   = "Legal Hold must be either of 'ON' or 'OFF'"
	msgLockNeedsMD5    = "Content-MD5 OR x-amz-checksum- HTTP header is required for Put Object requests with Object Lock parameters"
)

// lockDateFormat is how retain-until dates are sent back (ISO 8601, UTC,
// milliseconds), as S3 sends them.
const lockDateFormat = "2006-01-02T15:04:05.000Z"

// parseLockDate parses an ISO 8601 / RFC 3339 retain-until date.
func parseLockDate(v string) (time.Time, bool) {
	t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(v))
	return t.UTC(), err == nil
}

// parseLockHeaders reads the x-amz-object-lock-* headers of a write; nil
// when none is present (the bucket default then applies).
func (r *request) parseLockHeaders() (*object.LockOptions, error) {
	mode, until, hold := r.header(hdrLockMode), r.header(hdrLockUntil), r.header(hdrLockLegalHold)
	if mode == "" && until == "" && hold == "" {
		return nil, nil
	}
	o := &object.LockOptions{}
	if (mode == "") != (until == "") {
		return nil, errCode("InvalidArgument", msgLockBothHeaders)
	}
	if mode != "" {
		if mode != lock.ModeGovernance && mode != lock.ModeCompliance {
			return nil, errCode("InvalidArgument", msgLockMode)
		}
		t, ok := parseLockDate(until)
		if !ok {
			return nil, errCode("InvalidArgument", msgLockDate)
		}
		if !t.After(time.Now()) {
			return nil, errCode("InvalidArgument", msgLockPast)
		}
		o.Mode, o.RetainUntil = mode, t
	}
	switch hold {
	case "":
	case "ON", "OFF":
		o.LegalHold, o.LegalHoldSet = hold == "ON", true
	default:
		return nil, errCode("InvalidArgument", msgLockLegalHold)
	}
	return o, nil
}

// requireLockIntegrity enforces, as S3 does, that a write carrying Object
// Lock headers also carries Content-MD5 or an x-amz-checksum-* header or
// trailer: a record kept under retention MUST arrive verified.
func requireLockIntegrity(lk *object.LockOptions, cs checksumOptions) error {
	if lk != nil && cs.md5 == nil && cs.expect == "" && cs.trailing == nil {
		return errCode("InvalidRequest", msgLockNeedsMD5)
	}
	return nil
}

// setLockHeaders writes a version's Object Lock state as GET/HEAD headers.
// As on S3, the retention headers go only to callers allowed
// s3:GetObjectRetention, the legal hold only to callers allowed
// s3:GetObjectLegalHold; versions without lock state cost no extra check.
func (r *request) setLockHeaders(s lock.State) {
	if s.Mode != "" && !s.RetainUntil.IsZero() && r.s.authorizeExtra(r, "s3:GetObjectRetention", r.key) == nil {
		r.setHeader(hdrLockMode, s.Mode)
		r.setHeader(hdrLockUntil, s.RetainUntil.UTC().Format(lockDateFormat))
	}
	if s.LegalHold && r.s.authorizeExtra(r, "s3:GetObjectLegalHold", r.key) == nil {
		r.setHeader(hdrLockLegalHold, "ON")
	}
}

// bypassGovernance reports whether the request asks for the governance
// bypass (x-amz-bypass-governance-retention: true) for bucket/key and the
// caller is allowed s3:BypassGovernanceRetention on it. Asking without the
// permission is not an error by itself: the protected removal then fails.
func (r *request) bypassGovernance(key string) bool {
	if !strings.EqualFold(strings.TrimSpace(r.header(hdrBypass)), "true") {
		return false
	}
	return r.s.authorizeExtra(r, "s3:BypassGovernanceRetention", key) == nil
}

// objectLockConfiguration is the ObjectLockConfiguration document.
type objectLockConfiguration struct {
	XMLName           xml.Name  `xml:"ObjectLockConfiguration"`
	NS                string    `xml:"xmlns,attr,omitempty"`
	ObjectLockEnabled string    `xml:"ObjectLockEnabled,omitempty"`
	Rule              *lockRule `xml:"Rule,omitempty"`
}

// lockRule is the Rule element of an ObjectLockConfiguration.
type lockRule struct {
	DefaultRetention *defaultRetention `xml:"DefaultRetention"`
}

// defaultRetention is a DefaultRetention element.
type defaultRetention struct {
	Mode  string `xml:"Mode"`
	Days  *int   `xml:"Days,omitempty"`
	Years *int   `xml:"Years,omitempty"`
}

// parseObjectLockConfig parses a PutObjectLockConfiguration body.
func parseObjectLockConfig(b []byte) (*object.LockDefault, error) {
	var c objectLockConfiguration
	if err := decodeXML(b, &c); err != nil {
		return nil, err
	}
	if c.ObjectLockEnabled != "Enabled" {
		return nil, errCode("MalformedXML", "")
	}
	if c.Rule == nil {
		return nil, nil
	}
	d := c.Rule.DefaultRetention
	if d == nil {
		return nil, errCode("MalformedXML", "")
	}
	if d.Mode != lock.ModeGovernance && d.Mode != lock.ModeCompliance {
		return nil, errCode("MalformedXML", "")
	}
	def := &object.LockDefault{Mode: d.Mode}
	if (d.Days == nil) == (d.Years == nil) {
		return nil, errCode("MalformedXML", "")
	}
	if d.Days != nil {
		def.Days = *d.Days
		if def.Days <= 0 {
			return nil, errCode("InvalidRetentionPeriod", "Default retention period must be a positive integer value.")
		}
	}
	if d.Years != nil {
		def.Years = *d.Years
		if def.Years <= 0 {
			return nil, errCode("InvalidRetentionPeriod", "Default retention period must be a positive integer value.")
		}
	}
	return def, nil
}

// putObjectLockConfig: PUT /bucket?object-lock.
func putObjectLockConfig(r *request) error {
	cs, err := r.parseChecksums()
	if err != nil {
		return err
	}
	b, err := r.readBody(maxXMLBody)
	if err != nil {
		return err
	}
	if err := r.verifySmallBody(b, cs, false); err != nil {
		return err
	}
	def, err := parseObjectLockConfig(b)
	if err != nil {
		return err
	}
	if err := r.s.layer.SetObjectLockConfig(r.c, r.bucket, true, def); err != nil {
		return err
	}
	return r.writeStatus(200)
}

// getObjectLockConfig: GET /bucket?object-lock.
func getObjectLockConfig(r *request) error {
	info, err := r.s.layer.GetBucketInfo(r.c, r.bucket)
	if err != nil {
		return err
	}
	if !info.ObjectLock {
		return errCode("ObjectLockConfigurationNotFoundError", "")
	}
	c := objectLockConfiguration{NS: s3NS, ObjectLockEnabled: "Enabled"}
	if d := info.ObjectLockDefault; d != nil {
		dr := &defaultRetention{Mode: d.Mode}
		if d.Years > 0 {
			dr.Years = &d.Years
		} else {
			dr.Days = &d.Days
		}
		c.Rule = &lockRule{DefaultRetention: dr}
	}
	return r.writeXML(200, c)
}

// retentionXML is the Retention document of Put/GetObjectRetention.
type retentionXML struct {
	XMLName         xml.Name `xml:"Retention"`
	NS              string   `xml:"xmlns,attr,omitempty"`
	Mode            string   `xml:"Mode,omitempty"`
	RetainUntilDate string   `xml:"RetainUntilDate,omitempty"`
}

// legalHoldXML is the LegalHold document of Put/GetObjectLegalHold.
type legalHoldXML struct {
	XMLName xml.Name `xml:"LegalHold"`
	NS      string   `xml:"xmlns,attr,omitempty"`
	Status  string   `xml:"Status"`
}

// lockedVersion returns the info of the version a retention or legal hold
// request names, after checking that the bucket has Object Lock.
func (r *request) lockedVersion() (object.ObjectInfo, error) {
	bi, err := r.s.layer.GetBucketInfo(r.c, r.bucket)
	if err != nil {
		return object.ObjectInfo{}, err
	}
	if !bi.ObjectLock {
		return object.ObjectInfo{}, object.ErrLockNotEnabled
	}
	info, err := r.s.layer.HeadObject(r.c, r.bucket, r.key, object.GetOptions{VersionID: r.query.get("versionId"), MetadataOnly: true})
	return info, deleteMarkerError(err, info)
}

// getObjectRetention: GET /bucket/key?retention.
func getObjectRetention(r *request) error {
	info, err := r.lockedVersion()
	if err != nil {
		return err
	}
	if info.Lock.Mode == "" || info.Lock.RetainUntil.IsZero() {
		return errCode("NoSuchObjectLockConfiguration", "")
	}
	return r.writeXML(200, retentionXML{NS: s3NS, Mode: info.Lock.Mode, RetainUntilDate: info.Lock.RetainUntil.UTC().Format(lockDateFormat)})
}

// readLockXML reads a small retention or legal-hold body, requiring and
// verifying its Content-MD5 or checksum, and decodes it into v.
func (r *request) readLockXML(v any) error {
	cs, err := r.parseChecksums()
	if err != nil {
		return err
	}
	b, err := r.readBody(maxXMLBody)
	if err != nil {
		return err
	}
	// Content-MD5 or an x-amz-checksum is required, as S3 requires it for
	// PutObjectRetention and PutObjectLegalHold.
	if err := r.verifySmallBody(b, cs, true); err != nil {
		return err
	}
	return decodeXML(b, v)
}

// putObjectRetention: PUT /bucket/key?retention. An empty Retention
// removes the retention (allowed only where CheckRetentionChange allows).
func putObjectRetention(r *request) error {
	var x retentionXML
	if err := r.readLockXML(&x); err != nil {
		return err
	}
	var until time.Time
	switch {
	case x.Mode == "" && x.RetainUntilDate == "":
	case x.Mode == "" || x.RetainUntilDate == "":
		return errCode("MalformedXML", "")
	case x.Mode != lock.ModeGovernance && x.Mode != lock.ModeCompliance:
		return errCode("MalformedXML", "")
	default:
		t, ok := parseLockDate(x.RetainUntilDate)
		if !ok {
			return errCode("InvalidArgument", msgLockDate)
		}
		if !t.After(time.Now()) {
			return errCode("InvalidArgument", msgLockPast)
		}
		until = t
	}
	info, err := r.s.layer.PutObjectRetention(r.c, r.bucket, r.key, r.query.get("versionId"), x.Mode, until, r.bypassGovernance(r.key))
	if err != nil {
		return deleteMarkerError(err, info)
	}
	if info.VersionID != "" {
		r.setHeader("x-amz-version-id", info.VersionID)
	}
	return r.writeStatus(200)
}

// getObjectLegalHold: GET /bucket/key?legal-hold.
func getObjectLegalHold(r *request) error {
	info, err := r.lockedVersion()
	if err != nil {
		return err
	}
	status := "OFF"
	if info.Lock.LegalHold {
		status = "ON"
	}
	return r.writeXML(200, legalHoldXML{NS: s3NS, Status: status})
}

// putObjectLegalHold: PUT /bucket/key?legal-hold.
func putObjectLegalHold(r *request) error {
	var x legalHoldXML
	if err := r.readLockXML(&x); err != nil {
		return err
	}
	if x.Status != "ON" && x.Status != "OFF" {
		return errCode("MalformedXML", "")
	}
	info, err := r.s.layer.PutObjectLegalHold(r.c, r.bucket, r.key, r.query.get("versionId"), x.Status == "ON")
	if err != nil {
		return deleteMarkerError(err, info)
	}
	if info.VersionID != "" {
		r.setHeader("x-amz-version-id", info.VersionID)
	}
	return r.writeStatus(200)
}
