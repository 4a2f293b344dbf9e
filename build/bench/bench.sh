#!/usr/bin/env bash
# `make bench` (as an unprivileged user; `make bench` switches when root).
#
# For each database in $DBS (sqlite, pgsql): a fresh database (SQLite in WAL
# mode, or a PostgreSQL server of our own as in the tests), httpd with the
# module under the event MPM (build/bench/httpd.conf.in) and a mock Mandrill
# (a second httpd, build/bench/mock-mandrill.conf.in). Then, at each
# connection count in $CONNS, wrk runs every scenario for $WARMUP seconds
# (thrown away) and $DURATION seconds (measured):
#
#   static   GET of a small static JSON file (the bytes of a create's answer)
#            served by the same httpd: the ceiling, driven by plain wrk (no
#            script); the POST scenarios set their request once in wrk.lua,
#            with no per-request Lua function
#   app      create with an application token
#   session  create with a session token
#   email    create of an email notification, sent to the mock Mandrill
#   invalid  a create that fails validation (400 invalid-param)
#   queued   the email create under NotifyDeliveryMode queued: answered once
#            stored with its outbox row (the worker, which would send it,
#            waits an hour between passes in this config)
#
# and prints one table: requests/s, p50 and p99 latency, requests/s as a
# share of the ceiling at the same connection count, and httpd's resident
# memory before and after. The run fails (exit 1) on any answer other than
# the one expected, on a socket error, or when the rows stored do not match
# the answers: every 200 is a row, and no row exists that was not asked for
# (wrk stops with up to one request in flight per connection, so
# 2xx <= rows <= 2xx + connections).
#
# POOLS: the DBD pool per child, one run of everything for each (labelled
# database/pool when more than one): "recommended" (the default) is
# README's advice (SQLite: DBDMin = DBDKeep = DBDMax = ThreadsPerChild;
# PostgreSQL: 16), a number N is DBDMin = DBDKeep = DBDMax = N, "default"
# is mod_dbd's own (DBDMax 10). E.g. POOLS="recommended default" measures
# the advice against none, in one run.
#
# MODE=profile: instead, httpd runs as one process (-X) under callgrind,
# which counts the instructions executed in reading and processing each
# request (ap_read_request, ap_process_async_request: the handler, the
# database client, the answer) over PROFILE_N requests of each scenario in
# $SCENARIOS (default: app session email invalid) after 50 of warm-up,
# and prints instructions per request and the costliest functions.
# Instruction counts are repeatable whatever else the machine does.
# PROFILE_OUT=folder keeps the callgrind files (for callgrind_annotate or
# kcachegrind).
#
# SOAK=seconds: instead, all four create scenarios at once (16 connections
# each) for that long; the resident memory of every httpd child is sampled
# every 10 s and must be flat after the first fifth of the run (growth at
# most SOAK_MAX_GROWTH_KIB, default 4096), and the error_log must hold no
# line at warn level or above.
set -euo pipefail

cd "$(dirname "$0")/../.."
repo=$(pwd -P)
httpd=${HTTPD:-/usr/sbin/apache2}
module=$repo/mod_notify/.libs/mod_notify.so
duration=${DURATION:-10}
warmup=${WARMUP:-5}
conns=${CONNS:-1 16 64}
dbs=${DBS:-sqlite pgsql}
soak=${SOAK:-}
soak_max_growth=${SOAK_MAX_GROWTH_KIB:-4096}
pools=${POOLS:-recommended}
dbd_pool=${pools%% *}
for p in $pools; do
    [[ $p == default || $p == recommended || $p =~ ^[1-9][0-9]*$ ]] || {
        echo "POOLS: recommended, default or connections per child, not '$p'" >&2
        exit 1
    }
done
mode=${MODE:-bench}
profile_n=${PROFILE_N:-500}
profile_scenarios=${SCENARIOS:-app session email invalid}
for s in $profile_scenarios; do
    case $s in
        app | session | email | invalid | queued) ;;
        *)
            echo "unknown scenario '$s' in SCENARIOS (app session email invalid queued)" >&2
            exit 1
            ;;
    esac
done

if [[ $(id -u) -eq 0 ]]; then
    echo "bench.sh runs as an unprivileged user: use 'make bench'" >&2
    exit 1
fi
if [[ -n $soak ]] && ((soak < 20)); then
    echo "SOAK is in seconds, at least 20 (e.g. SOAK=300)" >&2
    exit 1
fi
tools=(wrk perl sqlite3 ps)
[[ ${MODE:-} != profile ]] || tools+=(valgrind callgrind_annotate callgrind_control)
for tool in "${tools[@]}"; do
    command -v "$tool" >/dev/null || {
        echo "$tool is missing: run 'make bench' (it installs what is missing)" >&2
        exit 1
    }
done
if [[ ! -f $module ]]; then
    echo "$module is missing: run make first" >&2
    exit 1
fi

work=$(mktemp -d /tmp/mod_notify-bench.XXXXXX)
chmod 755 "$work"
mkdir -p "$work/htdocs"
failed=0
fail() {
    echo "FAIL: $*" >&2
    failed=1
}

# shellcheck source=build/scripts/pg.sh
. "$repo/build/scripts/pg.sh"

free_port() {
    perl -MIO::Socket::INET -e \
        'print IO::Socket::INET->new(Listen => 1, LocalPort => 0)->sockport'
}

# ---- the servers ----

server_pid() { [[ -s $work/$1.pid ]] && cat "$work/$1.pid"; }

stop_server() { # $1: httpd or mock
    local conf=$work/$1.conf pid
    pid=$(server_pid "$1") || return 0
    "$httpd" -f "$conf" -k stop >/dev/null 2>&1 || true
    for _ in $(seq 1 100); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    rm -f "$work/$1.pid"
}

cleanup() {
    stop_server httpd
    stop_server mock
    pg_stop
    rm -rf "$work"
}
trap cleanup EXIT

# The pool README recommends (build/apache2/notify.conf): SQLite, whose
# writes of a child share commits, one connection per worker thread
# (ThreadsPerChild in httpd.conf.in); PostgreSQL, whose server works on
# each connection's statements, 16 per child, whatever the threads.
pool_size() { # POOLS entry -> a number or default
    if [[ $1 != recommended ]]; then
        echo "$1"
    elif [[ $driver == sqlite3 ]]; then
        echo 96
    else
        echo 16
    fi
}

fill() { # template -> $work/$2.conf
    local pool="# mod_dbd's default pool" n
    n=$(pool_size "$dbd_pool")
    [[ $n == default ]] ||
        pool="DBDMin  $n\nDBDKeep $n\nDBDMax  $n"
    sed -e "s|@WORK@|$work|g" -e "s|@PORT@|$port|g" -e "s|@DBD_POOL@|$pool|g" \
        -e "s|@MOCK_PORT@|$mock_port|g" -e "s|@MODULE@|$module|g" \
        -e "s|@DB@|$db|g" -e "s|@DRIVER@|$driver|g" -e "s|@REPO@|$repo|g" \
        "$1" >"$work/$2.conf"
}

start_server() { # $1: httpd or mock
    local log=$work/error_log
    [[ $1 == httpd ]] || log=$work/mock_error_log
    : >"$log"
    "$httpd" -f "$work/$1.conf" -k start
    for _ in $(seq 1 100); do
        [[ -s $work/$1.pid ]] && return 0
        sleep 0.1
    done
    echo "httpd ($1) did not start:" >&2
    cat "$log" >&2
    return 1
}

# Resident memory of httpd's parent and children, KiB: "total child child".
rss() {
    local parent pid kib total=0 kids=()
    parent=$(server_pid httpd) || { echo 0; return; }
    for pid in "$parent" $(ps -o pid= --ppid "$parent"); do
        kib=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status" 2>/dev/null || echo 0)
        total=$((total + ${kib:-0}))
        [[ $pid == "$parent" ]] || kids+=("${kib:-0}")
    done
    echo "$total ${kids[*]}"
}

# ---- the database ----

sql() { # SQL on stdin
    if [[ $driver == sqlite3 ]]; then
        sqlite3 -bail -cmd '.timeout 10000' "$db" >/dev/null
    else
        "${PG_PSQL[@]}" >/dev/null
    fi
}

query() { # one value
    if [[ $driver == sqlite3 ]]; then
        sqlite3 -cmd '.timeout 10000' "$db" "$1"
    else
        "${PG_PSQL[@]}" -At -c "$1"
    fi
}

new_token() { head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
sha256() { printf %s "$1" | sha256sum | cut -d' ' -f1; }

setup_db() { # $1: sqlite or pgsql
    case $1 in
        sqlite)
            driver=sqlite3
            db=$work/notify.db
            rm -f "$db" "$db-wal" "$db-shm"
            sqlite3 -bail "$db" <"$repo/build/schema/sqlite.sql" >/dev/null
            ;;
        pgsql)
            driver=pgsql
            pg_start >/dev/null
            db=$NOTIFY_TEST_PG
            "${PG_PSQL[@]}" -f "$repo/build/schema/pgsql.sql" >/dev/null
            ;;
        *)
            echo "unknown database '$1' in DBS (sqlite, pgsql)" >&2
            return 1
            ;;
    esac
    app_token=$(new_token)
    session_token=$(new_token)
    local now
    now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
    sql <<SQL
INSERT INTO api_applications (name, token_sha256, active, created_at)
    VALUES ('bench', '$(sha256 "$app_token")', 1, '$now');
INSERT INTO users (email) VALUES ('bench-user@example.com');
INSERT INTO clients (user_id)
    SELECT id FROM users WHERE email = 'bench-user@example.com';
INSERT INTO sessions (user_id, token_sha256, created_at, last_used_at, remember_me)
    SELECT id, '$(sha256 "$session_token")', '$now', '$now', 0
    FROM users WHERE email = 'bench-user@example.com';
SQL
    # The request bodies: each scenario's rows carry its own key.
    cat >"$work/app.json" <<JSON
{"token":"$app_token","key":"bench-app","status":"new","user_id":"42","notifyable_type":"Order","notifyable_id":1001,"email_subject":"Your order has shipped"}
JSON
    cat >"$work/session.json" <<JSON
{"token":"$session_token","key":"bench-session","status":"new","user_id":"42","notifyable_type":"Order","notifyable_id":1001,"email_subject":"Your order has shipped"}
JSON
    cat >"$work/email.json" <<JSON
{"token":"$app_token","key":"bench-email","notification_type":"email","email_from":"Shop <shop@example.com>","email_to":"bench@example.com","email_subject":"Your order has shipped","email_body":"<p>Your order 1001 has shipped.</p>"}
JSON
    cat >"$work/queued.json" <<JSON
{"token":"$app_token","key":"bench-queued","notification_type":"email","email_from":"Shop <shop@example.com>","email_to":"bench@example.com","email_subject":"Your order has shipped","email_body":"<p>Your order 1001 has shipped.</p>"}
JSON
    cat >"$work/invalid.json" <<JSON
{"token":"$app_token","key":"bench-invalid","email_to":"not an address"}
JSON
}

teardown_db() {
    [[ $driver == pgsql ]] && pg_stop
    return 0
}

# A fresh database $1, the configs, and the mock Mandrill started (httpd
# itself is started by the caller: under callgrind when profiling).
servers_up() {
    setup_db "$1"
    fill "$repo/build/bench/httpd.conf.in" httpd
    fill "$repo/build/bench/mock-mandrill.conf.in" mock
    start_server mock
}

servers_down() {
    stop_server httpd
    stop_server mock
    teardown_db
}

# ---- the scenarios ----

declare -A path method body want status_name
path[static]=/static.json; method[static]=GET; want[static]=200
path[app]=/api/v1/notifications/create; body[app]=app.json
path[session]=/api/v1/notifications/create; body[session]=session.json
path[email]=/mail/api/v1/notifications/create; body[email]=email.json
path[invalid]=/api/v1/notifications/create; body[invalid]=invalid.json
path[queued]=/queued/api/v1/notifications/create; body[queued]=queued.json
for s in app session email invalid queued; do method[$s]=POST; want[$s]=200; done
want[invalid]=400
status_name[app]=action-successful
status_name[session]=action-successful
status_name[email]=action-successful
status_name[invalid]=invalid-param
status_name[queued]=action-successful
# SCENARIOS picks some (static is always measured first: it is the ceiling).
read -r -a scenarios <<<"static ${SCENARIOS:-app session email invalid queued}"

# $2 requests of scenario $1 on one keep-alive connection; prints how
# many were not answered with the expected HTTP code, then the last
# answer's code, then its body.
send() {
    perl -MHTTP::Tiny -e '
        my ($url, $method, $file, $n, $want) = @ARGV;
        my %o = (headers => {});
        if ($file) {
            local $/; open my $f, "<", $file or die "$file: $!"; $o{content} = <$f>;
            $o{headers}{"Content-Type"} = "application/json";
        }
        my $ua = HTTP::Tiny->new(timeout => 60, keep_alive => 1);
        my ($bad, $r) = (0);
        for (1 .. $n) {
            $r = $ua->request($method, $url, \%o);
            $bad++ if $r->{status} != $want;
        }
        print "$bad\n$r->{status}\n$r->{content}";
    ' "http://127.0.0.1:$port${path[$1]}" "${method[$1]}" \
        "${body[$1]:+$work/${body[$1]}}" "$2" "${want[$1]}"
}

# One request of a scenario, checked: HTTP code and the answer's status.
# Saves the answer of an application create as the static file.
preflight() {
    local s=$1 out code answer
    out=$(send "$s" 1)
    out=${out#*$'\n'}
    code=${out%%$'\n'*}
    answer=${out#*$'\n'}
    if [[ $code != "${want[$s]}" ]] ||
        { [[ -n ${status_name[$s]:-} ]] &&
            [[ $answer != *"\"status\":\"${status_name[$s]}\""* ]]; }; then
        fail "$s: expected ${want[$s]} ${status_name[$s]:-}, got $code: $answer"
        return 1
    fi
    if [[ $s == app ]]; then
        printf '%s' "$answer" >"$work/htdocs/static.json"
    fi
}

# wrk for $2 seconds at $3 connections; prints the RESULT fields:
#   answers non2xx sockerr rps p50_us p99_us connect/read/write/timeout
# The static file is fetched by plain wrk (no script: nothing runs per
# request in wrk, so the ceiling measures httpd, not the load generator);
# its text output is read. The POST scenarios use wrk.lua, which sets the
# request once and defines no per-request function.
run_wrk() {
    local s=$1 secs=$2 c=$3 threads=2
    [[ $c -ge 2 ]] || threads=1
    if [[ -z ${body[$s]:-} ]]; then
        wrk -t"$threads" -c"$c" -d"${secs}s" --timeout 10s --latency \
            "http://127.0.0.1:$port${path[$s]}" | plain_wrk_result
        return
    fi
    wrk -t"$threads" -c"$c" -d"${secs}s" --timeout 10s -s "$repo/build/bench/wrk.lua" \
        "http://127.0.0.1:$port${path[$s]}" -- "$work/${body[$s]}" |
        awk '/^RESULT/ { $1 = ""; print substr($0, 2) }'
}

# plain wrk --latency's report -> the RESULT fields.
plain_wrk_result() {
    awk '
        function us(v) {
            if (v ~ /us$/) return v + 0
            if (v ~ /ms$/) return v * 1000
            if (v ~ /m$/)  return v * 60000000
            if (v ~ /s$/)  return v * 1000000
            return v + 0
        }
        $1 == "50%" { p50 = us($2) }
        $1 == "99%" { p99 = us($2) }
        / requests in / { answers = $1 }
        /^ *Socket errors:/ {
            gsub(/,/, ""); conn = $4; rd = $6; wr = $8; to = $10
        }
        /^ *Non-2xx or 3xx responses:/ { non2xx = $NF }
        /^Requests\/sec:/ { rps = $2 }
        END {
            if (answers == "") exit
            printf "%d %d %d %.1f %d %d %d/%d/%d/%d\n", answers, non2xx,
                conn + rd + wr + to, rps, p50, p99, conn, rd, wr, to
        }'
}

max_id() { query 'SELECT coalesce(max(id), 0) FROM notifications'; }

# Waits until no row is added for half a second (requests still in flight
# when wrk stopped have ended).
settle() {
    local before after
    after=$(max_id)
    for _ in $(seq 1 40); do
        sleep 0.5
        before=$after
        after=$(max_id)
        [[ $after != "$before" ]] || return 0
    done
}

# Rows a scenario stored after id $2: "rows processed".
rows_since() {
    query "SELECT count(*), coalesce(sum(processed), 0) FROM notifications
           WHERE id > $2 AND \"key\" = 'bench-$1'" | tr '|' ' '
}

# Checks one wrk run of scenario $1 at $3 connections against the rows
# stored after id $2. $4..: answers non2xx sockerr, the socket errors by
# kind. wrk stops with up to one request in flight per connection, which
# the server may still store: 2xx <= rows <= 2xx + connections.
check_run() {
    local s=$1 from=$2 c=$3 answers=$4 non2xx=$5 sockerr=$6 kinds=$7
    local rows processed ok2xx=$((answers - non2xx))
    # A socket error on the static file is not the module's (no module code
    # runs there): reported, and the ceiling kept; anywhere else it fails.
    if [[ $sockerr -ne 0 && $s == static ]]; then
        echo "note: static at $c connections: $sockerr socket errors (connect/read/write/timeout: $kinds) among $answers answers"
    elif [[ $sockerr -ne 0 ]]; then
        fail "$s: $sockerr socket errors (connect/read/write/timeout: $kinds)"
    fi
    if [[ ${want[$s]} == 200 && $non2xx -ne 0 ]]; then
        fail "$s: $non2xx answers were not 2xx"
    fi
    if [[ ${want[$s]} != 200 && $non2xx -ne $answers ]]; then
        fail "$s: $((answers - non2xx)) answers were 2xx, expected ${want[$s]}"
    fi
    [[ $s != static ]] || return 0
    settle
    read -r rows processed < <(rows_since "$s" "$from")
    if [[ ${want[$s]} == 200 ]]; then
        if ((rows < ok2xx || rows > ok2xx + c)); then
            fail "$s: $rows rows for $ok2xx 2xx answers at $c connections"
        fi
        if [[ $s == email && $processed -ne $rows ]]; then
            fail "$s: $((rows - processed)) of $rows email rows not processed"
        fi
    elif [[ $rows -ne 0 ]]; then
        fail "$s: $rows rows stored by requests that failed validation"
    fi
}

errors_in_log() {
    grep -E '\[[a-z_]*:(warn|error|crit|alert|emerg)\]|exit signal|Segmentation' \
        "$work/error_log" || true
}

declare -A ceiling
results=()

labels=()
bench_db() { # database, label
    local dbname=$2 s c r from rss0 rss1 ratio
    servers_up "$1"
    start_server httpd
    rss0=$(rss)
    for s in app "${scenarios[@]}"; do
        preflight "$s" || return 1
    done
    for c in $conns; do
        for s in "${scenarios[@]}"; do
            run_wrk "$s" "$warmup" "$c" >/dev/null
            settle
            from=$(max_id)
            read -r -a r < <(run_wrk "$s" "$duration" "$c")
            if [[ ${#r[@]} -ne 7 ]]; then
                fail "$s at $c connections: wrk printed no result"
                continue
            fi
            check_run "$s" "$from" "$c" "${r[@]:0:3}" "${r[6]}"
            [[ $s != static ]] || ceiling[$c]=${r[3]}
            ratio=$(awk -v a="${r[3]}" -v b="${ceiling[$c]}" \
                'BEGIN { printf "%.0f%%", (b > 0 ? 100 * a / b : 0) }')
            results+=("$dbname $s $c ${r[3]} ${r[4]} ${r[5]} $ratio ${r[0]}")
            printf '  %-7s %-8s %3s conns: %9.1f req/s  p50 %6.2f ms  p99 %7.2f ms  %5s of static\n' \
                "$dbname" "$s" "$c" "${r[3]}" "$(ms "${r[4]}")" "$(ms "${r[5]}")" "$ratio"
        done
    done
    rss1=$(rss)
    memory+=("$dbname ${rss0%% *} ${rss1%% *} ($(rss_kids "$rss0") -> $(rss_kids "$rss1"))")
    local bad
    bad=$(errors_in_log)
    if [[ -n $bad ]]; then
        fail "$dbname: error_log has warnings or errors:"
        echo "$bad" | head -n 20 >&2
    fi
    servers_down
}

ms() { awk -v us="$1" 'BEGIN { printf "%.2f", us / 1000 }'; }
rss_kids() { echo "${1#* }" | awk '{ for (i = 1; i <= NF; i++) printf "%s%.1f", (i > 1 ? " + " : "children "), $i / 1024 }'; }

print_table() {
    local line db s c rps p50 p99 ratio answers
    echo
    echo "mod_notify benchmark: $(date -u +%Y-%m-%dT%H:%MZ) on $(uname -n), $(nproc) cores,"
    echo "$("$httpd" -v | head -n 1 | sed 's/Server version: //'), event MPM 2x96 threads, wrk on loopback;"
    echo "each cell: ${duration}s after ${warmup}s of warm-up. Share: req/s as a share of"
    echo "the static file's req/s at the same connection count, same run."
    echo "DBD pool per child: $(for p in $pools; do case $p in
        default) printf "default: mod_dbd's own (DBDMax 10); " ;;
        recommended) printf 'recommended: SQLite DBDMin = DBDKeep = DBDMax = 96, PostgreSQL 16; ' ;;
        *) printf '%s: DBDMin = DBDKeep = DBDMax = %s; ' "$p" "$p" ;; esac; done)"
    echo
    printf '| %-6s | %-8s | %5s | %9s | %8s | %8s | %5s | %8s |\n' \
        database scenario conns 'req/s' 'p50 ms' 'p99 ms' share answers
    printf '|%s|%s|%s|%s|%s|%s|%s|%s|\n' -------- ---------- ------- ----------- \
        ---------- ---------- ------- ----------
    for line in "${results[@]}"; do
        read -r db s c rps p50 p99 ratio answers <<<"$line"
        printf '| %-6s | %-8s | %5s | %9.0f | %8s | %8s | %5s | %8s |\n' \
            "$db" "$s" "$c" "$rps" "$(ms "$p50")" "$(ms "$p99")" "$ratio" "$answers"
    done
    echo
    echo "httpd resident memory (KiB, parent + children), before -> after:"
    for line in "${memory[@]}"; do
        read -r db r0 r1 rest <<<"$line"
        printf '  %-6s %8s -> %8s  %s\n' "$db" "$r0" "$r1" "$rest"
    done
}

# Targets of the issue, evaluated on this run (reported, not enforced).
print_targets() {
    local line db s c rps p50 p99 ratio answers share p99v sp99 cost
    declare -A shares p99s rpss
    for line in "${results[@]}"; do
        read -r db s c rps p50 p99 ratio answers <<<"$line"
        shares[$db.$s.$c]=${ratio%\%}
        p99s[$db.$s.$c]=$p99
        rpss[$db.$s.$c]=$rps
    done
    echo
    echo "targets (reported, not enforced):"
    for db in "${labels[@]}"; do
        share=${shares[$db.app.64]:-}
        if [[ -n $share ]]; then
            p99v=${p99s[$db.app.64]}
            sp99=${p99s[$db.static.64]:-0}
            target "$db: app create at 64 conns >= 40% of static ($share%)" \
                "$((share >= 40))"
            target "$db: app create at 64 conns, p99 < 20 ms ($(ms "$p99v") ms; static $(ms "$sp99") ms)" \
                "$((p99v < 20000))"
        fi
        for c in $conns; do
            [[ -n ${rpss[$db.queued.$c]:-} && -n ${rpss[$db.app.$c]:-} ]] || continue
            # time per create, queued email over plain
            cost=$(awk -v a="${rpss[$db.app.$c]}" -v q="${rpss[$db.queued.$c]}" \
                'BEGIN { printf "%.0f", (q > 0 ? 100 * a / q - 100 : 999) }')
            target "$db: a queued email create costs <= 10% more than a plain one at $c conns (${cost}%)" \
                "$((cost <= 10))"
        done
    done
}

target() { # label, 1 when met
    printf '  %-66s %s\n' "$1" "$([[ $2 == 1 ]] && echo met || echo 'NOT met')"
}

# ---- soak ----

soak_db() {
    local dbname=$1 s pids=() from t samples=() first last kib i n
    servers_up "$dbname"
    start_server httpd
    for s in app session email invalid; do
        preflight "$s" || return 1
    done
    from=$(max_id)
    echo "soak on $dbname: app, session, email and invalid creates at 16 connections each for ${soak}s"
    for s in app session email invalid; do
        run_wrk "$s" "$soak" 16 >"$work/soak-$s.out" &
        pids+=($!)
    done
    t=0
    while ((t < soak)); do
        sleep 10
        t=$((t + 10))
        samples+=("$(rss)")
        echo "  ${t}s: httpd RSS KiB (total, children): ${samples[-1]}"
    done
    wait "${pids[@]}"
    for s in app session email invalid; do
        read -r -a r <"$work/soak-$s.out" || true
        if [[ ${#r[@]} -ne 7 ]]; then
            fail "soak $s: wrk printed no result"
            continue
        fi
        echo "  $s: ${r[0]} answers, $(printf '%.0f' "${r[3]}") req/s, p50 $(ms "${r[4]}") ms, p99 $(ms "${r[5]}") ms"
        check_run "$s" "$from" 16 "${r[@]:0:3}" "${r[6]}"
    done
    # Flat: every child's RSS at the end within the limit of its value
    # after the first fifth of the run (pools and caches warm).
    n=${#samples[@]}
    i=$((n / 5))
    read -r -a first <<<"${samples[$i]}"
    read -r -a last <<<"${samples[-1]}"
    for ((k = 1; k < ${#last[@]}; k++)); do
        kib=$((last[k] - ${first[k]:-0}))
        echo "  child $k: ${first[k]:-?} -> ${last[k]} KiB after $(((i + 1) * 10))s (growth $kib KiB)"
        if ((kib > soak_max_growth)); then
            fail "soak $dbname: child $k grew by $kib KiB (limit $soak_max_growth)"
        fi
    done
    local bad
    bad=$(errors_in_log)
    if [[ -n $bad ]]; then
        fail "soak $dbname: error_log has warnings or errors:"
        echo "$bad" | head -n 20 >&2
    else
        echo "  error_log: clean (nothing at warn or above)"
    fi
    servers_down
}

# ---- profile ----

# $2 requests of scenario $1, one connection, each answer checked.
drive() {
    local bad
    bad=$(send "$1" "$2" | head -n 1)
    if [[ $bad != 0 ]]; then
        echo "${bad:-all} of $2 answers were not ${want[$1]}" >&2
        return 1
    fi
}

profile_db() {
    local dbname=$1 s vpid out total
    servers_up "$dbname"
    for s in $profile_scenarios; do
        out=$work/callgrind.$dbname.$s
        valgrind --tool=callgrind --toggle-collect=ap_read_request \
            --toggle-collect=ap_process_async_request \
            --toggle-collect=ap_process_request_after_handler \
            --callgrind-out-file="$out" "$httpd" -X -f "$work/httpd.conf" \
            2>"$work/valgrind.log" &
        vpid=$!
        for _ in $(seq 1 300); do
            perl -MIO::Socket::INET -e \
                'exit !IO::Socket::INET->new("127.0.0.1:" . shift)' "$port" && break
            sleep 0.2
        done
        preflight app && preflight "$s" && drive "$s" 50 || {
            fail "$dbname $s: the server under callgrind did not answer"
            kill "$vpid" 2>/dev/null
            wait "$vpid" 2>/dev/null
            continue
        }
        callgrind_control -z "$vpid" >/dev/null 2>&1
        drive "$s" "$profile_n" || fail "$dbname $s: wrong answers under callgrind"
        kill -TERM "$vpid"
        wait "$vpid" 2>/dev/null || true
        rm -f "$work/httpd.pid"
        total=$(awk '/^(summary|totals):/ { print $2; exit }' "$out")
        echo
        echo "== $dbname $s: $((total / profile_n)) instructions per request" \
            "(read and processed, $profile_n requests)"
        if [[ -n ${PROFILE_OUT:-} ]]; then
            cp "$out" "$PROFILE_OUT/"
        fi
        callgrind_annotate --inclusive=yes "$out" 2>/dev/null |
            awk '/^-+$/ { n++ } n >= 3 && NF' | sed -n '2,26p'
    done
    servers_down
}

port=$(free_port)
mock_port=$(free_port)
memory=()
if [[ $mode == profile ]]; then
    for d in $dbs; do
        profile_db "$d" || failed=1
    done
elif [[ -n $soak ]]; then
    for d in $dbs; do
        soak_db "$d" || failed=1
    done
else
    for d in $dbs; do
        for dbd_pool in $pools; do
            label=$d
            # More than one pool: each run is labelled with its pool.
            [[ $pools == "${pools%% *}" ]] || label="$d/$dbd_pool"
            labels+=("$label")
            echo "== $label =="
            bench_db "$d" "$label" || failed=1
        done
    done
    print_table
    print_targets
fi
if [[ $failed -ne 0 ]]; then
    echo "make bench: FAILED (see FAIL lines above)" >&2
    exit 1
fi
echo "make bench: every answer as expected, rows match"
