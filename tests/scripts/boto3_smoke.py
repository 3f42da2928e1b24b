#!/usr/bin/python3
"""Smoke test: a fresh coffer driven by boto3.

Builds ./cmd/coffer (or uses $COFFER_BIN), starts it on a free port with four
temp drives, runs the checks and prints 'N passed, M failed'. Exits non-zero
on any failure. Run with the Debian python3 (python3-boto3).
"""
import hashlib
import io
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.error
import urllib.request

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import ClientError

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
USER = "smokeadmin"
SECRET = "smoke-secret-key-0123456789abcdef"
MIB = 1024 * 1024


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Coffer:
    def __init__(self, work):
        self.work = work
        binary = os.environ.get("COFFER_BIN")
        if not binary:
            binary = os.path.join(work, "coffer")
            subprocess.run(["go", "build", "-o", binary, "./cmd/coffer"], cwd=ROOT, check=True)
        self.binary = binary
        self.endpoint = "http://127.0.0.1:%d" % free_port()
        drives = [os.path.join(work, "drive%d" % i) for i in range(1, 5)]
        for d in drives:
            os.makedirs(d)
        env = dict(os.environ, COFFER_ROOT_USER=USER, COFFER_ROOT_PASSWORD=SECRET)
        self.log = open(os.path.join(work, "server.log"), "wb")
        self.proc = subprocess.Popen(
            [binary, "server", "--address", self.endpoint[len("http://"):]] + drives,
            env=env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 20
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError("coffer exited before ready:\n" + self.output())
            try:
                with urllib.request.urlopen(self.endpoint + "/health/ready", timeout=1) as r:
                    if r.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, OSError):
                pass
            if time.time() > deadline:
                self.proc.kill()
                raise RuntimeError("coffer not ready within 20 s:\n" + self.output())
            time.sleep(0.1)

    def output(self):
        self.log.flush()
        with open(os.path.join(self.work, "server.log"), "rb") as f:
            return f.read()[-6000:].decode("utf-8", "replace")

    def stop(self):
        if self.proc.poll() is not None:
            return "coffer had already exited with %s" % self.proc.returncode
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return "coffer did not exit within 10 s of SIGTERM"
        return None if rc == 0 else "coffer exited with %d after SIGTERM" % rc


def expect(cond, msg):
    if not cond:
        raise AssertionError(msg)


def expect_error(fn, status, *codes):
    try:
        fn()
    except ClientError as e:
        got_status = e.response["ResponseMetadata"]["HTTPStatusCode"]
        got_code = e.response["Error"]["Code"]
        expect(got_status == status, "want HTTP %d %s, got %d %s" % (status, codes, got_status, got_code))
        expect(not codes or got_code in codes, "want code %s, got %s" % (codes, got_code))
        return
    raise AssertionError("want HTTP %d %s, got success" % (status, codes))


def main():
    work = tempfile.mkdtemp(prefix="coffer-boto3-")
    server = None
    passed = failed = 0
    try:
        server = Coffer(work)
        s3 = boto3.client(
            "s3", endpoint_url=server.endpoint, region_name="us-east-1",
            aws_access_key_id=USER, aws_secret_access_key=SECRET,
            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1},
                          signature_version="s3v4"))
        bucket = "smoke-boto3-%d" % os.getpid()
        small = os.urandom(5000)
        big = os.urandom(12 * MIB + 123)

        def t_bucket():
            s3.create_bucket(Bucket=bucket)
            s3.head_bucket(Bucket=bucket)
            names = [b["Name"] for b in s3.list_buckets()["Buckets"]]
            expect(bucket in names, "bucket not listed: %s" % names)
            loc = s3.get_bucket_location(Bucket=bucket)["LocationConstraint"]
            expect(loc in (None, ""), "LocationConstraint %r" % loc)
            expect_error(lambda: s3.create_bucket(Bucket=bucket), 409, "BucketAlreadyOwnedByYou")

        def t_put_get_metadata():
            r = s3.put_object(Bucket=bucket, Key="meta/obj", Body=small, ContentType="text/x-boto",
                              Metadata={"color": "blue", "answer": "42"}, CacheControl="max-age=5")
            expect(r["ETag"] == '"%s"' % hashlib.md5(small).hexdigest(), "ETag %s" % r["ETag"])
            g = s3.get_object(Bucket=bucket, Key="meta/obj")
            expect(g["Body"].read() == small, "content differs")
            expect(g["ContentType"] == "text/x-boto", "ContentType %s" % g["ContentType"])
            expect(g["Metadata"] == {"color": "blue", "answer": "42"}, "Metadata %s" % g["Metadata"])
            expect(g["CacheControl"] == "max-age=5", "CacheControl %s" % g.get("CacheControl"))
            h = s3.head_object(Bucket=bucket, Key="meta/obj")
            expect(h["ContentLength"] == len(small), "ContentLength %s" % h["ContentLength"])
            expect_error(lambda: s3.get_object(Bucket=bucket, Key="meta/missing"), 404, "NoSuchKey")

        def t_ranges():
            for rng, want in (("bytes=0-9", small[:10]), ("bytes=100-1099", small[100:1100]),
                              ("bytes=-25", small[-25:]), ("bytes=4990-", small[4990:])):
                g = s3.get_object(Bucket=bucket, Key="meta/obj", Range=rng)
                expect(g["ResponseMetadata"]["HTTPStatusCode"] == 206, "%s: status %s" % (rng, g["ResponseMetadata"]["HTTPStatusCode"]))
                expect(g["Body"].read() == want, "%s: content differs" % rng)
            expect_error(lambda: s3.get_object(Bucket=bucket, Key="meta/obj", Range="bytes=6000-"), 416, "InvalidRange")

        def t_multipart_upload():
            cfg = TransferConfig(multipart_threshold=5 * MIB, multipart_chunksize=5 * MIB, max_concurrency=2)
            s3.upload_fileobj(io.BytesIO(big), bucket, "big/twelve", Config=cfg)
            h = s3.head_object(Bucket=bucket, Key="big/twelve")
            expect(h["ContentLength"] == len(big), "size %s" % h["ContentLength"])
            expect(h["ETag"].endswith('-3"'), "multipart ETag %s" % h["ETag"])
            out = io.BytesIO()
            s3.download_fileobj(bucket, "big/twelve", out, Config=cfg)
            expect(out.getvalue() == big, "downloaded content differs")

        def t_paginator():
            for i in range(23):
                s3.put_object(Bucket=bucket, Key="page/%02d" % i, Body=b"x" * i)
            keys = []
            for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="page/",
                                                                      PaginationConfig={"PageSize": 5}):
                expect(page["KeyCount"] <= 5, "KeyCount %s" % page["KeyCount"])
                keys += [o["Key"] for o in page.get("Contents", [])]
            expect(keys == ["page/%02d" % i for i in range(23)], "paged keys %s" % keys)
            r = s3.list_objects_v2(Bucket=bucket, Delimiter="/")
            prefixes = [p["Prefix"] for p in r.get("CommonPrefixes", [])]
            expect(prefixes == ["big/", "meta/", "page/"], "prefixes %s" % prefixes)

        def t_copy():
            s3.copy_object(Bucket=bucket, Key="copy/obj", CopySource={"Bucket": bucket, "Key": "meta/obj"})
            g = s3.get_object(Bucket=bucket, Key="copy/obj")
            expect(g["Body"].read() == small, "copy content differs")
            expect(g["Metadata"] == {"color": "blue", "answer": "42"}, "copied metadata %s" % g["Metadata"])
            s3.copy_object(Bucket=bucket, Key="copy/replaced", CopySource={"Bucket": bucket, "Key": "meta/obj"},
                           MetadataDirective="REPLACE", Metadata={"new": "yes"})
            h = s3.head_object(Bucket=bucket, Key="copy/replaced")
            expect(h["Metadata"] == {"new": "yes"}, "replaced metadata %s" % h["Metadata"])
            # managed copy (multipart copy for large sources goes through upload_part_copy)
            s3.copy({"Bucket": bucket, "Key": "big/twelve"}, bucket, "copy/big",
                    Config=TransferConfig(multipart_threshold=5 * MIB, multipart_chunksize=5 * MIB))
            expect(s3.get_object(Bucket=bucket, Key="copy/big")["Body"].read() == big, "managed copy differs")

        def t_presigned():
            url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "meta/obj"}, ExpiresIn=300)
            with urllib.request.urlopen(url, timeout=30) as r:
                expect(r.read() == small, "presigned GET content differs")
            url = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "presigned/put"}, ExpiresIn=300)
            req = urllib.request.Request(url, data=b"via presigned put", method="PUT")
            with urllib.request.urlopen(req, timeout=30) as r:
                expect(r.status == 200, "presigned PUT status %s" % r.status)
            expect(s3.get_object(Bucket=bucket, Key="presigned/put")["Body"].read() == b"via presigned put", "presigned PUT content")
            try:
                urllib.request.urlopen(server.endpoint + "/" + bucket + "/meta/obj", timeout=30)
                raise AssertionError("anonymous GET succeeded")
            except urllib.error.HTTPError as e:
                expect(e.code == 403, "anonymous GET status %s" % e.code)

        def t_delete_objects():
            keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="page/")["Contents"]]
            r = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in keys]})
            expect(len(r.get("Deleted", [])) == len(keys) and not r.get("Errors"), "delete_objects %s" % r.get("Errors"))
            r = s3.list_objects_v2(Bucket=bucket, Prefix="page/")
            expect(r["KeyCount"] == 0, "left after delete_objects: %s" % r["KeyCount"])
            expect_error(lambda: s3.delete_bucket(Bucket=bucket), 409, "BucketNotEmpty")

        def t_sse():
            # Every object is encrypted at rest: SSE-S3 is reported by default.
            r = s3.put_object(Bucket=bucket, Key="sse/default", Body=small)
            expect(r.get("ServerSideEncryption") == "AES256", "default PUT SSE %r" % r.get("ServerSideEncryption"))
            h = s3.head_object(Bucket=bucket, Key="sse/default")
            expect(h.get("ServerSideEncryption") == "AES256", "default HEAD SSE %r" % h.get("ServerSideEncryption"))
            r = s3.put_object(Bucket=bucket, Key="sse/aes256", Body=small, ServerSideEncryption="AES256")
            expect(r.get("ServerSideEncryption") == "AES256", "AES256 PUT SSE %r" % r.get("ServerSideEncryption"))
            expect(s3.get_object(Bucket=bucket, Key="sse/aes256")["Body"].read() == small, "AES256 content differs")
            # This server speaks plain HTTP without --insecure: SSE-C is refused.
            expect_error(lambda: s3.put_object(Bucket=bucket, Key="sse/c", Body=small, SSECustomerAlgorithm="AES256",
                                               SSECustomerKey=os.urandom(32)), 400, "InvalidRequest")
            expect_error(lambda: s3.put_object(Bucket=bucket, Key="sse/kms", Body=small, ServerSideEncryption="aws:kms",
                                               SSEKMSKeyId="no-such-key-for-coffer"), 400, "KMS.NotFoundException")
            rule = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
            expect(rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256", "default rule %r" % rule)
            s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": [{
                "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}, "BucketKeyEnabled": True}]})
            rule = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
            expect(rule.get("BucketKeyEnabled") is True, "rule after PUT %r" % rule)
            s3.delete_bucket_encryption(Bucket=bucket)
            rule = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
            expect(rule.get("BucketKeyEnabled") is not True, "rule after DELETE %r" % rule)

        def t_access_control():
            import json
            ab = "acl-boto3-%d" % os.getpid()
            s3.create_bucket(Bucket=ab)
            s3.put_object(Bucket=ab, Key="pub", Body=b"public")
            s3.put_object(Bucket=ab, Key="priv", Body=b"private")

            def anon(key):
                try:
                    with urllib.request.urlopen("%s/%s/%s" % (server.endpoint, ab, key), timeout=5) as r:
                        return r.status
                except urllib.error.HTTPError as e:
                    return e.code
            expect(anon("pub") == 403, "anonymous GET before any grant")
            # Default: ACLs disabled (BucketOwnerEnforced) and public access blocked.
            expect_error(lambda: s3.put_object_acl(Bucket=ab, Key="pub", ACL="public-read"), 400,
                         "AccessControlListNotSupported")
            s3.put_bucket_ownership_controls(Bucket=ab, OwnershipControls={"Rules": [{"ObjectOwnership": "ObjectWriter"}]})
            s3.put_public_access_block(Bucket=ab, PublicAccessBlockConfiguration={
                "BlockPublicAcls": False, "IgnorePublicAcls": False, "BlockPublicPolicy": False, "RestrictPublicBuckets": False})
            s3.put_object_acl(Bucket=ab, Key="pub", ACL="public-read")
            grants = s3.get_object_acl(Bucket=ab, Key="pub")["Grants"]
            expect(any(g["Grantee"].get("URI", "").endswith("AllUsers") for g in grants), "AllUsers grant %r" % grants)
            expect(anon("pub") == 200, "public-read object not readable anonymously")
            expect(anon("priv") == 403, "private object readable anonymously")
            # An explicit deny beats the ACL allow.
            deny = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Principal": "*",
                    "Action": "s3:GetObject", "Resource": "arn:aws:s3:::%s/pub" % ab}]}
            s3.put_bucket_policy(Bucket=ab, Policy=json.dumps(deny))
            expect(anon("pub") == 403, "explicit deny did not beat the ACL")
            # A policy granting another tenant GetObject works for that tenant only.
            env = dict(os.environ, COFFER_ENDPOINT=server.endpoint, COFFER_ACCESS_KEY=USER, COFFER_SECRET_KEY=SECRET)
            out = subprocess.run([server.binary, "admin", "--json", "tenant", "create", "reader-%d" % os.getpid()],
                                 env=env, check=True, capture_output=True).stdout
            key = json.loads(out)["admin_key"]
            other = boto3.client("s3", endpoint_url=server.endpoint, region_name="us-east-1",
                                 aws_access_key_id=key["access_key"], aws_secret_access_key=key["secret_key"],
                                 config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))
            expect_error(lambda: other.get_object(Bucket=ab, Key="priv"), 403, "AccessDenied")
            grant = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
                     "Principal": {"AWS": "arn:coffer:iam::reader-%d:root" % os.getpid()},
                     "Action": "s3:GetObject", "Resource": "arn:aws:s3:::%s/priv" % ab}]}
            s3.put_bucket_policy(Bucket=ab, Policy=json.dumps(grant))
            expect(other.get_object(Bucket=ab, Key="priv")["Body"].read() == b"private", "cross-tenant grant")
            expect_error(lambda: other.put_object(Bucket=ab, Key="evil", Body=b"x"), 403, "AccessDenied")
            s3.delete_bucket_policy(Bucket=ab)
            for k in ("pub", "priv"):
                s3.delete_object(Bucket=ab, Key=k)
            s3.delete_bucket(Bucket=ab)

        def t_object_lock():
            import base64
            import datetime
            lb = "lock-boto3-%d" % os.getpid()
            s3.create_bucket(Bucket=lb, ObjectLockEnabledForBucket=True)
            expect(s3.get_bucket_versioning(Bucket=lb).get("Status") == "Enabled", "lock bucket not versioned")
            body = b"record"
            md5 = base64.b64encode(hashlib.md5(body).digest()).decode()
            until = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=1)
            v = s3.put_object(Bucket=lb, Key="rec", Body=body, ContentMD5=md5,
                              ObjectLockMode="COMPLIANCE", ObjectLockRetainUntilDate=until)["VersionId"]
            h = s3.head_object(Bucket=lb, Key="rec", VersionId=v)
            expect(h.get("ObjectLockMode") == "COMPLIANCE", "lock mode %r" % h.get("ObjectLockMode"))
            expect_error(lambda: s3.delete_object(Bucket=lb, Key="rec", VersionId=v), 403, "AccessDenied")
            shorter = until - datetime.timedelta(hours=1)
            expect_error(lambda: s3.put_object_retention(Bucket=lb, Key="rec", VersionId=v,
                         Retention={"Mode": "COMPLIANCE", "RetainUntilDate": shorter}), 403, "AccessDenied")
            s3.put_object_retention(Bucket=lb, Key="rec", VersionId=v,
                                    Retention={"Mode": "COMPLIANCE", "RetainUntilDate": until + datetime.timedelta(days=1)})
            # A delete without a version id only adds a marker: the record stays.
            s3.delete_object(Bucket=lb, Key="rec")
            expect(s3.get_object(Bucket=lb, Key="rec", VersionId=v)["Body"].read() == body, "locked version lost")
            # GOVERNANCE: deletable only with the bypass; legal hold blocks even that.
            g = s3.put_object(Bucket=lb, Key="gov", Body=body, ContentMD5=md5,
                              ObjectLockMode="GOVERNANCE", ObjectLockRetainUntilDate=until)["VersionId"]
            s3.put_object_legal_hold(Bucket=lb, Key="gov", VersionId=g, LegalHold={"Status": "ON"})
            expect_error(lambda: s3.delete_object(Bucket=lb, Key="gov", VersionId=g, BypassGovernanceRetention=True),
                         403, "AccessDenied")
            s3.put_object_legal_hold(Bucket=lb, Key="gov", VersionId=g, LegalHold={"Status": "OFF"})
            expect_error(lambda: s3.delete_object(Bucket=lb, Key="gov", VersionId=g), 403, "AccessDenied")
            s3.delete_object(Bucket=lb, Key="gov", VersionId=g, BypassGovernanceRetention=True)
            # DeleteObjects reports the locked version per key.
            r = s3.delete_objects(Bucket=lb, Delete={"Objects": [{"Key": "rec", "VersionId": v}]})
            errs = r.get("Errors", [])
            expect(len(errs) == 1 and errs[0]["Code"] == "AccessDenied", "DeleteObjects %r" % r)
            expect_error(lambda: s3.delete_bucket(Bucket=lb), 409, "BucketNotEmpty")

        def t_cleanup():
            for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
                objs = [{"Key": o["Key"]} for o in page.get("Contents", [])]
                if objs:
                    s3.delete_objects(Bucket=bucket, Delete={"Objects": objs, "Quiet": True})
            s3.delete_bucket(Bucket=bucket)
            expect_error(lambda: s3.head_bucket(Bucket=bucket), 404)

        for name, fn in (("bucket create/head/list/location", t_bucket),
                         ("put/get with metadata", t_put_get_metadata),
                         ("ranges", t_ranges),
                         ("upload_fileobj multipart 12 MiB", t_multipart_upload),
                         ("list paginator + delimiter", t_paginator),
                         ("copy_object + managed copy", t_copy),
                         ("presigned URLs via urllib", t_presigned),
                         ("delete_objects", t_delete_objects),
                         ("server-side encryption", t_sse),
                         ("ACLs, bucket policies, tenants", t_access_control),
                         ("Object Lock: compliance, governance, legal hold", t_object_lock),
                         ("empty and delete bucket", t_cleanup)):
            try:
                fn()
                passed += 1
                print("ok   " + name, flush=True)
            except Exception:  # noqa: BLE001 - report and continue
                failed += 1
                print("FAIL " + name, flush=True)
                print("     | " + traceback.format_exc().strip().replace("\n", "\n     | "), flush=True)
    except Exception:  # noqa: BLE001
        failed += 1
        print("FAIL setup\n" + traceback.format_exc(), flush=True)
    finally:
        if server is not None:
            err = server.stop()
            if err:
                failed += 1
                print("FAIL shutdown: " + err, flush=True)
            if failed:
                print("---- coffer output (tail) ----\n" + server.output(), flush=True)
        shutil.rmtree(work, ignore_errors=True)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
