#!/usr/bin/env bash
# ctest bench_smoke.parley-bench-target: parley-bench --target against a
# parleyd it did not start, set up the way an operator would (parleyd init,
# a config with benchmark limits, the first admin enrolled with the `parley`
# CLI, which then creates admin invites for the benchmark). Two runs against
# the same server must both succeed (each tags its names), and the bad
# inputs must fail with an error that says what to do.
#
#   target_smoke.sh PARLEYD PARLEY PARLEY_BENCH
set -euo pipefail
parleyd=$1 parley=$2 bench=$3

dir=$(mktemp -d "${TMPDIR:-/tmp}/parley-bench-target.XXXXXX")
pid=
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$dir"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
field() { sed -n "s/.*\"$1\": *\"\\([^\"]*\\)\".*/\\1/p"; }

init=$("$parleyd" init --data "$dir/data" --json --origin target.bench/log)
fp=$(printf '%s' "$init" | field ca_fingerprint)
printf '%s' "$init" | field bootstrap_invite >"$dir/bootstrap"
cat >"$dir/parleyd.toml" <<TOML
data = "$dir/data"
listen = "127.0.0.1:0"
log_level = "warn"
[limits]
requests_per_second = 100000
burst = 1000000
max_channel_members = 256
address_requests_per_second = 100000
address_burst = 1000000
enrollments_per_minute_per_address = 100000
[auth]
session_minutes = 240
TOML
"$parleyd" --config "$dir/parleyd.toml" >"$dir/out" 2>"$dir/err" &
pid=$!
for _ in $(seq 1 200); do
  grep -q "ready on port" "$dir/out" 2>/dev/null && break
  sleep 0.1
done
port=$(sed -n 's/.*ready on port \([0-9]*\).*/\1/p' "$dir/out")
[ -n "$port" ] || fail "parleyd did not start: $(cat "$dir/err")"
server="127.0.0.1:$port"

export PARLEY_PASSPHRASE=bench-smoke-only
cli() { "$parley" --home "$dir/clients" --profile admin "$@"; }
cli enroll --server "$server" --ca-fingerprint "$fp" \
    --invite "$(cat "$dir/bootstrap")" --name admin >/dev/null
for who in bench-a bench-b; do
  cli admin invite --role admin --name "$who" >"$dir/$who.invite" 2>/dev/null
done

run() {  # run NAME EXPECTED-EXIT [extra args...]
  local name=$1 want=$2 got=0
  shift 2
  "$bench" --smoke --json --target "$server" \
      --ca "$dir/data/tls/ca.crt" "$@" >"$dir/$name.json" 2>"$dir/$name.err" || got=$?
  [ "$got" = "$want" ] || {
    cat "$dir/$name.err" >&2
    fail "$name: exit $got, expected $want"
  }
}

# Two runs against the same server, the second with parleyd's CPU and
# memory measured.
run first 0 --invite-file "$dir/bench-a.invite" --admin-name bench-a
run second 0 --invite-file "$dir/bench-b.invite" --admin-name bench-b \
    --target-pid "$pid"
for name in first second; do
  grep -q '"send.rate.8"' "$dir/$name.json" || fail "$name: no Send rate"
  grep -q '"fanout.last.30"' "$dir/$name.json" || fail "$name: no fan-out"
  grep -q '"notify.rate"' "$dir/$name.json" || fail "$name: no import rate"
done
grep -q '"send.server_cpu_us.8"' "$dir/second.json" ||
  fail "--target-pid: parleyd's CPU was not measured"
grep -q '"rss.subscribed_mib"' "$dir/second.json" ||
  fail "--target-pid: parleyd's memory was not measured"
if grep -q '"send.server_cpu_us.8"' "$dir/first.json"; then
  fail "without --target-pid parleyd's CPU cannot be known"
fi

# Bad inputs: a used invite, a missing --ca, a pid that does not exist.
run reused 1 --invite-file "$dir/bench-a.invite" --admin-name bench-a
grep -q "already been used" "$dir/reused.err" || fail "reused invite: $(cat "$dir/reused.err")"
grep -q "hint: --invite-file must hold an unused admin invite" "$dir/reused.err" ||
  fail "reused invite: no hint"
got=0
"$bench" --target "$server" --invite-file "$dir/bench-b.invite" \
    2>"$dir/noca.err" >/dev/null || got=$?
[ "$got" = 2 ] && grep -q "needs --ca" "$dir/noca.err" || fail "missing --ca: exit $got"
got=0
"$bench" --target "$server" --ca "$dir/data/tls/ca.crt" \
    --invite-file "$dir/bench-b.invite" --target-pid 999999999 \
    2>"$dir/nopid.err" >/dev/null || got=$?
[ "$got" = 2 ] && grep -q "no such process" "$dir/nopid.err" ||
  fail "bad --target-pid: exit $got"

# The server is still healthy and holds both runs' tagged members.
kill -0 "$pid" || fail "parleyd died"
echo "parley-bench --target: two runs, bad inputs refused"
