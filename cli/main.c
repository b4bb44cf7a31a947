/*
 * SPDX-License-Identifier: Apache-2.0
 */

#include "config.h"

#include "aiqctl.h"

int
main(int argc, char **argv)
{
	return aiqctl_main(argc, argv);
}
