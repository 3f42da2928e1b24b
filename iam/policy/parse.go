package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// ErrMalformedPolicy marks every error returned by Parse, ParseIdentity and
// ParseBucket. s3api maps it to the S3 error code MalformedPolicy (and the
// admin API to MalformedPolicyDocument). The wrapped message says what is
// wrong and is safe to show to the caller: it never contains more than the
// offending element of the caller's own document.
var ErrMalformedPolicy = errors.New("policy: malformed policy")

// MaxSize is the largest policy document accepted, in bytes, whitespace
// included. AWS allows 20 KB for bucket policies and 6 KB for user policies;
// coffer is generous and allows 20 KB for both.
const MaxSize = 20 * 1024

// The policy language versions accepted in the Version element.
const (
	// Version2012 is the current language version; policy variables
	// (${aws:username}, ...) are substituted only under it.
	Version2012 = "2012-10-17"
	// Version2008 is the legacy version; "${...}" is literal text under it.
	// A document without a Version element is treated as Version2008, as
	// AWS does.
	Version2008 = "2008-10-17"
)

// maxDepth bounds JSON nesting; a valid policy nests at most 5 levels.
const maxDepth = 16

// Kind selects the rules a document is validated against.
type Kind int

const (
	// KindAny applies only the rules common to all policies.
	KindAny Kind = iota
	// KindIdentity is a policy attached to a user: statements MUST NOT name
	// a Principal or NotPrincipal.
	KindIdentity
	// KindBucket is a bucket policy: every statement MUST name a Principal
	// or NotPrincipal, actions MUST be S3 actions, and resources MUST lie
	// within the bucket.
	KindBucket
)

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformedPolicy, fmt.Sprintf(format, args...))
}

// Parse parses and validates a policy document with the rules common to
// identity and bucket policies (KindAny). Use ParseIdentity or ParseBucket
// when the kind is known.
func Parse(data []byte) (*Policy, error) { return parse(data, KindAny, "") }

// ParseIdentity parses and validates an identity policy (a policy attached
// to a user).
func ParseIdentity(data []byte) (*Policy, error) { return parse(data, KindIdentity, "") }

// ParseBucket parses and validates the bucket policy of the named bucket.
// An empty bucket skips the check that resources lie within the bucket.
func ParseBucket(data []byte, bucket string) (*Policy, error) {
	return parse(data, KindBucket, bucket)
}

func parse(data []byte, kind Kind, bucket string) (*Policy, error) {
	if len(data) > MaxSize {
		return nil, malformed("policy is %d bytes, larger than the limit of %d", len(data), MaxSize)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, malformed("policy document is empty")
	}
	tree, err := decodeJSON(data)
	if err != nil {
		return nil, err
	}
	p, err := build(tree)
	if err != nil {
		return nil, err
	}
	if err := p.validate(kind, bucket); err != nil {
		return nil, err
	}
	return p, nil
}

// decodeJSON decodes data into a tree of map[string]any, []any, string,
// json.Number, bool and nil, rejecting duplicate object keys (which
// encoding/json would silently resolve to the last one, a classic source of
// parser differentials in security policies) and trailing data.
func decodeJSON(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := decodeValue(dec, 0)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, malformed("trailing data after the policy document")
	}
	return v, nil
}

func decodeValue(dec *json.Decoder, depth int) (any, error) {
	if depth > maxDepth {
		return nil, malformed("JSON nested too deeply")
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, malformed("invalid JSON: %v", err)
	}
	d, ok := tok.(json.Delim)
	if !ok {
		return tok, nil
	}
	switch d {
	case '{':
		m := map[string]any{}
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return nil, malformed("invalid JSON: %v", err)
			}
			k, _ := kt.(string)
			if _, dup := m[k]; dup {
				return nil, malformed("duplicate key %q", k)
			}
			v, err := decodeValue(dec, depth+1)
			if err != nil {
				return nil, err
			}
			m[k] = v
		}
		if _, err := dec.Token(); err != nil {
			return nil, malformed("invalid JSON: %v", err)
		}
		return m, nil
	case '[':
		a := []any{}
		for dec.More() {
			v, err := decodeValue(dec, depth+1)
			if err != nil {
				return nil, err
			}
			a = append(a, v)
		}
		if _, err := dec.Token(); err != nil {
			return nil, malformed("invalid JSON: %v", err)
		}
		return a, nil
	}
	return nil, malformed("invalid JSON: unexpected %v", d)
}

// build turns the decoded tree into a Policy, checking shapes and element
// names; validate then checks the values.
func build(tree any) (*Policy, error) {
	obj, ok := tree.(map[string]any)
	if !ok {
		return nil, malformed("policy must be a JSON object")
	}
	p := &Policy{}
	for k, v := range obj {
		switch k {
		case "Version":
			s, ok := v.(string)
			if !ok || s == "" {
				return nil, malformed("Version must be %q or %q", Version2012, Version2008)
			}
			p.Version = s
		case "Id":
			s, ok := v.(string)
			if !ok {
				return nil, malformed("Id must be a string")
			}
			p.ID = s
		case "Statement":
		default:
			return nil, malformed("unknown element %q", k)
		}
	}
	raw, ok := obj["Statement"]
	if !ok {
		return nil, malformed("missing Statement")
	}
	var list []any
	switch s := raw.(type) {
	case map[string]any:
		list = []any{s}
	case []any:
		list = s
	default:
		return nil, malformed("Statement must be an object or an array of objects")
	}
	if len(list) == 0 {
		return nil, malformed("Statement is empty")
	}
	for i, item := range list {
		st, err := buildStatement(item)
		if err != nil {
			return nil, fmt.Errorf("%w (statement %d)", err, i+1)
		}
		p.Statements = append(p.Statements, st)
	}
	return p, nil
}

func buildStatement(item any) (Statement, error) {
	var st Statement
	obj, ok := item.(map[string]any)
	if !ok {
		return st, malformed("statement must be an object")
	}
	var err error
	for k, v := range obj {
		switch k {
		case "Sid":
			s, ok := v.(string)
			if !ok {
				return st, malformed("Sid must be a string")
			}
			st.Sid = s
		case "Effect":
			s, ok := v.(string)
			if !ok {
				return st, malformed("Effect must be a string")
			}
			st.Effect = Effect(s)
		case "Principal":
			st.Principal, err = buildPrincipals(v, k)
		case "NotPrincipal":
			st.NotPrincipal, err = buildPrincipals(v, k)
		case "Action":
			st.Action, err = stringList(v, k)
		case "NotAction":
			st.NotAction, err = stringList(v, k)
		case "Resource":
			st.Resource, err = stringList(v, k)
		case "NotResource":
			st.NotResource, err = stringList(v, k)
		case "Condition":
			st.Condition, err = buildConditions(v)
		default:
			return st, malformed("unknown element %q in statement", k)
		}
		if err != nil {
			return st, err
		}
	}
	return st, nil
}

// stringList accepts a string or a non-empty array of strings.
func stringList(v any, field string) ([]string, error) {
	switch t := v.(type) {
	case string:
		return []string{t}, nil
	case []any:
		if len(t) == 0 {
			return nil, malformed("%s is an empty array", field)
		}
		out := make([]string, 0, len(t))
		for _, e := range t {
			s, ok := e.(string)
			if !ok {
				return nil, malformed("%s must contain only strings", field)
			}
			out = append(out, s)
		}
		return out, nil
	}
	return nil, malformed("%s must be a string or an array of strings", field)
}

func buildPrincipals(v any, field string) (*Principals, error) {
	if s, ok := v.(string); ok {
		if s != "*" {
			return nil, malformed("%s string must be \"*\"; use {\"AWS\": ...} to name principals", field)
		}
		return &Principals{Wildcard: true}, nil
	}
	obj, ok := v.(map[string]any)
	if !ok || len(obj) == 0 {
		return nil, malformed("%s must be \"*\" or a non-empty object", field)
	}
	ps := &Principals{}
	for k, raw := range obj {
		list, err := stringList(raw, field+"."+k)
		if err != nil {
			return nil, err
		}
		switch k {
		case "AWS":
			ps.AWS = list
		case "CanonicalUser":
			ps.CanonicalUser = list
		case "Service":
			ps.Service = list
		default:
			return nil, malformed("unsupported principal type %q", k)
		}
	}
	return ps, nil
}

func buildConditions(v any) ([]Condition, error) {
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, malformed("Condition must be an object")
	}
	var out []Condition
	for op, rawKeys := range obj {
		keys, ok := rawKeys.(map[string]any)
		if !ok || len(keys) == 0 {
			return nil, malformed("condition operator %q must map to a non-empty object", op)
		}
		for key, rawVals := range keys {
			vals, err := conditionValues(rawVals)
			if err != nil {
				return nil, fmt.Errorf("%w in %s %s", err, op, key)
			}
			out = append(out, Condition{Operator: op, Key: key, Values: vals})
		}
	}
	sortConditions(out)
	return out, nil
}

// conditionValues accepts a string, number or boolean, or a non-empty array
// of them, and returns their text.
func conditionValues(v any) ([]string, error) {
	one := func(e any) (string, bool) {
		switch t := e.(type) {
		case string:
			return t, true
		case json.Number:
			return t.String(), true
		case bool:
			if t {
				return "true", true
			}
			return "false", true
		}
		return "", false
	}
	if a, ok := v.([]any); ok {
		if len(a) == 0 {
			return nil, malformed("empty condition value array")
		}
		out := make([]string, 0, len(a))
		for _, e := range a {
			s, ok := one(e)
			if !ok {
				return nil, malformed("condition values must be strings, numbers or booleans")
			}
			out = append(out, s)
		}
		return out, nil
	}
	s, ok := one(v)
	if !ok {
		return nil, malformed("condition values must be strings, numbers or booleans")
	}
	return []string{s}, nil
}

// MarshalJSON renders the policy in a canonical form: Statement is always
// an array, every string-or-array element is an array, condition values are
// strings. Parsing the output yields a policy that evaluates identically.
func (p *Policy) MarshalJSON() ([]byte, error) {
	type jsonStatement struct {
		Sid          string                         `json:"Sid,omitempty"`
		Effect       Effect                         `json:"Effect"`
		Principal    any                            `json:"Principal,omitempty"`
		NotPrincipal any                            `json:"NotPrincipal,omitempty"`
		Action       []string                       `json:"Action,omitempty"`
		NotAction    []string                       `json:"NotAction,omitempty"`
		Resource     []string                       `json:"Resource,omitempty"`
		NotResource  []string                       `json:"NotResource,omitempty"`
		Condition    map[string]map[string][]string `json:"Condition,omitempty"`
	}
	type jsonPolicy struct {
		Version   string          `json:"Version,omitempty"`
		ID        string          `json:"Id,omitempty"`
		Statement []jsonStatement `json:"Statement"`
	}
	out := jsonPolicy{Version: p.Version, ID: p.ID}
	for _, st := range p.Statements {
		js := jsonStatement{
			Sid: st.Sid, Effect: st.Effect,
			Action: st.Action, NotAction: st.NotAction,
			Resource: st.Resource, NotResource: st.NotResource,
		}
		if st.Principal != nil {
			js.Principal = st.Principal.jsonValue()
		}
		if st.NotPrincipal != nil {
			js.NotPrincipal = st.NotPrincipal.jsonValue()
		}
		for _, c := range st.Condition {
			if js.Condition == nil {
				js.Condition = map[string]map[string][]string{}
			}
			if js.Condition[c.Operator] == nil {
				js.Condition[c.Operator] = map[string][]string{}
			}
			js.Condition[c.Operator][c.Key] = c.Values
		}
		out.Statement = append(out.Statement, js)
	}
	return json.Marshal(out)
}

func (ps *Principals) jsonValue() any {
	if ps.Wildcard {
		return "*"
	}
	m := map[string][]string{}
	if len(ps.AWS) > 0 {
		m["AWS"] = ps.AWS
	}
	if len(ps.CanonicalUser) > 0 {
		m["CanonicalUser"] = ps.CanonicalUser
	}
	if len(ps.Service) > 0 {
		m["Service"] = ps.Service
	}
	return m
}

// hasPrefixFold reports whether s begins with prefix, ignoring ASCII case.
func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}
