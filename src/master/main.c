/* SPDX-License-Identifier: MIT */
/* master(8): the tern process supervisor; see master.h. */
#include "config.h"

#include "master.h"

int
main(int argc, char **argv)
{
	return master_main(argc, argv);
}
