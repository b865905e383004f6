#!/usr/bin/env bash
# wrk-ab.sh: requests per second of httpdemo's GET / per backend, measured
# with wrk (a C load generator, lighter than vegeta in Go, so on a small
# machine the server rather than the client is what saturates). Backends run
# one at a time, a fresh server each, in rounds whose order rotates; the
# summary gives each backend's median and its per-round ratio to none.
#
# Needs wrk on PATH (Debian/Ubuntu: apt-get install wrk). Not run by CI.
#
#	bench/wrk-ab.sh [rounds [seconds [connections [workers]]]]
#
# Defaults: 6 rounds of 5 s, 64 connections, httpdemo -workers 64.
set -euo pipefail

rounds=${1:-6}
secs=${2:-5}
conns=${3:-64}
workers=${4:-64}
backends=(none chanpool ants pond)
port=${SWAPEXEC_WRK_PORT:-17878}

command -v wrk >/dev/null || { echo "wrk-ab: wrk not found on PATH (apt-get install wrk)" >&2; exit 2; }
cd "$(dirname "$0")/.."
bin=$(mktemp -d)/httpdemo
go build -o "$bin" ./httpdemo
out=$(mktemp)

for ((r = 0; r < rounds; r++)); do
	for ((k = 0; k < ${#backends[@]}; k++)); do
		b=${backends[$(((k + r) % ${#backends[@]}))]}
		"$bin" -addr "127.0.0.1:$port" -backend "$b" -workers "$workers" >/dev/null 2>&1 &
		pid=$!
		for _ in $(seq 100); do
			curl -fso /dev/null "http://127.0.0.1:$port/healthz" && break
			sleep 0.05
		done
		rps=$(wrk -t1 -c"$conns" -d"${secs}s" "http://127.0.0.1:$port/" | awk '/Requests\/sec/ {print $2}')
		kill -TERM "$pid"
		wait "$pid"
		echo "$r $b $rps" | tee -a "$out"
	done
done

echo "# GET /, wrk -t1 -c$conns, ${secs}s per run, $rounds rounds, httpdemo -workers $workers"
# Per backend: median req/s, min-max, and the median and range over rounds
# of (backend req/s / none req/s in the same round).
awk -v backends="${backends[*]}" '
	{ rps[$2, $1] = $3; if ($1 + 1 > n) n = $1 + 1 }
	function median(a, m,   i, j, t) {
		for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
		return m % 2 ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
	}
	END {
		split(backends, bs, " ")
		printf "%-9s %10s %21s %9s %15s\n", "backend", "median/s", "min-max", "vs none", "per round"
		for (k = 1; k in bs; k++) {
			b = bs[k]; delete v; delete q
			for (r = 0; r < n; r++) { v[r + 1] = rps[b, r]; q[r + 1] = rps[b, r] / rps["none", r] }
			lo = hi = v[1]; qlo = qhi = q[1]
			for (r = 1; r <= n; r++) {
				if (v[r] < lo) lo = v[r]; if (v[r] > hi) hi = v[r]
				if (q[r] < qlo) qlo = q[r]; if (q[r] > qhi) qhi = q[r]
			}
			printf "%-9s %10.0f %10.0f-%-10.0f %8.3fx %7.3f-%.3fx\n", b, median(v, n), lo, hi, median(q, n), qlo, qhi
		}
	}' "$out"
