package kms

import (
	"bytes"
	"slices"
	"sync"
)

// CachedKEKs returns copies of the plaintext KEKs l holds in memory (test
// only), so that tests can search for them where they must not be.
func CachedKEKs(l *Local) [][]byte {
	l.cacheMu.Lock()
	defer l.cacheMu.Unlock()
	var out [][]byte
	for _, k := range l.cache {
		out = append(out, bytes.Clone(k))
	}
	return out
}

// CacheLen returns the number of cached KEKs (test only).
func CacheLen(l *Local) int {
	l.cacheMu.Lock()
	defer l.cacheMu.Unlock()
	return len(l.cache)
}

// MemStore is a small ordered in-memory Store for tests.
type MemStore struct {
	mu sync.Mutex
	m  map[string][]byte
}

// NewMemStore returns an empty MemStore.
func NewMemStore() *MemStore { return &MemStore{m: make(map[string][]byte)} }

// Get implements Store.Get.
func (s *MemStore) Get(key []byte) ([]byte, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[string(key)]
	return bytes.Clone(v), ok, nil
}

// Apply implements Store.Apply.
func (s *MemStore) Apply(muts []Mutation) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range muts {
		if m.Delete {
			delete(s.m, string(m.Key))
		} else {
			s.m[string(m.Key)] = bytes.Clone(m.Value)
		}
	}
	return nil
}

// Scan implements Store.Scan over a snapshot.
func (s *MemStore) Scan(lower, upper []byte, fn func(key, value []byte) error) error {
	s.mu.Lock()
	var keys []string
	snap := make(map[string][]byte)
	for k, v := range s.m {
		if k >= string(lower) && k < string(upper) {
			keys = append(keys, k)
			snap[k] = v
		}
	}
	s.mu.Unlock()
	slices.Sort(keys)
	for _, k := range keys {
		if err := fn([]byte(k), bytes.Clone(snap[k])); err != nil {
			return err
		}
	}
	return nil
}

// Set overwrites one record directly (test only: corruption).
func (s *MemStore) Set(key, value []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[string(key)] = bytes.Clone(value)
}

// All returns a copy of every record (test only).
func (s *MemStore) All() map[string][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string][]byte, len(s.m))
	for k, v := range s.m {
		out[k] = bytes.Clone(v)
	}
	return out
}
