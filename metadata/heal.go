package metadata

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
)

// Reserved keys written by Replicated into each replica.
var (
	// seqKey holds the seqNum of the last commit group the replica applied.
	seqKey = []byte("\xffcoffer/replica/seq")
	// epochKey holds the highest epoch promised to this replica.
	epochKey = []byte("\xffcoffer/replica/epoch")
)

// healBatchBytes bounds the size of each batch written while re-syncing.
const healBatchBytes = 1 << 20

// seqNum identifies a point in the replicated write history: the epoch (one
// per process lifetime that wrote) and the number of the commit group.
// Sequence numbers are ordered by epoch, then counter.
type seqNum struct {
	epoch, counter uint64
}

func (s seqNum) less(o seqNum) bool {
	return s.epoch < o.epoch || (s.epoch == o.epoch && s.counter < o.counter)
}

func (s seqNum) String() string { return fmt.Sprintf("%d.%d", s.epoch, s.counter) }

func (s seqNum) encode() []byte {
	b := make([]byte, 16)
	binary.BigEndian.PutUint64(b, s.epoch)
	binary.BigEndian.PutUint64(b[8:], s.counter)
	return b
}

// decodeSeq decodes a stored seqNum; nil (never written) is the zero seqNum.
func decodeSeq(v []byte) (seqNum, error) {
	if v == nil {
		return seqNum{}, nil
	}
	if len(v) != 16 {
		return seqNum{}, fmt.Errorf("metadata: corrupt replica sequence number (%d bytes)", len(v))
	}
	return seqNum{binary.BigEndian.Uint64(v), binary.BigEndian.Uint64(v[8:])}, nil
}

func encodeUint64(x uint64) []byte {
	return binary.BigEndian.AppendUint64(nil, x)
}

// readMeta reads a replica's sequence number and promised epoch.
func readMeta(s Store) (seq seqNum, promised uint64, err error) {
	v, err := s.Get(seqKey)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return seqNum{}, 0, err
	}
	if seq, err = decodeSeq(v); err != nil {
		return seqNum{}, 0, err
	}
	v, err = s.Get(epochKey)
	switch {
	case errors.Is(err, ErrNotFound):
		return seq, 0, nil
	case err != nil:
		return seqNum{}, 0, err
	case len(v) != 8:
		return seqNum{}, 0, fmt.Errorf("metadata: corrupt replica epoch (%d bytes)", len(v))
	}
	return seq, binary.BigEndian.Uint64(v), nil
}

// noSyncApplier is implemented by stores that can apply a batch without
// waiting for an fsync (durable with the next synced Apply). Re-sync uses it
// for its intermediate batches.
type noSyncApplier interface {
	applyNoSync(b *Batch) error
}

// resync makes dst an exact copy of src (user and reserved keys) and returns
// the sequence number copied. src must not be written concurrently. dst's
// sequence number is deleted first (durably), so a re-sync interrupted by a
// crash leaves dst at the zero sequence number, behind every replica that
// was ever written. Only differing keys are written, in batches of bounded
// size; the sequence number is written last, in the final synced batch.
func resync(dst, src Store) (seqNum, error) {
	mark := &Batch{}
	mark.Delete(seqKey)
	if err := dst.Apply(mark); err != nil {
		return seqNum{}, fmt.Errorf("marking replica out of date: %w", err)
	}
	si, err := src.NewIter(nil, reservedEnd)
	if err != nil {
		return seqNum{}, fmt.Errorf("source: %w", err)
	}
	defer si.Close()
	di, err := dst.NewIter(nil, reservedEnd)
	if err != nil {
		return seqNum{}, fmt.Errorf("target: %w", err)
	}
	defer di.Close()

	write := dst.Apply
	if f, ok := dst.(noSyncApplier); ok {
		write = f.applyNoSync
	}
	b := &Batch{}
	var seqVal []byte
	sOK, dOK := si.First(), di.First()
	for sOK || dOK {
		c := 0
		switch {
		case !dOK:
			c = -1
		case !sOK:
			c = 1
		default:
			c = bytes.Compare(si.Key(), di.Key())
		}
		switch {
		case c < 0 && bytes.Equal(si.Key(), seqKey):
			seqVal = append([]byte{}, si.Value()...)
			sOK = si.Next()
		case c < 0:
			b.Set(si.Key(), si.Value())
			sOK = si.Next()
		case c > 0:
			b.Delete(di.Key())
			dOK = di.Next()
		default:
			if bytes.Equal(si.Key(), seqKey) {
				seqVal = append([]byte{}, si.Value()...)
			} else if !bytes.Equal(si.Value(), di.Value()) {
				b.Set(si.Key(), si.Value())
			}
			sOK, dOK = si.Next(), di.Next()
		}
		if b.size >= healBatchBytes {
			if err := write(b); err != nil {
				return seqNum{}, fmt.Errorf("target: %w", err)
			}
			b.Reset()
		}
	}
	if err := si.Close(); err != nil {
		return seqNum{}, fmt.Errorf("source: %w", err)
	}
	if err := di.Close(); err != nil {
		return seqNum{}, fmt.Errorf("target: %w", err)
	}
	seq, err := decodeSeq(seqVal)
	if err != nil {
		return seqNum{}, err
	}
	if seqVal != nil {
		b.Set(seqKey, seqVal)
	} else {
		b.Delete(seqKey) // keeps the final batch non-empty
	}
	// This synced Apply also makes the earlier unsynced batches durable.
	if err := dst.Apply(b); err != nil {
		return seqNum{}, fmt.Errorf("target: %w", err)
	}
	return seq, nil
}
