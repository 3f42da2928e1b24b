package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/cofferstore/coffer/admin"
	"github.com/cofferstore/coffer/crypto/kms"
	"github.com/cofferstore/coffer/iam"
	"github.com/cofferstore/coffer/iam/policy"
	"github.com/cofferstore/coffer/object"
	"github.com/cofferstore/coffer/offboard"
	"github.com/cofferstore/coffer/s3api"
)

// shutdownTimeout bounds how long a graceful shutdown waits for in-flight
// requests.
const shutdownTimeout = 2 * time.Minute

// runServer implements `coffer server`.
func runServer(args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	cfg, err := parseServerConfig(args, getenv, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(stderr, "coffer server: %v\n", err)
		return 2
	}
	// COFFER_LOG_LEVEL: debug, info (default), warn or error.
	var level slog.Level
	if err := level.UnmarshalText([]byte(envOr(getenv, "COFFER_LOG_LEVEL", "info"))); err != nil {
		fmt.Fprintf(stderr, "coffer server: COFFER_LOG_LEVEL: %v\n", err)
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	if err := serve(cfg, log, stdout, getenv); err != nil {
		log.Error("server failed", "err", err)
		return 1
	}
	return 0
}

// serve opens the layer, listens and serves until SIGTERM/SIGINT, then
// drains in-flight requests and closes the layer.
func serve(cfg *serverConfig, log *slog.Logger, stdout io.Writer, getenv func(string) string) error {
	if cfg.Procs > 0 {
		runtime.GOMAXPROCS(cfg.Procs)
	}
	if cfg.defaultDrives {
		for _, d := range cfg.Drives {
			if err := os.MkdirAll(d, 0o700); err != nil {
				return err
			}
		}
	}
	creds, err := loadRootCredentials(getenv, cfg.ConfigDir, stdout)
	if err != nil {
		return err
	}
	master := cfg.MasterKey
	if master == nil {
		// No key given: generate one into the config directory on first
		// start (with a loud warning every start), read it back later.
		if master, err = kms.LoadMasterKey("", "", cfg.ConfigDir, func(msg string) { log.Warn(msg) }); err != nil {
			return fmt.Errorf("master key: %w", err)
		}
	}
	layer, err := object.Open(object.Config{Drives: cfg.Drives, Parity: cfg.Parity, InlineLimit: cfg.InlineLimit, Logger: log, MasterKey: master,
		Compress:        object.CompressConfig{Enabled: cfg.Compress, ContentTypes: cfg.CompressTypes},
		SecureOverwrite: cfg.SecureOverwrite, ShredInterval: cfg.ShredInterval,
		BufferedIO: cfg.BufferedIO, Lifecycle: cfg.lifecycleOptions(),
		Scrub: object.ScrubOptions{Interval: cfg.ScrubInterval, Rate: cfg.ScrubRate}})
	if err != nil {
		return fmt.Errorf("open drives: %w", err)
	}
	defer func() {
		if err := layer.Close(); err != nil {
			log.Error("closing the object layer", "err", err)
		}
	}()
	ids, err := iam.Open(context.Background(), layer.Metadata(), layer.KMS())
	if err != nil {
		return fmt.Errorf("identity store: %w", err)
	}
	resolve := resolver(creds, ids)
	adm := admin.NewServer(layer, ids, layer.TenantBuckets, resolve, cfg.Region, log)
	adm.Clock = layer.ClockStatus
	adm.Compliance = layer
	off, err := offboard.New(context.Background(), layer, ids, layer.KMS(), layer.Metadata(), log)
	if err != nil {
		return fmt.Errorf("tenant offboarding: %w", err)
	}
	adm.Offboard = off
	// Finish any tenant offboarding that a crash interrupted; the tenants
	// stay frozen (their keys do not authenticate) until it is done.
	go func() {
		if err := off.Resume(context.Background()); err != nil {
			log.Error("an interrupted tenant offboarding could not be finished; run `coffer admin tenant delete T --shred` again", "err", err)
		}
	}()
	adm.Lifecycle = layer
	adm.PolicyValidator = func(doc []byte) error {
		_, err := policy.ParseIdentity(doc)
		return err
	}
	authz := &iam.Authorizer{}
	srv := s3api.New(layer, s3api.Config{
		Region:            cfg.Region,
		Domain:            cfg.Domain,
		Resolve:           s3api.Resolver(resolve),
		Authorizer:        authz,
		RootAccessKey:     creds.AccessKey,
		Logger:            log,
		AllowInsecureSSEC: cfg.Insecure,
		Mounts:            []s3api.Mount{{Prefix: admin.Prefix, Handler: adm.Handle}},
		LifecycleDay:      cfg.lifecycleOptions().Day,
		StallTimeout:      cfg.StallTimeout,
		MaxDataRequests:   int(cfg.MaxDataRequests),
		RequestWait:       cfg.RequestWait,
		Metrics:           []s3api.MetricsSource{layer.LifecycleMetrics(), layer.SecureDeleteMetrics(), layer.ScrubMetrics()},
	})

	if cfg.PprofAddress != "" {
		startPprof(cfg.PprofAddress, log)
	}
	ln, err := net.Listen("tcp", cfg.Address)
	if err != nil {
		return err
	}
	scheme := "http"
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	defer signal.Stop(sigs)
	var certs *certReloader
	if cfg.TLSCert != "" {
		certs, err = newCertReloader(cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			ln.Close()
			return err
		}
		ln = tls.NewListener(ln, &tls.Config{
			MinVersion:     tls.VersionTLS12,
			GetCertificate: certs.getCertificate,
			NextProtos:     []string{"http/1.1"},
		})
		scheme = "https"
	}
	fmt.Fprintf(stdout, "coffer: S3 endpoint %s://%s region %s, drives %s\n", scheme, ln.Addr(), cfg.Region, strings.Join(cfg.Drives, " "))
	log.Info("serving", "endpoint", scheme+"://"+ln.Addr().String(), "drives", cfg.Drives, "region", cfg.Region, "procs", runtime.GOMAXPROCS(0))

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	for {
		select {
		case err := <-errc:
			return err
		case sig := <-sigs:
			if sig == syscall.SIGHUP {
				if certs == nil {
					continue
				}
				if err := certs.reload(); err != nil {
					log.Error("TLS certificate reload failed; keeping the previous one", "err", err)
				} else {
					log.Info("TLS certificate reloaded")
				}
				continue
			}
			log.Info("shutting down: draining in-flight requests", "signal", sig.String())
			ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
			err := srv.Shutdown(ctx)
			cancel()
			if err != nil {
				log.Error("graceful shutdown incomplete", "err", err)
			}
			<-errc
			return nil
		}
	}
}

// certReloader serves the current certificate and reloads it on demand.
type certReloader struct {
	certFile, keyFile string
	mu                sync.RWMutex
	cert              *tls.Certificate
}

func newCertReloader(certFile, keyFile string) (*certReloader, error) {
	c := &certReloader{certFile: certFile, keyFile: keyFile}
	if err := c.reload(); err != nil {
		return nil, err
	}
	return c, nil
}

// reload loads the key pair again; on failure the previous one stays.
func (c *certReloader) reload() error {
	cert, err := tls.LoadX509KeyPair(c.certFile, c.keyFile)
	if err != nil {
		return fmt.Errorf("load TLS key pair: %w", err)
	}
	c.mu.Lock()
	c.cert = &cert
	c.mu.Unlock()
	return nil
}

func (c *certReloader) getCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.cert, nil
}
