/* SPDX-License-Identifier: MIT */
/*
 * xgnt: the command line. `xgnt demo` runs the embedded split block
 * driver demo; the daemon's subcommands (domain, dump, top) answer with a
 * clear error until xgntd exists.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char usage[] =
	"usage: xgnt COMMAND [options]\n"
	"\n"
	"Xen grant tables and event channels in user space.\n"
	"\n"
	"commands:\n"
	"  demo      run a split block driver (frontend and backend domains) over\n"
	"            grants and an event channel, and print what it measured\n"
	"  domain    create, destroy, list domains of the daemon   (needs xgntd)\n"
	"  dump      Xen-style dump of a daemon's grant tables      (needs xgntd)\n"
	"  top       live grant and event counters of the daemon    (needs xgntd)\n"
	"\n"
	"`xgnt COMMAND --help` describes each command.\n";

static const struct daemon_cmd {
	const char *name, *help;
} daemon_cmds[] = {
	{ "domain",
	  "usage: xgnt domain create DOMID [--type hvm|pv|arm] [--ram-mib N] [--vcpus N] [--privileged]\n"
	  "       xgnt domain destroy DOMID\n"
	  "       xgnt domain list\n"
	  "\nManage the domains of the daemon at $XGNT_SOCKET (xgntd).\n" },
	{ "dump",
	  "usage: xgnt dump [DOMID]\n"
	  "\nXen-style dump ('g' debug key) of the grant tables of the daemon's\n"
	  "domains, or of DOMID only.\n" },
	{ "top",
	  "usage: xgnt top\n"
	  "\nLive grant, mapping and event counters per domain of the daemon.\n" },
};

int cli_parse_uint(const char *s, unsigned long min, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	if (!s || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int cli_parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	unsigned int shift = 0;

	if (!s || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -1;
	switch (*end) {
	case '\0': break;
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	default: return -1;
	}
	if (shift && (*end == 'i' || *end == 'I'))      /* 4KiB, 64MiB */
		end++;
	if (shift && (*end == 'b' || *end == 'B'))
		end++;
	if (*end || v > (UINT64_MAX >> shift))
		return -1;
	*out = (uint64_t)v << shift;
	return 0;
}

static int daemon_cmd(const struct daemon_cmd *c, int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			fputs(c->help, stdout);
			return 0;
		}
	fprintf(stderr, "xgnt %s: needs the daemon (xgntd), not available yet\n", c->name);
	return EXIT_USAGE;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fputs(usage, stderr);
		return EXIT_USAGE;
	}
	const char *cmd = argv[1];
	if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
		fputs(usage, stdout);
		return 0;
	}
	if (!strcmp(cmd, "demo"))
		return demo_main(argc - 1, argv + 1);
	for (size_t i = 0; i < sizeof(daemon_cmds) / sizeof(daemon_cmds[0]); i++)
		if (!strcmp(cmd, daemon_cmds[i].name))
			return daemon_cmd(&daemon_cmds[i], argc - 1, argv + 1);
	if (cmd[0] == '-')
		fprintf(stderr, "xgnt: unknown option '%s'\n", cmd);
	else
		fprintf(stderr, "xgnt: unknown command '%s'\n", cmd);
	fputs("Try 'xgnt --help'.\n", stderr);
	return EXIT_USAGE;
}
