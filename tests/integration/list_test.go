package integration

import (
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// listKeys is the fixture of TestList; it mixes nesting, unicode, spaces and
// characters that need URL encoding.
func listKeys() []string {
	keys := []string{
		"a/1", "a/2", "a/b/1", "a/b/2", "b/1", "c", "d/e/f",
		"with space", "dir with space/x", "ünïcödé/ключ", "ünïcödé-top", "a+b", "plus+dir/p", "percent%20lit", "tilde~and=eq",
	}
	for i := 0; i < 40; i++ {
		keys = append(keys, fmt.Sprintf("page/%03d", i))
	}
	sort.Strings(keys)
	return keys
}

// expectedDelimited computes the keys and common prefixes S3 returns for a
// prefix and delimiter, merged in order.
func expectedDelimited(keys []string, prefix, delim string) (contents, prefixes []string) {
	seen := map[string]bool{}
	for _, k := range keys {
		if !strings.HasPrefix(k, prefix) {
			continue
		}
		rest := k[len(prefix):]
		if i := strings.Index(rest, delim); delim != "" && i >= 0 {
			cp := prefix + rest[:i+len(delim)]
			if !seen[cp] {
				seen[cp] = true
				prefixes = append(prefixes, cp)
			}
			continue
		}
		contents = append(contents, k)
	}
	return contents, prefixes
}

func TestList(t *testing.T) {
	s := startServer(t)
	c := s.s3Client(t)
	bucket := newBucket(t, c, "list")
	keys := listKeys()
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for _, k := range keys {
		wg.Add(1)
		sem <- struct{}{}
		go func(k string) {
			defer wg.Done()
			defer func() { <-sem }()
			body := "content of " + k
			if _, err := c.PutObject(ctx(t), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(k), Body: strings.NewReader(body)}); err != nil {
				t.Errorf("PutObject %q: %v", k, err)
			}
		}(k)
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}

	t.Run("V2Paging", func(t *testing.T) {
		var got []string
		var token *string
		pages := 0
		for {
			out, err := c.ListObjectsV2(ctx(t), &s3.ListObjectsV2Input{Bucket: aws.String(bucket), MaxKeys: aws.Int32(7), ContinuationToken: token})
			if err != nil {
				t.Fatalf("ListObjectsV2 page %d: %v", pages, err)
			}
			pages++
			if len(out.Contents) > 7 || aws.ToInt32(out.KeyCount) != int32(len(out.Contents)) {
				t.Fatalf("page %d: %d keys, KeyCount %d, MaxKeys 7", pages, len(out.Contents), aws.ToInt32(out.KeyCount))
			}
			if aws.ToInt32(out.MaxKeys) != 7 {
				t.Errorf("MaxKeys echoed as %d", aws.ToInt32(out.MaxKeys))
			}
			for _, o := range out.Contents {
				got = append(got, aws.ToString(o.Key))
				want := "content of " + aws.ToString(o.Key)
				if aws.ToInt64(o.Size) != int64(len(want)) || aws.ToString(o.ETag) != quotedMD5([]byte(want)) || o.LastModified == nil {
					t.Errorf("%s: Size %d ETag %s LastModified %v", aws.ToString(o.Key), aws.ToInt64(o.Size), aws.ToString(o.ETag), o.LastModified)
				}
				if o.StorageClass != types.ObjectStorageClassStandard {
					t.Errorf("%s: StorageClass %q, want STANDARD", aws.ToString(o.Key), o.StorageClass)
				}
				if o.Owner != nil {
					t.Errorf("%s: Owner present without fetch-owner", aws.ToString(o.Key))
				}
			}
			if !aws.ToBool(out.IsTruncated) {
				if out.NextContinuationToken != nil {
					t.Errorf("last page has a NextContinuationToken")
				}
				break
			}
			if aws.ToString(out.NextContinuationToken) == "" {
				t.Fatalf("truncated page %d without NextContinuationToken", pages)
			}
			if pages > 50 {
				t.Fatalf("paging does not terminate")
			}
			token = out.NextContinuationToken
		}
		if !slices.Equal(got, keys) {
			t.Fatalf("paged listing (%d pages):\n got %q\nwant %q", pages, got, keys)
		}
		if want := (len(keys) + 6) / 7; pages != want {
			t.Errorf("%d pages, want %d", pages, want)
		}
	})

	t.Run("V2Paginator", func(t *testing.T) {
		p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), MaxKeys: aws.Int32(10)})
		var got []string
		for p.HasMorePages() {
			out, err := p.NextPage(ctx(t))
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range out.Contents {
				got = append(got, aws.ToString(o.Key))
			}
		}
		if !slices.Equal(got, keys) {
			t.Fatalf("paginator listing:\n got %q\nwant %q", got, keys)
		}
	})

	t.Run("V1Paging", func(t *testing.T) {
		var got []string
		var marker *string
		for pages := 0; ; pages++ {
			out, err := c.ListObjects(ctx(t), &s3.ListObjectsInput{Bucket: aws.String(bucket), MaxKeys: aws.Int32(9), Marker: marker})
			if err != nil {
				t.Fatalf("ListObjects page %d: %v", pages, err)
			}
			if len(out.Contents) > 9 {
				t.Fatalf("page %d: %d keys > MaxKeys 9", pages, len(out.Contents))
			}
			if aws.ToString(out.Marker) != aws.ToString(marker) {
				t.Errorf("Marker echoed as %q, want %q", aws.ToString(out.Marker), aws.ToString(marker))
			}
			for _, o := range out.Contents {
				got = append(got, aws.ToString(o.Key))
			}
			if !aws.ToBool(out.IsTruncated) {
				break
			}
			if len(out.Contents) == 0 || pages > 50 {
				t.Fatalf("truncated page %d without keys", pages)
			}
			// Without a delimiter AWS may omit NextMarker; the last key is the marker.
			next := aws.ToString(out.Contents[len(out.Contents)-1].Key)
			if nm := aws.ToString(out.NextMarker); nm != "" && nm != next {
				t.Errorf("NextMarker %q, want %q", nm, next)
			}
			marker = aws.String(next)
		}
		if !slices.Equal(got, keys) {
			t.Fatalf("v1 paged listing:\n got %q\nwant %q", got, keys)
		}
	})

	t.Run("PrefixDelimiter", func(t *testing.T) {
		for _, tc := range []struct{ prefix, delim string }{
			{"a/", ""}, {"", "/"}, {"a/", "/"}, {"ünïcödé", "/"}, {"page/01", ""}, {"d/", "/"}, {"zzz", "/"}, {"", "b"},
		} {
			wantC, wantP := expectedDelimited(keys, tc.prefix, tc.delim)
			for _, v := range []string{"v1", "v2"} {
				var gotC, gotP []string
				if v == "v2" {
					out, err := c.ListObjectsV2(ctx(t), &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(tc.prefix), Delimiter: aws.String(tc.delim)})
					if err != nil {
						t.Fatalf("%s prefix %q delimiter %q: %v", v, tc.prefix, tc.delim, err)
					}
					gotC, gotP = objKeys(out.Contents), prefixList(out.CommonPrefixes)
					if aws.ToString(out.Prefix) != tc.prefix {
						t.Errorf("%s: Prefix echoed as %q", v, aws.ToString(out.Prefix))
					}
				} else {
					out, err := c.ListObjects(ctx(t), &s3.ListObjectsInput{Bucket: aws.String(bucket), Prefix: aws.String(tc.prefix), Delimiter: aws.String(tc.delim)})
					if err != nil {
						t.Fatalf("%s prefix %q delimiter %q: %v", v, tc.prefix, tc.delim, err)
					}
					gotC, gotP = objKeys(out.Contents), prefixList(out.CommonPrefixes)
				}
				if !slices.Equal(gotC, wantC) || !slices.Equal(gotP, wantP) {
					t.Errorf("%s prefix %q delimiter %q:\n got keys %q prefixes %q\nwant keys %q prefixes %q", v, tc.prefix, tc.delim, gotC, gotP, wantC, wantP)
				}
			}
		}
	})

	t.Run("DelimiterPaging", func(t *testing.T) {
		// Common prefixes count toward max-keys; every entry appears once, in order.
		wantC, wantP := expectedDelimited(keys, "", "/")
		want := append(append([]string{}, wantC...), wantP...)
		sort.Strings(want)
		var got []string
		var token *string
		for pages := 0; ; pages++ {
			out, err := c.ListObjectsV2(ctx(t), &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Delimiter: aws.String("/"), MaxKeys: aws.Int32(2), ContinuationToken: token})
			if err != nil {
				t.Fatal(err)
			}
			n := len(out.Contents) + len(out.CommonPrefixes)
			if n > 2 {
				t.Fatalf("page %d has %d entries, MaxKeys 2", pages, n)
			}
			page := append(objKeys(out.Contents), prefixList(out.CommonPrefixes)...)
			sort.Strings(page)
			got = append(got, page...)
			if !aws.ToBool(out.IsTruncated) {
				break
			}
			if pages > 50 {
				t.Fatal("paging does not terminate")
			}
			token = out.NextContinuationToken
		}
		if !slices.Equal(got, want) {
			t.Fatalf("delimiter paging:\n got %q\nwant %q", got, want)
		}
	})

	t.Run("StartAfter", func(t *testing.T) {
		out, err := c.ListObjectsV2(ctx(t), &s3.ListObjectsV2Input{Bucket: aws.String(bucket), StartAfter: aws.String("c")})
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		for _, k := range keys {
			if k > "c" {
				want = append(want, k)
			}
		}
		if got := objKeys(out.Contents); !slices.Equal(got, want) {
			t.Fatalf("start-after c:\n got %q\nwant %q", got, want)
		}
		if aws.ToString(out.StartAfter) != "c" {
			t.Errorf("StartAfter echoed as %q", aws.ToString(out.StartAfter))
		}
	})

	t.Run("EncodingTypeURL", func(t *testing.T) {
		out, err := c.ListObjectsV2(ctx(t), &s3.ListObjectsV2Input{Bucket: aws.String(bucket), EncodingType: types.EncodingTypeUrl})
		if err != nil {
			t.Fatal(err)
		}
		if out.EncodingType != types.EncodingTypeUrl {
			t.Errorf("EncodingType echoed as %q", out.EncodingType)
		}
		requireURLEncoded(t, "v2", objKeys(out.Contents), keys)

		v1, err := c.ListObjects(ctx(t), &s3.ListObjectsInput{Bucket: aws.String(bucket), EncodingType: types.EncodingTypeUrl})
		if err != nil {
			t.Fatal(err)
		}
		requireURLEncoded(t, "v1", objKeys(v1.Contents), keys)

		d, err := c.ListObjectsV2(ctx(t), &s3.ListObjectsV2Input{Bucket: aws.String(bucket), EncodingType: types.EncodingTypeUrl, Delimiter: aws.String("/"), Prefix: aws.String("ünïcödé")})
		if err != nil {
			t.Fatal(err)
		}
		wantC, wantP := expectedDelimited(keys, "ünïcödé", "/")
		requireURLEncoded(t, "v2 delimited keys", objKeys(d.Contents), wantC)
		requireURLEncoded(t, "v2 common prefixes", prefixList(d.CommonPrefixes), wantP)
		if p, err := url.QueryUnescape(aws.ToString(d.Prefix)); err != nil || p != "ünïcödé" {
			t.Errorf("encoded Prefix %q does not decode to the request prefix", aws.ToString(d.Prefix))
		}
	})

	t.Run("FetchOwner", func(t *testing.T) {
		out, err := c.ListObjectsV2(ctx(t), &s3.ListObjectsV2Input{Bucket: aws.String(bucket), FetchOwner: aws.Bool(true), MaxKeys: aws.Int32(3)})
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range out.Contents {
			if o.Owner == nil || aws.ToString(o.Owner.ID) == "" {
				t.Errorf("%s: no Owner with fetch-owner=true", aws.ToString(o.Key))
			}
		}
		v1, err := c.ListObjects(ctx(t), &s3.ListObjectsInput{Bucket: aws.String(bucket), MaxKeys: aws.Int32(3)})
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range v1.Contents {
			if o.Owner == nil {
				t.Errorf("v1 %s: no Owner (v1 always returns it)", aws.ToString(o.Key))
			}
		}
	})
}

// requireURLEncoded checks that listed keys are URL-encoded forms of want.
func requireURLEncoded(t *testing.T, what string, got, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d entries, want %d (%q)", what, len(got), len(want), got)
	}
	for i, g := range got {
		dec, err := url.QueryUnescape(g)
		if err != nil || dec != want[i] {
			t.Errorf("%s: entry %q decodes to %q (%v), want %q", what, g, dec, err, want[i])
		}
		if strings.ContainsAny(want[i], " +%ü") && g == want[i] {
			t.Errorf("%s: %q returned unencoded with encoding-type=url", what, g)
		}
	}
}

func objKeys(objs []types.Object) []string {
	var out []string
	for _, o := range objs {
		out = append(out, aws.ToString(o.Key))
	}
	return out
}

func prefixList(ps []types.CommonPrefix) []string {
	var out []string
	for _, p := range ps {
		out = append(out, aws.ToString(p.Prefix))
	}
	return out
}
