/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"
#include "aiqctl.h"
gint
aiqctl_main(gint argc, gchar **argv)
{
	return 2;
}
