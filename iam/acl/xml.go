package acl

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
)

const (
	// S3Namespace is the XML namespace of S3 request and response bodies.
	S3Namespace = "http://s3.amazonaws.com/doc/2006-03-01/"
	// XSINamespace is the namespace of the xsi:type attribute on Grantee.
	XSINamespace = "http://www.w3.org/2001/XMLSchema-instance"
	// MaxXMLSize bounds every XML body this package parses, in bytes.
	MaxXMLSize = 64 << 10
)

type xmlPolicy struct {
	XMLName xml.Name   `xml:"AccessControlPolicy"`
	Owner   *xmlOwner  `xml:"Owner"`
	List    *xmlGrants `xml:"AccessControlList"`
}

type xmlOwner struct {
	ID          string `xml:"ID"`
	DisplayName string `xml:"DisplayName"`
}

type xmlGrants struct {
	Grants []xmlGrant `xml:"Grant"`
}

type xmlGrant struct {
	Grantee    *xmlGrantee `xml:"Grantee"`
	Permission string      `xml:"Permission"`
}

type xmlGrantee struct {
	// Type matches the attribute named "type" in any namespace; S3 clients
	// send it as xsi:type.
	Type         string `xml:"type,attr"`
	ID           string `xml:"ID"`
	DisplayName  string `xml:"DisplayName"`
	URI          string `xml:"URI"`
	EmailAddress string `xml:"EmailAddress"`
}

// readBounded reads at most MaxXMLSize bytes of r; a longer body yields tooBig.
func readBounded(r io.Reader, tooBig error) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxXMLSize+1))
	if err != nil {
		return nil, err
	}
	if len(b) > MaxXMLSize {
		return nil, tooBig
	}
	return b, nil
}

// decodeStrict decodes one XML document into v and refuses trailing content
// other than whitespace, comments and processing instructions.
func decodeStrict(b []byte, v any) error {
	d := xml.NewDecoder(bytes.NewReader(b))
	if err := d.Decode(v); err != nil {
		return err
	}
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.Comment, xml.ProcInst:
		case xml.CharData:
			if len(bytes.TrimSpace(t)) != 0 {
				return errors.New("trailing data")
			}
		default:
			return errors.New("trailing data")
		}
	}
}

// ParseXML parses an AccessControlPolicy document, the body of PutBucketAcl
// and PutObjectAcl. It reads at most MaxXMLSize bytes of r.
//
// The body must have an Owner with an ID and may have an AccessControlList
// of at most MaxGrants grants; each Grantee must carry xsi:type. Errors:
// ErrMalformedACL for a body that is too large, not well-formed, lacks
// Owner, Grantee or xsi:type, names an unknown grantee type or permission,
// or has too many grants; ErrInvalidArgument for an invalid id or unknown
// group URI; ErrUnresolvableGrantByEmail for an AmazonCustomerByEmail
// grantee; a read error of r is returned as is.
//
// ParseXML does not compare the owner with the resource's current owner
// (callers do that with CheckOwner) and keeps the DisplayName values the
// client sent (Resolve replaces them with the real ones and rejects unknown
// ids).
func ParseXML(r io.Reader) (*ACL, error) {
	b, err := readBounded(r, ErrMalformedACL.with("The ACL body exceeds 64 KiB"))
	if err != nil {
		return nil, err
	}
	var p xmlPolicy
	if err := decodeStrict(b, &p); err != nil {
		return nil, ErrMalformedACL
	}
	if p.Owner == nil || p.Owner.ID == "" {
		return nil, ErrMalformedACL
	}
	a := &ACL{Owner: Owner{ID: p.Owner.ID, DisplayName: p.Owner.DisplayName}}
	if !validID(a.Owner.ID) {
		return nil, ErrInvalidArgument.with("Invalid id")
	}
	if p.List == nil {
		return a, nil
	}
	if len(p.List.Grants) > MaxGrants {
		return nil, ErrMalformedACL.with("An ACL can have at most 100 grants")
	}
	for _, xg := range p.List.Grants {
		if xg.Grantee == nil {
			return nil, ErrMalformedACL
		}
		g := Grant{
			Grantee: Grantee{
				Type:        xg.Grantee.Type,
				ID:          xg.Grantee.ID,
				DisplayName: xg.Grantee.DisplayName,
				URI:         xg.Grantee.URI,
			},
			Permission: xg.Permission,
		}
		// Keep only the fields meaningful for the type.
		switch g.Grantee.Type {
		case TypeCanonicalUser:
			g.Grantee.URI = ""
		case TypeGroup:
			g.Grantee.ID, g.Grantee.DisplayName = "", ""
		}
		if err := validGrant(g); err != nil {
			return nil, err
		}
		a.Grants = append(a.Grants, g)
	}
	return a, nil
}

// CheckOwner verifies that the Owner of a new ACL is the resource's current
// owner (by ID); S3 does not let Put*Acl change ownership. A mismatch yields
// ErrAccessDenied.
func CheckOwner(a *ACL, current Owner) error {
	if a.Owner.ID != current.ID {
		return ErrAccessDenied
	}
	return nil
}

// XML renders a as the AccessControlPolicy body of GetBucketAcl and
// GetObjectAcl, byte for byte as S3 does: an XML declaration, the S3
// namespace on the root, xmlns:xsi and xsi:type on each Grantee, and
// DisplayName elements only when non-empty.
func (a *ACL) XML() []byte {
	var b bytes.Buffer
	b.WriteString(xml.Header)
	b.WriteString(`<AccessControlPolicy xmlns="` + S3Namespace + `"><Owner>`)
	element(&b, "ID", a.Owner.ID)
	if a.Owner.DisplayName != "" {
		element(&b, "DisplayName", a.Owner.DisplayName)
	}
	b.WriteString(`</Owner><AccessControlList>`)
	for _, g := range a.Grants {
		b.WriteString(`<Grant><Grantee xmlns:xsi="` + XSINamespace + `" xsi:type="`)
		_ = xml.EscapeText(&b, []byte(g.Grantee.Type))
		b.WriteString(`">`)
		switch g.Grantee.Type {
		case TypeGroup:
			element(&b, "URI", g.Grantee.URI)
		default:
			element(&b, "ID", g.Grantee.ID)
			if g.Grantee.DisplayName != "" {
				element(&b, "DisplayName", g.Grantee.DisplayName)
			}
		}
		b.WriteString(`</Grantee>`)
		element(&b, "Permission", g.Permission)
		b.WriteString(`</Grant>`)
	}
	b.WriteString(`</AccessControlList></AccessControlPolicy>`)
	return b.Bytes()
}

// element writes <name>escaped text</name>. Writes to a bytes.Buffer cannot fail.
func element(b *bytes.Buffer, name, text string) {
	b.WriteString("<" + name + ">")
	_ = xml.EscapeText(b, []byte(text))
	b.WriteString("</" + name + ">")
}
