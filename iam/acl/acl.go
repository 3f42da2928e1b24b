package acl

import (
	"strings"
	"unicode/utf8"
)

// Grantee types (the xsi:type of a Grantee element).
const (
	TypeCanonicalUser = "CanonicalUser"
	TypeGroup         = "Group"
	// TypeEmail is accepted on the wire only to be refused with
	// ErrUnresolvableGrantByEmail; an ACL never holds it.
	TypeEmail = "AmazonCustomerByEmail"
)

// Predefined group URIs.
const (
	// AllUsers is everyone, anonymous requests included.
	AllUsers = "http://acs.amazonaws.com/groups/global/AllUsers"
	// AuthenticatedUsers is every signed request, from any tenant.
	AuthenticatedUsers = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
	// LogDelivery is the server access log writer. No Requester ever
	// matches it: the log writer is trusted code, not a request.
	LogDelivery = "http://acs.amazonaws.com/groups/s3/LogDelivery"
)

// Permissions.
const (
	FullControl = "FULL_CONTROL" // implies every other permission
	Read        = "READ"
	Write       = "WRITE"
	ReadACP     = "READ_ACP"
	WriteACP    = "WRITE_ACP"
)

// Limits.
const (
	// MaxGrants is the largest number of grants an ACL may hold, as in S3.
	MaxGrants = 100
	// MaxIDLength bounds a canonical user id in bytes.
	MaxIDLength = 256
)

// Owner is the owner of a bucket or object: its canonical id and display
// name. Only ID takes part in decisions.
type Owner struct {
	ID          string
	DisplayName string
}

// Grantee is who a grant applies to. Type is TypeCanonicalUser (ID set,
// DisplayName optional) or TypeGroup (URI set to AllUsers,
// AuthenticatedUsers or LogDelivery).
type Grantee struct {
	Type        string
	ID          string
	DisplayName string
	URI         string
}

// Grant gives Permission to Grantee.
type Grant struct {
	Grantee    Grantee
	Permission string
}

// ACL is the access control list of a bucket or an object. The zero Grants
// grants nothing; the owner still implicitly holds READ_ACP and WRITE_ACP.
// Functions of this package never modify an ACL they are given.
type ACL struct {
	Owner  Owner
	Grants []Grant
}

// Requester is who makes a request. Anonymous requests match only AllUsers;
// their CanonicalID is ignored. A signed request carries the canonical id of
// the tenant it acts for.
type Requester struct {
	CanonicalID string
	Anonymous   bool
}

// ValidPermission reports whether p is one of the five ACL permissions.
func ValidPermission(p string) bool {
	switch p {
	case FullControl, Read, Write, ReadACP, WriteACP:
		return true
	}
	return false
}

// validGroup reports whether uri is a known group.
func validGroup(uri string) bool {
	return uri == AllUsers || uri == AuthenticatedUsers || uri == LogDelivery
}

// validID reports whether id is an acceptable canonical user id: 1 to
// MaxIDLength bytes of printable UTF-8 without spaces or quotes.
func validID(id string) bool {
	if id == "" || len(id) > MaxIDLength || !utf8.ValidString(id) {
		return false
	}
	for _, r := range id {
		if r <= ' ' || r == 0x7f || r == '"' {
			return false
		}
	}
	return true
}

// Validate checks an ACL built by a caller: a valid owner id, at most
// MaxGrants grants, known grantee types, ids, group URIs and permissions.
func (a *ACL) Validate() error {
	if !validID(a.Owner.ID) {
		return ErrInvalidArgument.with("Invalid id")
	}
	if len(a.Grants) > MaxGrants {
		return ErrMalformedACL.with("An ACL can have at most 100 grants")
	}
	for _, g := range a.Grants {
		if err := validGrant(g); err != nil {
			return err
		}
	}
	return nil
}

func validGrant(g Grant) error {
	if !ValidPermission(g.Permission) {
		return ErrMalformedACL
	}
	switch g.Grantee.Type {
	case TypeCanonicalUser:
		if !validID(g.Grantee.ID) {
			return ErrInvalidArgument.with("Invalid id")
		}
	case TypeGroup:
		if !validGroup(g.Grantee.URI) {
			return ErrInvalidArgument.with("Invalid group uri")
		}
	case TypeEmail:
		return ErrUnresolvableGrantByEmail
	default:
		return ErrMalformedACL
	}
	return nil
}

// Resolve checks that every canonical id in a (owner and grantees) names a
// known account and fills in display names. lookup returns the display name
// of id and whether id exists. An unknown id yields ErrInvalidArgument
// ("Invalid id"), as S3 answers. Resolve returns a new ACL; a is unchanged.
func (a *ACL) Resolve(lookup func(id string) (displayName string, ok bool)) (*ACL, error) {
	out := &ACL{Owner: a.Owner, Grants: make([]Grant, len(a.Grants))}
	name, ok := lookup(a.Owner.ID)
	if !ok {
		return nil, ErrInvalidArgument.with("Invalid id")
	}
	out.Owner.DisplayName = name
	for i, g := range a.Grants {
		if g.Grantee.Type == TypeCanonicalUser {
			name, ok := lookup(g.Grantee.ID)
			if !ok {
				return nil, ErrInvalidArgument.with("Invalid id")
			}
			g.Grantee.DisplayName = name
		}
		out.Grants[i] = g
	}
	return out, nil
}

// matches reports whether grantee g covers requester p.
func (g Grantee) matches(p Requester) bool {
	switch g.Type {
	case TypeCanonicalUser:
		return !p.Anonymous && p.CanonicalID != "" && g.ID == p.CanonicalID
	case TypeGroup:
		switch g.URI {
		case AllUsers:
			return true
		case AuthenticatedUsers:
			return !p.Anonymous
		}
	}
	return false
}

// public reports whether g is one of the public groups.
func (g Grantee) public() bool {
	return g.Type == TypeGroup && (g.URI == AllUsers || g.URI == AuthenticatedUsers)
}

// Allows reports whether the ACL grants perm to p, looking at the ACL alone
// (Settings.Allows also applies Object Ownership and Block Public Access):
//   - a FULL_CONTROL grant implies every permission;
//   - AllUsers matches every requester, anonymous included;
//   - AuthenticatedUsers matches every non-anonymous requester;
//   - the owner implicitly holds READ_ACP and WRITE_ACP;
//   - an empty or unknown perm is never granted; a nil ACL grants nothing.
func (a *ACL) Allows(p Requester, perm string) bool {
	if a == nil || !ValidPermission(perm) {
		return false
	}
	if (perm == ReadACP || perm == WriteACP) && !p.Anonymous &&
		p.CanonicalID != "" && p.CanonicalID == a.Owner.ID {
		return true
	}
	for _, g := range a.Grants {
		if (g.Permission == perm || g.Permission == FullControl) && g.Grantee.matches(p) {
			return true
		}
	}
	return false
}

// IsPublic reports whether a grants any permission to AllUsers or
// AuthenticatedUsers. A nil ACL is not public.
func IsPublic(a *ACL) bool {
	if a == nil {
		return false
	}
	for _, g := range a.Grants {
		if g.Grantee.public() {
			return true
		}
	}
	return false
}

// withoutPublic returns a copy of a without grants to public groups.
func withoutPublic(a *ACL) *ACL {
	out := &ACL{Owner: a.Owner, Grants: make([]Grant, 0, len(a.Grants))}
	for _, g := range a.Grants {
		if !g.Grantee.public() {
			out.Grants = append(out.Grants, g)
		}
	}
	return out
}

// actionPerms maps lower-cased S3 actions to the permission they need on a
// bucket ACL ([0]) and on an object ACL ([1]). This follows the AWS table
// "Mapping of ACL permissions and access policy permissions".
var actionPerms = map[string][2]string{
	"s3:listbucket":                 {Read, ""},
	"s3:listbucketversions":         {Read, ""},
	"s3:listbucketmultipartuploads": {Read, ""},
	"s3:putobject":                  {Write, ""},
	"s3:deleteobject":               {Write, ""},
	"s3:getobject":                  {"", Read},
	"s3:getobjectversion":           {"", Read},
	"s3:getbucketacl":               {ReadACP, ""},
	"s3:getobjectacl":               {"", ReadACP},
	"s3:getobjectversionacl":        {"", ReadACP},
	"s3:putbucketacl":               {WriteACP, ""},
	"s3:putobjectacl":               {"", WriteACP},
	"s3:putobjectversionacl":        {"", WriteACP},
}

// Permission returns the ACL permission that grants action, an IAM action
// name such as "s3:GetObject" (matched case-insensitively), when checked
// against the bucket ACL (onObject false) or the object ACL (onObject true).
//
// Bucket ACL: s3:ListBucket, s3:ListBucketVersions and
// s3:ListBucketMultipartUploads need READ; s3:PutObject and s3:DeleteObject
// need WRITE; s3:GetBucketAcl needs READ_ACP; s3:PutBucketAcl WRITE_ACP.
// Object ACL: s3:GetObject and s3:GetObjectVersion need READ;
// s3:GetObject(Version)Acl READ_ACP; s3:PutObject(Version)Acl WRITE_ACP.
//
// Every other action, and every action checked against the wrong ACL,
// returns "": ACLs never grant it. In particular s3:DeleteObjectVersion is
// not granted by bucket WRITE (AWS grants it only when the grantee is the
// bucket owner, who is authorized by policy anyway). Multipart upload
// operations are checked as s3:PutObject by the caller, as in IAM.
func Permission(action string, onObject bool) string {
	p, ok := actionPerms[strings.ToLower(action)]
	if !ok {
		return ""
	}
	if onObject {
		return p[1]
	}
	return p[0]
}
