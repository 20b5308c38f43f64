#!/usr/bin/env bash
# Memory of a running console as docs/performance.md reports it: resident
# size (RSS) idle, its peak under a burst of uncached board, list and
# scores requests, and over a soak of the same load.
#
#   scripts/memory.sh PID URL USER PASSWORD [SOAK_SECONDS] [CONNECTIONS]
#
# PID is the console's process (jingdesk serve), URL where it listens,
# USER/PASSWORD an account of it. Every request asks a filter of its own
# (a random search, date range, sort and deep page), so each is a cache
# miss. It prints one line per phase: RSS now, the peak (VmHWM) since the
# last line, and the requests answered.
set -euo pipefail
pid=$1 url=${2%/} user=$3 pass=$4 soak=${5:-60} conns=${6:-20}
jar=$(mktemp) && trap 'rm -f "$jar"' EXIT

kb() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$pid/status"; }
mb() { echo "$(( $(kb "$1") / 1024 )) MB"; }
reset_peak() { echo 5 > "/proc/$pid/clear_refs"; }
report() { printf '%-28s RSS %-8s peak %-8s %s\n' "$1" "$(mb VmRSS)" "$(mb VmHWM)" "${2:-}"; }

# Sign in: the CSRF token of the sign-in page, then the form.
csrf=$(curl -fsS -c "$jar" -b "$jar" "$url/login" | sed -n 's/.*name="csrf-token" content="\([^"]*\)".*/\1/p' | head -1)
curl -fsS -o /dev/null -c "$jar" -b "$jar" --data-urlencode "username=$user" --data-urlencode "password=$pass" \
	--data-urlencode "_csrf=$csrf" "$url/login"

# miss prints n request paths, each a filter no one asked before.
miss() {
	local words=(张 王 李 刘 陈 杨 黄 赵 周 吴 科技 有限 公司 北京 上海 广州 深圳 杭州 销售 市场)
	for ((i = 0; i < $1; i++)); do
		local w=${words[RANDOM % ${#words[@]}]} d=$((RANDOM % 28 + 1)) m=$((RANDOM % 12 + 1)) p=$((RANDOM % 200 + 2))
		case $((i % 4)) in
			0) echo "/leads/board?q=$w&created_from=2025-$(printf %02d "$m")-$(printf %02d "$d")" ;;
			1) echo "/leads/list?q=$w&sort=updated&page=$p" ;;
			2) echo "/leads/list?updated_from=2025-$(printf %02d "$m")-$(printf %02d "$d")&sort=created&page=$((p / 4 + 1))" ;;
			3) echo "/scores?kind=identity&nonce=$RANDOM$i" ;;
		esac
	done
}

# load sends paths from stdin over conns connections; prints how many were answered 200.
load() {
	xargs -P "$conns" -I{} curl -s -o /dev/null -w '%{http_code}\n' -b "$jar" --compressed "$url{}" | grep -c '^200$' || true
}

report "idle"
reset_peak
ok=$(miss ${BURST:-400} | load)
report "burst of ${BURST:-400} misses" "$ok answered 200"
sleep 10
report "10 s after the burst"
reset_peak
end=$((SECONDS + soak))
total=0
while ((SECONDS < end)); do
	ok=$(miss 200 | load)
	total=$((total + ok))
	report "soak $((soak - end + SECONDS)) s" "$total answered 200"
done
sleep 30
report "idle 30 s after the soak"
