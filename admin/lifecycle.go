package admin

import (
	"context"
	"net/http"
	"time"

	"github.com/cofferstore/coffer/iam"
)

// LifecycleItem is one thing a lifecycle run did (or, in a preview, would
// do): an action on a version or an upload under a rule, or a skip with
// its reason ("retention", "legal-hold"). A skipped item is never removed;
// it is retried when its lock ends.
type LifecycleItem struct {
	Bucket    string `json:"bucket"`
	Key       string `json:"key"`
	VersionID string `json:"version_id,omitempty"`
	UploadID  string `json:"upload_id,omitempty"`
	// Action is "Expiration", "NoncurrentVersionExpiration",
	// "ExpiredObjectDeleteMarker" or "AbortIncompleteMultipartUpload".
	Action  string `json:"action"`
	Rule    string `json:"rule"`
	Size    int64  `json:"size"`
	Skipped string `json:"skipped,omitempty"`
}

// LifecycleReport is the result of a preview or of a run.
type LifecycleReport struct {
	DryRun bool            `json:"dry_run"`
	Now    time.Time       `json:"now"`
	Items  []LifecycleItem `json:"items"`
	// Done counts actions taken (or, in a preview, that would be taken);
	// Skipped counts skipped items.
	Done    int `json:"done"`
	Skipped int `json:"skipped"`
	// Started is true when a run was started in the background (run
	// without --wait); Items are then empty.
	Started bool `json:"started,omitempty"`
	// Interrupted is true when the run stopped early (shutdown); the next
	// run resumes where it stopped.
	Interrupted bool `json:"interrupted,omitempty"`
}

// LifecycleRuleStatus is the scheduler state of one rule and action kind
// ("current", "noncurrent", "marker", "upload") of a bucket.
type LifecycleRuleStatus struct {
	Bucket string `json:"bucket"`
	Rule   string `json:"rule"`
	Kind   string `json:"kind"`
	// LastRun is when a run last finished this rule (zero: never).
	LastRun time.Time `json:"last_run"`
	// Cursor is the event time up to which the rule's index was scanned.
	Cursor time.Time `json:"cursor"`
	// Counts since the rule was created (persisted, never double counted).
	Expired int64 `json:"expired"`
	Bytes   int64 `json:"bytes"`
	Aborted int64 `json:"aborted"`
	Skipped int64 `json:"skipped"`
	// Pending is the number of skipped items awaiting retry.
	Pending int `json:"pending"`
	// Overdue is the number of items due for longer than the SLA.
	Overdue int64 `json:"overdue"`
}

// LifecycleStatus is the answer of `lifecycle status`.
type LifecycleStatus struct {
	Running bool                  `json:"running"`
	LastRun time.Time             `json:"last_run"`
	LastErr string                `json:"last_error,omitempty"`
	Rules   []LifecycleRuleStatus `json:"rules"`
}

// Lifecycle is what the admin API needs from the storage engine for the
// lifecycle scheduler. Errors wrap ErrNotFound for a missing bucket.
type Lifecycle interface {
	// LifecyclePreview returns what a run of bucket would do now,
	// changing nothing.
	LifecyclePreview(ctx context.Context, bucket string) (LifecycleReport, error)
	// LifecycleRun runs bucket ("" = every bucket) now; without wait it
	// starts the run in the background and returns at once.
	LifecycleRun(ctx context.Context, bucket string, wait bool) (LifecycleReport, error)
	// LifecycleStatus reports every bucket's rules.
	LifecycleStatus(ctx context.Context) (LifecycleStatus, error)
}

// LifecyclePreview asks for a dry run of bucket's lifecycle rules.
func (c *Client) LifecyclePreview(ctx context.Context, bucket string) (LifecycleReport, error) {
	var out LifecycleReport
	return out, c.do(ctx, "GET", "lifecycle/preview", map[string][]string{"bucket": {bucket}}, nil, &out)
}

// LifecycleRun runs the lifecycle rules of bucket ("" = all, root only)
// now; with wait it returns the run's report when it finished.
func (c *Client) LifecycleRun(ctx context.Context, bucket string, wait bool) (LifecycleReport, error) {
	var out LifecycleReport
	return out, c.do(ctx, "POST", "lifecycle/run", nil, lifecycleRunRequest{Bucket: bucket, Wait: wait}, &out)
}

// LifecycleStatus returns the scheduler state of the caller's buckets.
func (c *Client) LifecycleStatus(ctx context.Context) (LifecycleStatus, error) {
	var out LifecycleStatus
	return out, c.do(ctx, "GET", "lifecycle/status", nil, nil, &out)
}

// lifecycleRunRequest is the body of `lifecycle run`.
type lifecycleRunRequest struct {
	Bucket string `json:"bucket"`
	Wait   bool   `json:"wait"`
}

// serveLifecycle serves lifecycle/preview (GET ?bucket=), lifecycle/run
// (POST {bucket, wait}) and lifecycle/status (GET). Root may name any
// bucket or none (run: every bucket); a tenant administrator only its own
// tenant's buckets, and its status lists only those.
func (s *Server) serveLifecycle(c context.Context, p iam.Principal, route, method, bucket string,
	decode func(any) error, scopeBucket func(string) error) (any, error) {
	switch {
	case route == "lifecycle/preview" && method == "GET":
		if err := scopeBucket(bucket); err != nil {
			return nil, err
		}
		return s.Lifecycle.LifecyclePreview(c, bucket)
	case route == "lifecycle/run" && method == "POST":
		var in lifecycleRunRequest
		if err := decode(&in); err != nil {
			return nil, err
		}
		if in.Bucket != "" || !p.Root {
			if err := scopeBucket(in.Bucket); err != nil {
				return nil, err
			}
		}
		return s.Lifecycle.LifecycleRun(c, in.Bucket, in.Wait)
	case route == "lifecycle/status" && method == "GET":
		st, err := s.Lifecycle.LifecycleStatus(c)
		if err != nil || p.Root {
			return st, err
		}
		mine := st.Rules[:0]
		for _, r := range st.Rules {
			if owner, err := s.Compliance.BucketTenant(c, r.Bucket); err == nil && owner == p.Tenant {
				mine = append(mine, r)
			}
		}
		st.Rules = mine
		return st, nil
	}
	return nil, &Error{http.StatusNotFound, "NoSuchEndpoint", "unknown admin endpoint " + method + " " + route}
}
