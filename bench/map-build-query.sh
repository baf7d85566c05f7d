#!/bin/sh
# Benchmark: building a hash: table and querying it, tern's ternmap side by
# side with Postfix's postmap on the same source file.  Prints the median
# of several runs for each tool and the ratio (postmap time / ternmap
# time: above 1 means tern is faster).  Not part of make check.
#
# Usage: bench/map-build-query.sh [BUILDDIR] [KEYS] [RUNS]
set -eu
B=${1:-build}
N=${2:-200000}
RUNS=${3:-5}
TERNMAP=$B/src/commands/ternmap
POSTMAP=$(command -v postmap || echo /usr/sbin/postmap)
[ -x "$TERNMAP" ] || { echo "build tern first ($TERNMAP missing)"; exit 1; }
[ -x "$POSTMAP" ] || { echo "postmap not installed (apt-get install postfix)"; exit 1; }

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
mkdir "$T/tern" "$T/pf"
awk -v n="$N" 'BEGIN { for (i = 0; i < n; i++)
	printf "user%d@Example%d.COM OK %d\n", i, i % 97, i }' > "$T/src"
# Queries: every key, shuffled, half of them absent.
awk '{ print $1; print "absent" NR "@nowhere.example" }' "$T/src" |
    shuf --random-source="$T/src" > "$T/keys"
cp "$T/src" "$T/tern/access"
cp "$T/src" "$T/pf/access"

# median CMD...: runs CMD $RUNS times, prints the median wall time in ms.
median() {
	for i in $(seq "$RUNS"); do
		s=$(date +%s%N)
		"$@" > /dev/null
		e=$(date +%s%N)
		echo $(((e - s) / 1000000))
	done | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'
}

tb=$(median "$TERNMAP" "hash:$T/tern/access")
pb=$(median "$POSTMAP" "hash:$T/pf/access")
tq=$(median sh -c "'$TERNMAP' -q - 'hash:$T/tern/access' < '$T/keys'")
pq=$(median sh -c "'$POSTMAP' -q - 'hash:$T/pf/access' < '$T/keys'")

echo "hash: table with $N keys, $((2 * N)) queries, median of $RUNS runs"
printf '%-22s %10s %10s %8s\n' "" ternmap postmap ratio
printf '%-22s %8sms %8sms %8s\n' "build" "$tb" "$pb" \
    "$(awk -v a="$tb" -v b="$pb" 'BEGIN { printf "%.2f", b / a }')"
printf '%-22s %8sms %8sms %8s\n' "query -q - (stdin)" "$tq" "$pq" \
    "$(awk -v a="$tq" -v b="$pq" 'BEGIN { printf "%.2f", b / a }')"
