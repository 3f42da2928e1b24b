package acl

import "strings"

// Resource says whether an ACL belongs to a bucket or to an object.
type Resource int

const (
	// Bucket is a bucket ACL.
	Bucket Resource = iota
	// Object is an object ACL.
	Object
)

// Canned ACL names (the x-amz-acl header).
const (
	CannedPrivate                = "private"
	CannedPublicRead             = "public-read"
	CannedPublicReadWrite        = "public-read-write"
	CannedAuthenticatedRead      = "authenticated-read"
	CannedBucketOwnerRead        = "bucket-owner-read"
	CannedBucketOwnerFullControl = "bucket-owner-full-control"
	CannedLogDeliveryWrite       = "log-delivery-write"
	CannedAWSExecRead            = "aws-exec-read"
)

func userGrant(o Owner, perm string) Grant {
	return Grant{Grantee{Type: TypeCanonicalUser, ID: o.ID, DisplayName: o.DisplayName}, perm}
}

func groupGrant(uri, perm string) Grant {
	return Grant{Grantee{Type: TypeGroup, URI: uri}, perm}
}

// Canned returns the ACL that the canned ACL name gives a resource owned by
// owner. bucketOwner is the owner of the bucket holding an object; it is
// ignored for buckets. Every canned ACL gives the owner FULL_CONTROL, and:
//
//   - private: nothing more.
//   - public-read: AllUsers READ.
//   - public-read-write: AllUsers READ and WRITE.
//   - authenticated-read: AuthenticatedUsers READ.
//   - bucket-owner-read: on objects, the bucket owner READ; on buckets (and
//     when the bucket owner is the object owner) the same as private, as S3
//     ignores it there.
//   - bucket-owner-full-control: on objects, the bucket owner FULL_CONTROL;
//     on buckets (and when the bucket owner is the object owner) the same as
//     private.
//   - log-delivery-write: LogDelivery WRITE and READ_ACP. Meant for buckets;
//     on objects it yields the same grants (as Ceph RGW does), which are
//     inert because no request is ever LogDelivery.
//   - aws-exec-read: accepted for client compatibility and the same as
//     private. In AWS it also gives Amazon EC2 READ on AMI bundles; coffer
//     has no EC2 account to grant to.
//
// An unknown name yields ErrInvalidArgument.
func Canned(name string, r Resource, owner, bucketOwner Owner) (*ACL, error) {
	a := &ACL{Owner: owner, Grants: []Grant{userGrant(owner, FullControl)}}
	otherBucketOwner := r == Object && bucketOwner.ID != "" && bucketOwner.ID != owner.ID
	switch name {
	case CannedPrivate, CannedAWSExecRead:
	case CannedPublicRead:
		a.Grants = append(a.Grants, groupGrant(AllUsers, Read))
	case CannedPublicReadWrite:
		a.Grants = append(a.Grants, groupGrant(AllUsers, Read), groupGrant(AllUsers, Write))
	case CannedAuthenticatedRead:
		a.Grants = append(a.Grants, groupGrant(AuthenticatedUsers, Read))
	case CannedBucketOwnerRead:
		if otherBucketOwner {
			a.Grants = append(a.Grants, userGrant(bucketOwner, Read))
		}
	case CannedBucketOwnerFullControl:
		if otherBucketOwner {
			a.Grants = append(a.Grants, userGrant(bucketOwner, FullControl))
		}
	case CannedLogDeliveryWrite:
		a.Grants = append(a.Grants, groupGrant(LogDelivery, Write), groupGrant(LogDelivery, ReadACP))
	default:
		return nil, ErrInvalidArgument.with("Invalid canned ACL: " + truncate(name))
	}
	return a, nil
}

// truncate bounds client input echoed in messages.
func truncate(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}

// grantHeaders lists the x-amz-grant-* headers (lower case) and the
// permission each grants, in the order ParseHeaders emits grants.
var grantHeaders = [...]struct{ header, perm string }{
	{"x-amz-grant-read", Read},
	{"x-amz-grant-write", Write},
	{"x-amz-grant-read-acp", ReadACP},
	{"x-amz-grant-write-acp", WriteACP},
	{"x-amz-grant-full-control", FullControl},
}

// GrantHeaderNames returns the names of the x-amz-grant-* headers.
func GrantHeaderNames() []string {
	out := make([]string, len(grantHeaders))
	for i, h := range grantHeaders {
		out[i] = h.header
	}
	return out
}

// ParseHeaders builds the ACL a request sets through its headers. get
// returns a request header by lower-case name ("" when absent).
//
//   - No x-amz-acl and no x-amz-grant-* header: nil, nil (the request sets
//     no ACL).
//   - x-amz-acl: Canned(value, r, owner, bucketOwner).
//   - x-amz-grant-*: an ACL holding exactly the listed grants. As in S3 the
//     owner is NOT added: it keeps only its implicit READ_ACP and WRITE_ACP
//     unless a header grants it more.
//   - Both: ErrInvalidRequest.
func ParseHeaders(get func(name string) string, r Resource, owner, bucketOwner Owner) (*ACL, error) {
	canned := strings.TrimSpace(get("x-amz-acl"))
	var grants []Grant
	seen := false
	for _, h := range grantHeaders {
		v := get(h.header)
		if v == "" {
			continue
		}
		seen = true
		if canned != "" {
			return nil, ErrInvalidRequest
		}
		gs, err := ParseGrantHeader(v, h.perm)
		if err != nil {
			return nil, err
		}
		grants = append(grants, gs...)
		if len(grants) > MaxGrants {
			return nil, ErrInvalidArgument.with("An ACL can have at most 100 grants")
		}
	}
	switch {
	case canned != "":
		return Canned(canned, r, owner, bucketOwner)
	case seen:
		return &ACL{Owner: owner, Grants: grants}, nil
	}
	return nil, nil
}

// ParseGrantHeader parses the value of one x-amz-grant-* header into grants
// of perm. The value is a comma-separated list of key=value pairs; keys are
// id, uri and emailAddress (case-insensitive); values are usually quoted
// with double quotes ("..."), and may be bare. Examples:
//
//	id="79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"
//	uri="http://acs.amazonaws.com/groups/global/AllUsers", id="abc"
//
// A malformed list, an empty or invalid id, an unknown group URI or an
// unknown key yields ErrInvalidArgument; emailAddress yields
// ErrUnresolvableGrantByEmail.
func ParseGrantHeader(value, perm string) ([]Grant, error) {
	if !ValidPermission(perm) {
		return nil, ErrInvalidArgument.with("Invalid permission")
	}
	var out []Grant
	s := value
	for {
		s = strings.TrimLeft(s, " \t")
		eq := strings.IndexByte(s, '=')
		if eq <= 0 {
			return nil, ErrInvalidArgument.with("Malformed grant header")
		}
		key := strings.TrimSpace(s[:eq])
		s = strings.TrimLeft(s[eq+1:], " \t")
		var val string
		if strings.HasPrefix(s, `"`) {
			end := strings.IndexByte(s[1:], '"')
			if end < 0 {
				return nil, ErrInvalidArgument.with("Malformed grant header: unterminated quote")
			}
			val, s = s[1:1+end], s[2+end:]
		} else {
			end := strings.IndexByte(s, ',')
			if end < 0 {
				end = len(s)
			}
			val, s = strings.TrimSpace(s[:end]), s[end:]
			if strings.ContainsAny(val, "\" \t=") {
				return nil, ErrInvalidArgument.with("Malformed grant header")
			}
		}
		var g Grant
		switch strings.ToLower(key) {
		case "id":
			if !validID(val) {
				return nil, ErrInvalidArgument.with("Invalid id")
			}
			g = Grant{Grantee{Type: TypeCanonicalUser, ID: val}, perm}
		case "uri":
			if !validGroup(val) {
				return nil, ErrInvalidArgument.with("Invalid group uri")
			}
			g = groupGrant(val, perm)
		case "emailaddress":
			return nil, ErrUnresolvableGrantByEmail
		default:
			return nil, ErrInvalidArgument.with("Malformed grant header: unknown grantee key")
		}
		out = append(out, g)
		if len(out) > MaxGrants {
			return nil, ErrInvalidArgument.with("An ACL can have at most 100 grants")
		}
		s = strings.TrimLeft(s, " \t")
		if s == "" {
			return out, nil
		}
		if s[0] != ',' {
			return nil, ErrInvalidArgument.with("Malformed grant header")
		}
		s = s[1:]
	}
}
