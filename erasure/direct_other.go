//go:build !linux

package erasure

// oDirect is 0 where O_DIRECT is not available: shard files are written
// through the page cache.
const oDirect = 0
