package lifecycle

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func rule(body string) string {
	return `<LifecycleConfiguration><Rule>` + body + `</Rule></LifecycleConfiguration>`
}

func TestParseValidation(t *testing.T) {
	many := strings.Repeat(`<Rule><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule>`, MaxRules+1)
	cases := []struct {
		name, doc, code, msg string
	}{
		{"ok days", rule(`<ID>a</ID><Status>Enabled</Status><Filter><Prefix>logs/</Prefix></Filter><Expiration><Days>3</Days></Expiration>`), "", ""},
		{"ok legacy prefix", rule(`<ID>a</ID><Prefix>x</Prefix><Status>Disabled</Status><Expiration><Days>3</Days></Expiration>`), "", ""},
		{"ok date", rule(`<Status>Enabled</Status><Expiration><Date>2030-01-01T00:00:00Z</Date></Expiration>`), "", ""},
		{"ok eodm", rule(`<Status>Enabled</Status><Filter/><Expiration><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration>`), "", ""},
		{"ok and", rule(`<Status>Enabled</Status><Filter><And><Prefix>a</Prefix><Tag><Key>k</Key><Value>v</Value></Tag><ObjectSizeGreaterThan>5</ObjectSizeGreaterThan></And></Filter><NoncurrentVersionExpiration><NoncurrentDays>2</NoncurrentDays><NewerNoncurrentVersions>3</NewerNoncurrentVersions></NoncurrentVersionExpiration>`), "", ""},
		{"ok mpu", rule(`<Status>Enabled</Status><Filter><Prefix></Prefix></Filter><AbortIncompleteMultipartUpload><DaysAfterInitiation>7</DaysAfterInitiation></AbortIncompleteMultipartUpload>`), "", ""},
		{"not xml", `<Lifecycle`, "MalformedXML", ""},
		{"trailing", rule(`<Status>Enabled</Status><Expiration><Days>1</Days></Expiration>`) + `<x/>`, "MalformedXML", ""},
		{"no rules", `<LifecycleConfiguration></LifecycleConfiguration>`, "MalformedXML", ""},
		{"bad status", rule(`<Status>On</Status><Expiration><Days>1</Days></Expiration>`), "MalformedXML", ""},
		{"prefix and filter", rule(`<Prefix>a</Prefix><Filter><Prefix>a</Prefix></Filter><Status>Enabled</Status><Expiration><Days>1</Days></Expiration>`), "MalformedXML", ""},
		{"two filter elements", rule(`<Filter><Prefix>a</Prefix><Tag><Key>k</Key><Value>v</Value></Tag></Filter><Status>Enabled</Status><Expiration><Days>1</Days></Expiration>`), "MalformedXML", ""},
		{"no action", rule(`<Status>Enabled</Status>`), "InvalidArgument", "At least one action"},
		{"zero days", rule(`<Status>Enabled</Status><Expiration><Days>0</Days></Expiration>`), "InvalidArgument", "'Days' for Expiration action must be a positive integer"},
		{"negative nc days", rule(`<Status>Enabled</Status><NoncurrentVersionExpiration><NoncurrentDays>-1</NoncurrentDays></NoncurrentVersionExpiration>`), "InvalidArgument", "'NoncurrentDays'"},
		{"zero mpu days", rule(`<Status>Enabled</Status><AbortIncompleteMultipartUpload><DaysAfterInitiation>0</DaysAfterInitiation></AbortIncompleteMultipartUpload>`), "InvalidArgument", "'DaysAfterInitiation'"},
		{"date not midnight", rule(`<Status>Enabled</Status><Expiration><Date>2030-01-01T10:00:00Z</Date></Expiration>`), "InvalidArgument", "midnight GMT"},
		{"date garbage", rule(`<Status>Enabled</Status><Expiration><Date>tomorrow</Date></Expiration>`), "InvalidArgument", "ISO 8601"},
		{"eodm with days", rule(`<Status>Enabled</Status><Expiration><Days>1</Days><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration>`), "InvalidArgument", "ExpiredObjectDeleteMarker cannot be specified with Days or Date"},
		{"days and date", rule(`<Status>Enabled</Status><Expiration><Days>1</Days><Date>2030-01-01T00:00:00Z</Date></Expiration>`), "MalformedXML", ""},
		{"empty expiration", rule(`<Status>Enabled</Status><Expiration></Expiration>`), "MalformedXML", ""},
		{"eodm with tag", rule(`<Status>Enabled</Status><Filter><Tag><Key>k</Key><Value>v</Value></Tag></Filter><Expiration><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration>`), "InvalidArgument", "tag or object size"},
		{"mpu with tag", rule(`<Status>Enabled</Status><Filter><And><Prefix>p</Prefix><Tag><Key>k</Key><Value>v</Value></Tag></And></Filter><AbortIncompleteMultipartUpload><DaysAfterInitiation>1</DaysAfterInitiation></AbortIncompleteMultipartUpload>`), "InvalidArgument", "cannot be specified with Tags"},
		{"dup ids", `<LifecycleConfiguration><Rule><ID>x</ID><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule><Rule><ID>x</ID><Status>Enabled</Status><Expiration><Days>2</Days></Expiration></Rule></LifecycleConfiguration>`, "InvalidArgument", "Rule ID must be unique"},
		{"long id", rule(`<ID>` + strings.Repeat("i", 256) + `</ID><Status>Enabled</Status><Expiration><Days>1</Days></Expiration>`), "InvalidArgument", "ID length should not exceed allowed limit of 255"},
		{"too many rules", `<LifecycleConfiguration>` + many + `</LifecycleConfiguration>`, "InvalidArgument", "limit of 1000"},
		{"and with one predicate", rule(`<Status>Enabled</Status><Filter><And><Prefix>a</Prefix></And></Filter><Expiration><Days>1</Days></Expiration>`), "MalformedXML", ""},
		{"and with one size bound and an empty prefix", rule(`<Status>Enabled</Status><Filter><And><Prefix></Prefix><ObjectSizeGreaterThan>5</ObjectSizeGreaterThan></And></Filter><Expiration><Days>1</Days></Expiration>`), "MalformedXML", ""},
		{"empty and", rule(`<Status>Enabled</Status><Filter><And></And></Filter><Expiration><Days>1</Days></Expiration>`), "MalformedXML", ""},
		{"dup tag keys", rule(`<Status>Enabled</Status><Filter><And><Tag><Key>k</Key><Value>1</Value></Tag><Tag><Key>k</Key><Value>2</Value></Tag></And></Filter><Expiration><Days>1</Days></Expiration>`), "InvalidArgument", "Duplicate Tag Keys"},
		{"size bounds crossed", rule(`<Status>Enabled</Status><Filter><And><ObjectSizeGreaterThan>10</ObjectSizeGreaterThan><ObjectSizeLessThan>5</ObjectSizeLessThan></And></Filter><Expiration><Days>1</Days></Expiration>`), "InvalidArgument", "ObjectSizeGreaterThan must be less"},
		{"transition", rule(`<Status>Enabled</Status><Transition><Days>30</Days><StorageClass>GLACIER</StorageClass></Transition>`), "NotImplemented", "transitions"},
		{"nc transition", rule(`<Status>Enabled</Status><NoncurrentVersionTransition><NoncurrentDays>30</NoncurrentDays><StorageClass>GLACIER</StorageClass></NoncurrentVersionTransition><Expiration><Days>1</Days></Expiration>`), "NotImplemented", "transitions"},
		{"newer nc zero", rule(`<Status>Enabled</Status><NoncurrentVersionExpiration><NoncurrentDays>1</NoncurrentDays><NewerNoncurrentVersions>0</NewerNoncurrentVersions></NoncurrentVersionExpiration>`), "InvalidArgument", "NewerNoncurrentVersions"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := Parse([]byte(c.doc))
			if c.code == "" {
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
				for _, r := range cfg.Rules {
					if r.ID == "" {
						t.Fatal("rule without ID after Parse")
					}
				}
				// The marshalled form parses back to the same rules.
				again, err := Parse(cfg.Marshal())
				if err != nil || len(again.Rules) != len(cfg.Rules) || again.Rules[0].ID != cfg.Rules[0].ID {
					t.Fatalf("round trip: %v", err)
				}
				return
			}
			var le *Error
			if !errors.As(err, &le) {
				t.Fatalf("err = %v, want *Error %s", err, c.code)
			}
			if le.Code != c.code || !strings.Contains(le.Message, c.msg) {
				t.Fatalf("err = %s %q, want %s containing %q", le.Code, le.Message, c.code, c.msg)
			}
		})
	}
}

func TestDerivedIDStable(t *testing.T) {
	doc := []byte(rule(`<Status>Enabled</Status><Expiration><Days>1</Days></Expiration>`))
	a, _ := Parse(doc)
	b, _ := Parse(doc)
	if a.Rules[0].ID != b.Rules[0].ID || a.Rules[0].ID == "" {
		t.Fatalf("derived IDs %q %q", a.Rules[0].ID, b.Rules[0].ID)
	}
}

// FuzzParse: Parse never panics, and whatever it accepts marshals to a
// document it accepts again with the same rule IDs.
func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*.xml")
	for _, s := range seeds {
		b, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(rule(`<Status>Enabled</Status><Expiration><Days>1</Days></Expiration>`)))
	f.Fuzz(func(t *testing.T, doc []byte) {
		cfg, err := Parse(doc)
		if err != nil {
			var le *Error
			if !errors.As(err, &le) {
				t.Fatalf("non-AWS error %T %v", err, err)
			}
			return
		}
		again, err := Parse(cfg.Marshal())
		if err != nil {
			t.Fatalf("re-parse of accepted config: %v", err)
		}
		if len(again.Rules) != len(cfg.Rules) {
			t.Fatal("rule count changed")
		}
		for i := range cfg.Rules {
			if again.Rules[i].ID != cfg.Rules[i].ID {
				t.Fatalf("rule %d ID %q -> %q", i, cfg.Rules[i].ID, again.Rules[i].ID)
			}
		}
	})
}
