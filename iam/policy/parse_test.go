package policy

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestParseAccepts(t *testing.T) {
	docs := map[string]string{
		"statement object":       `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}}`,
		"version 2008":           `{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`,
		"no version":             `{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`,
		"id and sid":             `{"Version":"2012-10-17","Id":"P1","Statement":[{"Sid":"S1","Effect":"Deny","NotAction":["s3:Get*"],"NotResource":"arn:aws:s3:::b/*"}]}`,
		"number and bool value":  `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"NumericLessThan":{"s3:max-keys":10},"Bool":{"aws:SecureTransport":true}}}]}`,
		"qualified operators":    `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"ForAllValues:StringLikeIfExists":{"s3:RequestObjectTagKeys":["a*"]},"forAnyValue:stringequals":{"k":"v"}}}]}`,
		"ipv6 cidr":              `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":["2001:db8::/32","::ffff:10.0.0.0/104","10.0.0.1"]}}}]}`,
		"dates":                  `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"DateLessThan":{"aws:CurrentTime":["2026-01-01","2026-01-01T10:00:00Z","2026-01-01T10:00:00.5+01:00",1700000000]}}}]}`,
		"other service identity": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["kms:Decrypt","s3:*"],"Resource":"arn:aws:kms:us-east-1:1:key/x"}]}`,
	}
	for name, doc := range docs {
		p, err := ParseIdentity([]byte(doc))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if len(p.Statements) == 0 {
			t.Errorf("%s: no statements", name)
		}
	}
	bucketDocs := map[string]string{
		"principal star":  `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}`,
		"principal list":  `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["t2","arn:coffer:iam::t3:root","arn:aws:iam::t4:user/x"],"CanonicalUser":"abc"},"Action":"s3:*","Resource":["arn:aws:s3:::b","arn:aws:s3:::b/*"]}]}`,
		"service":         `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"logging.s3.amazonaws.com"},"Action":"s3:PutObject","Resource":"arn:aws:s3:::b/logs/*"}]}`,
		"wildcard bucket": `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::*"}]}`,
		"variable":        `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"t1"},"Action":"s3:*","Resource":"arn:aws:s3:::b/home/${aws:username}/*"}]}`,
	}
	for name, doc := range bucketDocs {
		if _, err := ParseBucket([]byte(doc), "b"); err != nil {
			t.Errorf("bucket %s: %v", name, err)
		}
	}
}

func TestParseRejects(t *testing.T) {
	stmt := func(s string) string { return `{"Version":"2012-10-17","Statement":[` + s + `]}` }
	ok := `"Action":"s3:GetObject","Resource":"*"`
	cases := []struct {
		name, doc string
		kind      Kind
		want      string
	}{
		{"not json", `{`, KindAny, "invalid JSON"},
		{"trailing", `{"Statement":[{"Effect":"Allow",` + ok + `}]} x`, KindAny, "trailing"},
		{"array top", `[]`, KindAny, "JSON object"},
		{"empty doc", `  `, KindAny, "empty"},
		{"bad version", `{"Version":"2020-01-01","Statement":[{"Effect":"Allow",` + ok + `}]}`, KindAny, "Version"},
		{"empty version", `{"Version":"","Statement":[{"Effect":"Allow",` + ok + `}]}`, KindAny, "Version"},
		{"unknown top", `{"Version":"2012-10-17","Foo":1,"Statement":[{"Effect":"Allow",` + ok + `}]}`, KindAny, "unknown element"},
		{"no statement", `{"Version":"2012-10-17"}`, KindAny, "missing Statement"},
		{"empty statement", `{"Version":"2012-10-17","Statement":[]}`, KindAny, "Statement is empty"},
		{"statement string", `{"Version":"2012-10-17","Statement":"x"}`, KindAny, "Statement must be"},
		{"bad effect", stmt(`{"Effect":"allow",` + ok + `}`), KindAny, "Effect"},
		{"missing effect", stmt(`{` + ok + `}`), KindAny, "Effect"},
		{"unknown statement element", stmt(`{"Effect":"Allow","Actions":"s3:*","Resource":"*"}`), KindAny, "unknown element"},
		{"duplicate key", stmt(`{"Effect":"Allow","Effect":"Deny",` + ok + `}`), KindAny, "duplicate key"},
		{"duplicate sid", stmt(`{"Sid":"a","Effect":"Allow",` + ok + `},{"Sid":"a","Effect":"Allow",` + ok + `}`), KindAny, "duplicate Sid"},
		{"action and notaction", stmt(`{"Effect":"Allow","Action":"s3:*","NotAction":"s3:Get*","Resource":"*"}`), KindAny, "Action and NotAction"},
		{"no action", stmt(`{"Effect":"Allow","Resource":"*"}`), KindAny, "Action and NotAction"},
		{"no resource", stmt(`{"Effect":"Allow","Action":"s3:*"}`), KindAny, "Resource and NotResource"},
		{"empty action array", stmt(`{"Effect":"Allow","Action":[],"Resource":"*"}`), KindAny, "empty array"},
		{"action number", stmt(`{"Effect":"Allow","Action":[1],"Resource":"*"}`), KindAny, "only strings"},
		{"bad action", stmt(`{"Effect":"Allow","Action":"GetObject","Resource":"*"}`), KindAny, "invalid action"},
		{"bad action chars", stmt(`{"Effect":"Allow","Action":"s3:Get/Object","Resource":"*"}`), KindAny, "invalid action"},
		{"bad arn", stmt(`{"Effect":"Allow","Action":"s3:*","Resource":"bucket/key"}`), KindAny, "invalid resource"},
		{"short arn", stmt(`{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3::"}`), KindAny, "invalid resource"},
		{"unsupported operator", stmt(`{"Effect":"Allow",` + ok + `,"Condition":{"StringSortOf":{"k":"v"}}}`), KindAny, "unsupported condition operator"},
		{"null ifexists", stmt(`{"Effect":"Allow",` + ok + `,"Condition":{"NullIfExists":{"k":"true"}}}`), KindAny, "unsupported condition operator"},
		{"bad number", stmt(`{"Effect":"Allow",` + ok + `,"Condition":{"NumericLessThan":{"k":"ten"}}}`), KindAny, "not a number"},
		{"nan", stmt(`{"Effect":"Allow",` + ok + `,"Condition":{"NumericLessThan":{"k":"NaN"}}}`), KindAny, "not a number"},
		{"bad date", stmt(`{"Effect":"Allow",` + ok + `,"Condition":{"DateLessThan":{"aws:CurrentTime":"tomorrow"}}}`), KindAny, "not a date"},
		{"bad cidr", stmt(`{"Effect":"Allow",` + ok + `,"Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/33"}}}`), KindAny, "CIDR"},
		{"bad bool", stmt(`{"Effect":"Allow",` + ok + `,"Condition":{"Bool":{"aws:SecureTransport":"yes"}}}`), KindAny, "true or false"},
		{"bad base64", stmt(`{"Effect":"Allow",` + ok + `,"Condition":{"BinaryEquals":{"k":"!!"}}}`), KindAny, "base64"},
		{"empty values", stmt(`{"Effect":"Allow",` + ok + `,"Condition":{"StringEquals":{"k":[]}}}`), KindAny, "empty condition value"},
		{"null value", stmt(`{"Effect":"Allow",` + ok + `,"Condition":{"StringEquals":{"k":null}}}`), KindAny, "condition values"},
		{"empty operator block", stmt(`{"Effect":"Allow",` + ok + `,"Condition":{"StringEquals":{}}}`), KindAny, "non-empty object"},
		{"same key twice case", stmt(`{"Effect":"Allow",` + ok + `,"Condition":{"StringEquals":{"k":"a","K":"b"}}}`), KindAny, "given twice"},
		{"identity with principal", stmt(`{"Effect":"Allow","Principal":"*",` + ok + `}`), KindIdentity, "must not specify a Principal"},
		{"bucket without principal", stmt(`{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::b/*"}`), KindBucket, "Principal"},
		{"principal and notprincipal", stmt(`{"Effect":"Allow","Principal":"*","NotPrincipal":"*",` + ok + `}`), KindAny, "mutually exclusive"},
		{"principal string", stmt(`{"Effect":"Allow","Principal":"t1",` + ok + `}`), KindAny, "Principal string"},
		{"principal partial wildcard", stmt(`{"Effect":"Allow","Principal":{"AWS":"arn:coffer:iam::t1:user/*"},` + ok + `}`), KindAny, "wildcards"},
		{"principal bad arn", stmt(`{"Effect":"Allow","Principal":{"AWS":"arn:coffer:s3:::b"},` + ok + `}`), KindAny, "invalid principal"},
		{"principal unknown type", stmt(`{"Effect":"Allow","Principal":{"Federated":"x"},` + ok + `}`), KindAny, "unsupported principal type"},
		{"principal empty", stmt(`{"Effect":"Allow","Principal":{},` + ok + `}`), KindAny, "non-empty object"},
		{"bucket non-s3 action", stmt(`{"Effect":"Allow","Principal":"*","Action":"iam:*","Resource":"arn:aws:s3:::b/*"}`), KindBucket, "only s3 actions"},
		{"bucket other bucket", stmt(`{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::other/*"}`), KindBucket, "outside bucket"},
		{"bucket non-s3 resource", stmt(`{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"arn:aws:kms:::b"}`), KindBucket, "only s3 resources"},
		{"too deep", strings.Repeat("[", 40) + strings.Repeat("]", 40), KindAny, "nested"},
		{"too large", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow",` + ok + `,"Sid":"` + strings.Repeat("x", MaxSize) + `"}]}`, KindAny, "larger than"},
	}
	for _, c := range cases {
		_, err := parse([]byte(c.doc), c.kind, "b")
		if !errors.Is(err, ErrMalformedPolicy) {
			t.Errorf("%s: err = %v, want ErrMalformedPolicy", c.name, err)
			continue
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %q, want it to mention %q", c.name, err, c.want)
		}
	}
}

func TestMarshalRoundTrip(t *testing.T) {
	doc := `{"Version":"2012-10-17","Id":"x","Statement":{"Sid":"A","Effect":"Allow","Principal":{"AWS":"t2","CanonicalUser":["c"]},` +
		`"NotAction":"s3:Delete*","Resource":"arn:aws:s3:::b1/*","Condition":{"NumericLessThan":{"s3:max-keys":5},"Bool":{"aws:SecureTransport":true}}}}`
	p, err := Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	out, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	q, err := Parse(out)
	if err != nil {
		t.Fatalf("re-parse %s: %v", out, err)
	}
	out2, _ := json.Marshal(q)
	if string(out) != string(out2) {
		t.Fatalf("marshal not stable:\n%s\n%s", out, out2)
	}
	want := `{"Version":"2012-10-17","Id":"x","Statement":[{"Sid":"A","Effect":"Allow","Principal":{"AWS":["t2"],"CanonicalUser":["c"]},` +
		`"NotAction":["s3:Delete*"],"Resource":["arn:aws:s3:::b1/*"],"Condition":{"Bool":{"aws:SecureTransport":["true"]},"NumericLessThan":{"s3:max-keys":["5"]}}}]}`
	if string(out) != want {
		t.Fatalf("got  %s\nwant %s", out, want)
	}
}

func TestHandBuiltPolicy(t *testing.T) {
	p := &Policy{Version: Version2012, Statements: []Statement{{
		Effect: Allow, Action: []string{"s3:GetObject"}, Resource: []string{"*"},
		Condition: []Condition{{Operator: "IpAddress", Key: "aws:SourceIp", Values: []string{"10.0.0.0/8"}}},
	}}}
	// Unvalidated: Evaluate validates a copy and leaves p untouched.
	if d := Evaluate(req(alice, getObj, obj), []*Policy{p}, nil, ACLNone); !d.Allowed {
		t.Fatalf("unvalidated policy: %q", d.Reason)
	}
	if p.validated || p.Statements[0].Condition[0].op.fam != 0 {
		t.Fatal("Evaluate mutated an unvalidated policy")
	}
	if err := p.Validate(KindIdentity, ""); err != nil {
		t.Fatal(err)
	}
	if d := Evaluate(req(alice, getObj, obj, "aws:SourceIp", "192.0.2.1"), []*Policy{p}, nil, ACLNone); d.Allowed {
		t.Fatal("condition ignored after Validate")
	}
	bad := &Policy{Statements: []Statement{{Effect: "Maybe", Action: []string{"*"}, Resource: []string{"*"}}}}
	if d := Evaluate(req(alice, getObj, obj), []*Policy{bad}, nil, ACLAllow); d.Allowed || !strings.Contains(d.Reason, "invalid identity policy") {
		t.Fatalf("invalid policy must deny: %+v", d)
	}
	if d := Evaluate(req(alice, getObj, obj), nil, bad, ACLAllow); d.Allowed || !strings.Contains(d.Reason, "invalid bucket policy") {
		t.Fatalf("invalid bucket policy must deny: %+v", d)
	}
}

func TestIsPublic(t *testing.T) {
	bp := func(principal, condition string) string {
		c := ""
		if condition != "" {
			c = `,"Condition":` + condition
		}
		return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":` + principal + `,"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"` + c + `}]}`
	}
	cases := []struct {
		name, doc string
		public    bool
	}{
		{"star", bp(`"*"`, ""), true},
		{"aws star", bp(`{"AWS":"*"}`, ""), true},
		{"tenant", bp(`{"AWS":"t2"}`, ""), false},
		{"star pinned to tenant", bp(`"*"`, `{"StringEquals":{"aws:PrincipalAccount":"t2"}}`), false},
		{"star pinned to ip", bp(`"*"`, `{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}`), false},
		{"star wide ip", bp(`"*"`, `{"IpAddress":{"aws:SourceIp":"0.0.0.0/0"}}`), true},
		{"star wildcard value", bp(`"*"`, `{"StringLike":{"aws:PrincipalAccount":"*"}}`), true},
		{"star unrelated condition", bp(`"*"`, `{"Bool":{"aws:SecureTransport":"true"}}`), true},
		{"star negated condition", bp(`"*"`, `{"StringNotEquals":{"aws:PrincipalAccount":"t2"}}`), true},
		{"deny star", `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::b/*"}]}`, false},
		{"not principal", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotPrincipal":{"AWS":"t1"},"Action":"s3:*","Resource":"arn:aws:s3:::b/*"}]}`, true},
	}
	for _, c := range cases {
		p, err := ParseBucket([]byte(c.doc), "b")
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got := p.IsPublic(); got != c.public {
			t.Errorf("%s: IsPublic = %v, want %v", c.name, got, c.public)
		}
	}
}
