// Package erasure stores objects as erasure-coded shard files on a set of
// drives, protects every shard block with a bitrot hash, reconstructs data
// from parity when shards are missing or corrupt, and heals damaged shards.
//
// # Sets, drives and quorums
//
// A Set is 4..16 drives formatted together. An object of a set is cut into
// blocks of BlockSize bytes; each block is split into k data shards and
// encoded (Reed-Solomon, github.com/klauspost/reedsolomon) into m parity
// shards, k+m = number of drives. Shard i of every block goes to drive i.
// Any k shards of a block rebuild it, so the loss of any m drives loses no
// data. Writes succeed when WriteQuorum drives (k, or k+1 when k == m, so
// that two disjoint quorums can never both succeed) stored their shard;
// reads need ReadQuorum (k) good shards.
//
// # On-disk layout of a local drive
//
//	<drive>/format.json            format record (JSON, see Format)
//	<drive>/meta/                  metadata replica (owned by package metadata)
//	<drive>/tmp/<id>               shard files being written (and heal output)
//	<drive>/objects/<id[:2]>/<id>  committed shard files
//
// A shard file is a sequence of per-block records
//
//	[16-byte xxh3-128 hash of piece, big-endian][piece]
//
// where piece is this drive's shard of the block: ceil(BlockSize/k) bytes
// for every full block and ceil(lastLen/k) bytes for a short last block
// (data zero-padded). ShardSize computes the file size. A zero-byte object
// has empty shard files.
//
// # Object lifecycle
//
// NewWriter streams an object into tmp/<id> on every drive; Writer.Close
// fsyncs it. The caller then commits its metadata and calls Set.Commit,
// which renames tmp/<id> to objects/<id[:2]>/<id>. Because Drive.Open falls
// back to tmp/<id>, readers work in the window between the metadata commit
// and Set.Commit. Set.NewReader reads only the blocks covering the
// requested range, verifies every piece it uses and never returns bytes
// that failed verification. Set.Heal rewrites missing or corrupt shard
// files from the good ones.
//
// # Fault injection
//
// All drive I/O goes through the FS interface. DirFS is the real
// implementation; FaultFS wraps any FS and injects errors, ENOSPC, torn
// writes, fsync failures, delays and bitrot, for this package's tests and
// for other packages' tests.
package erasure

import "errors"

// Sentinel errors of package erasure. Functions wrap them with context; test
// with errors.Is.
var (
	// ErrWriteQuorum: fewer than WriteQuorum drives accepted a write,
	// commit or delete. The operation did not take effect durably.
	ErrWriteQuorum = errors.New("erasure: write quorum not reached")
	// ErrReadQuorum: fewer than ReadQuorum good shards could be read, so
	// the data cannot be reconstructed. If some shards were present but
	// failed verification the error also matches ErrCorruption.
	ErrReadQuorum = errors.New("erasure: read quorum not reached")
	// ErrCorruption marks a failure caused by shards that exist but whose
	// content fails verification (bitrot hash mismatch, wrong size). It is
	// always returned together with ErrReadQuorum.
	ErrCorruption = errors.New("erasure: shard corruption")
	// ErrShardNotFound: a drive holds no shard file for the id, neither
	// committed nor temporary.
	ErrShardNotFound = errors.New("erasure: shard not found")
	// ErrFormatMismatch: a drive's format record belongs to another
	// deployment or another position in the set (drives swapped, mixed
	// or reordered). The set refuses to open; the message names the drive.
	ErrFormatMismatch = errors.New("erasure: drive format mismatch")
	// ErrUnformatted: the drive has no format record.
	ErrUnformatted = errors.New("erasure: drive not formatted")
	// ErrInvalidDriveCount: a set needs 4 to 16 drives.
	ErrInvalidDriveCount = errors.New("erasure: invalid drive count (need 4..16)")
	// ErrInvalidRange: a read range lies outside the object.
	ErrInvalidRange = errors.New("erasure: invalid range")
	// ErrInvalidID: a shard id is empty, shorter than 2 bytes, or holds
	// characters other than [A-Za-z0-9._-] (or starts with '.').
	ErrInvalidID = errors.New("erasure: invalid shard id")
)
