/* SPDX-License-Identifier: MIT */
/*
 * Waking services by writing one frame to their socket (mail_trigger.h).
 */
#include "config.h"

#include <unistd.h>

#include "attr.h"
#include "buf.h"
#include "ipc.h"

#include "mail_trigger.h"
#include "master_proto.h"

/* A trigger must never hold up the sender for long. */
#define TRIGGER_TIMEOUT_MS	1000

int
mail_trigger_send(const char *path, const struct buf *frame,
    const char **err_r)
{
	int fd, rc;

	if ((fd = ipc_connect(path, TRIGGER_TIMEOUT_MS, err_r)) == -1)
		return -1;
	rc = attr_write_frame(fd, frame, TRIGGER_TIMEOUT_MS, err_r);
	close(fd);
	return rc;
}

int
mail_trigger_wakeup(const char *path, const char **err_r)
{
	struct buf frame;
	int rc;

	buf_init(&frame, 0);
	master_proto_wakeup_frame(&frame);
	rc = mail_trigger_send(path, &frame, err_r);
	buf_deinit(&frame);
	return rc;
}
