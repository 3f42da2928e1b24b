package object

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/cofferstore/coffer/metadata"
)

// TestDescriptionsSealedOnDisk writes versions whose content headers, user
// metadata and tags carry a marker — SSE-S3, SSE-KMS and SSE-C, inline and
// erasure-coded, a completed and an in-progress multipart upload, tags
// rewritten in place — scans every file of every drive for the marker, and
// then reopens the engine and reads every description back intact.
func TestDescriptionsSealedOnDisk(t *testing.T) {
	const marker = "COFFER-META-MARKER-2b8e51"
	drives := drivePaths(t, 4)
	e, err := Open(Config{Drives: drives, MasterKey: testMasterKey})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.MakeBucket(ctx, "desc", MakeBucketOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.kms.CreateKey(ctx, DefaultTenant, "meta-kms"); err != nil {
		t.Fatal(err)
	}
	ck := bytes.Repeat([]byte{7}, 32)
	desc := func(sse SSE) PutOptions {
		return PutOptions{
			ContentType: "text/x-" + marker, ContentDisposition: `attachment; filename="` + marker + `.pdf"`,
			ContentEncoding: marker, ContentLanguage: marker, CacheControl: marker, Expires: marker,
			UserMeta: map[string]string{"patient": marker}, Tags: map[string]string{"subject": marker}, SSE: sse,
		}
	}
	want := map[string]PutOptions{}
	for name, sse := range map[string]SSE{"s3": {Mode: SSES3}, "kms": {Mode: SSEKMS, KMSKeyID: "meta-kms"}, "ssec": {Mode: SSEC, CustomerKey: ck}} {
		for _, size := range []int{100, 300 << 10} {
			key := fmt.Sprintf("%s-%d", name, size)
			o := desc(sse)
			putText(t, e, "desc", key, randBytes(int64(size), size), o)
			want[key] = o
		}
	}
	mp := desc(SSE{Mode: SSES3})
	putMultipart(t, e, "desc", "multi", mp, randBytes(1, MinPartSize), randBytes(2, 1000))
	want["multi"] = mp
	if _, err := e.NewMultipartUpload(ctx, "desc", "pending", desc(SSE{Mode: SSEC, CustomerKey: ck})); err != nil {
		t.Fatal(err)
	}
	// A tag rewrite keeps the user metadata and seals the new tags.
	retag := map[string]string{"subject": marker + "-2"}
	if _, err := e.PutObjectTags(ctx, "desc", "ssec-100", "", retag); err != nil {
		t.Fatal(err)
	}
	o := want["ssec-100"]
	o.Tags = retag
	want["ssec-100"] = o
	e.Close()

	if hits := scanDrives(t, drives, [][]byte{[]byte(marker)}); len(hits) > 0 {
		t.Errorf("description in clear in %v", hits)
	}

	e, err = Open(Config{Drives: drives, MasterKey: testMasterKey})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	for key, o := range want {
		info, err := e.HeadObject(ctx, "desc", key, GetOptions{MetadataOnly: true})
		if err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		if info.ContentType != o.ContentType || info.ContentDisposition != o.ContentDisposition ||
			info.ContentEncoding != o.ContentEncoding || info.ContentLanguage != o.ContentLanguage ||
			info.CacheControl != o.CacheControl || info.Expires != o.Expires ||
			!maps.Equal(info.UserMeta, o.UserMeta) || !maps.Equal(info.Tags, o.Tags) {
			t.Errorf("%s: description read back as %+v", key, info)
		}
	}
	// The pending upload completes with its description.
	ups, err := e.ListMultipartUploads(ctx, "desc", ListUploadsOptions{})
	if err != nil || len(ups.Uploads) != 1 {
		t.Fatalf("uploads: %+v %v", ups, err)
	}
	id := ups.Uploads[0].UploadID
	pi, err := e.PutObjectPart(ctx, "desc", "pending", id, 1, bytes.NewReader([]byte("tail")), 4, PartOptions{CustomerKey: ck})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.CompleteMultipartUpload(ctx, "desc", "pending", id, []CompletePart{{Number: 1, ETag: pi.ETag}}, CompleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if info, err := e.HeadObject(ctx, "desc", "pending", GetOptions{MetadataOnly: true}); err != nil || info.UserMeta["patient"] != marker || info.Tags["subject"] != marker {
		t.Fatalf("completed upload: %+v %v", info, err)
	}
}

// TestDescriptionTamper moves a sealed description onto another version:
// it does not open, and the read fails with ErrCorruption rather than
// returning another object's metadata.
func TestDescriptionTamper(t *testing.T) {
	e := newEngine(t)
	e.MakeBucket(ctx, "tamper", MakeBucketOptions{})
	putText(t, e, "tamper", "a", []byte("aaa"), PutOptions{UserMeta: map[string]string{"k": "secret-a"}})
	putText(t, e, "tamper", "b", []byte("bbb"), PutOptions{UserMeta: map[string]string{"k": "secret-b"}})
	a, _ := e.resolve("tamper", "a", "")
	b, _ := e.resolve("tamper", "b", "")
	if len(a.SealedDesc) == 0 || a.ContentType != "" || a.UserMeta != nil {
		t.Fatalf("decoded record holds a clear description or none sealed: %+v", a)
	}
	b.SealedDesc = a.SealedDesc
	batch := metadata.NewBatch()
	batch.Set(versionKey("tamper", "b", b.VSort), b.encode(true))
	if err := e.meta.Apply(batch); err != nil {
		t.Fatal(err)
	}
	if _, err := e.HeadObject(ctx, "tamper", "b", GetOptions{VersionID: "null", MetadataOnly: true}); !errors.Is(err, ErrCorruption) {
		t.Fatalf("transplanted description: %v", err)
	}
}

// TestSSECDescriptionSurvivesRotation rotates the tenant default key that
// seals SSE-C metadata keys: the re-seal job covers them, the old key
// version is destroyed, and the description still opens without the
// customer key while the data still needs it.
func TestSSECDescriptionSurvivesRotation(t *testing.T) {
	e := newEngine(t)
	e.MakeBucket(ctx, "rot", MakeBucketOptions{})
	ck := bytes.Repeat([]byte{9}, 32)
	putText(t, e, "rot", "c", []byte("customer data"), PutOptions{SSE: SSE{Mode: SSEC, CustomerKey: ck}, Tags: map[string]string{"a": "b"}})
	if _, err := e.RotateKey(ctx, "", DefaultKeyName); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		ks, err := e.KeyStatus(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var versions []int
		for _, k := range ks {
			if k.Name == DefaultKeyName {
				for _, v := range k.Versions {
					versions = append(versions, v.Version)
				}
			}
		}
		if slices.Equal(versions, []int{2}) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("old default key version not destroyed: %v", versions)
		}
		time.Sleep(50 * time.Millisecond)
	}
	v, _ := e.resolve("rot", "c", "")
	if v.Enc.MetaSealed == nil || v.Enc.MetaSealed.Version != 2 {
		t.Fatalf("metadata key not re-sealed: %+v", v.Enc.MetaSealed)
	}
	if info, err := e.HeadObject(ctx, "rot", "c", GetOptions{MetadataOnly: true}); err != nil || info.Tags["a"] != "b" {
		t.Fatalf("tags after rotation: %+v %v", info.Tags, err)
	}
	if got := mustGet(t, e, "rot", "c", GetOptions{CustomerKey: ck}); string(got) != "customer data" {
		t.Fatalf("data after rotation: %q", got)
	}
}
