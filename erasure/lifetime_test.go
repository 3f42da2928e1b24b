package erasure

import (
	"bytes"
	"fmt"
	"io"
	"math/rand"
	"runtime"
	"sync"
	"testing"
	"time"
)

// TestReaderBufferLifetimes: many concurrent readers (sharing the set's pools) with damaged drives,
// mixing Next/Read, holding each Next slice while the producer runs, and
// closing early at random; concurrent writers share the blocks pool.
func TestReaderBufferLifetimes(t *testing.T) {
	type nexter interface{ Next(int) ([]byte, error) }
	for _, dmg := range []int{-1, dmgBitrot, dmgRemove, dmgReadError} {
		e := newEnv(t, 6)
		s := e.open(t, Options{BlockSize: 4096 + 3})
		rng := rand.New(rand.NewSource(int64(dmg + 7)))
		data := randBytes(rng, 40*1024+17)
		put(t, s, "obj", data, rng)
		if dmg >= 0 {
			damageDrive(t, e, rng, 1, "obj", dmg)
			damageDrive(t, e, rng, 3, "obj", dmgBitrot)
		}
		before := runtime.NumGoroutine()
		var wg sync.WaitGroup
		errs := make(chan error, 100)
		for g := range 12 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rng := rand.New(rand.NewSource(int64(g)))
				if g%4 == 3 { // writers churn the blocks pool
					for i := range 20 {
						put(t, s, fmt.Sprintf("w%d-%d", g, i), randBytes(rng, 30000), rng)
					}
					return
				}
				for range 60 {
					off := rng.Int63n(int64(len(data)))
					length := rng.Int63n(int64(len(data)) - off + 1)
					r, err := s.NewReader("obj", int64(len(data)), off, length)
					if err != nil {
						errs <- err
						return
					}
					pos := off
					stopAt := int64(-1)
					if rng.Intn(3) == 0 {
						stopAt = off + rng.Int63n(length+1)
					}
					for pos < off+length && (stopAt < 0 || pos < stopAt) {
						var b []byte
						if rng.Intn(4) == 0 {
							buf := make([]byte, 1+rng.Intn(3000))
							n, err := r.Read(buf)
							if err != nil && err != io.EOF {
								errs <- err
								return
							}
							b = buf[:n]
						} else {
							b, err = r.(nexter).Next(1 + rng.Intn(3000))
							if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
								errs <- err
								return
							}
							time.Sleep(time.Duration(rng.Intn(200)) * time.Microsecond)
						}
						if !bytes.Equal(b, data[pos:pos+int64(len(b))]) {
							errs <- fmt.Errorf("dmg %d range [%d,+%d): wrong bytes at %d", dmg, off, length, pos)
							return
						}
						pos += int64(len(b))
					}
					r.Close()
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		time.Sleep(50 * time.Millisecond)
		if n := runtime.NumGoroutine(); n > before+2 {
			t.Errorf("goroutines: %d > %d", n, before)
		}
	}
}
