package stream

import (
	"bytes"
	"io"
	"testing"
)

const benchSize = 64 << 20

// sink copies what it is given into a reused 1 MiB buffer, so every benchmark pays for
// moving the bytes once, as a real consumer would (io.Discard would make the identity
// copy free).
type sink struct{ buf [1 << 20]byte }

func (s *sink) Write(p []byte) (int, error) {
	for rest := p; len(rest) > 0; {
		rest = rest[copy(s.buf[:], rest):]
	}
	return len(p), nil
}

// onlyReader hides bytes.Reader's WriteTo so io.Copy moves data in 32 KiB reads, like a
// request body.
type onlyReader struct{ io.Reader }

func benchData(b *testing.B) []byte { return newDetRand(9).bytes(benchSize) }

// BenchmarkIdentityCopy is the baseline: io.Copy of 64 MiB through 32 KiB reads.
func BenchmarkIdentityCopy(b *testing.B) {
	data := benchData(b)
	var s sink
	b.SetBytes(benchSize)
	for b.Loop() {
		if _, err := io.Copy(&s, onlyReader{bytes.NewReader(data)}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWriter seals 64 MiB arriving in 32 KiB reads.
func BenchmarkWriter(b *testing.B) {
	data := benchData(b)
	for _, s := range suites {
		b.Run(s.String(), func(b *testing.B) {
			p := testParams(s)
			var out sink
			b.SetBytes(benchSize)
			for b.Loop() {
				w, err := NewWriter(&out, p)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := io.Copy(w, onlyReader{bytes.NewReader(data)}); err != nil {
					b.Fatal(err)
				}
				if err := w.Close(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkReader opens a 64 MiB stream and copies its plaintext out.
func BenchmarkReader(b *testing.B) {
	data := benchData(b)
	for _, s := range suites {
		b.Run(s.String(), func(b *testing.B) {
			p := testParams(s)
			stored := seal(b, p, data)
			var out sink
			b.SetBytes(benchSize)
			for b.Loop() {
				r, err := NewReader(bytes.NewReader(stored), p, 0, benchSize, benchSize)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := io.Copy(&out, r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
