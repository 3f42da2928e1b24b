package lock

import (
	"errors"
	"sync"
	"testing"
	"time"
)

// memClockStore is an in-memory ClockStore that records every save.
type memClockStore struct {
	mu      sync.Mutex
	val     []byte
	ok      bool
	saves   []int64 // decoded Unix ns of every successful save, in order
	failErr error   // when set, Save fails with it
}

func (s *memClockStore) Load() ([]byte, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]byte(nil), s.val...), s.ok, nil
}

func (s *memClockStore) Save(b []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failErr != nil {
		return s.failErr
	}
	t, err := decodeClockState(b)
	if err != nil {
		return err
	}
	s.val, s.ok = append([]byte(nil), b...), true
	s.saves = append(s.saves, t)
	return nil
}

func (s *memClockStore) stored(t *testing.T) time.Time {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.ok {
		t.Fatal("store holds no clock state")
	}
	v, err := decodeClockState(s.val)
	if err != nil {
		t.Fatal(err)
	}
	return time.Unix(0, v).UTC()
}

func (s *memClockStore) savedTimes() []int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]int64(nil), s.saves...)
}

// storeAt returns a store that holds t as the persisted compliance time.
func storeAt(t time.Time) *memClockStore {
	return &memClockStore{val: encodeClockState(t.UnixNano()), ok: true}
}

// fakeTime is an injectable wall and monotonic source. A restart is
// modelled by a new fakeTime whose mono starts again at zero.
type fakeTime struct {
	mu   sync.Mutex
	wall time.Time
	mono time.Duration
}

func (f *fakeTime) sources() ClockSources {
	return ClockSources{
		Wall: func() time.Time { f.mu.Lock(); defer f.mu.Unlock(); return f.wall },
		Mono: func() time.Duration { f.mu.Lock(); defer f.mu.Unlock(); return f.mono },
	}
}

// elapse lets d of real time pass: both sources move by d.
func (f *fakeTime) elapse(d time.Duration) {
	f.mu.Lock()
	f.wall = f.wall.Add(d)
	f.mono += d
	f.mu.Unlock()
}

// setWall moves the wall clock only, as an administrator would.
func (f *fakeTime) setWall(w time.Time) {
	f.mu.Lock()
	f.wall = w
	f.mu.Unlock()
}

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func newTestClock(t *testing.T, st ClockStore, f *fakeTime, opts ClockOptions) *Clock {
	t.Helper()
	c, err := NewClock(st, f.sources(), opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// runClock lets total of real time pass in steps, calling Now after each
// step. It fails the test if the compliance time ever goes back or moves
// by more than (1+rate) × step (+1ns of carried fraction) in one step, and
// returns the final time.
func runClock(t *testing.T, c *Clock, f *fakeTime, total, step time.Duration, rate float64) time.Time {
	t.Helper()
	prev := c.Now()
	for done := time.Duration(0); done < total; done += step {
		f.elapse(step)
		now := c.Now()
		d := now.Sub(prev)
		if d < 0 {
			t.Fatalf("compliance time went back by %v", -d)
		}
		// Fractions of a nanosecond of catch-up carry over: allow 1ns.
		if max := time.Duration(float64(step)*(1+rate)) + 1; d > max {
			t.Fatalf("compliance time moved %v in a step of %v (max %v)", d, step, max)
		}
		prev = now
	}
	return prev
}

func TestClockFreshStart(t *testing.T) {
	st := &memClockStore{}
	f := &fakeTime{wall: t0}
	c := newTestClock(t, st, f, ClockOptions{})
	if got := c.Now(); !got.Equal(t0) {
		t.Fatalf("fresh start: Now = %v, want wall time %v", got, t0)
	}
	if got := st.stored(t); !got.Equal(t0) {
		t.Fatalf("fresh start not persisted by NewClock: stored %v, want %v", got, t0)
	}
	f.elapse(5 * time.Second)
	s := c.Status()
	if !s.Compliance.Equal(t0.Add(5*time.Second)) || s.Lag != 0 || s.CatchingUp {
		t.Fatalf("after 5s: status %+v, want compliance %v, no lag", s, t0.Add(5*time.Second))
	}
}

func TestClockRestartAfterDowntimeCatchesUpSlowly(t *testing.T) {
	const rate = DefaultCatchUpRate
	stored := t0
	st := storeAt(stored)
	f := &fakeTime{wall: stored.Add(time.Hour)} // one hour of downtime
	c := newTestClock(t, st, f, ClockOptions{})
	if got := c.Now(); !got.Equal(stored) {
		t.Fatalf("restart: Now = %v, want stored %v", got, stored)
	}
	if s := c.Status(); !s.CatchingUp || s.Lag != time.Hour {
		t.Fatalf("restart: status %+v, want catching up with lag 1h", s)
	}

	got := runClock(t, c, f, 10*time.Minute, time.Second, rate)
	adv := got.Sub(stored)
	if max := time.Duration(float64(10*time.Minute) * (1 + rate)); adv > max {
		t.Fatalf("after 10 min: advanced %v, more than %v", adv, max)
	}
	// It does catch up, at the full rate (within rounding).
	if min := 10*time.Minute + time.Duration(float64(10*time.Minute)*rate) - time.Microsecond; adv < min {
		t.Fatalf("after 10 min: advanced %v, want at least %v", adv, min)
	}

	// The hour is made up after 100 h of running, never overshooting.
	got = runClock(t, c, f, 100*time.Hour, time.Minute, rate)
	s := c.Status()
	if s.CatchingUp || s.Lag != 0 || !s.Compliance.Equal(f.wall) || got.After(s.Wall) {
		t.Fatalf("after 100h10m: status %+v, want caught up with wall", s)
	}
	// Once caught up it runs at real time, banking no allowance.
	f.elapse(time.Hour)
	if s := c.Status(); s.Lag != 0 {
		t.Fatalf("after catching up: lag %v, want 0", s.Lag)
	}
}

func TestClockCatchUpWithFrequentCalls(t *testing.T) {
	// Steps of 50ns earn 0.5ns of catch-up each; the fractions add up.
	st := storeAt(t0)
	f := &fakeTime{wall: t0.Add(time.Hour)}
	c := newTestClock(t, st, f, ClockOptions{})
	const steps, step = 10000, 50 * time.Nanosecond
	got := runClock(t, c, f, steps*step, step, DefaultCatchUpRate)
	if adv, want := got.Sub(t0), time.Duration(steps*float64(step)*(1+DefaultCatchUpRate)); adv < want-time.Nanosecond || adv > want {
		t.Fatalf("advanced %v, want %v", adv, want)
	}
}

func TestClockWallSetForwardYears(t *testing.T) {
	st := &memClockStore{}
	f := &fakeTime{wall: t0}
	c := newTestClock(t, st, f, ClockOptions{})
	// A record under COMPLIANCE retention for one year.
	rec := State{Mode: ModeCompliance, RetainUntil: t0.AddDate(1, 0, 0)}

	f.setWall(t0.AddDate(10, 0, 0))
	got := runClock(t, c, f, 24*time.Hour, time.Minute, DefaultCatchUpRate)
	if max := t0.Add(time.Duration(float64(24*time.Hour) * (1 + DefaultCatchUpRate))); got.After(max) {
		t.Fatalf("wall +10y, 1 day later: compliance %v, after %v", got, max)
	}
	if got.Before(t0.Add(24 * time.Hour)) {
		t.Fatalf("wall +10y, 1 day later: compliance %v fell behind real time", got)
	}
	if err := CheckRemove(rec, Removal{Now: c.Now(), Path: "test"}); !errors.Is(err, ErrLocked) {
		t.Fatalf("setting the wall clock forward released a record: %v", err)
	}
	// A restart does not help either: it resumes from the stored time.
	if err := c.Persist(); err != nil {
		t.Fatal(err)
	}
	before := c.Now()
	c2 := newTestClock(t, st, &fakeTime{wall: f.wall}, ClockOptions{})
	if got := c2.Now(); !got.Equal(before) {
		t.Fatalf("restart with wall +10y: Now = %v, want %v", got, before)
	}
}

func TestClockWallSetBack(t *testing.T) {
	st := &memClockStore{}
	f := &fakeTime{wall: t0}
	c := newTestClock(t, st, f, ClockOptions{})
	f.elapse(time.Hour)
	before := c.Now()

	f.setWall(t0.AddDate(-1, 0, 0))
	got := runClock(t, c, f, time.Hour, time.Second, DefaultCatchUpRate)
	if want := before.Add(time.Hour); !got.Equal(want) {
		t.Fatalf("wall set back: compliance %v, want %v (moving with mono)", got, want)
	}
	s := c.Status()
	if s.CatchingUp || s.Lag >= 0 {
		t.Fatalf("wall set back: status %+v, want negative lag", s)
	}
	// A new write's retention start comes from Now, not the wall clock.
	if start := c.Now(); start.Before(before) {
		t.Fatalf("new write start %v is before %v", start, before)
	}
}

func TestClockRestartWallBehindStored(t *testing.T) {
	stored := t0
	st := storeAt(stored)
	f := &fakeTime{wall: stored.AddDate(-1, 0, 0)}
	c := newTestClock(t, st, f, ClockOptions{})
	if got := c.Now(); !got.Equal(stored) {
		t.Fatalf("restart with wall behind: Now = %v, want stored %v", got, stored)
	}
	f.elapse(time.Minute)
	if got, want := c.Now(), stored.Add(time.Minute); !got.Equal(want) {
		t.Fatalf("restart with wall behind, 1 min later: Now = %v, want %v", got, want)
	}
}

func TestClockPersistence(t *testing.T) {
	st := &memClockStore{}
	wall := t0
	var lastSeen time.Time
	// Several lives, each ending in a crash (no Persist) or a clean stop,
	// with the wall clock ahead, behind or equal at each start.
	for life, shift := range []time.Duration{0, -48 * time.Hour, time.Hour, 0, -time.Hour, 365 * 24 * time.Hour} {
		wall = wall.Add(shift)
		f := &fakeTime{wall: wall}
		c := newTestClock(t, st, f, ClockOptions{PersistEvery: time.Second})
		start := c.Now()
		if !lastSeen.IsZero() {
			persisted := st.stored(t)
			if start.Before(persisted) || start.After(lastSeen) {
				t.Fatalf("life %d: started at %v, want between persisted %v and last seen %v", life, start, persisted, lastSeen)
			}
		}
		n0 := len(st.savedTimes())
		for range 100 { // 10 s of calls every 100 ms
			f.elapse(100 * time.Millisecond)
			lastSeen = c.Now()
		}
		if n := len(st.savedTimes()) - n0; n < 9 || n > 10 {
			t.Fatalf("life %d: %d saves in 10s with PersistEvery 1s", life, n)
		}
		// A crash now loses at most PersistEvery (plus catch-up on it).
		if lost := lastSeen.Sub(st.stored(t)); lost > time.Duration(float64(time.Second)*(1+DefaultCatchUpRate)) {
			t.Fatalf("life %d: a crash would lose %v", life, lost)
		}
		if life%2 == 1 {
			if err := c.Persist(); err != nil { // clean shutdown
				t.Fatal(err)
			}
			if got := st.stored(t); !got.Equal(lastSeen) {
				t.Fatalf("life %d: Persist stored %v, want %v", life, got, lastSeen)
			}
		}
		wall = f.wall
	}
	saves := st.savedTimes()
	for i := 1; i < len(saves); i++ {
		if saves[i] < saves[i-1] {
			t.Fatalf("persisted values decreased: save %d = %v after %v", i, saves[i], saves[i-1])
		}
	}
}

func TestClockPersistError(t *testing.T) {
	boom := errors.New("disk on fire")
	st := &memClockStore{}
	f := &fakeTime{wall: t0}
	c := newTestClock(t, st, f, ClockOptions{})
	st.mu.Lock()
	st.failErr = boom
	st.mu.Unlock()

	f.elapse(2 * time.Second)
	if got := c.Now(); !got.Equal(t0.Add(2 * time.Second)) {
		t.Fatalf("Now = %v despite a failing store, want it to keep running", got)
	}
	if s := c.Status(); !errors.Is(s.PersistErr, boom) || !s.Persisted.Equal(t0) {
		t.Fatalf("status %+v, want PersistErr %v and Persisted %v", s, boom, t0)
	}
	if err := c.Persist(); !errors.Is(err, boom) {
		t.Fatalf("Persist = %v, want %v", err, boom)
	}

	// A fresh start that cannot persist its first value fails.
	if _, err := NewClock(&memClockStore{failErr: boom}, f.sources(), ClockOptions{}); !errors.Is(err, boom) {
		t.Fatalf("NewClock with failing store = %v, want %v", err, boom)
	}
}

func TestClockMonoGoingBackIsNotCountedTwice(t *testing.T) {
	f := &fakeTime{wall: t0}
	c := newTestClock(t, &memClockStore{}, f, ClockOptions{})
	f.elapse(time.Minute)
	c.Now()
	f.mu.Lock()
	f.mono -= 30 * time.Second // a misbehaving source
	f.mu.Unlock()
	if got, want := c.Now(), t0.Add(time.Minute); !got.Equal(want) {
		t.Fatalf("mono went back: Now = %v, want %v", got, want)
	}
	// Mono is now 30 s past its highest reading; the wall clock is 30 s
	// ahead, so 1 % of those 30 s is caught up.
	f.elapse(time.Minute)
	if got, want := c.Now(), t0.Add(90*time.Second+300*time.Millisecond); !got.Equal(want) {
		t.Fatalf("Now = %v, want %v", got, want)
	}
}

func TestNewClockRejects(t *testing.T) {
	f := &fakeTime{wall: t0}
	bad := []struct {
		name string
		st   ClockStore
		opts ClockOptions
		is   error
	}{
		{"nil store", nil, ClockOptions{}, nil},
		{"rate above max", &memClockStore{}, ClockOptions{CatchUpRate: 0.5}, nil},
		{"negative rate", &memClockStore{}, ClockOptions{CatchUpRate: -0.01}, nil},
		{"negative persist", &memClockStore{}, ClockOptions{PersistEvery: -time.Second}, nil},
		{"short state", &memClockStore{val: []byte{1, 2, 3}, ok: true}, ClockOptions{}, ErrClockState},
		{"bad version", &memClockStore{val: append([]byte{9}, encodeClockState(1)[1:]...), ok: true}, ClockOptions{}, ErrClockState},
		{"bad checksum", &memClockStore{val: append(encodeClockState(1)[:12], 0), ok: true}, ClockOptions{}, ErrClockState},
	}
	for _, b := range bad {
		_, err := NewClock(b.st, f.sources(), b.opts)
		if err == nil || (b.is != nil && !errors.Is(err, b.is)) {
			t.Errorf("%s: NewClock = %v, want error %v", b.name, err, b.is)
		}
	}
	if _, err := NewClock(&memClockStore{}, f.sources(), ClockOptions{CatchUpRate: 0.001}); err != nil {
		t.Errorf("rate 0.001: %v", err)
	}
}

func TestClockStateRoundTrip(t *testing.T) {
	for _, v := range []int64{0, 1, -1, t0.UnixNano(), 1<<63 - 1} {
		b := encodeClockState(v)
		if len(b) < 8 || len(b) > 32 {
			t.Fatalf("state is %d bytes, want 8–32", len(b))
		}
		got, err := decodeClockState(b)
		if err != nil || got != v {
			t.Fatalf("round trip of %d: %d, %v", v, got, err)
		}
	}
}

func TestClockConcurrent(t *testing.T) {
	st := storeAt(t0)
	f := &fakeTime{wall: t0.Add(time.Hour)} // catching up throughout
	c := newTestClock(t, st, f, ClockOptions{PersistEvery: time.Millisecond})
	const readers, calls = 8, 2000
	stop := make(chan struct{})
	var ticker sync.WaitGroup
	ticker.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
				f.elapse(10 * time.Microsecond)
			}
		}
	})
	var wg sync.WaitGroup
	errs := make(chan error, readers)
	for range readers {
		wg.Go(func() {
			prev := c.Now()
			for i := range calls {
				var now time.Time
				switch i % 10 {
				case 0:
					now = c.Status().Compliance
				case 1:
					if err := c.Persist(); err != nil {
						errs <- err
						return
					}
					now = c.Now()
				default:
					now = c.Now()
				}
				if now.Before(prev) {
					errs <- errors.New("reader saw the compliance time go back")
					return
				}
				prev = now
			}
		})
	}
	wg.Wait()
	close(stop)
	ticker.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	saves := st.savedTimes()
	for i := 1; i < len(saves); i++ {
		if saves[i] < saves[i-1] {
			t.Fatalf("concurrent saves decreased: %v after %v", saves[i], saves[i-1])
		}
	}
	f.mu.Lock()
	mono := f.mono
	f.mu.Unlock()
	if adv, max := c.Now().Sub(t0), time.Duration(float64(mono)*(1+DefaultCatchUpRate)); adv > max {
		t.Fatalf("advanced %v over %v of mono, more than %v", adv, mono, max)
	}
}
