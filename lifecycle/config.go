// Package lifecycle is the pure part of S3 bucket lifecycle: the AWS XML
// configuration (PutBucketLifecycleConfiguration), its validation with the
// errors AWS returns, and the evaluation of rules against one object
// version or multipart upload. It does no I/O; the object engine's
// scheduler (object/lifecycle.go) asks it what is due and when.
//
// Time: every Days-based due time is rounded up to the next day boundary
// (midnight UTC with the default day length), as AWS does. The day length
// is a parameter so tests can run expiry in seconds; production uses
// DefaultDay.
package lifecycle

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"time"
)

// DefaultDay is the length of a lifecycle day in production.
const DefaultDay = 24 * time.Hour

// MaxRules is the largest number of rules one configuration may hold.
const MaxRules = 1000

// MaxIDLength is the longest rule ID.
const MaxIDLength = 255

// Rule statuses.
const (
	Enabled  = "Enabled"
	Disabled = "Disabled"
)

// Configuration is a bucket's lifecycle configuration.
type Configuration struct {
	XMLName xml.Name `xml:"LifecycleConfiguration"`
	NS      string   `xml:"xmlns,attr,omitempty"`
	Rules   []Rule   `xml:"Rule"`
}

// Rule is one lifecycle rule. The legacy top-level Prefix and Filter are
// mutually exclusive; a rule with neither applies to every object.
type Rule struct {
	ID                             string                          `xml:"ID,omitempty"`
	Status                         string                          `xml:"Status"`
	Prefix                         *string                         `xml:"Prefix"`
	Filter                         *Filter                         `xml:"Filter"`
	Expiration                     *Expiration                     `xml:"Expiration"`
	NoncurrentVersionExpiration    *NoncurrentVersionExpiration    `xml:"NoncurrentVersionExpiration"`
	AbortIncompleteMultipartUpload *AbortIncompleteMultipartUpload `xml:"AbortIncompleteMultipartUpload"`
	// Transitions and NoncurrentVersionTransitions are parsed only to be
	// refused: coffer has one storage class (see Validate).
	Transitions                  []transition `xml:"Transition"`
	NoncurrentVersionTransitions []transition `xml:"NoncurrentVersionTransition"`
}

// transition is the (unsupported) Transition element; its content is kept
// only so the rule can be refused by name.
type transition struct {
	Inner []byte `xml:",innerxml"`
}

// Filter selects the objects a rule applies to. At most one of its
// elements may be set; an empty Filter matches every object.
type Filter struct {
	Prefix                *string `xml:"Prefix"`
	Tag                   *Tag    `xml:"Tag"`
	And                   *And    `xml:"And"`
	ObjectSizeGreaterThan *int64  `xml:"ObjectSizeGreaterThan"`
	ObjectSizeLessThan    *int64  `xml:"ObjectSizeLessThan"`
}

// And combines a prefix, tags and size bounds; all must match.
type And struct {
	Prefix                string `xml:"Prefix,omitempty"`
	Tags                  []Tag  `xml:"Tag"`
	ObjectSizeGreaterThan *int64 `xml:"ObjectSizeGreaterThan"`
	ObjectSizeLessThan    *int64 `xml:"ObjectSizeLessThan"`
}

// Tag is one object tag condition.
type Tag struct {
	Key   string `xml:"Key"`
	Value string `xml:"Value"`
}

// Expiration expires current versions (Days or Date) or removes expired
// object delete markers (ExpiredObjectDeleteMarker).
type Expiration struct {
	Days                      *int    `xml:"Days"`
	Date                      *string `xml:"Date"`
	ExpiredObjectDeleteMarker *bool   `xml:"ExpiredObjectDeleteMarker"`
}

// NoncurrentVersionExpiration removes versions NoncurrentDays after they
// became noncurrent, keeping the NewerNoncurrentVersions newest ones.
type NoncurrentVersionExpiration struct {
	NoncurrentDays          *int `xml:"NoncurrentDays"`
	NewerNoncurrentVersions *int `xml:"NewerNoncurrentVersions"`
}

// AbortIncompleteMultipartUpload aborts uploads DaysAfterInitiation after
// they were initiated.
type AbortIncompleteMultipartUpload struct {
	DaysAfterInitiation *int `xml:"DaysAfterInitiation"`
}

// Error is a validation error in AWS terms: Code is the S3 error code
// (MalformedXML, InvalidArgument, NotImplemented) and Message its text.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

func malformed() error {
	return &Error{"MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema"}
}

func invalid(format string, a ...any) error {
	return &Error{"InvalidArgument", fmt.Sprintf(format, a...)}
}

// Parse decodes and validates a lifecycle configuration document. Errors
// are *Error. Rules without an ID get a stable one derived from their
// content (AWS assigns a random one), so the stored document always names
// every rule.
func Parse(doc []byte) (*Configuration, error) {
	var c Configuration
	d := xml.NewDecoder(bytes.NewReader(doc))
	if err := d.Decode(&c); err != nil {
		return nil, malformed()
	}
	// Trailing garbage after the root element is malformed too.
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, malformed()
		}
		if cd, ok := tok.(xml.CharData); !ok || len(bytes.TrimSpace(cd)) != 0 {
			if _, ok := tok.(xml.Comment); !ok {
				return nil, malformed()
			}
		}
	}
	for i := range c.Rules {
		if c.Rules[i].ID == "" {
			c.Rules[i].ID = derivedID(&c.Rules[i])
		}
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

// derivedID names a rule that came without an ID by its content.
func derivedID(r *Rule) string {
	b, _ := xml.Marshal(r)
	sum := sha256.Sum256(b)
	return base64.RawURLEncoding.EncodeToString(sum[:18])
}

// Marshal returns the configuration as XML (the S3 namespace set).
func (c *Configuration) Marshal() []byte {
	out := *c
	out.NS = "http://s3.amazonaws.com/doc/2006-03-01/"
	b, err := xml.Marshal(&out)
	if err != nil {
		panic(err) // plain types only: cannot fail
	}
	return append([]byte(xml.Header), b...)
}

// Validate checks a configuration as AWS does. Transitions are refused with
// NotImplemented: coffer keeps every version in one storage class, and
// accepting a rule it would never carry out is a silent lie.
func (c *Configuration) Validate() error {
	if len(c.Rules) == 0 {
		return malformed()
	}
	if len(c.Rules) > MaxRules {
		return invalid("Number of rules exceeds the limit of %d", MaxRules)
	}
	ids := map[string]bool{}
	for i := range c.Rules {
		r := &c.Rules[i]
		if len(r.ID) > MaxIDLength {
			return invalid("ID length should not exceed allowed limit of %d", MaxIDLength)
		}
		if ids[r.ID] {
			return invalid("Rule ID must be unique. Found same ID for more than one rule")
		}
		ids[r.ID] = true
		if err := r.validate(); err != nil {
			return err
		}
	}
	return nil
}

func (r *Rule) validate() error {
	if r.Status != Enabled && r.Status != Disabled {
		return malformed()
	}
	if r.Prefix != nil && r.Filter != nil {
		return malformed()
	}
	if len(r.Transitions) > 0 || len(r.NoncurrentVersionTransitions) > 0 {
		return &Error{"NotImplemented", "Lifecycle transitions are not supported: coffer has a single storage class"}
	}
	if r.Expiration == nil && r.NoncurrentVersionExpiration == nil && r.AbortIncompleteMultipartUpload == nil {
		return invalid("At least one action needs to be specified in a rule")
	}
	hasTagOrSize := false
	if f := r.Filter; f != nil {
		n := 0
		for _, set := range []bool{f.Prefix != nil, f.Tag != nil, f.And != nil, f.ObjectSizeGreaterThan != nil, f.ObjectSizeLessThan != nil} {
			if set {
				n++
			}
		}
		if n > 1 {
			return malformed()
		}
		if f.Tag != nil {
			if err := checkTag(*f.Tag); err != nil {
				return err
			}
		}
		if a := f.And; a != nil {
			// As AWS: And joins two or more predicates (a non-empty
			// prefix, each tag, each size bound); fewer is MalformedXML.
			preds := len(a.Tags)
			for _, set := range []bool{a.Prefix != "", a.ObjectSizeGreaterThan != nil, a.ObjectSizeLessThan != nil} {
				if set {
					preds++
				}
			}
			if preds < 2 {
				return malformed()
			}
			seen := map[string]bool{}
			for _, t := range a.Tags {
				if err := checkTag(t); err != nil {
					return err
				}
				if seen[t.Key] {
					return invalid("Duplicate Tag Keys are not allowed.")
				}
				seen[t.Key] = true
			}
			if err := checkSizes(a.ObjectSizeGreaterThan, a.ObjectSizeLessThan); err != nil {
				return err
			}
		}
		if err := checkSizes(f.ObjectSizeGreaterThan, f.ObjectSizeLessThan); err != nil {
			return err
		}
		hasTagOrSize = f.Tag != nil || f.ObjectSizeGreaterThan != nil || f.ObjectSizeLessThan != nil ||
			(f.And != nil && (len(f.And.Tags) > 0 || f.And.ObjectSizeGreaterThan != nil || f.And.ObjectSizeLessThan != nil))
	}
	if x := r.Expiration; x != nil {
		eodm := x.ExpiredObjectDeleteMarker != nil
		switch {
		case x.Days == nil && x.Date == nil && !eodm:
			return malformed()
		case eodm && (x.Days != nil || x.Date != nil):
			return invalid("ExpiredObjectDeleteMarker cannot be specified with Days or Date in a Lifecycle Expiration Policy.")
		case x.Days != nil && x.Date != nil:
			return malformed()
		case x.Days != nil && *x.Days <= 0:
			return invalid("'Days' for Expiration action must be a positive integer")
		case x.Date != nil:
			if _, err := parseDate(*x.Date); err != nil {
				return err
			}
		}
		if eodm && *x.ExpiredObjectDeleteMarker && hasTagOrSize {
			return invalid("ExpiredObjectDeleteMarker cannot be specified with tag or object size filters.")
		}
	}
	if n := r.NoncurrentVersionExpiration; n != nil {
		switch {
		case n.NoncurrentDays == nil:
			return malformed()
		case *n.NoncurrentDays <= 0:
			return invalid("'NoncurrentDays' for NoncurrentVersionExpiration action must be a positive integer")
		case n.NewerNoncurrentVersions != nil && (*n.NewerNoncurrentVersions <= 0 || *n.NewerNoncurrentVersions > 100):
			return invalid("'NewerNoncurrentVersions' for NoncurrentVersionExpiration action must be a positive integer up to 100")
		}
	}
	if a := r.AbortIncompleteMultipartUpload; a != nil {
		switch {
		case a.DaysAfterInitiation == nil:
			return malformed()
		case *a.DaysAfterInitiation <= 0:
			return invalid("'DaysAfterInitiation' for AbortIncompleteMultipartUpload action must be a positive integer")
		case hasTagOrSize:
			return invalid("AbortIncompleteMultipartUpload cannot be specified with Tags.")
		}
	}
	return nil
}

func checkTag(t Tag) error {
	if t.Key == "" || len(t.Key) > 128 || len(t.Value) > 256 {
		return invalid("The TagKey you have provided is invalid")
	}
	return nil
}

func checkSizes(gt, lt *int64) error {
	if gt != nil && *gt < 0 || lt != nil && *lt <= 0 {
		return invalid("Object size filters must be non-negative, and ObjectSizeLessThan positive")
	}
	if gt != nil && lt != nil && *gt >= *lt {
		return invalid("ObjectSizeGreaterThan must be less than ObjectSizeLessThan")
	}
	return nil
}

// parseDate parses an Expiration Date: ISO 8601 at midnight UTC.
func parseDate(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		if t, err = time.Parse("2006-01-02T15:04:05", s); err != nil {
			if t, err = time.Parse("2006-01-02", s); err != nil {
				return time.Time{}, invalid("Date must be in ISO 8601 format")
			}
		}
	}
	t = t.UTC()
	if !t.Equal(t.Truncate(24 * time.Hour)) {
		return time.Time{}, invalid("'Date' must be at midnight GMT")
	}
	return t, nil
}
