package policy

import (
	"encoding/base64"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// family is the kind of comparison an operator makes.
type family int

const (
	famString family = iota + 1
	famStringIgnoreCase
	famStringLike
	famNumeric
	famDate
	famBool
	famBinary
	famIP
	famArn
	famNull
)

// comparison is the ordering test of numeric and date operators.
type comparison int

const (
	cmpEq comparison = iota
	cmpLt
	cmpLe
	cmpGt
	cmpGe
)

// qualifier is the set operator prefix.
type qualifier int

const (
	qualNone qualifier = iota
	qualForAny
	qualForAll
)

// operatorSpec describes a base operator (without qualifier or IfExists).
type operatorSpec struct {
	fam     family
	cmp     comparison
	negated bool // the operator is the negation of its positive form
}

// operators maps lower-cased base operator names to their meaning. It is
// read-only.
var operators = map[string]operatorSpec{
	"stringequals":              {fam: famString},
	"stringnotequals":           {fam: famString, negated: true},
	"stringequalsignorecase":    {fam: famStringIgnoreCase},
	"stringnotequalsignorecase": {fam: famStringIgnoreCase, negated: true},
	"stringlike":                {fam: famStringLike},
	"stringnotlike":             {fam: famStringLike, negated: true},
	"numericequals":             {fam: famNumeric, cmp: cmpEq},
	"numericnotequals":          {fam: famNumeric, cmp: cmpEq, negated: true},
	"numericlessthan":           {fam: famNumeric, cmp: cmpLt},
	"numericlessthanequals":     {fam: famNumeric, cmp: cmpLe},
	"numericgreaterthan":        {fam: famNumeric, cmp: cmpGt},
	"numericgreaterthanequals":  {fam: famNumeric, cmp: cmpGe},
	"dateequals":                {fam: famDate, cmp: cmpEq},
	"datenotequals":             {fam: famDate, cmp: cmpEq, negated: true},
	"datelessthan":              {fam: famDate, cmp: cmpLt},
	"datelessthanequals":        {fam: famDate, cmp: cmpLe},
	"dategreaterthan":           {fam: famDate, cmp: cmpGt},
	"dategreaterthanequals":     {fam: famDate, cmp: cmpGe},
	"bool":                      {fam: famBool},
	"binaryequals":              {fam: famBinary},
	"ipaddress":                 {fam: famIP},
	"notipaddress":              {fam: famIP, negated: true},
	"arnequals":                 {fam: famArn},
	"arnlike":                   {fam: famArn},
	"arnnotequals":              {fam: famArn, negated: true},
	"arnnotlike":                {fam: famArn, negated: true},
	"null":                      {fam: famNull},
}

// compiledOp is a condition prepared for evaluation: operator decoded and
// typed values parsed.
type compiledOp struct {
	operatorSpec
	qual     qualifier
	ifExists bool
	key      string
	values   []string
	nums     []float64
	times    []time.Time
	prefixes []netip.Prefix
	bools    []bool
}

// compile decodes the operator and parses the values, so that a malformed
// value is rejected when the policy is stored, not ignored when it is used.
func (c *Condition) compile() error {
	name := c.Operator
	op := compiledOp{key: c.Key, values: c.Values}
	switch {
	case hasPrefixFold(name, "ForAnyValue:"):
		op.qual, name = qualForAny, name[len("ForAnyValue:"):]
	case hasPrefixFold(name, "ForAllValues:"):
		op.qual, name = qualForAll, name[len("ForAllValues:"):]
	}
	lower := strings.ToLower(name)
	if base, ok := strings.CutSuffix(lower, "ifexists"); ok && base != "null" {
		op.ifExists, lower = true, base
	}
	spec, ok := operators[lower]
	if !ok {
		return errorf("unsupported condition operator %s", quote(c.Operator))
	}
	op.operatorSpec = spec
	if c.Key == "" || strings.ContainsAny(c.Key, " \t\n") {
		return errorf("invalid condition key %s", quote(c.Key))
	}
	if len(c.Values) == 0 {
		return errorf("condition %s %s has no values", c.Operator, c.Key)
	}
	for _, v := range c.Values {
		switch spec.fam {
		case famNumeric:
			n, err := parseNumber(v)
			if err != nil {
				return errorf("condition %s %s: %s is not a number", c.Operator, c.Key, quote(v))
			}
			op.nums = append(op.nums, n)
		case famDate:
			t, err := parseDate(v)
			if err != nil {
				return errorf("condition %s %s: %s is not a date", c.Operator, c.Key, quote(v))
			}
			op.times = append(op.times, t)
		case famBool, famNull:
			b, ok := parseBool(v)
			if !ok {
				return errorf("condition %s %s: %s is not true or false", c.Operator, c.Key, quote(v))
			}
			op.bools = append(op.bools, b)
		case famIP:
			p, err := parsePrefix(v)
			if err != nil {
				return errorf("condition %s %s: %s is not an IP address or CIDR block", c.Operator, c.Key, quote(v))
			}
			op.prefixes = append(op.prefixes, p)
		case famBinary:
			if _, err := base64.StdEncoding.DecodeString(v); err != nil {
				return errorf("condition %s %s: %s is not base64", c.Operator, c.Key, quote(v))
			}
		}
	}
	c.op = op
	return nil
}

// eval decides the condition against the request context. The rules are
// AWS's:
//   - Null: "true" holds when the key is absent (or has no values),
//     "false" when it is present.
//   - Absent key: ...IfExists holds; ForAllValues holds; ForAnyValue does
//     not; otherwise a negated operator (StringNotEquals, NotIpAddress,
//     ...) holds and a positive one does not.
//   - Unqualified, with several request values: the positive form holds
//     when any request value matches any policy value; a negated operator
//     is its exact negation.
//   - ForAnyValue: some request value matches (negated: matches none of
//     the policy values).
//   - ForAllValues: every request value matches (negated: every request
//     value matches none of the policy values).
func (op *compiledOp) eval(ec *evalCtx, vars bool) bool {
	vals, present := ec.lookup(op.key)
	present = present && len(vals) > 0
	if op.fam == famNull {
		for _, want := range op.bools {
			if want == !present {
				return true
			}
		}
		return false
	}
	if !present {
		switch {
		case op.ifExists:
			return true
		case op.qual == qualForAll:
			return true
		case op.qual == qualForAny:
			return false
		}
		return op.negated
	}
	switch op.qual {
	case qualForAny:
		for _, v := range vals {
			if op.match(ec, vars, v) != op.negated {
				return true
			}
		}
		return false
	case qualForAll:
		for _, v := range vals {
			if op.match(ec, vars, v) == op.negated {
				return false
			}
		}
		return true
	}
	for _, v := range vals {
		if op.match(ec, vars, v) {
			return !op.negated
		}
	}
	return op.negated
}

// match is the positive test: does the request value v match any of the
// policy values?
func (op *compiledOp) match(ec *evalCtx, vars bool, v string) bool {
	switch op.fam {
	case famString, famStringIgnoreCase:
		for _, pv := range op.values {
			want, ok := ec.expandString(pv, vars)
			if !ok {
				continue
			}
			if want == v || op.fam == famStringIgnoreCase && strings.EqualFold(want, v) {
				return true
			}
		}
	case famStringLike, famArn:
		for _, pv := range op.values {
			if pat, ok := ec.expandPattern(pv, vars); ok && globMatch(pat, v) {
				return true
			}
		}
	case famNumeric:
		n, err := parseNumber(v)
		if err != nil {
			return false
		}
		for _, pn := range op.nums {
			if compare(op.cmp, cmpFloat(n, pn)) {
				return true
			}
		}
	case famDate:
		t, err := parseDate(v)
		if err != nil {
			return false
		}
		for _, pt := range op.times {
			if compare(op.cmp, t.Compare(pt)) {
				return true
			}
		}
	case famBool:
		b, ok := parseBool(v)
		if !ok {
			return false
		}
		for _, pb := range op.bools {
			if b == pb {
				return true
			}
		}
	case famBinary:
		for _, pv := range op.values {
			if pv == v {
				return true
			}
		}
	case famIP:
		addr, err := netip.ParseAddr(strings.TrimSpace(v))
		if err != nil {
			return false
		}
		addr = addr.Unmap().WithZone("")
		for _, p := range op.prefixes {
			if p.Contains(addr) {
				return true
			}
		}
	}
	return false
}

// parseBool accepts "true" and "false" in any case.
func parseBool(s string) (b, ok bool) {
	switch {
	case strings.EqualFold(s, "true"):
		return true, true
	case strings.EqualFold(s, "false"):
		return false, true
	}
	return false, false
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// compare applies the comparison to the result of comparing the request
// value with the policy value.
func compare(c comparison, r int) bool {
	switch c {
	case cmpLt:
		return r < 0
	case cmpLe:
		return r <= 0
	case cmpGt:
		return r > 0
	case cmpGe:
		return r >= 0
	}
	return r == 0
}

// parseNumber accepts integers and decimal numbers; NaN and infinities are
// rejected.
func parseNumber(s string) (float64, error) {
	n, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil {
		return 0, err
	}
	if math.IsNaN(n) || math.IsInf(n, 0) {
		return 0, errorf("not a finite number")
	}
	return n, nil
}

// dateLayouts are the ISO 8601 forms accepted for dates, besides epoch
// seconds.
var dateLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05Z0700",
	"2006-01-02T15:04Z07:00",
	"2006-01-02T15:04:05",
	"2006-01-02",
}

// parseDate accepts ISO 8601 dates and times (UTC when no zone is given)
// and integer epoch seconds.
func parseDate(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n < -62135596800 || n > 253402300799 { // years 1..9999
			return time.Time{}, errorf("epoch out of range")
		}
		return time.Unix(n, 0).UTC(), nil
	}
	var err error
	for _, layout := range dateLayouts {
		var t time.Time
		if t, err = time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, err
}

// parsePrefix accepts a CIDR block or a single address (a /32 or /128).
// IPv4-mapped IPv6 prefixes are unmapped so that they match IPv4 sources.
func parsePrefix(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		if err != nil || a.Zone() != "" {
			return netip.Prefix{}, errorf("bad address")
		}
		a = a.Unmap()
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	if p.Addr().Is4In6() && p.Bits() >= 96 {
		p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
	}
	return p.Masked(), nil
}

// pinningKeys are the condition keys that, compared with fixed values,
// restrict a wildcard-principal statement to known callers (see IsPublic).
var pinningKeys = map[string]bool{
	"aws:sourceip": true, "aws:principalaccount": true, "aws:principalarn": true,
	"aws:userid": true, "aws:username": true, "aws:sourcearn": true,
	"aws:sourceaccount": true, "aws:sourcevpc": true, "aws:sourcevpce": true,
	"aws:principalorgid": true, "aws:sourceowner": true,
}

// pins reports whether the condition restricts its key to fixed values.
func (c *Condition) pins() bool {
	op := &c.op
	if op.fam == 0 || op.negated || op.ifExists || op.qual == qualForAll || !pinningKeys[strings.ToLower(op.key)] {
		return false
	}
	switch op.fam {
	case famString, famStringIgnoreCase, famStringLike, famArn:
		for _, v := range op.values {
			if strings.ContainsAny(v, "*?") || strings.Contains(v, "${") {
				return false
			}
		}
		return true
	case famIP:
		for _, p := range op.prefixes {
			if p.Addr().Is4() && p.Bits() < 8 || p.Addr().Is6() && p.Bits() < 32 {
				return false
			}
		}
		return true
	}
	return false
}
