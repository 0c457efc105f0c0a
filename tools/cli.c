/* SPDX-License-Identifier: MIT */
/*
 * xgnt: the command line. `xgnt demo` runs the embedded split block
 * driver demo; domain, dump and top talk to a running xgntd.
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
	"  domain    create, destroy, list the domains of a running xgntd\n"
	"  dump      Xen-style dump of a running xgntd's grant tables\n"
	"  top       live grants, mappings and events per domain of xgntd\n"
	"\n"
	"`xgnt COMMAND --help` describes each command.\n";

static const struct daemon_cmd {
	const char *name, *help;
} daemon_cmds[] = {
	{ "domain",
	  "usage: xgnt domain create DOMID [--type hvm|pv|arm] [--ram-mib N] [--vcpus N] [--privileged]\n"
	  "       xgnt domain destroy DOMID\n"
	  "       xgnt domain list\n"
	  "\nManage the domains of the daemon at $XGNT_SOCKET (xgntd). The list shows\n"
	  "each domain's handles (attached connections), grants in use, mappings it\n"
	  "holds, event channels bound through handles and grant frames in use/max.\n"
	  "Acts as domain $XGNT_DOMID (default 0), which must be privileged.\n" },
	{ "dump",
	  "usage: xgnt dump [DOMID]\n"
	  "\nXen-style dump ('g' debug key) of the grant tables of the daemon's\n"
	  "domains at $XGNT_SOCKET, or of DOMID only.\n" },
	{ "top",
	  "usage: xgnt top [-n ITERATIONS] [-d DELAY_MS]\n"
	  "\nLive per-domain view of the daemon at $XGNT_SOCKET: handles, grants in use,\n"
	  "entries others pin, mappings held, ports, and events sent, events delivered\n"
	  "and daemon requests per second. Refreshes every DELAY_MS (1000) until\n"
	  "interrupted, or ITERATIONS times.\n" },
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
	return daemon_main(c->name, argc, argv, c->help);
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
