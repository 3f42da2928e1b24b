// Command bigput streams large objects into a coffer (or any S3) endpoint
// through presigned PUT URLs, to measure the server's memory under big
// uploads. Data is generated on the fly; nothing is buffered.
//
//	go run ./tests/tools/bigput -endpoint http://127.0.0.1:9000 -size 5GiB -n 1
//
// Credentials come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

func parseSize(s string) (int64, error) {
	mult := int64(1)
	for suf, m := range map[string]int64{"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30} {
		if strings.HasSuffix(s, suf) {
			s, mult = strings.TrimSuffix(s, suf), m
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n * mult, err
}

// genReader yields size pseudo-random bytes from a small repeating buffer.
type genReader struct {
	buf  []byte
	left int64
	off  int
}

func (g *genReader) Read(p []byte) (int, error) {
	if g.left == 0 {
		return 0, io.EOF
	}
	n := 0
	for n < len(p) && g.left > 0 {
		c := copy(p[n:], g.buf[g.off:])
		if int64(c) > g.left {
			c = int(g.left)
		}
		n += c
		g.left -= int64(c)
		g.off = (g.off + c) % len(g.buf)
	}
	return n, nil
}

func main() {
	endpoint := flag.String("endpoint", "http://127.0.0.1:9000", "S3 endpoint")
	bucket := flag.String("bucket", "bigput", "bucket (created if missing)")
	sizeFlag := flag.String("size", "1GiB", "object size")
	n := flag.Int("n", 1, "concurrent uploads")
	flag.Parse()
	size, err := parseSize(*sizeFlag)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bad -size:", err)
		os.Exit(2)
	}
	client := s3.New(s3.Options{
		Region: "us-east-1", BaseEndpoint: endpoint, UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY"), ""),
	})
	ctx := context.Background()
	client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: bucket})
	pre := s3.NewPresignClient(client)
	buf := make([]byte, 1<<20+7)
	rand.New(rand.NewSource(1)).Read(buf)
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, *n)
	for i := 0; i < *n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			req, err := pre.PresignPutObject(ctx, &s3.PutObjectInput{Bucket: bucket, Key: aws.String(fmt.Sprintf("obj-%d", i))})
			if err != nil {
				errs <- err
				return
			}
			hr, _ := http.NewRequest(http.MethodPut, req.URL, &genReader{buf: buf, left: size})
			hr.ContentLength = size
			resp, err := http.DefaultClient.Do(hr)
			if err != nil {
				errs <- err
				return
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				errs <- fmt.Errorf("upload %d: %s: %s", i, resp.Status, body)
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	failed := 0
	for err := range errs {
		fmt.Fprintln(os.Stderr, err)
		failed++
	}
	el := time.Since(start)
	fmt.Printf("%d x %s in %.1fs (%.0f MiB/s), %d failed\n", *n, *sizeFlag, el.Seconds(), float64(size)*float64(*n)/(1<<20)/el.Seconds(), failed)
	if failed > 0 {
		os.Exit(1)
	}
}
