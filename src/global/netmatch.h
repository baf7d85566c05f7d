/* SPDX-License-Identifier: MIT */
/*
 * Lists of client networks, as in mynetworks and
 * smtpd_client_event_limit_exceptions: which numeric client addresses a
 * list matches.  Items (the output of mail_conf_list):
 *
 *   192.0.2.1  2001:db8::1  [2001:db8::1]      one address
 *   192.0.2.0/24  2001:db8::/32  [2001:db8::]/32   a network
 *   !item           negation: an address the item matches is not in the
 *                   list (the first item that matches decides)
 *   /file/name      items read from the file, separated by white space
 *                   or commas, "#" to the end of a line is a comment;
 *                   "!/file/name" negates every item of the file
 *   type:name       the client address (in the text form below) is looked
 *                   up; found means matched, whatever the value
 *
 * A network must be written in canonical form: a prefix length of 0..32
 * (IPv4) or 0..128 (IPv6) in decimal without leading zeros, and no host
 * bits set beyond the prefix ("192.0.2.1/24" is an error that suggests
 * 192.0.2.0/24).  IPv4 addresses are dotted quads as inet_pton(3) reads
 * them.  An IPv4-mapped IPv6 address (::ffff:192.0.2.1), as a client or in
 * an item with a prefix of 96 or more, is treated as the IPv4 address, so
 * IPv4 networks match such clients.  Any item that is none of the above
 * is a configuration error naming the item.  An empty list matches
 * nothing, and so does a client "address" that is not numeric ("unix").
 */
#ifndef TERN_NETMATCH_H
#define TERN_NETMATCH_H

#include <stdbool.h>
#include <stddef.h>

#include "str.h"

/* Longest item, and most items after /file/name expansion. */
#define NETMATCH_ITEM_MAX	1024
#define NETMATCH_ITEMS_MAX	100000
/* Largest /file/name, and how deep files may name files. */
#define NETMATCH_FILE_MAX	(4 * 1024 * 1024)
#define NETMATCH_DEPTH_MAX	4

struct netmatch;

/*
 * Builds a list from items; tables are opened here.  Returns NULL with
 * err_r ("bad net/mask \"...\"", "/file: ...") on a bad item; err_r is
 * valid until the next call.
 */
struct netmatch *netmatch_new(const struct strv *items, const char **err_r)
    __attribute__((warn_unused_result));
void netmatch_free(struct netmatch **nmp);

/*
 * Does the list match the numeric address addr?  1 yes, 0 no, -1 a table
 * lookup failed (err_r set, valid until the next call).
 */
int netmatch_match(struct netmatch *nm, const char *addr, const char **err_r)
    __attribute__((warn_unused_result));

/*
 * Parses a numeric IPv4 or IPv6 address (no brackets, no prefix) into
 * family_r (AF_INET or AF_INET6) and 16 bytes at bytes_r (IPv4 in the
 * first 4); an IPv4-mapped IPv6 address comes back as IPv4.  False when
 * s is not such an address.
 */
bool netmatch_parse_addr(const char *s, int *family_r,
    unsigned char bytes_r[16]);

#endif
