/*
 * SPDX-License-Identifier: Apache-2.0
 */

#include "config.h"

#include "aiq-server-cli.h"

int
main(int argc, char **argv)
{
	return aiq_server_cli_main(argc, argv);
}
