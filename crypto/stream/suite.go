package stream

import (
	"crypto/aes"
	"crypto/cipher"
	"runtime"

	"golang.org/x/crypto/chacha20poly1305"
	"golang.org/x/sys/cpu"
)

// hasAESGCMHardware reports whether this CPU runs the standard library's AES-GCM in
// hardware (constant time and fast); it mirrors the check crypto/tls uses.
func hasAESGCMHardware() bool {
	switch runtime.GOARCH {
	case "amd64":
		return cpu.X86.HasAES && cpu.X86.HasPCLMULQDQ
	case "arm64":
		return cpu.ARM64.HasAES && cpu.ARM64.HasPMULL
	case "s390x":
		return cpu.S390X.HasAES && cpu.S390X.HasAESCTR && cpu.S390X.HasGHASH
	case "ppc64", "ppc64le":
		return true
	}
	return false
}

// DefaultSuite returns the suite NewParams picks on this machine: SuiteAES256GCM when the
// CPU has AES-GCM instructions, else SuiteChaCha20Poly1305. The choice is stored per
// stream, so streams written on one machine read on any other.
func DefaultSuite() Suite {
	if hasAESGCMHardware() {
		return SuiteAES256GCM
	}
	return SuiteChaCha20Poly1305
}

// Available reports whether s is a suite this build can seal and open.
func (s Suite) Available() bool {
	return s == SuiteAES256GCM || s == SuiteChaCha20Poly1305
}

// newAEAD returns the AEAD of p (already validated). It keeps no reference to p.Key.
func newAEAD(p Params) (cipher.AEAD, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	switch p.Suite {
	case SuiteAES256GCM:
		b, err := aes.NewCipher(p.Key)
		if err != nil {
			return nil, err
		}
		return cipher.NewGCM(b)
	default: // SuiteChaCha20Poly1305, as Validate checked
		return chacha20poly1305.New(p.Key)
	}
}
