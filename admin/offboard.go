package admin

import (
	"context"
	"errors"

	"github.com/cofferstore/coffer/iam"
	"github.com/cofferstore/coffer/offboard"
)

// Offboarder is what the admin API needs for tenant offboarding (package
// offboard implements it).
type Offboarder interface {
	// Shred offboards a tenant with crypto-shredding and returns the signed
	// certificate of destruction, or a *offboard.BlockedError (nothing
	// destroyed) while versions are under retention or legal hold.
	Shred(ctx context.Context, tenant, actor string) (offboard.Certificate, error)
	// DeleteEmpty deletes a tenant that owns no bucket (an error wrapping
	// iam.ErrNotEmpty otherwise), with its identities and KMS keys.
	DeleteEmpty(ctx context.Context, tenant string) error
	// PublicKey is the server's certificate signing public key.
	PublicKey() offboard.PublicKey
	// Certificate returns the latest certificate issued for a tenant.
	Certificate(tenant string) (offboard.Certificate, bool)
}

// serveTenantDelete serves DELETE tenants (root only): with shred=true the
// offboarding with its certificate, else the deletion of an empty tenant.
func (s *Server) serveTenantDelete(c context.Context, p iam.Principal, tenant string, shred bool) (any, error) {
	if _, err := s.ids.Tenant(tenant); err != nil {
		if c, ok := s.Offboard.Certificate(tenant); ok && shred {
			// A re-run after the offboarding finished: its certificate.
			return c, nil
		}
		return nil, err
	}
	if !shred {
		if err := s.Offboard.DeleteEmpty(c, tenant); err != nil {
			return nil, err
		}
		return map[string]string{"deleted": tenant}, nil
	}
	s.log.Warn("tenant shred requested", "tenant", tenant, "actor", p.ARN())
	return s.Offboard.Shred(c, tenant, "admin:"+p.ARN())
}

// blockedBody is the JSON error of a refused shred: the error with the
// list of blockers.
type blockedBody struct {
	*Error
	Tenant string `json:"tenant"`
	// Total counts every blocker; Blockers lists at most
	// offboard.MaxBlockers of them.
	Total    int64              `json:"total"`
	Blockers []offboard.Blocker `json:"blockers"`
}

// errorBody is what Handle writes for an error: ae, with the blockers when
// err is a refused shred.
func errorBody(ae *Error, err error) any {
	var be *offboard.BlockedError
	if errors.As(err, &be) {
		return blockedBody{Error: ae, Tenant: be.Tenant, Total: be.Total, Blockers: be.Blockers}
	}
	return ae
}
