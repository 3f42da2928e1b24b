# Shared by the smoke scripts: build and start coffer on a free port with
# four temp drives, and a tiny pass/fail bookkeeping. Source it; do not run it.
#
# Inputs (environment):
#   COFFER_BIN  use this binary instead of building ./cmd/coffer
# Sets: WORK (temp dir, removed on exit), ENDPOINT, COFFER_PID, AWS_* env.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/coffer-smoke.XXXXXX")
COFFER_PID=""
PASSED=0
FAILED=0

smoke_cleanup() {
	local rc=$?
	if [[ -n $COFFER_PID ]] && kill -0 "$COFFER_PID" 2>/dev/null; then
		kill -TERM "$COFFER_PID" 2>/dev/null || true
		for _ in $(seq 1 100); do
			kill -0 "$COFFER_PID" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$COFFER_PID" 2>/dev/null; then
			echo "coffer did not exit within 10 s of SIGTERM; killing it" >&2
			kill -KILL "$COFFER_PID" 2>/dev/null || true
			rc=1
		fi
	fi
	if [[ $rc -ne 0 && -f $WORK/server.log ]]; then
		echo "---- coffer output (last 60 lines) ----" >&2
		tail -n 60 "$WORK/server.log" >&2 || true
	fi
	rm -rf "$WORK"
	exit "$rc"
}
trap smoke_cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
	/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

start_coffer() {
	local bin=${COFFER_BIN:-}
	if [[ -z $bin ]]; then
		bin=$WORK/coffer
		(cd "$ROOT" && go build -o "$bin" ./cmd/coffer)
	fi
	local port
	port=$(free_port)
	ENDPOINT=http://127.0.0.1:$port
	export COFFER_ROOT_USER=smokeadmin
	export COFFER_ROOT_PASSWORD=smoke-secret-key-0123456789abcdef
	mkdir -p "$WORK"/drive{1..4}
	"$bin" server --address "127.0.0.1:$port" "$WORK"/drive{1..4} >"$WORK/server.log" 2>&1 &
	COFFER_PID=$!
	local deadline=$((SECONDS + 20))
	until /usr/bin/python3 - "$ENDPOINT/health/ready" <<'PY' 2>/dev/null; do
import sys, urllib.request
sys.exit(0 if urllib.request.urlopen(sys.argv[1], timeout=1).status == 200 else 1)
PY
		if ! kill -0 "$COFFER_PID" 2>/dev/null; then
			echo "coffer exited before becoming ready" >&2
			exit 1
		fi
		if ((SECONDS > deadline)); then
			echo "coffer not ready within 20 s" >&2
			exit 1
		fi
		sleep 0.1
	done

	export AWS_ACCESS_KEY_ID=$COFFER_ROOT_USER
	export AWS_SECRET_ACCESS_KEY=$COFFER_ROOT_PASSWORD
	export AWS_DEFAULT_REGION=us-east-1
	export AWS_REGION=us-east-1
	export AWS_EC2_METADATA_DISABLED=true
	export AWS_PAGER=""
	export AWS_SHARED_CREDENTIALS_FILE=$WORK/aws-credentials-unused
	export AWS_CONFIG_FILE=$WORK/aws-config
	unset AWS_PROFILE AWS_SESSION_TOKEN AWS_ENDPOINT_URL AWS_CA_BUNDLE
	cat >"$AWS_CONFIG_FILE" <<CFG
[default]
region = us-east-1
s3 =
    addressing_style = path
CFG
}

# check NAME CMD...: runs CMD with errexit on (in a subshell), records the result.
check() {
	local name=$1
	shift
	local rc=0
	set +e
	(
		set -euo pipefail
		PS4='+ ${FUNCNAME[0]:-main}:${LINENO}: '
		set -x
		"$@"
	) >"$WORK/check.log" 2>&1
	rc=$?
	set -e
	if [[ $rc -eq 0 ]]; then
		PASSED=$((PASSED + 1))
		echo "ok   $name"
	else
		FAILED=$((FAILED + 1))
		echo "FAIL $name (exit $rc)"
		sed 's/^/     | /' "$WORK/check.log" | tail -n 25
	fi
}

# expect_eq WHAT GOT WANT
expect_eq() {
	if [[ $2 != "$3" ]]; then
		echo "$1: got '$2', want '$3'" >&2
		return 1
	fi
}

finish() {
	echo "$PASSED passed, $FAILED failed"
	[[ $FAILED -eq 0 ]]
}
