package main

import (
	"testing"

	"github.com/cofferstore/coffer/iam"
	"github.com/cofferstore/coffer/object"
	"github.com/cofferstore/coffer/offboard"
)

// TestMetadataTablesHaveOneOwner checks that the packages this binary
// composes on one metadata store (server.go: the object layer, iam and
// offboard) own distinct table prefixes, so that no package's scans or
// purges can meet another's keys.
func TestMetadataTablesHaveOneOwner(t *testing.T) {
	owner := object.TablePrefixes()
	for prefix, name := range map[byte]string{iam.TablePrefix: "iam", offboard.TablePrefix: "offboard"} {
		if prev, ok := owner[prefix]; ok {
			t.Errorf("table prefix %q is owned by %q and by %q", prefix, prev, name)
		}
		owner[prefix] = name
	}
	if len(owner) != len(object.TablePrefixes())+2 {
		t.Errorf("%d owners for %d tables", len(owner), len(object.TablePrefixes())+2)
	}
}
