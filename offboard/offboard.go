// Package offboard implements tenant offboarding with crypto-shredding
// (requirement R55): `coffer admin tenant delete T --shred`.
//
// An offboarding runs these steps, each idempotent, so that a crash or an
// error anywhere resumes at the next start (Resume) or when the command is
// run again:
//
//  1. freeze: the tenant record is marked as offboarding (iam); from then
//     on its access keys no longer authenticate and no user or key can be
//     added to it;
//  2. blockers: every version of every bucket of the tenant is asked the
//     object layer's one retention check (no governance bypass); if any
//     version is under retention or legal hold, the offboarding is refused
//     with the list of blockers, the tenant is unfrozen again, and nothing
//     is destroyed;
//  3. plan: the inventory (buckets, objects, versions, bytes, uploads, users,
//     access keys, the tenant's KMS keys) is stored with the freeze mark,
//     so the certificate reports what existed even after a crash;
//  4. purge: every version is removed through the object layer's single
//     removal path (after the retention check), uploads are aborted, buckets
//     deleted, and every pending shard set is deleted from the drives;
//  5. shred: every KEK of the tenant is destroyed in the KMS;
//  6. certify: the certificate of destruction is signed with the server's
//     Ed25519 signing key and stored; then the tenant record with its
//     users, access keys and policies is deleted.
//
// Guarantees:
//   - Offboarding MUST NOT remove anything while any version of the tenant
//     is under retention (COMPLIANCE or GOVERNANCE mode; the governance
//     bypass is never used) or legal hold.
//   - A tenant being offboarded MUST NOT authenticate any request.
//   - A certificate is issued only after every step succeeded; its
//     signature covers every field.
//   - The signing private key MUST NOT be written anywhere but sealed by
//     the KMS (and so by the master key), nor appear in logs or errors.
package offboard

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/cofferstore/coffer/crypto/kms"
	"github.com/cofferstore/coffer/iam"
	"github.com/cofferstore/coffer/metadata"
)

// Path is the removal path name the object layer's retention check and
// deletion records see for removals by an offboarding.
const Path = "TenantShred"

// Method describes, in the certificate, how the data was destroyed.
const Method = "crypto-shred: tenant KEKs destroyed in the KMS; version records with their sealed data keys deleted through the object layer's removal path; shard sets deleted from every drive; users, access keys and policies deleted"

// Inventory counts what an offboarding destroys.
type Inventory struct {
	Objects       int64 `json:"objects"`        // distinct keys with at least one version
	Versions      int64 `json:"versions"`       // versions, delete markers included
	DeleteMarkers int64 `json:"delete_markers"` // of Versions
	Bytes         int64 `json:"bytes"`          // plaintext bytes over all versions
	Uploads       int64 `json:"uploads"`        // in-progress multipart uploads
}

// Blocker is a version that retention or legal hold protects: while one
// exists, the tenant cannot be offboarded.
type Blocker struct {
	Bucket      string     `json:"bucket"`
	Key         string     `json:"key"`
	VersionID   string     `json:"version_id"`
	Mode        string     `json:"mode,omitempty"` // COMPLIANCE or GOVERNANCE when retained
	RetainUntil *time.Time `json:"retain_until,omitempty"`
	LegalHold   bool       `json:"legal_hold"`
}

// MaxBlockers bounds the blockers a survey lists (a tenant with millions
// of retained records would otherwise produce an answer of hundreds of
// megabytes); Survey.Blocked still counts them all.
const MaxBlockers = 1000

// Survey is what Storage.TenantInventory finds.
type Survey struct {
	Inventory
	// Buckets are the tenant's bucket names, sorted.
	Buckets []string
	// Blockers are the first MaxBlockers blockers in metadata order.
	Blockers []Blocker
	// Blocked counts every blocker.
	Blocked int64
}

// BlockedError is returned by Shred when versions are under retention or
// legal hold. Nothing was destroyed.
type BlockedError struct {
	Tenant string
	// Blockers are the first MaxBlockers blockers.
	Blockers []Blocker
	// Total counts every blocker.
	Total int64
}

func (e *BlockedError) Error() string {
	n := max(e.Total, int64(len(e.Blockers)))
	noun := "versions"
	if n == 1 {
		noun = "version"
	}
	return fmt.Sprintf("offboard: tenant %q has %d %s under retention or legal hold", e.Tenant, n, noun)
}

// Storage is what offboarding needs from the object layer; the object
// engine implements it.
type Storage interface {
	// TenantInventory counts the tenant's data, names its buckets and
	// lists its blockers (versions the retention check refuses to remove,
	// without governance bypass). It changes nothing.
	TenantInventory(ctx context.Context, tenant string) (Survey, error)
	// PurgeTenant removes every version of every bucket of the tenant
	// through the single removal path, each after the retention check
	// (path Path, actor actor), aborts its uploads, deletes its buckets,
	// and deletes every pending shard set from the drives. It is
	// idempotent. It MUST stop at the first version the check refuses.
	PurgeTenant(ctx context.Context, tenant, actor string) error
	// DeploymentID identifies the deployment (its drives' format).
	DeploymentID() string
	// ComplianceNow is the compliance clock's time.
	ComplianceNow() time.Time
}

// TablePrefix is this package's table in the metadata keyspace ('D', for
// destruction; it was 'O' before that was found shared with the object
// layer's noncurrent-version index, where a bucket named "cert" would have
// held the certificates in its index range):
//
//	Dsigning-key           the signing key: JSON {public, sealed seed}
//	Dcert\x00<tenant>      the latest certificate issued for the tenant
const TablePrefix = 'D'

func signingKeyKey() []byte        { return append([]byte{TablePrefix}, "signing-key"...) }
func certKey(tenant string) []byte { return append([]byte{TablePrefix}, "cert\x00"+tenant...) }

// The KMS key that seals the signing key (tenant "_coffer" is reserved: no
// iam tenant can be named so).
const (
	systemTenant   = "_coffer"
	signingKeyName = "cert-signing"
	signingKeyAAD  = "coffer-certificate-signing-key-v1"
)

// Offboarder runs offboardings. It is safe for concurrent use; offboardings
// run one at a time.
type Offboarder struct {
	st   Storage
	ids  *iam.IAM
	kms  kms.Provider
	meta metadata.Store
	log  *slog.Logger
	wall func() time.Time

	priv ed25519.PrivateKey
	pub  ed25519.PublicKey

	mu sync.Mutex // one offboarding at a time
}

// plan is what an offboarding stores with the freeze mark (iam.Offboarding
// Plan): enough to certify after a crash.
type plan struct {
	CertID      string         `json:"cert_id"`
	StartedWall time.Time      `json:"started_wall"`
	Inventory   Inventory      `json:"inventory"`
	Buckets     []string       `json:"buckets"`
	Keys        []DestroyedKey `json:"keys"`
	Users       int            `json:"users"`
	AccessKeys  int            `json:"access_keys"`
}

type signingRecord struct {
	Public []byte     `json:"public"`
	Sealed kms.Sealed `json:"sealed_seed"`
}

// New returns an Offboarder. It loads the server's signing key, generating
// it on first use: an Ed25519 seed sealed by the KMS key
// "_coffer/cert-signing" and stored in meta under this package's table.
func New(ctx context.Context, st Storage, ids *iam.IAM, prov kms.Provider, meta metadata.Store, log *slog.Logger) (*Offboarder, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	o := &Offboarder{st: st, ids: ids, kms: prov, meta: meta, log: log, wall: time.Now}
	if err := o.loadSigningKey(ctx); err != nil {
		return nil, err
	}
	return o, nil
}

func (o *Offboarder) loadSigningKey(ctx context.Context) error {
	raw, err := o.meta.Get(signingKeyKey())
	if err == nil {
		var rec signingRecord
		if err := json.Unmarshal(raw, &rec); err != nil {
			return fmt.Errorf("offboard: signing key record: %w", err)
		}
		seed, err := o.kms.Unseal(ctx, rec.Sealed, []byte(signingKeyAAD))
		if err != nil {
			return fmt.Errorf("offboard: unsealing the signing key: %w", err)
		}
		o.priv = ed25519.NewKeyFromSeed(seed)
		kms.Zero(seed)
		o.pub = o.priv.Public().(ed25519.PublicKey)
		if !o.pub.Equal(ed25519.PublicKey(rec.Public)) {
			return errors.New("offboard: signing key record: public key does not match the sealed key")
		}
		return nil
	}
	if !errors.Is(err, metadata.ErrNotFound) {
		return fmt.Errorf("offboard: reading the signing key: %w", err)
	}
	if _, err := o.kms.CreateKey(ctx, systemTenant, signingKeyName); err != nil && !errors.Is(err, kms.ErrKeyExists) {
		return fmt.Errorf("offboard: creating the signing key's KEK: %w", err)
	}
	seed := make([]byte, ed25519.SeedSize)
	if _, err := rand.Read(seed); err != nil {
		return err
	}
	defer kms.Zero(seed)
	sealed, err := o.kms.Seal(ctx, systemTenant, signingKeyName, seed, []byte(signingKeyAAD))
	if err != nil {
		return fmt.Errorf("offboard: sealing the signing key: %w", err)
	}
	o.priv = ed25519.NewKeyFromSeed(seed)
	o.pub = o.priv.Public().(ed25519.PublicKey)
	b := metadata.NewBatch()
	b.Set(signingKeyKey(), mustJSON(signingRecord{Public: o.pub, Sealed: sealed}))
	if err := o.meta.Apply(b); err != nil {
		return fmt.Errorf("offboard: storing the signing key: %w", err)
	}
	return nil
}

// String describes o without its private key.
func (o *Offboarder) String() string { return "offboard.Offboarder(signing key " + KeyID(o.pub) + ")" }

// GoString is String, so that %#v prints no secret either.
func (o *Offboarder) GoString() string { return o.String() }

// PublicKey returns the server's signing public key.
func (o *Offboarder) PublicKey() PublicKey { return NewPublicKey(o.pub) }

// Shred offboards tenant (see the package comment) on behalf of actor and
// returns the certificate of destruction. When versions are under
// retention or legal hold it returns a *BlockedError and destroys nothing.
// When the tenant no longer exists but a certificate was issued for it
// (a re-run after a crash at the very end), it returns that certificate.
// Any other error leaves the tenant frozen; calling Shred again (or
// Resume at start) continues where it stopped. A blocker found after the
// plan was stored (a legal hold set by root while the purge ran) stops the
// purge and leaves the tenant frozen until the hold is released and the
// command is run again.
func (o *Offboarder) Shred(ctx context.Context, tenant, actor string) (Certificate, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	t, err := o.ids.Tenant(tenant)
	if errors.Is(err, iam.ErrNotFound) {
		if c, ok := o.issued(tenant); ok {
			return c, nil
		}
	}
	if err != nil {
		return Certificate{}, err
	}
	fresh := t.Offboarding == nil
	if fresh {
		if t, err = o.ids.BeginOffboarding(tenant, iam.Offboarding{Started: o.st.ComplianceNow(), Actor: actor}); err != nil {
			return Certificate{}, err
		}
		o.log.Warn("tenant offboarding started: the tenant's access keys no longer authenticate", "tenant", tenant, "actor", actor)
	}
	var p plan
	if len(t.Offboarding.Plan) == 0 {
		sv, err := o.st.TenantInventory(ctx, tenant)
		if err == nil && sv.Blocked > 0 {
			err = &BlockedError{Tenant: tenant, Blockers: sv.Blockers, Total: sv.Blocked}
		}
		if err != nil {
			// No plan means nothing was destroyed yet (destruction starts
			// only after the plan is stored), so the tenant may be
			// unfrozen again — also when a crash left it frozen.
			var blocked *BlockedError
			unfrozen := false
			if errors.As(err, &blocked) || fresh {
				uerr := o.ids.CancelOffboarding(tenant)
				if uerr != nil {
					o.log.Error("unfreezing a tenant after a refused offboarding", "tenant", tenant, "err", uerr)
				}
				unfrozen = uerr == nil
			}
			if blocked != nil {
				o.log.Warn("tenant offboarding refused: versions under retention or legal hold; nothing was destroyed",
					"tenant", tenant, "actor", actor, "blockers", blocked.Total, "unfrozen", unfrozen)
			} else {
				o.log.Error("tenant offboarding stopped before anything was destroyed", "tenant", tenant, "actor", actor, "unfrozen", unfrozen, "err", err)
			}
			return Certificate{}, err
		}
		p = plan{CertID: newID(), StartedWall: o.wall().UTC(), Inventory: sv.Inventory, Buckets: sv.Buckets,
			Users: len(o.ids.Users(tenant)), AccessKeys: len(o.ids.Keys(tenant, ""))}
		keys, err := o.kms.ListKeys(ctx, tenant)
		if err != nil {
			return Certificate{}, err
		}
		for _, k := range keys {
			p.Keys = append(p.Keys, DestroyedKey{Name: k.Name, Versions: k.Versions, Current: k.Current})
		}
		if t, err = o.ids.SetOffboardingPlan(tenant, mustJSON(p)); err != nil {
			return Certificate{}, err
		}
	} else if err := json.Unmarshal(t.Offboarding.Plan, &p); err != nil {
		return Certificate{}, fmt.Errorf("offboard: tenant %q: stored plan: %w", tenant, err)
	}
	if err := o.st.PurgeTenant(ctx, tenant, actor); err != nil {
		return Certificate{}, err
	}
	destroyed, err := o.kms.DestroyTenant(ctx, tenant)
	if err != nil {
		return Certificate{}, err
	}
	// The destroyed KEKs' sealed bytes MUST NOT survive in the replicas'
	// log and table files: purge the KMS keyspace physically before the
	// certificate says they are gone (an offline replica makes this fail;
	// the offboarding then resumes later).
	if err := o.purge(tableRange('K')); err != nil {
		return Certificate{}, fmt.Errorf("offboard: purging destroyed keys from the metadata files: %w", err)
	}
	// Keys created after the plan (none can be: the tenant is frozen, but
	// root may create keys for any tenant) are reported too.
	for _, k := range destroyed {
		if !hasKey(p.Keys, k.Name) {
			p.Keys = append(p.Keys, DestroyedKey{Name: k.Name, Versions: k.Versions, Current: k.Current})
		}
	}
	sort.Slice(p.Keys, func(i, j int) bool { return p.Keys[i].Name < p.Keys[j].Name })
	c := Certificate{
		Format: CertificateFormat, ID: p.CertID, DeploymentID: o.st.DeploymentID(),
		Tenant: tenant, CanonicalID: t.CanonicalID, Actor: t.Offboarding.Actor,
		Started: t.Offboarding.Started.UTC(), Finished: o.st.ComplianceNow().UTC(),
		StartedWall: p.StartedWall, FinishedWall: o.wall().UTC(),
		Keys: p.Keys, Buckets: p.Buckets, Inventory: p.Inventory,
		Users: p.Users, AccessKeys: p.AccessKeys, Method: Method,
	}
	if c.Keys == nil {
		c.Keys = []DestroyedKey{}
	}
	if c.Buckets == nil {
		c.Buckets = []string{}
	}
	if err := c.Sign(o.priv); err != nil {
		return Certificate{}, err
	}
	b := metadata.NewBatch()
	b.Set(certKey(tenant), mustJSON(c))
	if err := o.meta.Apply(b); err != nil {
		return Certificate{}, fmt.Errorf("offboard: storing the certificate: %w", err)
	}
	if err := o.ids.DeleteTenant(tenant); err != nil {
		return Certificate{}, err
	}
	if err := o.purge(tableRange('I')); err != nil {
		o.log.Error("purging the tenant's identity records from the metadata files (retried by the next purge of this range)", "tenant", tenant, "err", err)
	}
	o.log.Warn("tenant offboarded", "tenant", tenant, "certificate", c.ID, "versions", c.Versions, "keys", len(c.Keys))
	return c, nil
}

// Metadata ranges purged physically after an offboarding: the KMS keyspace
// (tag 'K', object/schema.go) and the identity store (tag 'I').
func tableRange(tag byte) metadata.KeyRange {
	return metadata.KeyRange{Start: []byte{tag}, End: []byte{tag + 1}}
}

// purge erases the deleted values of r from every metadata replica's files
// when the store can (metadata.Purger); stores that cannot (tests' memory
// stores) keep nothing on disk.
func (o *Offboarder) purge(r metadata.KeyRange) error {
	p, ok := o.meta.(metadata.Purger)
	if !ok {
		return nil
	}
	return p.Purge([]metadata.KeyRange{r})
}

// DeleteEmpty deletes a tenant that owns no bucket without a certificate
// (`coffer admin tenant delete T` without --shred): its users, access keys
// and policies, and its KMS keys, which can seal nothing of it any more.
// It returns an error wrapping iam.ErrNotEmpty when the tenant owns a
// bucket.
func (o *Offboarder) DeleteEmpty(ctx context.Context, tenant string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	t, err := o.ids.Tenant(tenant)
	if err != nil {
		return err
	}
	if t.Offboarding != nil {
		return fmt.Errorf("%w: %q: an offboarding is in progress; finish it with --shred", iam.ErrOffboarding, tenant)
	}
	sv, err := o.st.TenantInventory(ctx, tenant)
	if err != nil {
		return err
	}
	if len(sv.Buckets) > 0 {
		return fmt.Errorf("%w: tenant %q still owns %d buckets (use --shred to destroy them)", iam.ErrNotEmpty, tenant, len(sv.Buckets))
	}
	if err := o.ids.DeleteTenant(tenant); err != nil {
		return err
	}
	_, err = o.kms.DestroyTenant(ctx, tenant)
	return err
}

// Resume continues every offboarding a crash or an error interrupted. It
// logs each outcome and returns the first error.
func (o *Offboarder) Resume(ctx context.Context) error {
	var first error
	for _, t := range o.ids.Tenants() {
		if t.Offboarding == nil {
			continue
		}
		c, err := o.Shred(ctx, t.ID, t.Offboarding.Actor)
		if err != nil {
			o.log.Error("resuming tenant offboarding", "tenant", t.ID, "err", err)
			if first == nil {
				first = err
			}
			continue
		}
		o.log.Warn("interrupted tenant offboarding finished", "tenant", t.ID, "certificate", c.ID)
	}
	return first
}

// Certificate returns the latest certificate issued for tenant.
func (o *Offboarder) Certificate(tenant string) (Certificate, bool) {
	return o.issued(tenant)
}

func (o *Offboarder) issued(tenant string) (Certificate, bool) {
	raw, err := o.meta.Get(certKey(tenant))
	if err != nil {
		return Certificate{}, false
	}
	var c Certificate
	if json.Unmarshal(raw, &c) != nil {
		return Certificate{}, false
	}
	return c, true
}

func hasKey(ks []DestroyedKey, name string) bool {
	for _, k := range ks {
		if k.Name == name {
			return true
		}
	}
	return false
}

func newID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b[:])
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
