# Shared helpers for the integration tests (sourced, POSIX sh).
# Each test runs in its own temporary directory, removed on exit.

: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:=$top_srcdir/build}"
BIN=$top_builddir/src/commands
T=$(mktemp -d "${TMPDIR:-/tmp}/tern-test.XXXXXX")
chmod 755 "$T"
trap 'rm -rf "$T"' EXIT
failures=0
checks=0

fail() {
	echo "FAIL: $*" >&2
	failures=$((failures + 1))
}

# expect_eq WHAT GOT WANT
expect_eq() {
	checks=$((checks + 1))
	[ "$2" = "$3" ] || fail "$1: got [$2], want [$3]"
}

# expect_match WHAT TEXT PATTERN (grep -E)
expect_match() {
	checks=$((checks + 1))
	printf '%s\n' "$2" | grep -Eq -- "$3" || fail "$1: [$2] does not match /$3/"
}

# expect_no_match WHAT TEXT PATTERN
expect_no_match() {
	checks=$((checks + 1))
	if printf '%s\n' "$2" | grep -Eq -- "$3"; then
		fail "$1: [$2] matches /$3/"
	fi
}

# finish: prints the tally and exits 1 if anything failed.
finish() {
	echo "$((checks - failures)) passed, $failures failed"
	[ "$failures" -eq 0 ]
	exit $?
}
