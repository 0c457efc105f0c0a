/* SPDX-License-Identifier: MIT */
/* xgnt command line: subcommands and the argument parsers they share. */
#ifndef XGNT_TOOLS_CLI_H
#define XGNT_TOOLS_CLI_H

#include <stdint.h>

#define EXIT_USAGE 2

/* "64M", "4k", "4096": bytes with an optional binary k/M/G suffix. 0 or -1. */
int cli_parse_size(const char *s, uint64_t *out);
/* A plain decimal number in [min, max]. 0 or -1. */
int cli_parse_uint(const char *s, unsigned long min, unsigned long max, unsigned long *out);

int demo_main(int argc, char **argv);
/* domain, dump, top: against the daemon at $XGNT_SOCKET. */
int daemon_main(const char *cmd, int argc, char **argv, const char *help);

#endif
