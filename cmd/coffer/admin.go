package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/cofferstore/coffer/admin"
	"github.com/cofferstore/coffer/iam"
	"github.com/cofferstore/coffer/offboard"
)

const adminUsage = `usage: coffer admin [--endpoint URL] [--json] COMMAND

Connection (flags win over the environment):
  --endpoint URL        COFFER_ENDPOINT (default http://127.0.0.1:9000)
  --access-key KEY      COFFER_ACCESS_KEY
  --secret-key SECRET   COFFER_SECRET_KEY (or COFFER_SECRET_KEY_FILE)
  --json                machine-readable output (stable)

Commands:
  whoami
  clock                 the compliance clock retention is judged by
  tenant create ID | list | info ID
  tenant delete ID      delete a tenant that owns no bucket (its users, keys,
                        policies and KMS keys); refused while it owns buckets
  tenant delete ID --shred [--out FILE]
                        offboard (root only): refused with the list of
                        blockers while any version is under retention or
                        legal hold; otherwise destroys all its data, users,
                        keys and KEKs and prints the signed certificate of
                        destruction (--out also writes it to FILE)
  tenant certificate ID the latest certificate issued for a tenant
  signing-key [--out FILE]
                        the server's certificate signing public key
  verify-certificate FILE [--public-key FILE]
                        verify a certificate's signature (offline with
                        --public-key, else against the server's key);
                        exit status 1 when it does not verify
  user create NAME [--tenant T] [--admin] | list [--tenant T] | delete NAME [--tenant T]
  user disable NAME [--tenant T] [--enable]
  key create USER [--tenant T] [--expires RFC3339|DURATION] | list [--tenant T] [--user U]
  key revoke ACCESS_KEY [--tenant T]
  policy set USER FILE|- [--tenant T] [--name N] | get USER [--tenant T]
  kms key create NAME [--tenant T]
  kms key list [--tenant T]
  kms key rotate NAME [--tenant T]
  kms status
  verify BUCKET [KEY] [--version ID] [--limit N] [--marker M]
                        re-read versions and compare them with their digests
                        and evidence (exit status 1 when a version fails)
  retention report BUCKET
                        versions and bytes under retention and legal hold
  retention show BUCKET the bucket's retention policy and its history
  retention set BUCKET [--min-days N] [--max-days N] [--default-mode M --default-days N]
                        change the retention policy (0 = no bound; mode ""
                        with 0 days removes the default)
  retention lock BUCKET lock the policy: from now on it may only be tightened
  legal-hold set|clear BUCKET KEY [--version ID]
  lifecycle preview BUCKET
                        dry run: what a lifecycle run would do now, with
                        the locked or held items it would skip and why
  lifecycle run [BUCKET] [--wait]
                        run the lifecycle rules now (no BUCKET: all, root only)
  lifecycle status      per bucket and rule: last run, cursor, counts, overdue
` + deletionsUsage

// runAdmin is `coffer admin …`.
func runAdmin(args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	fs := flag.NewFlagSet("coffer admin", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, adminUsage) }
	endpoint := fs.String("endpoint", envOr(getenv, "COFFER_ENDPOINT", "http://127.0.0.1:9000"), "")
	access := fs.String("access-key", getenv("COFFER_ACCESS_KEY"), "")
	secret := fs.String("secret-key", getenv("COFFER_SECRET_KEY"), "")
	region := fs.String("region", envOr(getenv, "COFFER_REGION", "us-east-1"), "")
	asJSON := fs.Bool("json", false, "")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *secret == "" {
		if f := getenv("COFFER_SECRET_KEY_FILE"); f != "" {
			b, err := os.ReadFile(f)
			if err != nil {
				fmt.Fprintf(stderr, "coffer admin: reading COFFER_SECRET_KEY_FILE: %v\n", err)
				return 2
			}
			*secret = strings.TrimSpace(string(b))
		}
	}
	rest := fs.Args()
	if len(rest) == 0 {
		fmt.Fprint(stderr, adminUsage)
		return 2
	}
	newClient := func() (*admin.Client, error) {
		if *access == "" || *secret == "" {
			return nil, errors.New("credentials missing: set COFFER_ACCESS_KEY and COFFER_SECRET_KEY (or --access-key/--secret-key)")
		}
		return &admin.Client{Endpoint: *endpoint, AccessKey: *access, SecretKey: *secret, Region: *region}, nil
	}
	if rest[0] == "verify-certificate" {
		return verifyCertificate(rest[1:], *asJSON, stdout, stderr, newClient)
	}
	c, err := newClient()
	if err != nil {
		fmt.Fprintf(stderr, "coffer admin: %v\n", err)
		return 2
	}
	if ok, code := runSecureDelete(c, rest, *asJSON, stdout, stderr); ok {
		return code
	}
	timeout := time.Minute
	if len(rest) >= 2 && rest[0] == "tenant" && rest[1] == "delete" {
		timeout = shredTimeout
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	out, err := adminCommand(ctx, c, rest, stderr)
	if err == errUsage {
		fmt.Fprint(stderr, adminUsage)
		return 2
	}
	var blocked *offboard.BlockedError
	if errors.As(err, &blocked) {
		printBlockers(stdout, blocked, *asJSON)
		fmt.Fprintf(stderr, "coffer admin: %v; nothing was destroyed\n", err)
		return 1
	}
	if err != nil {
		fmt.Fprintf(stderr, "coffer admin: %v\n", err)
		return 1
	}
	if *asJSON {
		b, _ := json.MarshalIndent(out, "", "  ")
		fmt.Fprintln(stdout, string(b))
		if v, ok := out.(admin.VerifyReport); ok && v.Failed > 0 {
			return 1
		}
		return 0
	}
	printHuman(stdout, out)
	if v, ok := out.(admin.VerifyReport); ok && v.Failed > 0 {
		fmt.Fprintf(stderr, "coffer admin: verify: %d of %d versions failed\n", v.Failed, v.Checked)
		return 1
	}
	return 0
}

var errUsage = fmt.Errorf("usage")

// adminCommand runs one admin command and returns its result.
func adminCommand(ctx context.Context, c *admin.Client, args []string, stderr io.Writer) (any, error) {
	sub := flag.NewFlagSet("coffer admin", flag.ContinueOnError)
	sub.SetOutput(stderr)
	tenant := sub.String("tenant", "", "tenant id")
	isAdmin := sub.Bool("admin", false, "tenant administrator")
	enable := sub.Bool("enable", false, "re-enable instead of disable")
	expires := sub.String("expires", "", "expiry: RFC 3339 time or a duration such as 720h")
	user := sub.String("user", "", "user name")
	policyName := sub.String("name", "default", "policy name")
	versionID := sub.String("version", "", "version id")
	limit := sub.Int("limit", 0, "at most this many versions (verify)")
	marker := sub.String("marker", "", "continue after this marker (verify)")
	minDays := sub.Int("min-days", 0, "minimum retention in days (retention set)")
	maxDays := sub.Int("max-days", 0, "maximum retention in days (retention set)")
	defMode := sub.String("default-mode", "", "default retention mode (retention set)")
	defDays := sub.Int("default-days", 0, "default retention in days (retention set)")
	shred := sub.Bool("shred", false, "offboard: destroy the tenant's data and keys (tenant delete)")
	outFile := sub.String("out", "", "also write the result to this file (tenant delete --shred, signing-key)")
	wait := sub.Bool("wait", false, "wait for the run to finish (lifecycle run)")
	// Accept flags before or after the positional name.
	parse := func(a []string) ([]string, error) {
		var pos []string
		for len(a) > 0 {
			if err := sub.Parse(a); err != nil {
				return nil, errUsage
			}
			a = sub.Args()
			if len(a) > 0 {
				pos, a = append(pos, a[0]), a[1:]
			}
		}
		return pos, nil
	}
	one := func() (string, error) {
		pos, err := parse(args[2:])
		if err != nil || len(pos) != 1 {
			return "", errUsage
		}
		return pos[0], nil
	}
	if len(args) >= 2 {
		switch args[0] + " " + args[1] {
		case "tenant create":
			id, err := one()
			if err != nil {
				return nil, err
			}
			return c.CreateTenant(ctx, id)
		case "tenant list":
			return c.Tenants(ctx)
		case "tenant info":
			id, err := one()
			if err != nil {
				return nil, err
			}
			return c.TenantInfo(ctx, id)
		case "tenant delete":
			id, err := one()
			if err != nil {
				return nil, err
			}
			if !*shred {
				if *outFile != "" {
					return nil, errors.New("--out needs --shred")
				}
				return map[string]string{"deleted": id}, c.DeleteTenant(ctx, id)
			}
			cert, err := c.ShredTenant(ctx, id)
			if err != nil {
				return nil, err
			}
			if *outFile != "" {
				if err := writeCertificate(*outFile, cert); err != nil {
					return nil, fmt.Errorf("the tenant was shredded but writing the certificate failed (get it again with `tenant certificate %s`): %w", id, err)
				}
			}
			return cert, nil
		case "tenant certificate":
			id, err := one()
			if err != nil {
				return nil, err
			}
			cert, err := c.TenantCertificate(ctx, id)
			if err == nil && *outFile != "" {
				err = writeCertificate(*outFile, cert)
			}
			return cert, err
		case "user create":
			name, err := one()
			if err != nil {
				return nil, err
			}
			return c.CreateUser(ctx, *tenant, name, *isAdmin)
		case "user list":
			if _, err := parse(args[2:]); err != nil {
				return nil, err
			}
			return c.Users(ctx, *tenant)
		case "user delete":
			name, err := one()
			if err != nil {
				return nil, err
			}
			return map[string]string{"deleted": name}, c.DeleteUser(ctx, *tenant, name)
		case "user disable":
			name, err := one()
			if err != nil {
				return nil, err
			}
			return c.DisableUser(ctx, *tenant, name, !*enable)
		case "key create":
			name, err := one()
			if err != nil {
				return nil, err
			}
			var exp *time.Time
			if *expires != "" {
				t, err := parseExpiry(*expires)
				if err != nil {
					return nil, err
				}
				exp = &t
			}
			return c.CreateAccessKey(ctx, *tenant, name, exp)
		case "key list":
			if _, err := parse(args[2:]); err != nil {
				return nil, err
			}
			return c.AccessKeys(ctx, *tenant, *user)
		case "key revoke":
			id, err := one()
			if err != nil {
				return nil, err
			}
			return c.RevokeAccessKey(ctx, *tenant, id)
		case "policy set":
			pos, err := parse(args[2:])
			if err != nil || len(pos) != 2 {
				return nil, errUsage
			}
			var doc []byte
			if pos[1] == "-" {
				doc, err = io.ReadAll(io.LimitReader(os.Stdin, 64<<10))
			} else {
				doc, err = os.ReadFile(pos[1])
			}
			if err != nil {
				return nil, err
			}
			return c.SetPolicy(ctx, *tenant, pos[0], *policyName, doc)
		case "retention report":
			bucket, err := one()
			if err != nil {
				return nil, err
			}
			return c.RetentionReport(ctx, bucket)
		case "retention show":
			bucket, err := one()
			if err != nil {
				return nil, err
			}
			return c.RetentionPolicy(ctx, bucket)
		case "retention lock":
			bucket, err := one()
			if err != nil {
				return nil, err
			}
			return c.LockRetentionPolicy(ctx, bucket)
		case "retention set":
			bucket, err := one()
			if err != nil {
				return nil, err
			}
			u := admin.RetentionPolicyUpdate{Bucket: bucket}
			sub.Visit(func(f *flag.Flag) {
				switch f.Name {
				case "min-days":
					u.MinDays = minDays
				case "max-days":
					u.MaxDays = maxDays
				case "default-mode":
					u.DefaultMode = defMode
				case "default-days":
					u.DefaultDays = defDays
				}
			})
			if (u.DefaultMode == nil) != (u.DefaultDays == nil) {
				return nil, fmt.Errorf("--default-mode and --default-days go together")
			}
			if u.MinDays == nil && u.MaxDays == nil && u.DefaultMode == nil {
				return nil, errUsage
			}
			return c.SetRetentionPolicy(ctx, u)
		case "lifecycle preview":
			bucket, err := one()
			if err != nil {
				return nil, err
			}
			return c.LifecyclePreview(ctx, bucket)
		case "lifecycle run":
			pos, err := parse(args[2:])
			if err != nil || len(pos) > 1 {
				return nil, errUsage
			}
			bucket := ""
			if len(pos) == 1 {
				bucket = pos[0]
			}
			return c.LifecycleRun(ctx, bucket, *wait)
		case "lifecycle status":
			if pos, err := parse(args[2:]); err != nil || len(pos) != 0 {
				return nil, errUsage
			}
			return c.LifecycleStatus(ctx)
		case "legal-hold set", "legal-hold clear":
			pos, err := parse(args[2:])
			if err != nil || len(pos) != 2 {
				return nil, errUsage
			}
			return c.SetLegalHold(ctx, pos[0], pos[1], *versionID, args[1] == "set")
		case "policy get":
			name, err := one()
			if err != nil {
				return nil, err
			}
			return c.Policies(ctx, *tenant, name)
		}
	}
	switch {
	case len(args) == 1 && args[0] == "whoami":
		return c.WhoAmI(ctx)
	case len(args) == 1 && args[0] == "clock":
		return c.Clock(ctx)
	case len(args) >= 1 && args[0] == "signing-key":
		if pos, err := parse(args[1:]); err != nil || len(pos) != 0 {
			return nil, errUsage
		}
		pk, err := c.SigningKey(ctx)
		if err == nil && *outFile != "" {
			b, _ := json.MarshalIndent(pk, "", "  ")
			err = os.WriteFile(*outFile, append(b, '\n'), 0o644)
		}
		return pk, err
	case len(args) >= 2 && args[0] == "verify":
		pos, err := parse(args[1:])
		if err != nil || len(pos) < 1 || len(pos) > 2 {
			return nil, errUsage
		}
		key := ""
		if len(pos) == 2 {
			key = pos[1]
		}
		if *versionID != "" && key == "" {
			return nil, fmt.Errorf("--version needs a KEY")
		}
		return c.Verify(ctx, pos[0], key, *versionID, *limit, *marker)
	case len(args) >= 2 && args[0] == "kms" && args[1] == "status":
		return c.KeyStatus(ctx)
	case len(args) >= 3 && args[0] == "kms" && args[1] == "key":
		pos, err := parse(args[3:])
		if err != nil {
			return nil, err
		}
		switch args[2] {
		case "list":
			return c.ListKeys(ctx, *tenant)
		case "create", "rotate":
			if len(pos) != 1 {
				return nil, errUsage
			}
			if args[2] == "create" {
				return c.CreateKey(ctx, *tenant, pos[0])
			}
			return c.RotateKey(ctx, *tenant, pos[0])
		}
	}
	return nil, errUsage
}

// printHuman prints a result as a table.
func printHuman(w io.Writer, out any) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	defer tw.Flush()
	keys := func(ks []admin.KeyStatus) {
		fmt.Fprintln(tw, "TENANT\tKEY\tCURRENT\tVERSIONS (objects)\tREWRAP")
		for _, k := range ks {
			var vs []string
			for _, v := range k.Versions {
				vs = append(vs, fmt.Sprintf("v%d (%d)", v.Version, v.Objects))
			}
			rw := "-"
			if r := k.Rewrap; r != nil {
				rw = fmt.Sprintf("done %d failed %d", r.Done, r.Failed)
				if r.Running {
					rw += " (running)"
				}
			}
			fmt.Fprintf(tw, "%s\t%s\tv%d\t%s\t%s\n", k.Tenant, k.Name, k.Current, strings.Join(vs, ", "), rw)
		}
	}
	switch v := out.(type) {
	case admin.LifecycleReport:
		printLifecycleReport(tw, v)
	case admin.LifecycleStatus:
		printLifecycleStatus(tw, v)
	case admin.WhoAmI:
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", v.AccessKey, v.Tenant, v.User, v.Role)
	case admin.ClockReport:
		fmt.Fprintf(tw, "compliance time\t%s\nwall time\t%s\nlag\t%.3fs\ncatching up\t%v\nlast persisted\t%s\n",
			v.Compliance.Format(time.RFC3339Nano), v.Wall.Format(time.RFC3339Nano), v.LagSeconds, v.CatchingUp, v.Persisted.Format(time.RFC3339Nano))
	case admin.TenantCreated:
		fmt.Fprintf(tw, "tenant\t%s\nadmin access key\t%s\nadmin secret key\t%s\t(shown only now)\n", v.Tenant.ID, v.AdminKey.ID, v.AdminKey.Secret)
	case iam.NewKey:
		fmt.Fprintf(tw, "access key\t%s\nsecret key\t%s\t(shown only now)\n", v.ID, v.Secret)
	case []iam.Tenant:
		fmt.Fprintln(tw, "TENANT\tCANONICAL ID\tCREATED")
		for _, t := range v {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", t.ID, t.CanonicalID, t.Created.Format(time.RFC3339))
		}
	case []iam.User:
		fmt.Fprintln(tw, "TENANT\tUSER\tADMIN\tDISABLED\tPOLICIES")
		for _, u := range v {
			fmt.Fprintf(tw, "%s\t%s\t%v\t%v\t%d\n", u.Tenant, u.Name, u.Admin, u.Disabled, len(u.Policies))
		}
	case []iam.AccessKey:
		fmt.Fprintln(tw, "ACCESS KEY\tTENANT\tUSER\tEXPIRES\tREVOKED")
		for _, k := range v {
			exp := "-"
			if k.Expires != nil {
				exp = k.Expires.Format(time.RFC3339)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%v\n", k.ID, k.Tenant, k.User, exp, k.Revoked)
		}
	case admin.VerifyReport:
		fmt.Fprintln(tw, "KEY\tVERSION\tSIZE\tEVIDENCE\tRESULT")
		for _, r := range v.Results {
			res := "ok"
			if !r.OK {
				res = "FAILED: " + r.Problem
			}
			fmt.Fprintf(tw, "%s\t%s\t%d\t%v\t%s\n", r.Key, r.VersionID, r.Size, r.Evidence, res)
		}
		fmt.Fprintf(tw, "checked %d, failed %d\n", v.Checked, v.Failed)
		if v.Truncated {
			fmt.Fprintf(tw, "more versions: continue with --marker %s\n", v.NextMarker)
		}
	case admin.RetentionReport:
		when := func(t *time.Time) string {
			if t == nil {
				return "-"
			}
			return t.Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "bucket\t%s\nas of (compliance clock)\t%s\nversions\t%d\t%d bytes\n", v.Bucket, v.AsOf.Format(time.RFC3339), v.Versions, v.Bytes)
		fmt.Fprintf(tw, "under retention\t%d\t%d bytes\t(compliance %d, governance %d)\n", v.Retained, v.RetainedBytes, v.Compliance, v.Governance)
		fmt.Fprintf(tw, "earliest retain-until\t%s\nlatest retain-until\t%s\n", when(v.EarliestRetainUntil), when(v.LatestRetainUntil))
		fmt.Fprintf(tw, "under legal hold\t%d\t%d bytes\n", v.LegalHold, v.LegalHoldBytes)
		if v.Unreadable > 0 {
			fmt.Fprintf(tw, "unreadable records\t%d\n", v.Unreadable)
		}
	case admin.RetentionPolicy:
		bound := func(n int) string {
			if n == 0 {
				return "none"
			}
			return fmt.Sprintf("%d days", n)
		}
		def := "none"
		if v.DefaultMode != "" {
			def = fmt.Sprintf("%s, %d days", v.DefaultMode, v.DefaultDays)
		}
		fmt.Fprintf(tw, "bucket\t%s\nminimum\t%s\nmaximum\t%s\ndefault\t%s\nlocked\t%v\n", v.Bucket, bound(v.MinDays), bound(v.MaxDays), def, v.Locked)
		if len(v.History) > 0 {
			fmt.Fprintln(tw, "\nTIME (compliance clock)\tACTOR\tCHANGE")
			for _, h := range v.History {
				fmt.Fprintf(tw, "%s\t%s\t%s\n", h.Time.Format(time.RFC3339), h.Actor, h.Summary)
			}
		}
	case admin.LegalHoldStatus:
		state := "cleared"
		if v.LegalHold {
			state = "set"
		}
		fmt.Fprintf(tw, "legal hold %s on %s/%s version %s\n", state, v.Bucket, v.Key, v.VersionID)
	case offboard.Certificate:
		tw.Flush()
		printCertificate(w, v)
	case offboard.PublicKey:
		fmt.Fprintf(tw, "key id\t%s\nalgorithm\t%s\npublic key\t%s\n", v.KeyID, v.Algorithm, v.PublicKey)
	case admin.KeyStatus:
		keys([]admin.KeyStatus{v})
	case []admin.KeyStatus:
		keys(v)
	default:
		b, _ := json.MarshalIndent(v, "", "  ")
		fmt.Fprintln(tw, string(b))
	}
}

// parseExpiry reads an RFC 3339 time or a duration from now.
func parseExpiry(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return time.Time{}, fmt.Errorf("--expires %q: want an RFC 3339 time or a positive duration", s)
	}
	return time.Now().Add(d).UTC(), nil
}

// printLifecycleReport prints a lifecycle preview or run.
func printLifecycleReport(tw io.Writer, v admin.LifecycleReport) {
	if v.Started {
		fmt.Fprintln(tw, "lifecycle run started")
		return
	}
	fmt.Fprintln(tw, "BUCKET\tKEY\tVERSION/UPLOAD\tACTION\tRULE\tSIZE\tSKIPPED")
	for _, it := range v.Items {
		id := it.VersionID
		if it.UploadID != "" {
			id = it.UploadID
		}
		skipped := "-"
		if it.Skipped != "" {
			skipped = it.Skipped
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\n", it.Bucket, it.Key, id, it.Action, it.Rule, it.Size, skipped)
	}
	what := "done"
	if v.DryRun {
		what = "would do"
	}
	fmt.Fprintf(tw, "at %s: %s %d, skipped %d", v.Now.Format(time.RFC3339), what, v.Done, v.Skipped)
	if v.Interrupted {
		fmt.Fprint(tw, " (interrupted; the next run resumes)")
	}
	fmt.Fprintln(tw)
}

// printLifecycleStatus prints `lifecycle status`.
func printLifecycleStatus(tw io.Writer, v admin.LifecycleStatus) {
	ts := func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return t.Format(time.RFC3339)
	}
	fmt.Fprintln(tw, "BUCKET\tRULE\tKIND\tLAST RUN\tCURSOR\tEXPIRED\tBYTES\tABORTED\tSKIPPED\tPENDING\tOVERDUE")
	for _, r := range v.Rules {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\n", r.Bucket, r.Rule, r.Kind, ts(r.LastRun), ts(r.Cursor),
			r.Expired, r.Bytes, r.Aborted, r.Skipped, r.Pending, r.Overdue)
	}
	state := "idle"
	if v.Running {
		state = "running"
	}
	fmt.Fprintf(tw, "scheduler %s, last run %s", state, ts(v.LastRun))
	if v.LastErr != "" {
		fmt.Fprintf(tw, ", last error: %s", v.LastErr)
	}
	fmt.Fprintln(tw)
}
