package integration

import (
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

func TestBuckets(t *testing.T) {
	s := startServer(t)
	c := s.s3Client(t)

	t.Run("CreateHeadListDelete", func(t *testing.T) {
		name := bucketName("life")
		out, err := c.CreateBucket(ctx(t), &s3.CreateBucketInput{Bucket: aws.String(name)})
		if err != nil {
			t.Fatalf("CreateBucket: %v", err)
		}
		if loc := aws.ToString(out.Location); loc != "/"+name && loc != "" {
			t.Errorf("CreateBucket Location = %q, want %q", loc, "/"+name)
		}
		hb, err := c.HeadBucket(ctx(t), &s3.HeadBucketInput{Bucket: aws.String(name)})
		if err != nil {
			t.Fatalf("HeadBucket: %v", err)
		}
		if r := aws.ToString(hb.BucketRegion); r != "" && r != region {
			t.Errorf("HeadBucket x-amz-bucket-region = %q, want %q", r, region)
		}
		lb, err := c.ListBuckets(ctx(t), &s3.ListBucketsInput{})
		if err != nil {
			t.Fatalf("ListBuckets: %v", err)
		}
		found := false
		for _, b := range lb.Buckets {
			if aws.ToString(b.Name) == name {
				found = true
				if b.CreationDate == nil || b.CreationDate.IsZero() {
					t.Errorf("bucket %s has no CreationDate", name)
				}
			}
		}
		if !found {
			t.Errorf("ListBuckets does not list %s", name)
		}
		if lb.Owner == nil || aws.ToString(lb.Owner.ID) == "" {
			t.Errorf("ListBuckets: no Owner ID")
		}
		if _, err := c.DeleteBucket(ctx(t), &s3.DeleteBucketInput{Bucket: aws.String(name)}); err != nil {
			t.Fatalf("DeleteBucket: %v", err)
		}
		_, err = c.HeadBucket(ctx(t), &s3.HeadBucketInput{Bucket: aws.String(name)})
		requireAPIError(t, err, http.StatusNotFound)
	})

	t.Run("AlreadyOwnedByYou", func(t *testing.T) {
		name := newBucket(t, c, "twice")
		putBytes(t, c, name, "keep", []byte("still here"))
		_, err := c.CreateBucket(ctx(t), &s3.CreateBucketInput{Bucket: aws.String(name)})
		requireAPIError(t, err, http.StatusConflict, "BucketAlreadyOwnedByYou")
		b, _ := getBytes(t, c, &s3.GetObjectInput{Bucket: aws.String(name), Key: aws.String("keep")})
		if string(b) != "still here" {
			t.Errorf("re-create touched the bucket's contents: %q", b)
		}
	})

	t.Run("NotEmpty", func(t *testing.T) {
		name := newBucket(t, c, "full")
		putBytes(t, c, name, "x", []byte("x"))
		_, err := c.DeleteBucket(ctx(t), &s3.DeleteBucketInput{Bucket: aws.String(name)})
		requireAPIError(t, err, http.StatusConflict, "BucketNotEmpty")
		if _, err := c.DeleteObject(ctx(t), &s3.DeleteObjectInput{Bucket: aws.String(name), Key: aws.String("x")}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.DeleteBucket(ctx(t), &s3.DeleteBucketInput{Bucket: aws.String(name)}); err != nil {
			t.Fatalf("DeleteBucket after emptying: %v", err)
		}
	})

	t.Run("NoSuchBucket", func(t *testing.T) {
		missing := bucketName("missing")
		_, err := c.DeleteBucket(ctx(t), &s3.DeleteBucketInput{Bucket: aws.String(missing)})
		requireAPIError(t, err, http.StatusNotFound, "NoSuchBucket")
		_, err = c.HeadBucket(ctx(t), &s3.HeadBucketInput{Bucket: aws.String(missing)})
		requireAPIError(t, err, http.StatusNotFound)
		_, err = c.ListObjectsV2(ctx(t), &s3.ListObjectsV2Input{Bucket: aws.String(missing)})
		requireAPIError(t, err, http.StatusNotFound, "NoSuchBucket")
		_, err = c.GetObject(ctx(t), &s3.GetObjectInput{Bucket: aws.String(missing), Key: aws.String("k")})
		requireAPIError(t, err, http.StatusNotFound, "NoSuchBucket")
		_, err = c.PutObject(ctx(t), &s3.PutObjectInput{Bucket: aws.String(missing), Key: aws.String("k"), Body: strings.NewReader("x")})
		requireAPIError(t, err, http.StatusNotFound, "NoSuchBucket")
		_, err = c.GetBucketLocation(ctx(t), &s3.GetBucketLocationInput{Bucket: aws.String(missing)})
		requireAPIError(t, err, http.StatusNotFound, "NoSuchBucket")
	})

	t.Run("InvalidNames", func(t *testing.T) {
		for _, name := range []string{
			"ab",                    // too short
			strings.Repeat("a", 64), // too long
			"UpperCase",             // upper case
			"under_score",           // underscore
			"-leading-dash",         // must start with letter or digit
			"trailing-dash-",        // must end with letter or digit
			"double..dot",           // adjacent periods
			"192.168.10.20",         // IP address
			"xn--punycode-prefix",   // reserved prefix
			"bucket-suffix--ol-s3",  // reserved suffix
		} {
			_, err := c.CreateBucket(ctx(t), &s3.CreateBucketInput{Bucket: aws.String(name)})
			if err == nil {
				t.Errorf("CreateBucket(%q) succeeded, want InvalidBucketName", name)
				c.DeleteBucket(ctx(t), &s3.DeleteBucketInput{Bucket: aws.String(name)})
				continue
			}
			if httpStatus(err) != http.StatusBadRequest || errCode(err) != "InvalidBucketName" {
				t.Errorf("CreateBucket(%q): got %d %q, want 400 InvalidBucketName (%v)", name, httpStatus(err), errCode(err), err)
			}
		}
	})

	t.Run("LocationConstraint", func(t *testing.T) {
		name := bucketName("loc")
		_, err := c.CreateBucket(ctx(t), &s3.CreateBucketInput{
			Bucket: aws.String(name),
			CreateBucketConfiguration: &types.CreateBucketConfiguration{
				LocationConstraint: types.BucketLocationConstraintEuWest1,
			},
		})
		requireAPIError(t, err, http.StatusBadRequest, "IllegalLocationConstraintException", "InvalidLocationConstraint")
		_, err = c.HeadBucket(ctx(t), &s3.HeadBucketInput{Bucket: aws.String(name)})
		requireAPIError(t, err, http.StatusNotFound)

		// Bad XML body in CreateBucket.
		resp, body := s.do(t, rawRequest{Method: "PUT", Path: "/" + bucketName("badxml"), Body: []byte("<CreateBucketConfiguration><Loc")})
		requireRawError(t, resp, body, http.StatusBadRequest, "MalformedXML")
	})

	t.Run("Location", func(t *testing.T) {
		name := newBucket(t, c, "where")
		out, err := c.GetBucketLocation(ctx(t), &s3.GetBucketLocationInput{Bucket: aws.String(name)})
		if err != nil {
			t.Fatalf("GetBucketLocation: %v", err)
		}
		// AWS reports us-east-1 as an empty LocationConstraint.
		if out.LocationConstraint != "" {
			t.Errorf("LocationConstraint = %q, want empty for us-east-1", out.LocationConstraint)
		}
	})

	t.Run("Tagging", func(t *testing.T) {
		name := newBucket(t, c, "btag")
		_, err := c.GetBucketTagging(ctx(t), &s3.GetBucketTaggingInput{Bucket: aws.String(name)})
		requireAPIError(t, err, http.StatusNotFound, "NoSuchTagSet")
		tags := []types.Tag{{Key: aws.String("team"), Value: aws.String("storage")}, {Key: aws.String("env"), Value: aws.String("ci")}}
		if _, err := c.PutBucketTagging(ctx(t), &s3.PutBucketTaggingInput{Bucket: aws.String(name), Tagging: &types.Tagging{TagSet: tags}}); err != nil {
			t.Fatalf("PutBucketTagging: %v", err)
		}
		out, err := c.GetBucketTagging(ctx(t), &s3.GetBucketTaggingInput{Bucket: aws.String(name)})
		if err != nil {
			t.Fatalf("GetBucketTagging: %v", err)
		}
		requireTags(t, out.TagSet, map[string]string{"team": "storage", "env": "ci"})
		if _, err := c.DeleteBucketTagging(ctx(t), &s3.DeleteBucketTaggingInput{Bucket: aws.String(name)}); err != nil {
			t.Fatalf("DeleteBucketTagging: %v", err)
		}
		_, err = c.GetBucketTagging(ctx(t), &s3.GetBucketTaggingInput{Bucket: aws.String(name)})
		requireAPIError(t, err, http.StatusNotFound, "NoSuchTagSet")

		// Duplicate keys are rejected.
		dup := []types.Tag{{Key: aws.String("a"), Value: aws.String("1")}, {Key: aws.String("a"), Value: aws.String("2")}}
		_, err = c.PutBucketTagging(ctx(t), &s3.PutBucketTaggingInput{Bucket: aws.String(name), Tagging: &types.Tagging{TagSet: dup}})
		requireAPIError(t, err, http.StatusBadRequest, "InvalidTag")
	})
}

func requireTags(t *testing.T, got []types.Tag, want map[string]string) {
	t.Helper()
	m := map[string]string{}
	for _, tg := range got {
		m[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
	}
	if len(m) != len(want) {
		t.Fatalf("tags = %v, want %v", m, want)
	}
	for k, v := range want {
		if m[k] != v {
			t.Fatalf("tags = %v, want %v", m, want)
		}
	}
}
