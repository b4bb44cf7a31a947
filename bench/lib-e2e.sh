# shellcheck shell=bash
# What bench/e2e and bench/replicas share: the release build, the real
# automateiq-server and automateiq-agent driven over HTTPS on 127.0.0.1, and
# the end-to-end throughput figure (bench_throughput: webhook-triggered
# executions of a 3-step workflow, sent by wrk at a steady rate; see
# bench/e2e). Sourced from the top of the repository, after `set -euo
# pipefail`; the caller sets `work` (a fresh directory, removed at the end)
# and may change, before a start:
#   data_dir           the server's data directory ($work/data)
#   server_log         where the server writes ($work/server.log)
#   SERVER_CONF_LINES  more [server] keys of its config, one a line (the
#                      store, for a PostgreSQL one)
#   WRK_URLS           the servers the webhooks go to, the rate and the
#                      connections shared evenly among them (just $url)
#   CPU_GROUPS, cpu_pids  the processes each figure gives the cores of
#                      (the server and the agent)
#   more_pids          more processes to stop at the end

# e2e_prepare [PACKAGE…]: the packages (and these), the release build
# shellcheck disable=SC2120 # bench/replicas gives packages, bench/e2e none
e2e_prepare() {
  # shellcheck source=tools/deps.sh
  . tools/deps.sh
  aiq_ensure_packages "${AIQ_BUILD_PACKAGES[@]}" "${AIQ_BENCH_PACKAGES[@]}" curl jq "$@"
  if [ ! -f build-bench/build.ninja ]; then
    meson setup build-bench -Dbuildtype=release -Dtests=false >/dev/null
  fi
  ninja -C build-bench server/automateiq-server agent/automateiq-agent >/dev/null
}

DURATION=${AIQ_BENCH_DURATION:-60}
RATE=${AIQ_BENCH_RATE:-}
CAPACITY=${AIQ_BENCH_CAPACITY:-256}
CALIBRATE=$((DURATION < 10 ? DURATION : 10)) # seconds of the saturating run
CONNS=64      # wrk connections
WRK_THREADS=1 # one is plenty, and leaves the cores to the platform
HZ=$(getconf CLK_TCK)
NCPU=$(nproc)
SERVER=build-bench/server/automateiq-server
AGENT=build-bench/agent/automateiq-agent

server_pid=""
agent_pid=""
more_pids=()
port=0
url=""
token=""
data_dir=""
server_log=""
SERVER_CONF_LINES=""
WRK_URLS=()

# stops what runs, the agent first
e2e_stop_all() {
  local pid
  for pid in "$agent_pid" "${more_pids[@]}" "$server_pid"; do
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
    fi
  done
}

die() {
  echo "$*" >&2
  exit 1
}

# 1234567 -> 1,234,567
commas() {
  printf '%s' "$1" | sed ':a;s/\B[0-9]\{3\}\>/,&/;ta'
}

# verdict VALUE OP LIMIT [VALUE OP LIMIT…] -> ok | MISSED
verdict() {
  local ok=1
  while [ $# -ge 3 ]; do
    if ! awk -v a="$1" -v b="$3" -v op="$2" \
      'BEGIN { exit !((op == ">=" && a >= b) || (op == "<=" && a <= b)) }'; then
      ok=0
    fi
    shift 3
  done
  if [ "$ok" = 1 ]; then echo "ok"; else echo "MISSED"; fi
}

now() {
  date +%s.%N
}

# seconds A B -> B - A
seconds() {
  awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'
}

# iso SECONDS_SINCE_EPOCH -> 2026-11-22T14:09:26.114134Z
iso() {
  date -u -d "@$1" +%Y-%m-%dT%H:%M:%S.%6NZ
}

# CPU time (user + system) of PID so far, in clock ticks, its ended
# threads included
ticks() {
  local stat f
  if [ -n "$1" ] && stat=$(cat "/proc/$1/stat" 2>/dev/null); then
    # fields after "PID (COMM) ": the name may hold spaces
    read -r -a f <<<"${stat##*) }"
    echo $((f[11] + f[12]))
  else
    echo 0
  fi
}

# nanoseconds the threads of PID spent ready to run, waiting for a CPU
wait_ns() {
  if [ -n "$1" ]; then
    cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{ w += $2 } END { printf "%.0f", w }'
  else
    echo 0
  fi
}

# busy clock ticks of the whole machine (every core)
machine_ticks() {
  awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat
}

# The processes each figure gives the cores of, in the order printed:
# CPU_GROUPS names them, cpu_pids NAME prints the pids of one
CPU_GROUPS=(server agent)
cpu_pids() {
  case "$1" in
    server) echo "$server_pid" ;;
    agent) echo "$agent_pid" ;;
  esac
}

# cpu_begin / cpu_end: what each of CPU_GROUPS and the rest of the machine
# used in between; cpu_end sets cpu_split and cpu_secs[GROUP] (CPU seconds)
declare -A cpu_t0 cpu_w0 cpu_secs
cpu_begin() {
  local group pid
  cpu_t0=()
  cpu_w0=()
  cpu_n0=$(date +%s%N)
  for group in "${CPU_GROUPS[@]}"; do
    for pid in $(cpu_pids "$group"); do
      cpu_t0[$pid]=$(ticks "$pid")
      cpu_w0[$pid]=$(wait_ns "$pid")
    done
  done
  cpu_m0=$(machine_ticks)
}
cpu_end() {
  local n1 m1 group pid t w used=0 cores="" waiting="" first=1
  n1=$(date +%s%N)
  m1=$(machine_ticks)
  for group in "${CPU_GROUPS[@]}"; do
    t=0
    w=0
    # a process that came in between counts from its start; one that
    # ended takes its counts with it, and so do ended threads from the
    # waits (never < 0)
    for pid in $(cpu_pids "$group"); do
      t=$((t + $(ticks "$pid") - ${cpu_t0[$pid]:-0}))
      w=$((w + $(wait_ns "$pid") - ${cpu_w0[$pid]:-0}))
    done
    [ "$t" -ge 0 ] || t=0
    [ "$w" -ge 0 ] || w=0
    used=$((used + t))
    cpu_secs[$group]=$(awk -v t="$t" -v hz="$HZ" 'BEGIN { printf "%.3f", t / hz }')
    cores="$cores$([ "$first" = 1 ] || echo ", ")$(awk -v g="$group" -v t="$t" -v hz="$HZ" \
      -v ns="$((n1 - cpu_n0))" -v first="$first" \
      'BEGIN { printf "%s %.2f%s", g, t / hz / (ns / 1e9), first ? " cores" : "" }')"
    waiting="$waiting$([ "$first" = 1 ] || echo ", ")$(awk -v g="$group" -v w="$w" \
      -v ns="$((n1 - cpu_n0))" 'BEGIN { printf "%s %.1f", g, w / ns }')"
    first=0
  done
  cpu_split=$(awk -v ns="$((n1 - cpu_n0))" -v hz="$HZ" -v ncpu="$NCPU" \
    -v used="$used" -v m="$((m1 - cpu_m0))" -v cores="$cores" -v waiting="$waiting" 'BEGIN {
      rest = (m - used) / hz / (ns / 1e9)
      if (rest < 0) rest = 0
      printf "%s, rest of the machine %.2f (of %d); threads waiting for a CPU: %s", cores, rest, ncpu, waiting
    }')
}

# api METHOD PATH [JSON]: the response body; fails on an error status
api() {
  local args=(-sS --fail-with-body --cacert "$data_dir/tls.crt" -X "$1"
    -H "Authorization: Bearer $token")
  if [ $# -ge 3 ]; then
    args+=(-H "Content-Type: application/json" --data-binary "$3")
  fi
  curl "${args[@]}" "$url$2" || die "$1 $2 failed"
}

# the server

# server_conf FILE [BASE]: a config of BASE's keys (or none), the
# SERVER_CONF_LINES and every tier's limits at their largest
server_conf() {
  {
    printf '[server]\n'
    [ -z "$SERVER_CONF_LINES" ] || printf '%s\n' "$SERVER_CONF_LINES"
    [ -z "${2:-}" ] || grep -v '^\[server\]$' "$2"
    # the engine is measured here, not the governance (bench/isolation)
    cat bench/unlimited-tiers.conf
  } >"$1"
}

# server_init: a fresh store in data_dir, with a platform admin and the
# tenant demo
server_init() {
  data_dir=${data_dir:-$work/data}
  server_log=${server_log:-$work/server.log}
  AIQ_ADMIN_PASSWORD=$(head -c 18 /dev/urandom | base64 | tr '+/' '-_')
  AIQ_DEMO_PASSWORD=$(head -c 18 /dev/urandom | base64 | tr '+/' '-_')
  export AIQ_ADMIN_PASSWORD AIQ_DEMO_PASSWORD
  server_conf "$work/init.conf"
  "$SERVER" init --data-dir "$data_dir" --config "$work/init.conf" --admin admin --demo demo \
    </dev/null >/dev/null
}

# start_server [--config FILE] [ARG…]: on the port of the last start (a free
# one the first time, or after port=0), with FILE's [server] keys; sets url
# and server_pid once it answers /readyz
start_server() {
  local conf="$work/server.conf"
  data_dir=${data_dir:-$work/data}
  server_log=${server_log:-$work/server.log}
  if [ "${1:-}" = --config ]; then
    server_conf "$conf" "$2"
    shift 2
  else
    server_conf "$conf"
  fi
  : >>"$server_log" # read below before the server may have opened it
  "$SERVER" run --data-dir "$data_dir" --listen 127.0.0.1 --port "$port" --config "$conf" "$@" \
    >>"$server_log" 2>&1 &
  server_pid=$!
  url=""
  for _ in $(seq 1 600); do
    url=$(sed -n 's/.* listening on \(https:\/\/[^ ]*\).*/\1/p' "$server_log" | tail -n 1)
    [ -n "$url" ] && break
    kill -0 "$server_pid" 2>/dev/null || {
      cat "$server_log" >&2
      die "the server did not start"
    }
    sleep 0.05
  done
  [ -n "$url" ] || die "the server did not say where it listens"
  port=${url##*:}
  for _ in $(seq 1 600); do
    curl -s -o /dev/null --fail --cacert "$data_dir/tls.crt" "$url/readyz" && return 0
    sleep 0.05
  done
  die "the server is not ready"
}

stop_server() {
  kill -TERM "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
}

login() {
  token=$(curl -sS --fail-with-body --cacert "$data_dir/tls.crt" \
    -H "Content-Type: application/json" \
    --data-binary "$(jq -n --arg p "$AIQ_DEMO_PASSWORD" \
      '{tenant: "demo", username: "demo", password: $p}')" \
    "$url/api/v1/auth/login" | jq -r .token)
  if [ -z "$token" ] || [ "$token" = null ]; then
    die "cannot log in as demo"
  fi
}

# create_workflow JSON -> its id
create_workflow() {
  api POST /api/v1/workflows "$1" | jq -r .id
}

# the agent

# start_agent NAME CAPACITY: enrolls a fresh agent and runs it, its state
# and log in ${agent_base:-$work}; sets agent_pid, agent_dir and agent_conf
start_agent() {
  local name=$1 capacity=$2 enroll_token base=${agent_base:-$work}
  agent_dir="$base/agent-$name"
  agent_conf="$base/agent-$name.conf"
  printf '[agent]\ncapacity=%s\n' "$capacity" >"$agent_conf"
  enroll_token=$(api POST /api/v1/enrollment-tokens "{\"name\": \"$name\"}" | jq -r .token)
  "$AGENT" enroll --state-dir "$agent_dir" -c "$agent_conf" --server "$url" \
    --token "$enroll_token" --ca "$data_dir/tls.crt" >/dev/null
  : >"$base/agent-$name.log"
  "$AGENT" run --no-dbus --state-dir "$agent_dir" -c "$agent_conf" \
    >"$base/agent-$name.log" 2>&1 &
  agent_pid=$!
  for _ in $(seq 1 200); do
    grep -q "connected to" "$base/agent-$name.log" && return 0
    kill -0 "$agent_pid" 2>/dev/null || {
      cat "$base/agent-$name.log" >&2
      die "the agent did not start"
    }
    sleep 0.05
  done
  cat "$base/agent-$name.log" >&2
  die "the agent did not connect"
}

# stop_agent: deleted on the server first, so that a lease request it left
# waiting there takes no job with it
stop_agent() {
  local id
  id=$("$AGENT" status --state-dir "$agent_dir" -c "$agent_conf" --json | jq -r .agent_id)
  api DELETE "/api/v1/agents/$id" >/dev/null
  kill -TERM "$agent_pid" 2>/dev/null || true
  wait "$agent_pid" 2>/dev/null || true
  agent_pid=""
}

# events the agent holds that the server has not acknowledged
outbox_depth() {
  "$AGENT" status --state-dir "$agent_dir" -c "$agent_conf" --json | jq -r .outbox_depth
}

# executions

# count_executions STATUS [WORKFLOW_ID]: how many the server lists
count_executions() {
  local query="status=$1&limit=1000" cursor="" n=0 page
  [ $# -ge 2 ] && query="$query&workflow_id=$2"
  while :; do
    page=$(api GET "/api/v1/executions?$query${cursor:+&cursor=$cursor}")
    n=$((n + $(jq '.items | length' <<<"$page")))
    cursor=$(jq -r '.next_cursor // empty' <<<"$page")
    [ -n "$cursor" ] || break
  done
  echo "$n"
}

# wait_idle SECONDS: until nothing is queued or running (or SECONDS passed);
# returns 1 on the timeout
wait_idle() {
  local deadline=$(($(date +%s) + $1))
  while [ "$(date +%s)" -lt "$deadline" ]; do
    if [ "$(api GET '/api/v1/executions?status=queued&limit=1' | jq '.items | length')" = 0 ] &&
      [ "$(api GET '/api/v1/executions?status=running&limit=1' | jq '.items | length')" = 0 ]; then
      return 0
    fi
    sleep 0.5
  done
  return 1
}

# start_executions WORKFLOW_ID N [URL]: N starts over the API (on url, or
# URL), on one connection; fails unless every one is 201
start_executions() {
  local cfg="$work/starts-$BASHPID.curl" created i to=${3:-$url}
  : >"$cfg"
  for i in $(seq 1 "$2"); do
    [ "$i" = 1 ] || echo "next" >>"$cfg"
    printf 'url = "%s/api/v1/workflows/%s/executions"\ncacert = "%s"\nrequest = "POST"\nheader = "Authorization: Bearer %s"\nheader = "Content-Type: application/json"\ndata = "{\\"inputs\\": {}}"\noutput = "/dev/null"\nwrite-out = "%%{http_code}\\n"\n' \
      "$to" "$1" "$data_dir/tls.crt" "$token" >>"$cfg"
  done
  created=$(curl -sS --no-progress-meter -Z --parallel-max 8 -K "$cfg" | grep -c '^201$' || true)
  rm -f "$cfg"
  [ "$created" = "$2" ] || die "only $created of $2 executions were started"
}

# executions_since SINCE BASE: one line per execution created at or after
# SINCE (seconds since the epoch), "CREATED STARTED FINISHED STATUS", the
# times in seconds after BASE ("-" for none)
executions_since() {
  local since base=$2 cursor="" page query
  since=$(iso "$1")
  query="since=$since&limit=1000"
  while :; do
    page=$(api GET "/api/v1/executions?$query${cursor:+&cursor=$cursor}")
    jq -r --argjson base "$base" '
      def t: if . == null then "-"
        else ((.[0:19] + "Z" | fromdate) - $base) + ("0" + .[19:-1] | tonumber) end;
      .items[] | "\(.created | t) \(.started | t) \(.finished | t) \(.status)"' <<<"$page"
    cursor=$(jq -r '.next_cursor // empty' <<<"$page")
    [ -n "$cursor" ] || break
  done
}

# percentile P FILE: the P-th percentile of the sorted numbers in FILE
percentile() {
  awk -v p="$1" '{ v[NR] = $1 } END {
    if (NR == 0) { print "-"; exit }
    i = int(NR * p / 100 + 0.999999); if (i < 1) i = 1; if (i > NR) i = NR
    print v[i] }' "$2"
}

# analyze T0 T1: what the server recorded of the executions created from T0
# on; sets accepted, completed, failed, backlog, queued_end, lat_p50,
# lat_p99, e2e_p50, e2e_p99 (ms), never_started
analyze() {
  local t0=$1 t1=$2 base d
  base=${t0%.*}
  d=$(awk -v a="$t0" -v b="$t1" -v base="$base" 'BEGIN { printf "%.6f %.6f", a - base, b - base }')
  executions_since "$t0" "$base" >"$work/records"
  read -r accepted completed failed backlog queued_end never_started < <(
    awk -v w0="${d% *}" -v w1="${d#* }" -v lat="$work/latency" -v e2e="$work/e2e" '
      BEGIN { printf "" > lat; printf "" > e2e }
      $1 >= w0 && $1 <= w1 {
        accepted++
        if ($2 == "-") { never++; print 1e9 > lat } else print ($2 - $1) * 1000 > lat
        if ($3 != "-") print ($3 - $1) * 1000 > e2e; else print 1e9 > e2e
      }
      $4 == "succeeded" && $3 != "-" && $3 >= w0 && $3 <= w1 { completed++ }
      $4 != "succeeded" && $4 != "queued" && $4 != "running" { failed++ }
      $1 <= w1 && ($3 == "-" || $3 > w1) { backlog++ }
      $1 <= w1 && ($2 == "-" || $2 > w1) { queued++ }
      END { printf "%d %d %d %d %d %d\n", accepted, completed, failed, backlog, queued, never }
    ' "$work/records"
  )
  sort -g -o "$work/latency" "$work/latency"
  sort -g -o "$work/e2e" "$work/e2e"
  lat_p50=$(percentile 50 "$work/latency")
  lat_p99=$(percentile 99 "$work/latency")
  e2e_p50=$(percentile 50 "$work/e2e")
  e2e_p99=$(percentile 99 "$work/e2e")
}

ms() {
  awk -v v="$1" 'BEGIN { if (v >= 1e9) print "never"; else printf "%.1f", v }'
}

# count_pending: what the server has not seen finish, counted as soon as a
# run ends; sets pending_queued and pending_running
count_pending() {
  pending_queued=$(count_executions queued)
  pending_running=$(count_executions running)
}

# per_second COUNT SECONDS
per_second() {
  awk -v c="$1" -v w="$2" 'BEGIN { printf "%.0f", (c < 0 ? 0 : c / w) }'
}

# run_wrk SECONDS RATE: webhooks for SECONDS at RATE/s (0: as fast as the
# server answers), the rate and the connections shared evenly among
# WRK_URLS (one wrk each, at once); sets rps, wrk_p50, wrk_p99 (ms; of the
# slowest wrk when there are more), wrk_errors, t0, t1
run_wrk() {
  local secs=$1 rate=$2 out line requests duration_us p50_us p99_us status_errors socket_errors
  local targets=("${WRK_URLS[@]}") pids=() i n conns all=0 errs=0 socks=0 p50_max=0 p99_max=0
  [ ${#targets[@]} -gt 0 ] || targets=("$url")
  n=${#targets[@]}
  conns=$((CONNS / n))
  t0=$(now)
  for i in "${!targets[@]}"; do
    wrk -t"$WRK_THREADS" -c"$conns" -d"${secs}s" --timeout 10s -s bench/e2e-webhook.lua \
      "${targets[$i]}" -- "$hook_path" "$hook_body" X-Signature-256 "sha256=$hook_signature" \
      "$(awk -v r="$rate" -v t="$WRK_THREADS" -v n="$n" 'BEGIN { printf "%.3f", r / n / t }')" \
      >"$work/wrk-$i.out" 2>&1 &
    pids+=($!)
  done
  for i in "${!pids[@]}"; do
    wait "${pids[$i]}" || true
  done
  t1=$(now)
  rps=0
  for i in "${!targets[@]}"; do
    out=$(cat "$work/wrk-$i.out")
    line=$(sed -n 's/^AIQ_WRK requests=\([0-9]*\) duration_us=\([0-9]*\) p50_us=\([0-9]*\) p99_us=\([0-9]*\) status_errors=\([0-9]*\) socket_errors=\([0-9]*\)$/\1 \2 \3 \4 \5 \6/p' <<<"$out")
    [ -n "$line" ] || die "wrk failed: $out"
    read -r requests duration_us p50_us p99_us status_errors socket_errors <<<"$line"
    rps=$(awk -v s="$rps" -v r="$requests" -v d="$duration_us" 'BEGIN { printf "%.0f", s + r / (d / 1e6) }')
    all=$((all + requests))
    errs=$((errs + status_errors))
    socks=$((socks + socket_errors))
    [ "$p50_us" -le "$p50_max" ] || p50_max=$p50_us
    [ "$p99_us" -le "$p99_max" ] || p99_max=$p99_us
  done
  wrk_p50=$(awk -v v="$p50_max" 'BEGIN { printf "%.1f", v / 1000 }')
  wrk_p99=$(awk -v v="$p99_max" 'BEGIN { printf "%.1f", v / 1000 }')
  wrk_errors=""
  if [ "$errs" -gt 0 ] || [ "$socks" -gt 0 ]; then
    wrk_errors=" WARNING: $errs answers not 2xx, $socks socket errors of $all webhooks"
  fi
}

# bench_throughput: the figure (see bench/e2e), through a fresh agent on
# url; sets throughput_cps, throughput_p50, throughput_p99 (ms),
# throughput_cores (cpu_split), throughput_rate (the webhooks' rate, and
# why) and throughput_note (what went wrong, or "")
bench_throughput() {
  local workflow_id hook secret rate_note drained=1 window cal_rps grew cps server_done unsynced
  local rate=$RATE group per_exec="" conns_note
  # shellcheck disable=SC2016 # ${{ }} are the workflow's expressions
  workflow_id=$(create_workflow '{
    "name": "e2e-webhook",
    "triggers": [{"webhook": {"signature_header": "X-Signature-256"}}],
    "inputs": {"order": {"type": "integer", "default": 0}, "customer": {"type": "string", "default": ""}},
    "steps": [
      {"id": "a", "uses": "transform", "with": {"value": {"order": "${{ inputs.order }}", "customer": "${{ inputs.customer }}"}}},
      {"id": "b", "uses": "transform", "with": {"value": {"order": "${{ steps.a.output.order }}", "checked": true}}},
      {"id": "c", "uses": "transform", "with": {"value": "order ${{ steps.b.output.order }} done"}}
    ]}')
  hook=$(api GET "/api/v1/workflows/$workflow_id/webhook")
  hook_path=$(jq -r .path <<<"$hook")
  secret=$(jq -r .secret <<<"$hook")
  hook_body='{"order": 4711, "customer": "ACME Corp"}'
  hook_signature=$(printf '%s' "$hook_body" | openssl dgst -sha256 -hmac "$secret" -r | cut -d' ' -f1)
  start_agent throughput "$CAPACITY"

  # connections opened, the agent's first jobs done; not counted
  run_wrk 3 200
  wait_idle 60 || die "the warm-up executions did not finish"

  # the latency floor: a light, steady load
  run_wrk "$CALIBRATE" 100
  wait_idle 60 || die "the light-load executions did not finish"
  analyze "$t0" "$t1"
  printf 'light load (100 webhooks/s for %s s): trigger-to-start p50 %s ms, p99 %s ms; trigger-to-finish p50 %s ms, p99 %s ms; webhook answered in p50 %s ms, p99 %s ms%s\n' \
    "$CALIBRATE" "$(ms "$lat_p50")" "$(ms "$lat_p99")" "$(ms "$e2e_p50")" "$(ms "$e2e_p99")" \
    "$wrk_p50" "$wrk_p99" "$wrk_errors"

  if [ -z "$rate" ]; then
    # as fast as webhooks are answered, to find what the platform completes
    cpu_begin
    run_wrk "$CALIBRATE" 0
    cpu_end
    cal_rps=$rps
    count_pending
    wait_idle 600 || die "the saturated run's backlog did not drain in 10 minutes"
    analyze "$t0" "$t1"
    window=$(seconds "$t0" "$t1")
    server_done=$((accepted - failed - pending_queued - pending_running))
    rate=$(awk -v c="$server_done" -v w="$window" 'BEGIN { r = int(c / w * 0.95); print (r < 1 ? 1 : r) }')
    printf 'saturated (%s s, %s connections, no pacing): webhooks accepted %s/s (p50 %s ms, p99 %s ms); executions completed %s/s on the server (%s/s by the agent'"'"'s clock); %s queued and %s running on the server at the end; %s%s\n' \
      "$CALIBRATE" "$CONNS" "$(commas "$cal_rps")" "$wrk_p50" "$wrk_p99" \
      "$(commas "$(per_second "$server_done" "$window")")" \
      "$(commas "$(per_second "$completed" "$window")")" \
      "$(commas "$pending_queued")" "$(commas "$pending_running")" "$cpu_split" "$wrk_errors"
    rate_note="95% of what the saturated run completed on the server"
  else
    rate_note="AIQ_BENCH_RATE"
  fi

  cpu_begin
  run_wrk "$DURATION" "$rate"
  cpu_end
  count_pending
  wait_idle 600 || drained=0
  analyze "$t0" "$t1"
  window=$(seconds "$t0" "$t1")
  # every execution before the window had finished: what the server had not
  # seen succeed when the webhooks stopped was made in the window
  server_done=$((accepted - failed - pending_queued - pending_running))
  cps=$(per_second "$server_done" "$window")
  unsynced=$((pending_queued + pending_running - backlog))
  [ "$unsynced" -ge 0 ] || unsynced=0
  printf 'webhook executions (3 transform steps): %s completed/s on the server over %s s (target ≥ 2,500/s) [%s]; trigger-to-start p50 %s ms, p99 %s ms (target p99 ≤ 20 ms) [%s]\n' \
    "$(commas "$cps")" "$window" "$(verdict "$cps" ">=" 2500)" \
    "$(ms "$lat_p50")" "$(ms "$lat_p99")" "$(verdict "$lat_p99" "<=" 20)"
  printf '  webhooks sent at %s/s (%s): accepted %s/s, p50 %s ms, p99 %s ms; %s executions created, %s failed; trigger-to-finish p50 %s ms, p99 %s ms%s\n' \
    "$(commas "$rate")" "$rate_note" "$(commas "$rps")" "$wrk_p50" "$wrk_p99" \
    "$(commas "$accepted")" "$failed" "$(ms "$e2e_p50")" "$(ms "$e2e_p99")" "$wrk_errors"
  grew=""
  if [ "$drained" != 1 ]; then
    grew="; WARNING: the backlog did not drain in 10 minutes ($never_started never started)"
  elif [ $((pending_queued + pending_running)) -gt $((rate * 2)) ]; then
    grew="; WARNING: more than 2 s of work was pending at the end: the rate was not sustained"
  fi
  printf '  when the webhooks stopped the server had %s queued and %s running: %s not started yet, %s running on the agent, %s finished on the agent but not yet synced (the agent finished %s/s by its own clock)%s\n' \
    "$(commas "$pending_queued")" "$(commas "$pending_running")" "$(commas "$queued_end")" \
    "$(commas $((backlog - queued_end)))" "$(commas "$unsynced")" \
    "$(commas "$(per_second "$completed" "$window")")" "$grew"
  for group in "${CPU_GROUPS[@]}"; do
    per_exec="$per_exec${per_exec:+, }$group $(awk -v c="${cpu_secs[$group]}" -v n="$server_done" \
      'BEGIN { printf "%.2f", (n > 0 ? c * 1000 / n : 0) }') ms"
  done
  conns_note="$CONNS wrk connections"
  if [ ${#WRK_URLS[@]} -gt 1 ]; then
    conns_note="$conns_note, $((CONNS / ${#WRK_URLS[@]})) to each of ${#WRK_URLS[@]} servers at an even share of the rate"
  fi
  printf '  cores: %s; CPU per completed execution: %s (2,500/s on %s cores leaves %s ms for %s); agent capacity %s, %s\n' \
    "$cpu_split" "$per_exec" \
    "$NCPU" "$(awk -v n="$NCPU" 'BEGIN { printf "%.2f", n * 1000 / 2500 }')" \
    "$([ ${#CPU_GROUPS[@]} = 2 ] && echo both || echo "all of them")" "$CAPACITY" "$conns_note"
  # shellcheck disable=SC2034 # read by bench/replicas
  throughput_cps=$cps throughput_p50=$(ms "$lat_p50") throughput_p99=$(ms "$lat_p99") \
    throughput_cores=$cpu_split throughput_rate="$(commas "$rate")/s, $rate_note"
  throughput_note="${wrk_errors:+ $wrk_errors}$grew"
  [ "$failed" = 0 ] || throughput_note="$throughput_note; WARNING: $failed executions failed"
  stop_agent
}
