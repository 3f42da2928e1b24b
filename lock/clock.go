package lock

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"sync"
	"time"
)

// MaxCatchUpRate is the largest CatchUpRate NewClock accepts: after
// downtime the compliance clock runs at most 1 % faster than real time.
const MaxCatchUpRate = 0.01

// Defaults for ClockOptions.
const (
	DefaultCatchUpRate  = MaxCatchUpRate
	DefaultPersistEvery = time.Second
)

// ErrClockState is returned (wrapped) by NewClock when the stored clock
// state cannot be decoded. NewClock MUST NOT fall back to the wall time in
// that case: a wall clock set forward would then release records.
var ErrClockState = errors.New("lock: compliance clock state is corrupt")

// ClockStore persists the compliance clock's state, an opaque value of
// 8–32 bytes. The object layer adapts its metadata store to it.
//
// Load returns the last saved value and true, or (nil, false, nil) when no
// value was ever saved. Save MUST be durable when it returns nil. The
// clock serializes its calls to Save and only ever saves non-decreasing
// times.
type ClockStore interface {
	Load() ([]byte, bool, error)
	Save([]byte) error
}

// ClockSources are the clock's time sources, injectable for tests. A nil
// field takes its default.
type ClockSources struct {
	// Wall returns the system (wall-clock) time. Default time.Now.
	Wall func() time.Time
	// Mono returns the monotonic time elapsed since some fixed point, such
	// as process start. It MUST NOT be affected by setting the system
	// clock. Default time.Since(t0), with t0 taken in NewClock; time.Since
	// uses Go's monotonic clock reading.
	Mono func() time.Duration
}

// ClockOptions tune the clock. The zero value means the defaults.
type ClockOptions struct {
	// CatchUpRate bounds how much faster than real time the compliance
	// clock may run while it is behind the wall clock: at most
	// (1 + CatchUpRate) × elapsed. Zero means DefaultCatchUpRate (0.01).
	// It MUST be in (0, MaxCatchUpRate]; NewClock refuses other values.
	CatchUpRate float64
	// PersistEvery is the longest interval, in monotonic time, between
	// the saves that Now triggers. Zero means DefaultPersistEvery (1 s).
	// It MUST NOT be negative.
	PersistEvery time.Duration
}

// ClockStatus is a snapshot of the clock, for `coffer admin clock`.
type ClockStatus struct {
	// Compliance is the compliance time (what Now returns).
	Compliance time.Time
	// Wall is the wall time read at the same instant.
	Wall time.Time
	// Lag is Wall - Compliance: positive while catching up, negative when
	// the system clock is behind the compliance clock.
	Lag time.Duration
	// CatchingUp is true while the wall time is ahead of the compliance
	// time, so the clock runs up to CatchUpRate faster than real time.
	CatchingUp bool
	// Persisted is the last compliance time saved successfully.
	Persisted time.Time
	// PersistErr is the error of the most recent save, nil if it
	// succeeded. Saves triggered by Now report their errors only here.
	PersistErr error
}

// Clock is the compliance clock, modelled on NetApp SnapLock's
// ComplianceClock. Retention is judged against it, never against the
// system clock. Create it with NewClock; the zero value is not usable.
//
// Guarantees (each is tested with injected sources in clock_test.go):
//
//   - On a first start with no stored state, the compliance time MUST start
//     at the wall time, and that value MUST be persisted before NewClock
//     returns.
//   - On a later start the compliance time MUST start at the stored value,
//     never earlier, even when the wall clock is behind it.
//   - The compliance time MUST NOT move backwards, whatever the wall clock
//     does.
//   - While running, the compliance time MUST advance by the elapsed time
//     of the monotonic source, plus catch-up: while the wall time is ahead
//     of the compliance time (after downtime, or because the system clock
//     was set forward), it MAY advance by at most (1 + CatchUpRate) times
//     the elapsed monotonic time, and catch-up MUST NOT take it past the
//     wall time. It MUST NOT jump. Setting the system clock forward
//     therefore cannot release a retained record early: at the default
//     1 % a year of wall-clock advance takes a hundred years to catch up.
//   - While the wall time is behind the compliance time (the system clock
//     was set back), the compliance time MUST keep advancing with the
//     monotonic source. Callers MUST stamp new writes (retention start
//     times) with Now, so setting the clock back cannot move them into
//     the past.
//   - Persisted values MUST be non-decreasing. Now saves at most once per
//     PersistEvery of monotonic time, in the one caller that finds the
//     period elapsed; other callers MUST NOT wait on that save. A crash
//     therefore loses at most PersistEvery of the progress seen by Now,
//     and losing progress only makes the restarted clock earlier
//     (conservative), never later.
//   - Every method MUST be safe for concurrent use.
type Clock struct {
	st    ClockStore
	wall  func() time.Time
	mono  func() time.Duration
	rate  float64
	every time.Duration

	mu          sync.Mutex    // guards the fields below
	compliance  int64         // compliance time, Unix nanoseconds
	lastMono    time.Duration // highest monotonic reading seen
	credit      float64       // unspent catch-up allowance, nanoseconds
	persistMono time.Duration // monotonic reading of the last save claim
	persisted   int64         // last value saved successfully, Unix ns
	persistErr  error

	saveMu sync.Mutex // serializes saves, so saved values never decrease
}

// NewClock loads the clock's state from st and starts the clock. With no
// stored state the clock starts at the wall time and saves it at once;
// otherwise it starts at the stored time. It returns an error when st
// fails, when the stored state is corrupt (wrapping ErrClockState), or
// when opts are out of range.
func NewClock(st ClockStore, src ClockSources, opts ClockOptions) (*Clock, error) {
	if st == nil {
		return nil, errors.New("lock: NewClock: nil ClockStore")
	}
	rate := opts.CatchUpRate
	if rate == 0 {
		rate = DefaultCatchUpRate
	}
	if math.IsNaN(rate) || rate <= 0 || rate > MaxCatchUpRate {
		return nil, fmt.Errorf("lock: NewClock: CatchUpRate %v not in (0, %v]", opts.CatchUpRate, MaxCatchUpRate)
	}
	every := opts.PersistEvery
	if every == 0 {
		every = DefaultPersistEvery
	}
	if every < 0 {
		return nil, fmt.Errorf("lock: NewClock: negative PersistEvery %v", every)
	}
	c := &Clock{st: st, wall: src.Wall, mono: src.Mono, rate: rate, every: every}
	if c.wall == nil {
		c.wall = time.Now
	}
	if c.mono == nil {
		t0 := time.Now()
		c.mono = func() time.Duration { return time.Since(t0) }
	}

	b, ok, err := st.Load()
	if err != nil {
		return nil, fmt.Errorf("lock: loading compliance clock: %w", err)
	}
	c.lastMono = c.mono()
	c.persistMono = c.lastMono
	if ok {
		t, err := decodeClockState(b)
		if err != nil {
			return nil, err
		}
		c.compliance, c.persisted = t, t
		return c, nil
	}
	c.compliance = c.wall().UnixNano()
	if err := c.Persist(); err != nil {
		return nil, err
	}
	return c, nil
}

// Now returns the compliance time. Retention dates MUST be judged against
// it, and new writes MUST take their retention start times from it. It
// never returns a time earlier than a previous call returned. Once per
// PersistEvery, the caller that finds the period elapsed also saves the
// clock; other callers do not wait for that save.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	now, _ := c.advanceLocked()
	due := c.lastMono-c.persistMono >= c.every
	if due {
		c.persistMono = c.lastMono
	}
	c.mu.Unlock()
	if due {
		_ = c.persist() // recorded in ClockStatus.PersistErr
	}
	return time.Unix(0, now).UTC()
}

// Status returns a snapshot of the clock, advancing it as Now does (but
// without saving).
func (c *Clock) Status() ClockStatus {
	c.mu.Lock()
	defer c.mu.Unlock()
	now, wall := c.advanceLocked()
	return ClockStatus{
		Compliance: time.Unix(0, now).UTC(),
		Wall:       time.Unix(0, wall).UTC(),
		Lag:        time.Duration(wall - now),
		CatchingUp: wall > now,
		Persisted:  time.Unix(0, c.persisted).UTC(),
		PersistErr: c.persistErr,
	}
}

// Persist saves the current compliance time and returns the store's
// error. Callers SHOULD call it on shutdown. Concurrent calls are
// serialized; the saved values never decrease.
func (c *Clock) Persist() error {
	c.mu.Lock()
	c.persistMono = c.lastMono
	c.mu.Unlock()
	return c.persist()
}

// persist saves the compliance time read under saveMu, so that saves,
// being serialized, save non-decreasing values.
func (c *Clock) persist() error {
	c.saveMu.Lock()
	defer c.saveMu.Unlock()
	c.mu.Lock()
	now, _ := c.advanceLocked()
	c.mu.Unlock()
	err := c.st.Save(encodeClockState(now))
	if err != nil {
		err = fmt.Errorf("lock: saving compliance clock: %w", err)
	}
	c.mu.Lock()
	c.persistErr = err
	if err == nil && now > c.persisted {
		c.persisted = now
	}
	c.mu.Unlock()
	return err
}

// advanceLocked reads both sources, advances the compliance time and
// returns it with the wall reading, both in Unix nanoseconds. c.mu MUST
// be held.
func (c *Clock) advanceLocked() (now, wall int64) {
	m := c.mono()
	wall = c.wall().UnixNano()
	// A monotonic source that goes back is ignored until it passes its
	// highest reading again, so no interval is ever counted twice.
	var elapsed time.Duration
	if m > c.lastMono {
		elapsed = m - c.lastMono
		c.lastMono = m
	}
	c.compliance = addSat(c.compliance, int64(elapsed))
	gap := wall - c.compliance
	if wall <= c.compliance || gap <= 0 { // gap <= 0 also catches overflow
		// Not behind: no catch-up, and no allowance is banked for later.
		c.credit = 0
		return c.compliance, wall
	}
	// Behind the wall clock: the allowance grows by rate × elapsed and is
	// spent on catch-up, never beyond the wall time. Keeping fractions of
	// a nanosecond in credit lets frequent calls catch up at the full
	// rate, and the floor below keeps the total at or under the bound.
	c.credit += float64(elapsed) * c.rate
	extra := int64(math.Floor(c.credit))
	if extra >= gap {
		extra = gap
		c.credit = 0
	} else {
		c.credit -= float64(extra)
	}
	c.compliance += extra
	return c.compliance, wall
}

// addSat returns a+b for b >= 0, saturating at math.MaxInt64.
func addSat(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

// Clock state encoding: version byte, Unix nanoseconds (big-endian int64),
// CRC-32C of the preceding 9 bytes. 13 bytes.
const (
	clockStateVersion = 1
	clockStateLen     = 1 + 8 + 4
)

var crc32c = crc32.MakeTable(crc32.Castagnoli)

func encodeClockState(t int64) []byte {
	b := make([]byte, clockStateLen)
	b[0] = clockStateVersion
	binary.BigEndian.PutUint64(b[1:9], uint64(t))
	binary.BigEndian.PutUint32(b[9:], crc32.Checksum(b[:9], crc32c))
	return b
}

func decodeClockState(b []byte) (int64, error) {
	if len(b) != clockStateLen {
		return 0, fmt.Errorf("%w: %d bytes, want %d", ErrClockState, len(b), clockStateLen)
	}
	if b[0] != clockStateVersion {
		return 0, fmt.Errorf("%w: unknown version %d", ErrClockState, b[0])
	}
	if crc32.Checksum(b[:9], crc32c) != binary.BigEndian.Uint32(b[9:]) {
		return 0, fmt.Errorf("%w: checksum mismatch", ErrClockState)
	}
	return int64(binary.BigEndian.Uint64(b[1:9])), nil
}
