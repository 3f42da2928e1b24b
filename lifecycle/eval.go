package lifecycle

import (
	"math"
	"strings"
	"time"
)

// httpTime is the HTTP date format (RFC 7231 IMF-fixdate).
const httpTime = "Mon, 02 Jan 2006 15:04:05 GMT"

// Action is what a rule does to a version or an upload.
type Action uint8

// The lifecycle actions.
const (
	// None: no rule applies.
	None Action = iota
	// ExpireCurrent expires the current version: removed in an
	// unversioned bucket, hidden behind a new delete marker in a
	// versioned (Enabled or Suspended) one.
	ExpireCurrent
	// ExpireNoncurrent removes a noncurrent version (or delete marker).
	ExpireNoncurrent
	// ExpireDeleteMarker removes a current delete marker that has no other
	// versions (an "expired object delete marker").
	ExpireDeleteMarker
	// AbortUpload aborts an incomplete multipart upload.
	AbortUpload
)

// String returns the action's name as in the XML ("Expiration", ...); it
// is also the suffix of the retention-check path "Lifecycle.<action>".
func (a Action) String() string {
	switch a {
	case ExpireCurrent:
		return "Expiration"
	case ExpireNoncurrent:
		return "NoncurrentVersionExpiration"
	case ExpireDeleteMarker:
		return "ExpiredObjectDeleteMarker"
	case AbortUpload:
		return "AbortIncompleteMultipartUpload"
	}
	return "None"
}

// Version is what evaluation needs to know about one object version.
type Version struct {
	Key          string
	Size         int64
	Tags         map[string]string
	ModTime      time.Time
	IsLatest     bool
	DeleteMarker bool
	// NoncurrentSince is when the version stopped being current (zero for
	// the current version).
	NoncurrentSince time.Time
	// NewerNoncurrent is the number of noncurrent versions of the key
	// newer than this one.
	NewerNoncurrent int
	// OtherVersions is the number of other versions of the key.
	OtherVersions int
}

// Decision is a due action: which, under which rule, and from when.
type Decision struct {
	Action Action
	Rule   string
	Due    time.Time
}

// DayStart returns the start of the day (of length day, counted from the
// Unix epoch, so midnight UTC for DefaultDay) that contains t.
func DayStart(t time.Time, day time.Duration) time.Time {
	if day <= 0 {
		day = DefaultDay
	}
	n := t.UnixNano()
	m := n % int64(day)
	if m < 0 {
		m += int64(day)
	}
	return time.Unix(0, n-m).UTC()
}

// Due returns when something that happened at t is due after days days:
// t + days, rounded up to the next day boundary (as AWS rounds to the next
// midnight UTC).
func Due(t time.Time, days int, day time.Duration) time.Time {
	if day <= 0 {
		day = DefaultDay
	}
	span, ok := daySpan(days, day)
	if !ok || span > maxTime.Sub(t) {
		return DayStart(maxTime, day)
	}
	x := t.Add(span)
	s := DayStart(x, day)
	if s.Equal(x) {
		return s
	}
	if s.After(maxTime.Add(-day)) {
		return s
	}
	return s.Add(day)
}

// Threshold returns the latest event time whose Days-based due time is at
// or before now: Due(t, days) <= now exactly when t <= Threshold(now, days).
// A scheduler scans a time-ordered index up to it.
func Threshold(now time.Time, days int, day time.Duration) time.Time {
	if day <= 0 {
		day = DefaultDay
	}
	s := DayStart(now, day)
	span, ok := daySpan(days, day)
	if !ok || span > s.Sub(minTime) {
		return minTime
	}
	return s.Add(-span)
}

// The times a due time or a threshold saturates at: the range of
// time.Time.UnixNano, which DayStart and the scheduler's time index use.
// A rule of hundreds of years (Days 200000, say) is then due "never"
// rather than, through an overflowing multiplication, in the past.
var (
	maxTime = time.Unix(0, math.MaxInt64).UTC()
	minTime = time.Unix(0, math.MinInt64).UTC()
)

// daySpan is days days as a duration; false when it does not fit in one.
func daySpan(days int, day time.Duration) (time.Duration, bool) {
	if days < 0 || int64(days) > math.MaxInt64/int64(day) {
		return 0, false
	}
	return time.Duration(days) * day, true
}

// Enabled reports whether the rule is in force.
func (r *Rule) Enabled() bool { return r.Status == Enabled }

// Matches reports whether the rule's filter selects an object with this
// key, size and tags.
func (r *Rule) Matches(key string, size int64, tags map[string]string) bool {
	if r.Prefix != nil {
		return strings.HasPrefix(key, *r.Prefix)
	}
	f := r.Filter
	if f == nil {
		return true
	}
	switch {
	case f.Prefix != nil:
		return strings.HasPrefix(key, *f.Prefix)
	case f.Tag != nil:
		return hasTag(tags, *f.Tag)
	case f.And != nil:
		if !strings.HasPrefix(key, f.And.Prefix) {
			return false
		}
		for _, t := range f.And.Tags {
			if !hasTag(tags, t) {
				return false
			}
		}
		return sizeOK(size, f.And.ObjectSizeGreaterThan, f.And.ObjectSizeLessThan)
	}
	return sizeOK(size, f.ObjectSizeGreaterThan, f.ObjectSizeLessThan)
}

// MatchesPrefix reports whether the rule could select key by its prefix
// alone (used for multipart uploads, which have no tags or size yet).
func (r *Rule) MatchesPrefix(key string) bool {
	if r.Prefix != nil {
		return strings.HasPrefix(key, *r.Prefix)
	}
	if f := r.Filter; f != nil {
		switch {
		case f.Prefix != nil:
			return strings.HasPrefix(key, *f.Prefix)
		case f.And != nil:
			return strings.HasPrefix(key, f.And.Prefix) && len(f.And.Tags) == 0
		case f.Tag != nil:
			return false
		}
	}
	return true
}

func hasTag(tags map[string]string, t Tag) bool {
	v, ok := tags[t.Key]
	return ok && v == t.Value
}

func sizeOK(size int64, gt, lt *int64) bool {
	return (gt == nil || size > *gt) && (lt == nil || size < *lt)
}

// ExpirationDate returns the rule's Expiration Date, if it has one.
func (r *Rule) ExpirationDate() (time.Time, bool) {
	if r.Expiration == nil || r.Expiration.Date == nil {
		return time.Time{}, false
	}
	t, err := parseDate(*r.Expiration.Date)
	return t, err == nil
}

// EvaluateVersion returns the action this rule takes on v and when it is
// due (Action None when the rule does not apply to v). versioned says the
// bucket's versioning is Enabled or Suspended.
func (r *Rule) EvaluateVersion(v Version, day time.Duration) Decision {
	if !r.Enabled() {
		return Decision{}
	}
	size, tags := v.Size, v.Tags
	if v.DeleteMarker {
		size, tags = 0, nil
	}
	if !r.Matches(v.Key, size, tags) {
		return Decision{}
	}
	x := r.Expiration
	switch {
	case v.IsLatest && v.DeleteMarker:
		// An expired object delete marker (no other versions) goes at once
		// under ExpiredObjectDeleteMarker, and under Expiration Days once
		// it is that old (AWS: "when you specify the Days tag, Amazon S3
		// automatically performs ExpiredObjectDeleteMarker cleanup when
		// the delete markers are old enough to satisfy the age criteria").
		if x == nil || v.OtherVersions != 0 {
			return Decision{}
		}
		if x.ExpiredObjectDeleteMarker != nil && *x.ExpiredObjectDeleteMarker {
			return Decision{ExpireDeleteMarker, r.ID, Due(v.ModTime, 0, day)}
		}
		if x.Days != nil {
			return Decision{ExpireDeleteMarker, r.ID, Due(v.ModTime, *x.Days, day)}
		}
	case v.IsLatest:
		if x != nil && x.Days != nil {
			return Decision{ExpireCurrent, r.ID, Due(v.ModTime, *x.Days, day)}
		}
		if d, ok := r.ExpirationDate(); ok {
			return Decision{ExpireCurrent, r.ID, d}
		}
	default:
		n := r.NoncurrentVersionExpiration
		if n == nil || n.NoncurrentDays == nil {
			return Decision{}
		}
		if n.NewerNoncurrentVersions != nil && v.NewerNoncurrent < *n.NewerNoncurrentVersions {
			return Decision{}
		}
		return Decision{ExpireNoncurrent, r.ID, Due(v.NoncurrentSince, *n.NoncurrentDays, day)}
	}
	return Decision{}
}

// Evaluate returns the earliest due action any enabled rule takes on v
// (Action None when no rule applies). Ties go to the first rule.
func (c *Configuration) Evaluate(v Version, day time.Duration) Decision {
	var best Decision
	for i := range c.Rules {
		d := c.Rules[i].EvaluateVersion(v, day)
		if d.Action != None && (best.Action == None || d.Due.Before(best.Due)) {
			best = d
		}
	}
	return best
}

// EvaluateUpload returns the earliest AbortIncompleteMultipartUpload due
// for an upload of key initiated at initiated.
func (c *Configuration) EvaluateUpload(key string, initiated time.Time, day time.Duration) Decision {
	var best Decision
	for i := range c.Rules {
		r := &c.Rules[i]
		a := r.AbortIncompleteMultipartUpload
		if !r.Enabled() || a == nil || a.DaysAfterInitiation == nil || !r.MatchesPrefix(key) {
			continue
		}
		d := Decision{AbortUpload, r.ID, Due(initiated, *a.DaysAfterInitiation, day)}
		if best.Action == None || d.Due.Before(best.Due) {
			best = d
		}
	}
	return best
}

// ExpirationHeader returns the x-amz-expiration value for the current
// version v, or "" when no current-version Expiration rule applies:
// expiry-date="Fri, 23 Dec 2012 00:00:00 GMT", rule-id="picture-deletion-rule".
func (c *Configuration) ExpirationHeader(v Version, day time.Duration) string {
	v.IsLatest, v.DeleteMarker = true, false
	var best Decision
	for i := range c.Rules {
		d := c.Rules[i].EvaluateVersion(v, day)
		if d.Action == ExpireCurrent && (best.Action == None || d.Due.Before(best.Due)) {
			best = d
		}
	}
	if best.Action == None {
		return ""
	}
	return `expiry-date="` + best.Due.UTC().Format(httpTime) + `", rule-id="` + best.Rule + `"`
}
