#!/bin/sh
# ternmap and ternalias against postmap and postalias: the same access,
# aliases and regexp source files (mixed case, @domain, user@, IP address
# keys, continuation lines, duplicates, captures, if/endif) are built by
# both tools into separate directories and queried for the same keys,
# found and not found; answers and exit codes must agree.  tern-only
# assertions run first and do not need Postfix; without postmap the
# comparison is skipped (exit 77) once they pass.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

TERNMAP=$BIN/ternmap
TERNALIAS=$BIN/ternalias
S=$T/src
mkdir -p "$S" "$T/tern" "$T/pf"

cat > "$S/access" <<'EOF'
# access(5)-style table
Example.COM		OK
@Example.NET		REJECT spam from here
user@			DISCARD
Postmaster@Example.ORG	OK
192.168.1.2		REJECT
192.168			DUNNO
2001:db8::1		OK
long-value		one two
	three four
# a comment inside
  five
dup			first
DUP			second
novalue
trailing		value with trailing space   
EOF
printf 'crlf\tcr value\r\n' >> "$S/access"

cat > "$S/aliases" <<'EOF'
# aliases(5)
Postmaster: root
root:	admin, "Some One"@example.com
list: a,b ,  c,
	d
"Quoted Name": x
inc: :include:/etc/tern/list.inc
prog: "|/usr/bin/vacation user"
MixedCase: MixedValue
EOF

cat > "$S/regexp" <<'EOF'
# regexp_table(5)
/^(.+)@(.+)\.example\.com$/	user=$1 host=${2} $$1
!/[@.]/			local-part
if /@example\.org$/
/^postmaster@/		OK
if !/^bad/
/^(good|fine)-([a-z]+)@/i	$1/$2
endif
endif
/^CaseSens@/i		sensitive
|^pipe(.*)@|		pipe[$1]
/^(x)(y)?z@/		[$2]
/^abuse@/
/^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$/	ip address
EOF

KEYS='example.com EXAMPLE.COM Example.Com @example.net @EXAMPLE.NET user@
user@other postmaster@example.org POSTMASTER@EXAMPLE.ORG 192.168.1.2
192.168 192.168.1 2001:db8::1 long-value dup DUP novalue trailing crlf
nothere bob@mail.example.com Bob@MAIL.Example.COM plain
postmaster@example.org good-stuff@example.org Fine-X@example.org
bad-x@example.org casesens@x CaseSens@x pipe@x pipeline@x xz@q xyz@q
abuse@x 10.1.2.3 root Postmaster list quoted\ name "Quoted Name" inc prog
mixedcase MixedCase @ x'

# --- tern only ----------------------------------------------------------

"$TERNMAP" "$S/access" 2> "$T/build.err"
expect_eq "build exit" "$?" 0
expect_match "duplicate warned with file and line" "$(cat "$T/build.err")" \
    "access, line 14: duplicate entry: \"dup\""
expect_match "missing value warned with file and line" \
    "$(cat "$T/build.err")" "access, line 15: expected format"
expect_eq "folded lookup" "$("$TERNMAP" -q EXAMPLE.com "$S/access")" OK
expect_eq "first duplicate kept" "$("$TERNMAP" -q dup "$S/access")" first
expect_eq "continuation" "$("$TERNMAP" -q long-value "$S/access")" \
    "one two	three four  five"
expect_eq "CR trimmed" "$("$TERNMAP" -q crlf "$S/access")" "cr value"
"$TERNMAP" -q nothere "$S/access"
expect_eq "not found exit" "$?" 1
"$TERNMAP" -q x "$T/nonexistent" 2> "$T/q.err"
expect_eq "missing table exit" "$?" 1
expect_match "missing table message" "$(cat "$T/q.err")" \
    "open database .*nonexistent\.db"
expect_eq "stdin query" "$(printf 'USER@\nnothere\n' |
    "$TERNMAP" -q - "$S/access")" "USER@	DISCARD"
expect_eq "texthash" "$("$TERNMAP" -q @example.net "texthash:$S/access")" \
    "REJECT spam from here"
expect_eq "regexp captures" \
    "$("$TERNMAP" -q Bob@Mail.example.com "regexp:$S/regexp")" \
    "user=Bob host=Mail \$1"
expect_eq "regexp if/endif" \
    "$("$TERNMAP" -q good-x@example.org "regexp:$S/regexp")" "good/x"
expect_eq "inline" "$("$TERNMAP" -q B 'inline:{a=1, { b = two words }}')" \
    "two words"
expect_eq "static" "$("$TERNMAP" -q anything 'static:{ a b }')" "a b"
expect_match "unix" "$("$TERNMAP" -q root unix:passwd.byname)" \
    "^root:[^:]*:0:0:"
"$TERNMAP" -d dup "$S/access"
expect_eq "delete exit" "$?" 0
"$TERNMAP" -d dup "$S/access"
expect_eq "delete again exit" "$?" 1
expect_eq "dump" "$("$TERNMAP" -s "$S/access" | grep -c .)" 10
"$TERNMAP" -z 2> "$T/usage.err"
expect_eq "usage exit" "$?" 1
printf '/(a)/ $2\n' > "$S/badre"
"$TERNMAP" -q a "regexp:$S/badre" 2> "$T/re.err"
expect_eq "bad regexp rule skipped" "$?" 1
expect_match "bad rule names file and line" "$(cat "$T/re.err")" \
    "badre, line 1: out of range replacement index"
"$TERNALIAS" "$S/aliases" 2> /dev/null
expect_eq "alias list" "$("$TERNALIAS" -q LIST "$S/aliases")" "a, b, c, d"
expect_eq "alias include" "$("$TERNALIAS" -q inc "$S/aliases")" \
    ":include:/etc/tern/list.inc"
"$TERNMAP" "$S/access"
# newaliases: no table named, alias_database from main.cf in -c DIR.
mkdir -p "$T/etc"
cp "$S/aliases" "$T/etc/aliases"
printf 'alias_database = hash:%s/etc/aliases\n' "$T" > "$T/etc/main.cf"
"$TERNALIAS" -c "$T/etc" 2> "$T/na.err"
expect_eq "newaliases exit" "$?" 0
expect_eq "newaliases built alias_database" \
    "$("$TERNALIAS" -q postmaster "$T/etc/aliases")" root
# MAIL_CONFIG selects the instance when -c is absent.
rm -f "$T/etc/aliases.db"
MAIL_CONFIG=$T/etc "$TERNALIAS" 2> "$T/na.err"
expect_eq "newaliases via MAIL_CONFIG" \
    "$("$TERNALIAS" -q postmaster "$T/etc/aliases")" root
err=$(MAIL_CONFIG=$T/missing "$TERNMAP" -q x static:y 2>&1)
expect_eq "ternmap reads MAIL_CONFIG" "$?" 1
expect_match "ternmap names missing main.cf" "$err" "$T/missing/main.cf"

# --- comparison with Postfix --------------------------------------------

PATH=$PATH:/usr/sbin:/usr/local/sbin
POSTMAP=$(command -v postmap)
POSTALIAS=$(command -v postalias)
if [ -z "$POSTMAP" ] || [ -z "$POSTALIAS" ] ||
    ! "$POSTMAP" -q x 'static:y' > /dev/null 2>&1; then
	echo "postmap/postalias not usable: comparison skipped"
	[ "$failures" -eq 0 ] || finish
	echo "$checks passed, 0 failed"
	exit 77
fi

for f in access aliases regexp; do
	cp "$S/$f" "$T/tern/$f"
	cp "$S/$f" "$T/pf/$f"
done
"$TERNMAP" "$T/tern/access" 2> /dev/null
"$TERNALIAS" "$T/tern/aliases" 2> /dev/null
"$POSTMAP" "$T/pf/access" 2> /dev/null
"$POSTALIAS" "$T/pf/aliases" 2> /dev/null

# compare WHAT TERN_CMD... -- POSTFIX_CMD... KEY: same output, same exit.
compare() {
	what=$1 key=$2 tcmd=$3 pcmd=$4 tmap=$5 pmap=$6
	tout=$("$tcmd" -q "$key" "$tmap" 2> /dev/null)
	trc=$?
	pout=$("$pcmd" -q "$key" "$pmap" 2> /dev/null)
	prc=$?
	expect_eq "$what [$key]" "$tout rc=$trc" "$pout rc=$prc"
}

compared=0
for key in $KEYS; do
	compare "hash" "$key" "$TERNMAP" "$POSTMAP" \
	    "hash:$T/tern/access" "hash:$T/pf/access"
	# ternmap reads the table postmap built.
	compare "hash made by postmap" "$key" "$TERNMAP" "$POSTMAP" \
	    "hash:$T/pf/access" "hash:$T/pf/access"
	compare "texthash" "$key" "$TERNMAP" "$POSTMAP" \
	    "texthash:$T/tern/access" "texthash:$T/pf/access"
	compare "aliases" "$key" "$TERNALIAS" "$POSTALIAS" \
	    "hash:$T/tern/aliases" "hash:$T/pf/aliases"
	compare "regexp" "$key" "$TERNMAP" "$POSTMAP" \
	    "regexp:$T/tern/regexp" "regexp:$T/pf/regexp"
	compare "inline" "$key" "$TERNMAP" "$POSTMAP" \
	    "inline:{Example.COM=ok, user@=x, 192.168.1.2=ip}" \
	    "inline:{Example.COM=ok, user@=x, 192.168.1.2=ip}"
	compared=$((compared + 6))
done

# Keys with spaces, and "-q -" over every key at once.
printf '%s\n' $KEYS "quoted name" "two words" > "$T/keys"
for m in "hash:$T/tern/access hash:$T/pf/access" \
    "regexp:$T/tern/regexp regexp:$T/pf/regexp"; do
	set -- $m
	expect_eq "stdin query $1" \
	    "$("$TERNMAP" -q - "$1" < "$T/keys" 2> /dev/null)" \
	    "$("$POSTMAP" -q - "$2" < "$T/keys" 2> /dev/null)"
done
expect_eq "alias stdin query" \
    "$("$TERNALIAS" -q - "$T/tern/aliases" < "$T/keys" 2> /dev/null)" \
    "$("$POSTALIAS" -q - "$T/pf/aliases" < "$T/keys" 2> /dev/null)"
expect_eq "dump" "$("$TERNMAP" -s "$T/tern/access" | sort)" \
    "$("$POSTMAP" -s "$T/pf/access" | sort)"
echo "compared $compared lookups with Postfix"
finish
