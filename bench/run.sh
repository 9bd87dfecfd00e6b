#!/usr/bin/env bash
# Builds Parley and the load generator (release), starts a fresh server on a temporary SQLite
# data directory, runs the benchmark (Parley, then the baseline relay in the same run), stops the
# server and writes the results.
#
#   bench/run.sh            the standard scenario (see the defaults below), 3-6 minutes
#   bench/run.sh --smoke    ~15 s, small; exits non-zero on any error, loss or duplicate; then
#                           the routing smoke run on SQLite (and on PostgreSQL when
#                           PARLEY_TEST_POSTGRES_URL is set), which checks invariants only
#   bench/run.sh routing    the routing benchmark (no server: it drives the service in-process
#                           over SQLite, then PostgreSQL at PARLEY_BENCH_POSTGRES_URL, default
#                           postgres://postgres@127.0.0.1:5432/test); ~15-25 minutes. Arguments
#                           after `routing` go to `parley-bench routing` (see its --help)
#
# Override the scenario with environment variables: VISITORS, AGENTS, CHATTERS, RATES (comma-
# separated msg/s, one run each), DURATION (s per rate), REPLY_EVERY, BODY_BYTES, SETTLE_MS,
# OUT_DIR (default target/bench), PARLEY_BIN (a prebuilt server). Extra arguments after the mode
# go to `parley-bench run` (see `target/release/parley-bench run --help`).
set -euo pipefail

cd "$(dirname "$0")/.."
MODE=standard
if [[ "${1:-}" == "--smoke" ]]; then
  MODE=smoke
  shift
elif [[ "${1:-}" == "routing" ]]; then
  MODE=routing
  shift
fi

PROFILE=${PROFILE:-release}
if [[ $PROFILE == release ]]; then FLAGS=(--release); else FLAGS=(); fi

# The routing benchmark needs no server: parley-bench runs the service in-process.
if [[ $MODE == routing ]]; then
  : "${OUT_DIR:=target/bench}"
  cargo build "${FLAGS[@]}" -p parley-bench
  mkdir -p "$OUT_DIR"
  STAMP=$(date -u +%Y%m%dT%H%M%SZ)
  busy_ticks() { awk 'NR==1 { print $2+$3+$4+$7+$8+$9 }' /proc/stat; }
  B0=$(busy_ticks); sleep 3; B1=$(busy_ticks)
  BUSY=$(( (B1 - B0) * 100 / $(getconf CLK_TCK) / 3 ))
  echo "machine busy before the run: ${BUSY}% of one core" | tee "$OUT_DIR/routing-load-$STAMP.txt"
  STATUS=0
  "target/$PROFILE/parley-bench" routing --out "$OUT_DIR/routing-$STAMP.json" "$@" \
    | tee "$OUT_DIR/routing-$STAMP.txt" || STATUS=$?
  cat "$OUT_DIR/routing-load-$STAMP.txt" >>"$OUT_DIR/routing-$STAMP.txt"
  echo "results: $OUT_DIR/routing-$STAMP.txt and .json"
  exit "$STATUS"
fi

if [[ $MODE == smoke ]]; then
  : "${VISITORS:=50}" "${AGENTS:=2}" "${CHATTERS:=10}" "${RATES:=50}" "${DURATION:=3}" "${SETTLE_MS:=500}"
else
  # Sized for a 2-core machine: 2,000 open visitor sockets, 10 agents, 200 chatting visitors;
  # 500 msg/s is the standard rate, the others find where throughput stops following the rate.
  : "${VISITORS:=2000}" "${AGENTS:=10}" "${CHATTERS:=200}" "${RATES:=100,250,500,750,1000,1250}"
  : "${DURATION:=10}" "${SETTLE_MS:=2000}"
fi
: "${REPLY_EVERY:=5}" "${BODY_BYTES:=100}" "${OUT_DIR:=target/bench}"

# PARLEY_BIN=path/to/parley benchmarks a server binary built elsewhere (e.g. from a clean
# checkout of a given commit); otherwise the work tree's server is built.
# PROFILE=debug (what the test suite uses for the smoke run) skips the slow release build; its
# numbers mean nothing, only its zero-loss checks do.
if [[ -n "${PARLEY_BIN:-}" ]]; then
  cargo build "${FLAGS[@]}" -p parley-bench
else
  cargo build "${FLAGS[@]}" -p parley-server -p parley-bench
  PARLEY_BIN=target/$PROFILE/parley
fi
BIN=target/$PROFILE

# One process may hold at most the hard RLIMIT_NOFILE descriptors; the server inherits this.
ulimit -n "$(ulimit -Hn)"

DATA=$(mktemp -d -t parley-bench.XXXXXX)
mkdir -p "$OUT_DIR"
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
PORT=$("$BIN/parley-bench" free-port)
export PARLEY_ADMIN_EMAIL=bench-admin@bench.example
export PARLEY_ADMIN_PASSWORD="bench admin password $RANDOM$RANDOM"

SERVER_PID=
cleanup() {
  if [[ -n $SERVER_PID ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$DATA"
}
trap cleanup EXIT

# The generator and the server share the machine's cores; anything else busy skews the numbers
# (the baseline ratios absorb some of it; each run also reports other processes' CPU).
busy_ticks() { awk 'NR==1 { print $2+$3+$4+$7+$8+$9 }' /proc/stat; }
B0=$(busy_ticks); sleep 3; B1=$(busy_ticks)
BUSY=$(( (B1 - B0) * 100 / $(getconf CLK_TCK) / 3 ))
echo "machine busy before the run: ${BUSY}% of one core" | tee "$OUT_DIR/load-$STAMP.txt"
if (( BUSY > 20 )); then
  echo "warning: something else is running; busiest processes:" | tee -a "$OUT_DIR/load-$STAMP.txt"
  top -bn1 -o %CPU | sed -n '8,11p' | tee -a "$OUT_DIR/load-$STAMP.txt"
fi

# What one durable commit costs at least on this disk (SQLite runs synchronous=FULL).
"$BIN/parley-bench" fsync-probe --dir "$DATA" | tee "$OUT_DIR/fsync-$STAMP.txt"

RUST_LOG=${RUST_LOG:-warn} "$PARLEY_BIN" serve --listen "127.0.0.1:$PORT" --data-dir "$DATA" \
  >"$OUT_DIR/server-$STAMP.log" 2>&1 &
SERVER_PID=$!

for _ in $(seq 1 100); do
  if curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    echo "the server exited; its log:" >&2
    cat "$OUT_DIR/server-$STAMP.log" >&2
    exit 1
  fi
  sleep 0.1
done

echo "server pid $SERVER_PID on 127.0.0.1:$PORT, data in $DATA ($MODE scenario)"

ARGS=(run --url "http://127.0.0.1:$PORT" --server-pid "$SERVER_PID"
  --visitors "$VISITORS" --agents "$AGENTS" --chatters "$CHATTERS" --rates "$RATES"
  --duration "$DURATION" --reply-every "$REPLY_EVERY" --body-bytes "$BODY_BYTES"
  --settle-ms "$SETTLE_MS" --out "$OUT_DIR/results-$STAMP.json")
[[ $MODE == smoke ]] && ARGS+=(--smoke)

STATUS=0
"$BIN/parley-bench" "${ARGS[@]}" "$@" | tee "$OUT_DIR/results-$STAMP.txt" || STATUS=$?

if [[ -s "$OUT_DIR/server-$STAMP.log" ]] && grep -qiE "error|panic" "$OUT_DIR/server-$STAMP.log"; then
  echo "the server logged errors (first lines of $OUT_DIR/server-$STAMP.log):"
  grep -iE "error|panic" "$OUT_DIR/server-$STAMP.log" | head -5
fi
cat "$OUT_DIR/fsync-$STAMP.txt" "$OUT_DIR/load-$STAMP.txt" >>"$OUT_DIR/results-$STAMP.txt"
echo "results: $OUT_DIR/results-$STAMP.txt and .json; server log: $OUT_DIR/server-$STAMP.log"

# Routing smoke: invariants only (capacity, one holder per conversation, nothing lost).
if [[ $MODE == smoke ]]; then
  BACKENDS=sqlite
  ROUTING=(routing --smoke)
  if [[ -n "${PARLEY_TEST_POSTGRES_URL:-}" ]]; then
    BACKENDS=sqlite,postgres
    ROUTING+=(--postgres-url "$PARLEY_TEST_POSTGRES_URL")
  fi
  RSTATUS=0
  "$BIN/parley-bench" "${ROUTING[@]}" --backends "$BACKENDS" \
    >"$OUT_DIR/routing-smoke-$STAMP.txt" 2>&1 || RSTATUS=$?
  if (( RSTATUS != 0 )); then
    cat "$OUT_DIR/routing-smoke-$STAMP.txt"
    STATUS=1
  fi
  echo "routing smoke on $BACKENDS: $( (( RSTATUS == 0 )) && echo ok || echo FAILED ); output in $OUT_DIR/routing-smoke-$STAMP.txt"
fi
exit "$STATUS"
