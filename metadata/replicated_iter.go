package metadata

import (
	"bytes"
	"errors"
	"fmt"
)

// replIter is the Iterator of a Replicated store: an iterator over one
// current replica that moves to another current replica, at the same
// position, when its replica reports an I/O error.
type replIter struct {
	r            *Replicated
	lower, upper []byte
	it           Iterator // nil once closed or when no replica is left
	idx          int      // replica it reads
	pos          []byte   // key of the last successful positioning
	err          error    // error that ended the scan
	closed       bool
}

// open positions nothing; it opens an iterator on the lowest-indexed current
// replica, taking replicas that fail out of service.
func (it *replIter) open() error {
	var errs []error
	for i := range it.r.replicas {
		if it.r.state[i].Load() != stateCurrent {
			continue
		}
		x, err := it.r.replicas[i].NewIter(it.lower, it.upper)
		if err == nil {
			it.it, it.idx = x, i
			return nil
		}
		it.r.readFailed(i)
		errs = append(errs, fmt.Errorf("replica %d: %w", i, err))
	}
	return fmt.Errorf("%w: %w", ErrReadQuorum, errors.Join(errs...))
}

// iterError returns the error that stopped x, when x can report one.
func iterError(x Iterator) error {
	if e, ok := x.(interface{ Error() error }); ok {
		return e.Error()
	}
	return nil
}

// position runs op on the current replica iterator; if that stops with an
// error, it fails over to another replica and repeats op there (for Next,
// it resumes after the last key returned).
func (it *replIter) position(op func(Iterator) bool, isNext bool) bool {
	for it.it != nil {
		if op(it.it) {
			it.pos = append(it.pos[:0], it.it.Key()...)
			return true
		}
		err := iterError(it.it)
		if err == nil {
			return false
		}
		it.r.readFailed(it.idx)
		_ = it.it.Close() // already failed; err is what matters
		it.it = nil
		if oerr := it.open(); oerr != nil {
			it.err = fmt.Errorf("replica %d: %w; %w", it.idx, err, oerr)
			return false
		}
		if isNext {
			pos := append([]byte{}, it.pos...)
			op = func(x Iterator) bool {
				if !x.SeekGE(pos) {
					return false
				}
				if bytes.Equal(x.Key(), pos) {
					return x.Next()
				}
				return true
			}
		}
	}
	return false
}

func (it *replIter) First() bool {
	return it.position(func(x Iterator) bool { return x.First() }, false)
}

func (it *replIter) SeekGE(key []byte) bool {
	return it.position(func(x Iterator) bool { return x.SeekGE(key) }, false)
}

func (it *replIter) Next() bool {
	if !it.Valid() {
		return false
	}
	return it.position(func(x Iterator) bool { return x.Next() }, true)
}

func (it *replIter) Valid() bool { return it.it != nil && it.it.Valid() }

func (it *replIter) Key() []byte { return it.it.Key() }

func (it *replIter) Value() []byte { return it.it.Value() }

func (it *replIter) Close() error {
	if it.closed {
		return nil
	}
	it.closed = true
	err := it.err
	if it.it != nil {
		err = errors.Join(err, it.it.Close())
		it.it = nil
	}
	it.r.gate.exit()
	return err
}
