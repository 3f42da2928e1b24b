// Package kmsmeta adapts a metadata.Store (Pebble, Replicated) to kms.Store,
// so that the kms package itself does not depend on metadata.
package kmsmeta

import (
	"errors"

	"github.com/cofferstore/coffer/crypto/kms"
	"github.com/cofferstore/coffer/metadata"
)

// Store adapts a metadata.Store to kms.Store. It does not own the
// metadata.Store: closing it is the caller's job.
type Store struct {
	md metadata.Store
}

var _ kms.Store = Store{}

// New returns md as a kms.Store.
func New(md metadata.Store) Store { return Store{md: md} }

// Get implements kms.Store.Get.
func (s Store) Get(key []byte) ([]byte, bool, error) {
	v, err := s.md.Get(key)
	if errors.Is(err, metadata.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return v, true, nil
}

// Apply implements kms.Store.Apply as one metadata batch.
func (s Store) Apply(muts []kms.Mutation) error {
	b := metadata.NewBatch()
	for _, m := range muts {
		if m.Delete {
			b.Delete(m.Key)
		} else {
			b.Set(m.Key, m.Value)
		}
	}
	return s.md.Apply(b)
}

// Scan implements kms.Store.Scan with one iterator (a consistent view).
func (s Store) Scan(lower, upper []byte, fn func(key, value []byte) error) (err error) {
	it, err := s.md.NewIter(lower, upper)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, it.Close()) }()
	for ok := it.First(); ok; ok = it.Next() {
		if err := fn(it.Key(), it.Value()); err != nil {
			return err
		}
	}
	return nil
}
