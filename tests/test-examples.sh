#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Runs every example workflow end to end (examples/run-examples.sh) in a
# temporary state directory, with the programs meson's test environment
# names: AIQCTL, AIQ_TEST_PEER and AIQ_SMTP_SINK. The directory is removed
# when everything passed and kept (its path printed) otherwise.
set -uo pipefail

source_root=${AIQ_SOURCE_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
for var in AIQCTL AIQ_TEST_PEER AIQ_SMTP_SINK; do
	if [ -z "${!var:-}" ]; then
		echo "test-examples: $var is not set (run through meson test, or set it)" >&2
		exit 1
	fi
	export "$var"
done

state=$(mktemp -d "${TMPDIR:-/tmp}/aiq-test-examples.XXXXXX") || exit 1
bash "$source_root/examples/run-examples.sh" "$state" </dev/null
rc=$?
if [ "$rc" = 0 ]; then
	rm -rf "$state"
else
	echo "test-examples: failed (exit $rc); state kept in $state" >&2
fi
exit "$rc"
