/* SPDX-License-Identifier: MIT */
/*
 * smtp(8) process state; see smtp.h.
 */
#include "config.h"

#include <stddef.h>

#include "smtp.h"

struct smtp_conf smtp_conf;
struct tls_client *smtp_tls;

static struct event_base *base;

void
smtp_runtime(struct event_base *b)
{
	base = b;
}

struct event_base *
smtp_base(void)
{
	return base;
}
