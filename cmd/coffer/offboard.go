package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/cofferstore/coffer/admin"
	"github.com/cofferstore/coffer/offboard"
)

// shredTimeout bounds `coffer admin tenant delete T --shred`: purging a
// large tenant takes longer than an ordinary admin call. An interrupted
// shred is not lost: the server finishes it, and re-running the command
// returns the certificate.
const shredTimeout = 24 * time.Hour

// verifyCertificate is `coffer admin verify-certificate FILE [--public-key
// FILE]`. With --public-key it works offline; otherwise it fetches the
// server's current signing key through the admin API (newClient). It
// returns the exit status: 0 when the signature verifies, 1 when it does
// not, 2 for usage errors.
func verifyCertificate(args []string, asJSON bool, stdout, stderr io.Writer, newClient func() (*admin.Client, error)) int {
	fs := flag.NewFlagSet("coffer admin verify-certificate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	pubFile := fs.String("public-key", "", "verify against this public key file (JSON from `coffer admin signing-key` or base64)")
	var pos []string
	for len(args) > 0 {
		if err := fs.Parse(args); err != nil {
			return 2
		}
		args = fs.Args()
		if len(args) > 0 {
			pos, args = append(pos, args[0]), args[1:]
		}
	}
	if len(pos) != 1 {
		fmt.Fprintln(stderr, "usage: coffer admin verify-certificate FILE [--public-key FILE]")
		return 2
	}
	data, err := os.ReadFile(pos[0])
	if err != nil {
		fmt.Fprintf(stderr, "coffer admin: %v\n", err)
		return 2
	}
	var pk offboard.PublicKey
	if *pubFile != "" {
		raw, err := os.ReadFile(*pubFile)
		if err != nil {
			fmt.Fprintf(stderr, "coffer admin: %v\n", err)
			return 2
		}
		pub, err := offboard.ParsePublicKey(raw)
		if err != nil {
			fmt.Fprintf(stderr, "coffer admin: %v\n", err)
			return 2
		}
		pk = offboard.NewPublicKey(pub)
	} else {
		c, err := newClient()
		if err != nil {
			fmt.Fprintf(stderr, "coffer admin: %v (or give --public-key FILE to verify offline)\n", err)
			return 2
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if pk, err = c.SigningKey(ctx); err != nil {
			fmt.Fprintf(stderr, "coffer admin: fetching the server's signing key: %v\n", err)
			return 1
		}
	}
	pub, err := offboard.ParsePublicKey([]byte(pk.PublicKey))
	if err == nil && pk.KeyID != offboard.KeyID(pub) {
		err = errors.New("the server's key id does not match its key")
	}
	if err != nil {
		fmt.Fprintf(stderr, "coffer admin: signing key: %v\n", err)
		return 1
	}
	cert, err := offboard.ParseCertificate(data)
	if err == nil {
		err = offboard.Verify(cert, pub)
	}
	result := struct {
		Valid         bool   `json:"valid"`
		Tenant        string `json:"tenant,omitempty"`
		CertificateID string `json:"certificate_id,omitempty"`
		SigningKeyID  string `json:"signing_key_id"`
		Error         string `json:"error,omitempty"`
	}{Valid: err == nil, Tenant: cert.Tenant, CertificateID: cert.ID, SigningKeyID: pk.KeyID}
	if err != nil {
		result.Error = err.Error()
	}
	if asJSON {
		b, _ := json.MarshalIndent(result, "", "  ")
		fmt.Fprintln(stdout, string(b))
	} else if err == nil {
		fmt.Fprintf(stdout, "certificate %s for tenant %s: signature valid (key %s)\n", cert.ID, cert.Tenant, pk.KeyID)
	}
	if err != nil {
		fmt.Fprintf(stderr, "coffer admin: verify-certificate: %v\n", err)
		return 1
	}
	return 0
}

// writeCertificate writes a certificate to path (readable: it holds no
// secret) for later offline verification.
func writeCertificate(path string, c offboard.Certificate) error {
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// printBlockers reports a refused shred: as JSON on stdout with --json,
// else as a table.
func printBlockers(stdout io.Writer, be *offboard.BlockedError, asJSON bool) {
	if asJSON {
		b, _ := json.MarshalIndent(struct {
			Error    string             `json:"error"`
			Tenant   string             `json:"tenant"`
			Total    int64              `json:"total"`
			Blockers []offboard.Blocker `json:"blockers"`
		}{"TenantHasRetainedData", be.Tenant, be.Total, be.Blockers}, "", "  ")
		fmt.Fprintln(stdout, string(b))
		return
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	defer tw.Flush()
	fmt.Fprintln(tw, "BUCKET\tKEY\tVERSION\tMODE\tRETAIN UNTIL\tLEGAL HOLD")
	for _, b := range be.Blockers {
		mode, until := "-", "-"
		if b.Mode != "" {
			mode = b.Mode
		}
		if b.RetainUntil != nil {
			until = b.RetainUntil.Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%v\n", b.Bucket, b.Key, b.VersionID, mode, until, b.LegalHold)
	}
	if be.Total > int64(len(be.Blockers)) {
		fmt.Fprintf(tw, "… and %d more (%d in all)\n", be.Total-int64(len(be.Blockers)), be.Total)
	}
}

// printCertificate prints a certificate for people.
func printCertificate(w io.Writer, c offboard.Certificate) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	defer tw.Flush()
	fmt.Fprintf(tw, "CERTIFICATE OF DESTRUCTION\t%s\n", c.ID)
	fmt.Fprintf(tw, "tenant\t%s\ndeployment\t%s\nactor\t%s\n", c.Tenant, c.DeploymentID, c.Actor)
	fmt.Fprintf(tw, "started (compliance clock)\t%s\nfinished (compliance clock)\t%s\n", c.Started.Format(time.RFC3339Nano), c.Finished.Format(time.RFC3339Nano))
	fmt.Fprintf(tw, "buckets\t%d\t%v\n", len(c.Buckets), c.Buckets)
	fmt.Fprintf(tw, "objects\t%d\nversions\t%d\t(delete markers %d)\nbytes\t%d\nuploads aborted\t%d\n", c.Objects, c.Versions, c.DeleteMarkers, c.Bytes, c.Uploads)
	fmt.Fprintf(tw, "users deleted\t%d\naccess keys deleted\t%d\n", c.Users, c.AccessKeys)
	if len(c.Keys) == 0 {
		fmt.Fprintln(tw, "keys destroyed\tnone (the tenant had no KMS key)")
	}
	for _, k := range c.Keys {
		fmt.Fprintf(tw, "key destroyed\t%s\tversions %v\n", k.Name, k.Versions)
	}
	fmt.Fprintf(tw, "signing key\t%s\nsignature\t%s\n", c.SigningKeyID, c.Signature)
}
