package lifecycle

import (
	"math"
	"testing"
	"time"
)

func mustParse(t *testing.T, doc string) *Configuration {
	t.Helper()
	c, err := Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestDueRounding(t *testing.T) {
	day := DefaultDay
	t0 := time.Date(2024, 3, 1, 10, 30, 0, 0, time.UTC)
	if got, want := Due(t0, 1, day), time.Date(2024, 3, 3, 0, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Fatalf("Due = %v, want %v", got, want)
	}
	mid := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	if got, want := Due(mid, 1, day), time.Date(2024, 3, 2, 0, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Fatalf("Due at midnight = %v, want %v", got, want)
	}
	// Threshold is exact: Due(t) <= now iff t <= Threshold(now).
	for _, d := range []time.Duration{time.Second, 7 * time.Second, day} {
		now := time.Unix(1_700_000_123, 456).UTC()
		th := Threshold(now, 3, d)
		for _, off := range []time.Duration{-2 * d, -time.Nanosecond, 0, time.Nanosecond, d} {
			ev := th.Add(off)
			if due := Due(ev, 3, d); (!due.After(now)) != (!ev.After(th)) {
				t.Fatalf("day %v off %v: due %v now %v threshold %v", d, off, due, now, th)
			}
		}
	}
	// Test day length: a "day" of one second.
	if got := Due(time.Unix(10, 5e8), 2, time.Second); !got.Equal(time.Unix(13, 0)) {
		t.Fatalf("1s-day Due = %v", got)
	}
}

// TestEvaluateMatrix runs every rule kind over every kind of version.
func TestEvaluateMatrix(t *testing.T) {
	day := DefaultDay
	m := time.Date(2024, 1, 10, 15, 0, 0, 0, time.UTC)
	nc := time.Date(2024, 1, 20, 1, 0, 0, 0, time.UTC)
	rules := map[string]string{
		"days":     `<ID>r</ID><Status>Enabled</Status><Filter><Prefix>p/</Prefix></Filter><Expiration><Days>2</Days></Expiration>`,
		"date":     `<ID>r</ID><Status>Enabled</Status><Expiration><Date>2024-02-01T00:00:00Z</Date></Expiration>`,
		"eodm":     `<ID>r</ID><Status>Enabled</Status><Expiration><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration>`,
		"nc":       `<ID>r</ID><Status>Enabled</Status><NoncurrentVersionExpiration><NoncurrentDays>3</NoncurrentDays></NoncurrentVersionExpiration>`,
		"nckeep":   `<ID>r</ID><Status>Enabled</Status><NoncurrentVersionExpiration><NoncurrentDays>3</NoncurrentDays><NewerNoncurrentVersions>2</NewerNoncurrentVersions></NoncurrentVersionExpiration>`,
		"tag":      `<ID>r</ID><Status>Enabled</Status><Filter><Tag><Key>t</Key><Value>1</Value></Tag></Filter><Expiration><Days>2</Days></Expiration>`,
		"big":      `<ID>r</ID><Status>Enabled</Status><Filter><ObjectSizeGreaterThan>100</ObjectSizeGreaterThan></Filter><Expiration><Days>2</Days></Expiration>`,
		"disabled": `<ID>r</ID><Status>Disabled</Status><Expiration><Days>2</Days></Expiration>`,
	}
	objects := map[string]Version{
		"current":       {Key: "p/a", Size: 10, ModTime: m, IsLatest: true},
		"current-other": {Key: "q/a", Size: 10, ModTime: m, IsLatest: true},
		"current-tag":   {Key: "p/a", Size: 10, ModTime: m, IsLatest: true, Tags: map[string]string{"t": "1"}},
		"current-big":   {Key: "p/a", Size: 1000, ModTime: m, IsLatest: true},
		"noncurrent":    {Key: "p/a", Size: 10, ModTime: m, NoncurrentSince: nc},
		"noncurrent-2":  {Key: "p/a", Size: 10, ModTime: m, NoncurrentSince: nc, NewerNoncurrent: 2},
		"dm-alone":      {Key: "p/a", ModTime: m, IsLatest: true, DeleteMarker: true},
		"dm-others":     {Key: "p/a", ModTime: m, IsLatest: true, DeleteMarker: true, OtherVersions: 1},
	}
	d2 := time.Date(2024, 1, 13, 0, 0, 0, 0, time.UTC)  // m + 2 days, rounded up
	dnc := time.Date(2024, 1, 24, 0, 0, 0, 0, time.UTC) // nc + 3 days, rounded up
	ddm := time.Date(2024, 1, 11, 0, 0, 0, 0, time.UTC) // m rounded up
	date := time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC)
	type want struct {
		a   Action
		due time.Time
	}
	none := want{}
	expect := map[[2]string]want{
		{"days", "current"}: {ExpireCurrent, d2}, {"days", "current-tag"}: {ExpireCurrent, d2}, {"days", "current-big"}: {ExpireCurrent, d2},
		{"date", "current"}: {ExpireCurrent, date}, {"date", "current-other"}: {ExpireCurrent, date}, {"date", "current-tag"}: {ExpireCurrent, date}, {"date", "current-big"}: {ExpireCurrent, date},
		{"eodm", "dm-alone"}: {ExpireDeleteMarker, ddm},
		{"days", "dm-alone"}: {ExpireDeleteMarker, d2}, // Days also clean up old enough expired markers
		{"nc", "noncurrent"}: {ExpireNoncurrent, dnc}, {"nc", "noncurrent-2"}: {ExpireNoncurrent, dnc},
		{"nckeep", "noncurrent-2"}: {ExpireNoncurrent, dnc},
		{"tag", "current-tag"}:     {ExpireCurrent, d2},
		{"big", "current-big"}:     {ExpireCurrent, d2},
	}
	for rn, rdoc := range rules {
		cfg := mustParse(t, rule(rdoc))
		for on, o := range objects {
			got := cfg.Evaluate(o, day)
			w, ok := expect[[2]string{rn, on}]
			if !ok {
				w = none
			}
			if got.Action != w.a || !got.Due.Equal(w.due) || (w.a != None && got.Rule != "r") {
				t.Errorf("rule %s × %s: got %v due %v rule %q, want %v due %v", rn, on, got.Action, got.Due, got.Rule, w.a, w.due)
			}
		}
	}
}

func TestEvaluateEarliestRuleWins(t *testing.T) {
	cfg := mustParse(t, `<LifecycleConfiguration>
<Rule><ID>slow</ID><Status>Enabled</Status><Expiration><Days>30</Days></Expiration></Rule>
<Rule><ID>fast</ID><Status>Enabled</Status><Filter><Prefix>tmp/</Prefix></Filter><Expiration><Days>1</Days></Expiration></Rule>
<Rule><ID>mpu</ID><Status>Enabled</Status><Filter><Prefix>tmp/</Prefix></Filter><AbortIncompleteMultipartUpload><DaysAfterInitiation>2</DaysAfterInitiation></AbortIncompleteMultipartUpload></Rule>
</LifecycleConfiguration>`)
	m := time.Date(2012, 12, 20, 9, 0, 0, 0, time.UTC)
	if d := cfg.Evaluate(Version{Key: "tmp/x", ModTime: m, IsLatest: true}, DefaultDay); d.Rule != "fast" {
		t.Fatalf("rule %q, want fast", d.Rule)
	}
	if d := cfg.Evaluate(Version{Key: "keep/x", ModTime: m, IsLatest: true}, DefaultDay); d.Rule != "slow" {
		t.Fatalf("rule %q, want slow", d.Rule)
	}
	if d := cfg.EvaluateUpload("tmp/x", m, DefaultDay); d.Action != AbortUpload || !d.Due.Equal(time.Date(2012, 12, 23, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("upload decision %+v", d)
	}
	if d := cfg.EvaluateUpload("other", m, DefaultDay); d.Action != None {
		t.Fatalf("upload outside prefix: %+v", d)
	}
	h := cfg.ExpirationHeader(Version{Key: "tmp/x", ModTime: m}, DefaultDay)
	if want := `expiry-date="Sat, 22 Dec 2012 00:00:00 GMT", rule-id="fast"`; h != want {
		t.Fatalf("header %q, want %q", h, want)
	}
	if h := mustParse(t, rule(`<Status>Enabled</Status><NoncurrentVersionExpiration><NoncurrentDays>1</NoncurrentDays></NoncurrentVersionExpiration>`)).ExpirationHeader(Version{Key: "a", ModTime: m}, DefaultDay); h != "" {
		t.Fatalf("noncurrent-only config gave header %q", h)
	}
}

// TestDueHugeDays: a rule of hundreds of years is due far in the future,
// never in the past. time.Duration(days)*day used to overflow past about
// 106751 days (292 years), so "Expiration Days 200000" put due times in
// the past and a lifecycle run deleted every object of the bucket at once.
func TestDueHugeDays(t *testing.T) {
	now := time.Date(2026, 11, 25, 20, 0, 0, 0, time.UTC)
	for _, days := range []int{90000, 106751, 106752, 200000, 1 << 40, math.MaxInt} {
		if due := Due(now, days, DefaultDay); !due.After(now.AddDate(200, 0, 0)) {
			t.Errorf("Due(now, %d days) = %v: not in the far future", days, due)
		}
		th := Threshold(now, days, DefaultDay)
		if !th.Before(now.AddDate(-200, 0, 0)) {
			t.Errorf("Threshold(now, %d days) = %v: not in the far past", days, th)
		}
		// The scheduler scans its time index up to th.UnixNano().
		if th.UnixNano() > now.AddDate(-200, 0, 0).UnixNano() {
			t.Errorf("Threshold(now, %d days).UnixNano() = %d: overflowed", days, th.UnixNano())
		}
		// And every rule of Days of the same scale agrees with its threshold.
		if due := Due(now.Add(-time.Hour), days, DefaultDay); !due.After(now) {
			t.Errorf("Due(an hour ago, %d days) = %v <= now", days, due)
		}
	}
}
