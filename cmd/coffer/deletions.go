package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/cofferstore/coffer/admin"
)

// deletionsUsage documents the secure-delete commands (part of adminUsage).
const deletionsUsage = `  deletions export --since RFC3339 [--until RFC3339] [--bucket B] [--tenant T]
                        deletion records as JSON lines on stdout (streamed);
                        a tenant administrator gets only its tenant's
  deletions verify      verify the deletion record chain (root; exit status 1
                        when it is broken)
  bucket secure-delete BUCKET [on|off]
                        show or set the bucket's overwrite of shard files
                        before unlink
`

// runSecureDelete runs the deletions and bucket secure-delete commands. It
// reports whether args named one of them, and the exit status.
func runSecureDelete(c *admin.Client, args []string, asJSON bool, stdout, stderr io.Writer) (bool, int) {
	switch {
	case len(args) >= 2 && args[0] == "deletions" && args[1] == "export":
		return true, runDeletionsExport(c, args[2:], stdout, stderr)
	case len(args) == 2 && args[0] == "deletions" && args[1] == "verify":
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		st, err := c.VerifyDeletions(ctx)
		if err != nil {
			fmt.Fprintf(stderr, "coffer admin: %v\n", err)
			return true, 1
		}
		if asJSON {
			b, _ := json.MarshalIndent(st, "", "  ")
			fmt.Fprintln(stdout, string(b))
		} else {
			fmt.Fprintf(stdout, "ok: %v\nrecords: %d\nhead: %d %s\n", st.OK, st.Records, st.HeadSeq, st.HeadHash)
			if st.Problem != "" {
				fmt.Fprintf(stdout, "problem: %s\n", st.Problem)
			}
		}
		if !st.OK {
			return true, 1
		}
		return true, 0
	case (len(args) == 3 || len(args) == 4) && args[0] == "bucket" && args[1] == "secure-delete":
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		var st admin.SecureDeleteSetting
		var err error
		if len(args) == 3 {
			st, err = c.BucketSecureDelete(ctx, args[2])
		} else if args[3] == "on" || args[3] == "off" {
			st, err = c.SetBucketSecureDelete(ctx, args[2], args[3] == "on")
		} else {
			fmt.Fprint(stderr, adminUsage)
			return true, 2
		}
		if err != nil {
			fmt.Fprintf(stderr, "coffer admin: %v\n", err)
			return true, 1
		}
		if asJSON {
			b, _ := json.MarshalIndent(st, "", "  ")
			fmt.Fprintln(stdout, string(b))
		} else {
			fmt.Fprintf(stdout, "bucket: %s\noverwrite: %v\nserver-wide overwrite: %v\n", st.Bucket, st.Overwrite, st.Server)
		}
		return true, 0
	}
	return false, 0
}

// runDeletionsExport streams the deletion records as JSON lines, exactly
// as the server sent them.
func runDeletionsExport(c *admin.Client, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("coffer admin deletions export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	since := fs.String("since", "", "first time (RFC 3339), inclusive")
	until := fs.String("until", "", "end time (RFC 3339), exclusive")
	bucket := fs.String("bucket", "", "only this bucket")
	tenant := fs.String("tenant", "", "only this tenant")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		fmt.Fprint(stderr, adminUsage)
		return 2
	}
	if *since == "" {
		fmt.Fprintln(stderr, "coffer admin: deletions export needs --since")
		return 2
	}
	f := admin.DeletionFilter{Bucket: *bucket, Tenant: *tenant}
	for name, p := range map[string]struct {
		v   string
		dst *time.Time
	}{"since": {*since, &f.Since}, "until": {*until, &f.Until}} {
		if p.v == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339Nano, p.v)
		if err != nil {
			fmt.Fprintf(stderr, "coffer admin: --%s: %v\n", name, err)
			return 2
		}
		*p.dst = t
	}
	w := bufio.NewWriter(stdout)
	n := 0
	err := c.ExportDeletions(context.Background(), f, func(raw []byte, _ admin.DeletionRecord) error {
		n++
		w.Write(raw)
		return w.WriteByte('\n')
	})
	if ferr := w.Flush(); err == nil {
		err = ferr
	}
	if err != nil {
		fmt.Fprintf(stderr, "coffer admin: deletions export: %v (after %d records)\n", err, n)
		return 1
	}
	return 0
}
