package admin

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/cofferstore/coffer/iam"
	"github.com/cofferstore/coffer/offboard"
)

// Client calls the admin API of a coffer server.
type Client struct {
	Endpoint  string // e.g. http://127.0.0.1:9000
	AccessKey string
	SecretKey string
	Region    string
	HTTP      *http.Client
}

// do sends one signed request and decodes the JSON answer into out.
func (c *Client) do(ctx context.Context, method, route string, query url.Values, in, out any) error {
	resp, err := c.send(ctx, method, route, query, in)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return err
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("admin: decoding answer: %w", err)
	}
	return nil
}

// send sends one signed request with in (when not nil) as its JSON body.
// It returns the response of a 200 answer, whose body the caller closes;
// any other status is returned as an *Error.
func (c *Client) send(ctx context.Context, method, route string, query url.Values, in any) (*http.Response, error) {
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return nil, err
		}
	}
	u := strings.TrimRight(c.Endpoint, "/") + Prefix + route
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	sum := sha256.Sum256(body)
	hash := hex.EncodeToString(sum[:])
	req.Header.Set("X-Amz-Content-Sha256", hash)
	region := c.Region
	if region == "" {
		region = "us-east-1"
	}
	creds := aws.Credentials{AccessKeyID: c.AccessKey, SecretAccessKey: c.SecretKey}
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, hash, "s3", region, time.Now()); err != nil {
		return nil, err
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		defer resp.Body.Close()
		raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		if err != nil {
			return nil, err
		}
		var blocked blockedBody
		if json.Unmarshal(raw, &blocked) == nil && len(blocked.Blockers) > 0 {
			return nil, &offboard.BlockedError{Tenant: blocked.Tenant, Blockers: blocked.Blockers, Total: blocked.Total}
		}
		e := &Error{Status: resp.StatusCode}
		if json.Unmarshal(raw, e) != nil || e.Code == "" {
			e.Code, e.Message = http.StatusText(resp.StatusCode), strings.TrimSpace(string(raw))
		}
		return nil, e
	}
	return resp, nil
}

func (c *Client) WhoAmI(ctx context.Context) (WhoAmI, error) {
	var w WhoAmI
	return w, c.do(ctx, "GET", "whoami", nil, nil, &w)
}

// CreateKey creates a tenant key.
func (c *Client) CreateKey(ctx context.Context, tenant, name string) (KeyStatus, error) {
	var k KeyStatus
	return k, c.do(ctx, "POST", "kms/keys", nil, keyRequest{tenant, name}, &k)
}

// ListKeys lists keys ("" tenant = all).
func (c *Client) ListKeys(ctx context.Context, tenant string) ([]KeyStatus, error) {
	var ks []KeyStatus
	q := url.Values{}
	if tenant != "" {
		q.Set("tenant", tenant)
	}
	return ks, c.do(ctx, "GET", "kms/keys", q, nil, &ks)
}

// Clock reports the server's compliance clock.
func (c *Client) Clock(ctx context.Context) (ClockReport, error) {
	var out ClockReport
	return out, c.do(ctx, "GET", "clock", nil, nil, &out)
}

// CreateTenant creates a tenant; the answer holds its first admin's key.
func (c *Client) CreateTenant(ctx context.Context, id string) (TenantCreated, error) {
	var out TenantCreated
	return out, c.do(ctx, "POST", "tenants", nil, map[string]string{"id": id}, &out)
}

// Tenants lists tenants (root: all; a tenant admin: its own).
func (c *Client) Tenants(ctx context.Context) ([]iam.Tenant, error) {
	var out []iam.Tenant
	return out, c.do(ctx, "GET", "tenants", nil, nil, &out)
}

// TenantInfo describes one tenant.
func (c *Client) TenantInfo(ctx context.Context, id string) (iam.Tenant, error) {
	var out iam.Tenant
	return out, c.do(ctx, "GET", "tenants/info", url.Values{"tenant": {id}}, nil, &out)
}

// DeleteTenant deletes a tenant that owns no bucket.
func (c *Client) DeleteTenant(ctx context.Context, id string) error {
	return c.do(ctx, "DELETE", "tenants", url.Values{"tenant": {id}}, nil, nil)
}

// ShredTenant offboards a tenant with crypto-shredding and returns the
// signed certificate of destruction. While versions are under retention or
// legal hold it returns a *offboard.BlockedError listing them.
func (c *Client) ShredTenant(ctx context.Context, id string) (offboard.Certificate, error) {
	var out offboard.Certificate
	return out, c.do(ctx, "DELETE", "tenants", url.Values{"tenant": {id}, "shred": {"true"}}, nil, &out)
}

// TenantCertificate returns the latest certificate issued for a tenant.
func (c *Client) TenantCertificate(ctx context.Context, id string) (offboard.Certificate, error) {
	var out offboard.Certificate
	return out, c.do(ctx, "GET", "tenants/certificate", url.Values{"tenant": {id}}, nil, &out)
}

// SigningKey returns the server's certificate signing public key.
func (c *Client) SigningKey(ctx context.Context) (offboard.PublicKey, error) {
	var out offboard.PublicKey
	return out, c.do(ctx, "GET", "signing-key", nil, nil, &out)
}

// CreateUser adds a user (admin: a tenant administrator).
func (c *Client) CreateUser(ctx context.Context, tenant, name string, admin bool) (iam.User, error) {
	var out iam.User
	return out, c.do(ctx, "POST", "users", nil, map[string]any{"tenant": tenant, "name": name, "admin": admin}, &out)
}

// Users lists users.
func (c *Client) Users(ctx context.Context, tenant string) ([]iam.User, error) {
	var out []iam.User
	return out, c.do(ctx, "GET", "users", url.Values{"tenant": {tenant}}, nil, &out)
}

// DeleteUser deletes a user and its keys.
func (c *Client) DeleteUser(ctx context.Context, tenant, name string) error {
	return c.do(ctx, "DELETE", "users", url.Values{"tenant": {tenant}, "name": {name}}, nil, nil)
}

// DisableUser disables (or re-enables) a user.
func (c *Client) DisableUser(ctx context.Context, tenant, name string, disabled bool) (iam.User, error) {
	var out iam.User
	return out, c.do(ctx, "POST", "users/disable", nil, map[string]any{"tenant": tenant, "name": name, "disabled": disabled}, &out)
}

// CreateAccessKey adds an access key to a user; the secret is shown once.
func (c *Client) CreateAccessKey(ctx context.Context, tenant, user string, expires *time.Time) (iam.NewKey, error) {
	var out iam.NewKey
	return out, c.do(ctx, "POST", "keys", nil, map[string]any{"tenant": tenant, "user": user, "expires": expires}, &out)
}

// AccessKeys lists access keys (without secrets).
func (c *Client) AccessKeys(ctx context.Context, tenant, user string) ([]iam.AccessKey, error) {
	var out []iam.AccessKey
	return out, c.do(ctx, "GET", "keys", url.Values{"tenant": {tenant}, "user": {user}}, nil, &out)
}

// RevokeAccessKey revokes an access key at once.
func (c *Client) RevokeAccessKey(ctx context.Context, tenant, accessKey string) (iam.AccessKey, error) {
	var out iam.AccessKey
	return out, c.do(ctx, "POST", "keys/revoke", nil, map[string]string{"tenant": tenant, "accessKey": accessKey}, &out)
}

// SetPolicy sets (doc non-nil) or removes a user's named identity policy.
func (c *Client) SetPolicy(ctx context.Context, tenant, user, name string, doc json.RawMessage) (iam.User, error) {
	var out iam.User
	return out, c.do(ctx, "PUT", "policy", nil, map[string]any{"tenant": tenant, "user": user, "name": name, "document": doc}, &out)
}

// Policies returns a user's identity policies by name.
func (c *Client) Policies(ctx context.Context, tenant, user string) (map[string]json.RawMessage, error) {
	var out map[string]json.RawMessage
	return out, c.do(ctx, "GET", "policy", url.Values{"tenant": {tenant}, "user": {user}}, nil, &out)
}

// RotateKey makes a new key version and starts re-sealing data keys.
func (c *Client) RotateKey(ctx context.Context, tenant, name string) (KeyStatus, error) {
	var k KeyStatus
	return k, c.do(ctx, "POST", "kms/keys/rotate", nil, keyRequest{tenant, name}, &k)
}

// KeyStatus reports every key's versions and re-seal progress.
func (c *Client) KeyStatus(ctx context.Context) ([]KeyStatus, error) {
	var ks []KeyStatus
	return ks, c.do(ctx, "GET", "kms/status", nil, nil, &ks)
}

// Verify re-reads versions of bucket (of key, or the one version) and
// compares them with their recorded digests and evidence. limit 0 means
// the server's default; marker continues a truncated report.
func (c *Client) Verify(ctx context.Context, bucket, key, versionID string, limit int, marker string) (VerifyReport, error) {
	var out VerifyReport
	q := url.Values{"bucket": {bucket}}
	if key != "" {
		q.Set("key", key)
	}
	if versionID != "" {
		q.Set("version", versionID)
	}
	if limit > 0 {
		q.Set("limit", fmt.Sprint(limit))
	}
	if marker != "" {
		q.Set("marker", marker)
	}
	return out, c.do(ctx, "GET", "verify", q, nil, &out)
}

// RetentionReport summarises a bucket's retention and legal holds.
func (c *Client) RetentionReport(ctx context.Context, bucket string) (RetentionReport, error) {
	var out RetentionReport
	return out, c.do(ctx, "GET", "retention/report", url.Values{"bucket": {bucket}}, nil, &out)
}
