package sigv4

import (
	"strings"
	"sync"
)

// DefaultKeyCacheSize is the number of signing keys a Verifier keeps when
// KeyCacheSize is zero.
const DefaultKeyCacheSize = 1024

// keyCacheKey identifies a derived signing key. The secret is part of the
// key so that a rotated secret never reuses a stale signing key.
type keyCacheKey struct {
	secret, date, region, service string
}

// keyCache is a small bounded map from credential scope to signing key.
// When full, an arbitrary entry is evicted: keys are only valid for a day,
// so no recency bookkeeping is worth its cost here.
type keyCache struct {
	mu  sync.Mutex
	max int
	m   map[keyCacheKey][32]byte
}

// get returns the signing key for the scope, deriving and caching it on a
// miss. A nil cache derives every time.
func (c *keyCache) get(secret, date, region, service string) [32]byte {
	if c == nil || c.max < 0 {
		return deriveSigningKey(secret, date, region, service)
	}
	k := keyCacheKey{secret, date, region, service}
	c.mu.Lock()
	v, ok := c.m[k]
	c.mu.Unlock()
	if ok {
		return v
	}
	v = deriveSigningKey(secret, date, region, service)
	// Clone so that the cache does not pin whole request headers.
	k = keyCacheKey{strings.Clone(secret), strings.Clone(date), strings.Clone(region), strings.Clone(service)}
	c.mu.Lock()
	if c.m == nil {
		c.m = make(map[keyCacheKey][32]byte)
	}
	max := c.max
	if max == 0 {
		max = DefaultKeyCacheSize
	}
	for old := range c.m {
		if len(c.m) < max {
			break
		}
		delete(c.m, old)
	}
	c.m[k] = v
	c.mu.Unlock()
	return v
}

func (c *keyCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}
