/*
 * SPDX-License-Identifier: Apache-2.0
 */

#include "config.h"

#include "aiq-agent-cli.h"

int
main(int argc, char **argv)
{
	return aiq_agent_cli_main(argc, argv);
}
