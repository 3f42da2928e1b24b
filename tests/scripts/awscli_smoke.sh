#!/usr/bin/env bash
# Smoke test: a fresh coffer driven by aws-cli (`aws s3` and `aws s3api`).
# Builds ./cmd/coffer (or uses $COFFER_BIN), starts it on a free port with four
# temp drives, runs the checks and prints 'N passed, M failed'. Exits non-zero
# on any failure.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

AWS=${AWS_CLI:-/usr/bin/aws}
[[ -x $AWS ]] || { echo "aws-cli not found at $AWS (apt-get install awscli)" >&2; exit 1; }

start_coffer
aws() {
	if [[ $1 == s3 && ($2 == cp || $2 == sync || $2 == mv) ]]; then
		"$AWS" --endpoint-url "$ENDPOINT" s3 "$2" --no-progress "${@:3}"
	else
		"$AWS" --endpoint-url "$ENDPOINT" "$@"
	fi
}

B=smoke-cli-$RANDOM$RANDOM
D=$WORK/data
mkdir -p "$D"
head -c 3000 /dev/urandom >"$D/small.bin"
head -c $((20 * 1024 * 1024)) /dev/urandom >"$D/big.bin"

t_mb() {
	aws s3 mb "s3://$B"
	aws s3api head-bucket --bucket "$B"
}
t_cp_small() {
	aws s3 cp "$D/small.bin" "s3://$B/dir/small.bin"
	aws s3 cp "s3://$B/dir/small.bin" "$WORK/small.out"
	cmp "$D/small.bin" "$WORK/small.out"
}
t_cp_big() {
	aws s3 cp "$D/big.bin" "s3://$B/dir/big.bin"
	aws s3 cp "s3://$B/dir/big.bin" "$WORK/big.out"
	cmp "$D/big.bin" "$WORK/big.out"
	local etag
	etag=$(aws s3api head-object --bucket "$B" --key dir/big.bin --query ETag --output text)
	[[ $etag == *-* ]] || { echo "20 MiB upload not multipart: ETag $etag" >&2; return 1; }
}
t_ls() {
	local out
	out=$(aws s3 ls "s3://$B/dir/")
	echo "$out"
	grep -q ' 3000 small.bin$' <<<"$out"
	grep -q " $((20 * 1024 * 1024)) big.bin$" <<<"$out"
	aws s3 ls | grep -q " $B\$"
	aws s3 ls "s3://$B/" | grep -q 'PRE dir/'
}
t_sync() {
	local src=$WORK/sync-src dst=$WORK/sync-dst
	mkdir -p "$src/sub/deeper" "$dst"
	for i in $(seq 1 20); do
		local sub=""
		((i % 3 == 0)) && sub=sub/
		((i % 7 == 0)) && sub=sub/deeper/
		head -c $((i * 1537)) /dev/urandom >"$src/${sub}file $i.dat"
	done
	aws s3 sync "$src" "s3://$B/sync"
	local n
	n=$(aws s3api list-objects-v2 --bucket "$B" --prefix sync/ --query 'length(Contents || `[]`)' --output text)
	expect_eq "synced object count" "$n" 20
	aws s3 sync "s3://$B/sync" "$dst"
	diff -r "$src" "$dst"
	# A second sync has nothing to do.
	local again
	again=$(aws s3 sync "$src" "s3://$B/sync")
	expect_eq "second sync output" "$again" ""
	# Changing one file uploads just that file.
	head -c 999 /dev/urandom >"$src/file 1.dat"
	again=$(aws s3 sync "$src" "s3://$B/sync")
	grep -q 'upload: .*file 1.dat' <<<"$again"
	[[ $(grep -c '^upload:' <<<"$again") -eq 1 ]]
}
t_rm_recursive() {
	aws s3 rm --recursive "s3://$B/sync"
	local n
	n=$(aws s3api list-objects-v2 --bucket "$B" --prefix sync/ --query 'length(Contents || `[]`)' --output text)
	expect_eq "objects left after rm --recursive" "$n" 0
}
t_s3api_object() {
	aws s3api put-object --bucket "$B" --key "api/obj one" --body "$D/small.bin" \
		--content-type text/x-smoke --metadata color=blue,shape=round >/dev/null
	expect_eq "ContentType" "$(aws s3api head-object --bucket "$B" --key "api/obj one" --query ContentType --output text)" text/x-smoke
	expect_eq "Metadata.color" "$(aws s3api head-object --bucket "$B" --key "api/obj one" --query Metadata.color --output text)" blue
	expect_eq "ContentLength" "$(aws s3api head-object --bucket "$B" --key "api/obj one" --query ContentLength --output text)" 3000
	aws s3api get-object --bucket "$B" --key "api/obj one" "$WORK/api.out" >/dev/null
	cmp "$D/small.bin" "$WORK/api.out"
	aws s3api get-object --bucket "$B" --key "api/obj one" --range bytes=100-299 "$WORK/range.out" >/dev/null
	cmp <(head -c 300 "$D/small.bin" | tail -c 200) "$WORK/range.out"
	expect_eq "list-objects-v2 key" "$(aws s3api list-objects-v2 --bucket "$B" --prefix api/ --query 'Contents[0].Key' --output text)" "api/obj one"
	aws s3api delete-object --bucket "$B" --key "api/obj one"
	if aws s3api head-object --bucket "$B" --key "api/obj one" 2>"$WORK/head.err"; then
		echo "head-object succeeded after delete-object" >&2
		return 1
	fi
	grep -q '404' "$WORK/head.err"
}
t_s3api_errors() {
	if aws s3api get-object --bucket "$B" --key no-such-key "$WORK/x.out" 2>"$WORK/err"; then return 1; fi
	grep -q NoSuchKey "$WORK/err"
	if aws s3api delete-bucket --bucket "$B" 2>"$WORK/err"; then return 1; fi
	grep -q BucketNotEmpty "$WORK/err"
}
t_s3api_multipart() {
	local key=api/multi uid
	head -c $((5 * 1024 * 1024)) /dev/urandom >"$WORK/p1"
	head -c $((1024 * 1024 + 7)) /dev/urandom >"$WORK/p2"
	uid=$(aws s3api create-multipart-upload --bucket "$B" --key "$key" --query UploadId --output text)
	[[ -n $uid && $uid != None ]]
	local e1 e2
	e1=$(aws s3api upload-part --bucket "$B" --key "$key" --upload-id "$uid" --part-number 1 --body "$WORK/p1" --query ETag --output text)
	e2=$(aws s3api upload-part --bucket "$B" --key "$key" --upload-id "$uid" --part-number 2 --body "$WORK/p2" --query ETag --output text)
	expect_eq "list-parts count" "$(aws s3api list-parts --bucket "$B" --key "$key" --upload-id "$uid" --query 'length(Parts)' --output text)" 2
	aws s3api list-multipart-uploads --bucket "$B" --query 'Uploads[].UploadId' --output text | grep -q -- "$uid"
	cat >"$WORK/parts.json" <<JSON
{"Parts": [{"PartNumber": 1, "ETag": $e1}, {"PartNumber": 2, "ETag": $e2}]}
JSON
	sed -i 's/"ETag": \([^"{][^,}]*\)/"ETag": "\1"/g' "$WORK/parts.json"
	local etag
	etag=$(aws s3api complete-multipart-upload --bucket "$B" --key "$key" --upload-id "$uid" \
		--multipart-upload "file://$WORK/parts.json" --query ETag --output text)
	[[ $etag == *-2\" || $etag == *-2 ]] || { echo "multipart ETag $etag" >&2; return 1; }
	aws s3api get-object --bucket "$B" --key "$key" "$WORK/multi.out" >/dev/null
	cmp <(cat "$WORK/p1" "$WORK/p2") "$WORK/multi.out"
	# Abort leaves no upload behind.
	uid=$(aws s3api create-multipart-upload --bucket "$B" --key api/aborted --query UploadId --output text)
	aws s3api abort-multipart-upload --bucket "$B" --key api/aborted --upload-id "$uid"
	if aws s3api list-parts --bucket "$B" --key api/aborted --upload-id "$uid" 2>"$WORK/err"; then return 1; fi
	grep -q NoSuchUpload "$WORK/err"
}
t_s3api_copy_tagging() {
	aws s3api copy-object --bucket "$B" --key api/copy --copy-source "$B/dir/small.bin" >/dev/null
	aws s3api get-object --bucket "$B" --key api/copy "$WORK/copy.out" >/dev/null
	cmp "$D/small.bin" "$WORK/copy.out"
	aws s3api put-object-tagging --bucket "$B" --key api/copy --tagging 'TagSet=[{Key=k,Value=v}]'
	expect_eq "tag value" "$(aws s3api get-object-tagging --bucket "$B" --key api/copy --query 'TagSet[0].Value' --output text)" v
}
t_s3api_lifecycle() {
	if aws s3api get-bucket-lifecycle-configuration --bucket "$B" 2>"$WORK/err"; then return 1; fi
	grep -q NoSuchLifecycleConfiguration "$WORK/err"
	aws s3api put-bucket-lifecycle-configuration --bucket "$B" --lifecycle-configuration \
		'{"Rules":[{"ID":"smoke","Status":"Enabled","Filter":{"Prefix":"tmp/"},"Expiration":{"Days":30},"AbortIncompleteMultipartUpload":{"DaysAfterInitiation":7}}]}'
	expect_eq "lifecycle rule" "$(aws s3api get-bucket-lifecycle-configuration --bucket "$B" --query 'Rules[0].Expiration.Days' --output text)" 30
	aws s3api put-object --bucket "$B" --key tmp/x --body "$D/small.bin" >/dev/null
	aws s3api head-object --bucket "$B" --key tmp/x --query Expiration --output text | grep -q 'rule-id="smoke"'
	aws s3api delete-bucket-lifecycle --bucket "$B"
	aws s3api delete-object --bucket "$B" --key tmp/x
}
t_presign() {
	local url
	url=$(aws s3 presign "s3://$B/dir/small.bin" --expires-in 300)
	/usr/bin/python3 - "$url" "$WORK/presigned.out" <<'PY'
import sys, urllib.request
with urllib.request.urlopen(sys.argv[1], timeout=30) as r, open(sys.argv[2], "wb") as f:
    f.write(r.read())
PY
	cmp "$D/small.bin" "$WORK/presigned.out"
}
t_rb() {
	aws s3 rb --force "s3://$B"
	if aws s3api head-bucket --bucket "$B" 2>/dev/null; then
		echo "bucket still exists after rb --force" >&2
		return 1
	fi
}

check "s3 mb" t_mb
check "s3 cp small" t_cp_small
check "s3 cp 20 MiB (multipart)" t_cp_big
check "s3 ls" t_ls
check "s3 sync both ways" t_sync
check "s3 rm --recursive" t_rm_recursive
check "s3api put/head/get/list/delete-object" t_s3api_object
check "s3api errors" t_s3api_errors
check "s3api multipart" t_s3api_multipart
check "s3api copy-object + tagging" t_s3api_copy_tagging
check "s3api lifecycle configuration" t_s3api_lifecycle
check "s3 presign" t_presign
check "s3 rb --force" t_rb
finish
