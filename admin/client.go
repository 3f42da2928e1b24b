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
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return err
		}
	}
	u := strings.TrimRight(c.Endpoint, "/") + Prefix + route
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(body))
	if err != nil {
		return err
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
		return err
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		e := &Error{Status: resp.StatusCode}
		if json.Unmarshal(raw, e) != nil || e.Code == "" {
			// An S3-style XML error (e.g. from a server without the admin
			// API) or something else: report the status.
			e.Code, e.Message = http.StatusText(resp.StatusCode), strings.TrimSpace(string(raw))
		}
		return e
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("admin: decoding answer: %w", err)
	}
	return nil
}

// WhoAmI returns the caller's identity.
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
