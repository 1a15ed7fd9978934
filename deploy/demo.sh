# Sourced by ./run.sh --demo: a guided tour of Parley in about a minute,
# against a throw-away server on a temporary data directory. Every step
# prints the command it runs. Not meant to be executed directly.

parley_demo() {
  local parleyd parley port init fp invite
  # Globals, not locals: the EXIT trap runs after this function returns.
  PARLEY_DEMO_DIR=$(mktemp -d /tmp/parley-demo.XXXXXX)
  local demo=$PARLEY_DEMO_DIR
  parleyd=${PARLEY_BIN_DIR:-./build}/server/parleyd
  parley=${PARLEY_BIN_DIR:-./build}/client/parley
  cat >"$demo/parleyd.toml" <<TOML
data = "$demo/data"
listen = "127.0.0.1:0"
log_level = "warn"
[deconfliction]
# Short ladder so the demo can show an escalation within seconds.
reminder_before_hours = 0
second_escalation_after_hours = 0
TOML

  step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
  run() {
    printf '$ parley %s\n' "$*"
    "$parley" --home "$demo/clients" "$@"
  }
  field() { sed -n "s/.*\"$1\": *\"\\([^\"]*\\)\".*/\\1/p"; }

  step "Start a throw-away parleyd (data in $demo/data)"
  init=$("$parleyd" init --data "$demo/data" --json --origin demo.parley/log)
  fp=$(printf '%s' "$init" | field ca_fingerprint)
  invite=$(printf '%s' "$init" | field bootstrap_invite)
  "$parleyd" --config "$demo/parleyd.toml" >"$demo/parleyd.out" 2>"$demo/parleyd.err" &
  PARLEY_DEMO_PID=$!
  trap 'kill "$PARLEY_DEMO_PID" 2>/dev/null || true; wait "$PARLEY_DEMO_PID" 2>/dev/null || true; rm -rf "$PARLEY_DEMO_DIR"' EXIT
  for _ in $(seq 1 100); do
    grep -q "ready on port" "$demo/parleyd.out" 2>/dev/null && break
    sleep 0.1
  done
  port=$(sed -n 's/.*ready on port \([0-9]*\).*/\1/p' "$demo/parleyd.out")
  local server="127.0.0.1:$port"
  echo "parleyd listening on $server, CA fingerprint $fp"

  # The demo's keystores use one passphrase from the environment. Real
  # users type theirs at a prompt (docs/CLIENT.md explains the risks).
  export PARLEY_PASSPHRASE=demo-only-passphrase

  step "1. Bootstrap the first admin with the one-time invite"
  run --profile admin enroll --server "$server" --ca-fingerprint "$fp" \
      --invite "$invite" --name admin

  step "2. Enroll a mediator, a coordinator and two parties (separate profiles)"
  local who role org code
  for spec in mona:mediator:un-mediation cora:coordinator:ocha \
              partya:party:north partyb:party:south; do
    IFS=: read -r who role org <<<"$spec"
    code=$(run --profile admin --json admin invite --role "$role" --name "$who" \
           --org "$org" | field code)
    run --profile "$who" enroll --server "$server" --ca-fingerprint "$fp" \
        --invite "$code" --name "$who"
  done

  step "3. The mediator opens a backchannel between the parties"
  run --profile mona channel create talks --members partya,partyb
  run --profile mona channel create talks-b --members partyb
  local index
  index=$(run --profile partya --json send talks \
            --text "We could open the northern road on Tuesday." |
          tee /dev/stderr | sed -n 's/.*"log_index": *\([0-9]*\).*/\1/p')
  run --profile mona inbox --wait 0

  step "4. The mediator relays it to party B without attribution"
  if [ -n "$index" ]; then
    run --profile mona relay "$index" --to talks-b --anonymous
  fi
  run --profile partyb inbox --wait 0

  step "5. The coordinator notifies a convoy movement to both parties"
  cat >"$demo/route.geojson" <<'GEO'
{"type": "LineString", "coordinates": [[36.20, 33.51], [36.30, 33.60], [36.72, 34.73]]}
GEO
  local depart arrive ackby
  depart=$(date -u -d '+3 hours' +%Y-%m-%dT%H:%M:%SZ)
  arrive=$(date -u -d '+6 hours' +%Y-%m-%dT%H:%M:%SZ)
  ackby=$(date -u -d '+5 seconds' +%Y-%m-%dT%H:%M:%SZ)
  run --profile cora notify movement --id convoy-1 --to partya,partyb \
      --route "$demo/route.geojson" --depart "$depart" --arrive "$arrive" \
      --ack-by "$ackby" --vehicles 4xtruck:soft-skin --personnel 9 \
      --cargo "medical supplies" --contact "Ops room, +000 000 000"

  step "6. Party A acknowledges receipt; party B stays silent past the deadline"
  run --profile partya inbox --wait 0
  run --profile partya ack convoy-1
  run --profile partyb inbox --wait 0
  echo "(waiting 8 s for the acknowledge-by deadline to pass)"
  sleep 8
  run --profile cora notification show convoy-1

  step "7. Export a proof of notification and verify it offline"
  run --profile cora proof export convoy-1 --out "$demo/proof.json"
  run proof verify "$demo/proof.json"

  step "Done. Everything above is in the log; 'parley log verify' checks it."
  run --profile cora log verify

  kill "$PARLEY_DEMO_PID" 2>/dev/null
  wait "$PARLEY_DEMO_PID" 2>/dev/null || true
}
