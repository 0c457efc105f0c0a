/* SPDX-License-Identifier: MIT */
/*
 * xgnt domain|dump|top: the daemon's control connection (src/daemon/proto.h)
 * from the command line. Acts as domain $XGNT_DOMID (default 0), which
 * must be privileged, as Xen's domctls require.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "client.h"

static const char *type_name(uint32_t t)
{
	static const char *const names[] = { "hvm", "pv", "arm" };

	return t < 3 ? names[t] : "?";
}

static int connect_ctl(struct xgntc *c, const char *cmd)
{
	char path[108];
	int rc;

	uint32_t domid;

	rc = xgntc_domid(&domid);
	if (rc) {
		fprintf(stderr, "xgnt %s: XGNT_DOMID=\"%s\" is not a domain id\n", cmd,
			getenv("XGNT_DOMID"));
		return -1;
	}
	rc = xgntc_socket_path(path, sizeof(path));
	if (!rc)
		rc = xgntc_open(c, path, XGNTD_KIND_CTL, domid, 0, -1, NULL, NULL, 0);
	if (rc) {
		if (rc == -ENOENT || rc == -ECONNREFUSED)
			fprintf(stderr, "xgnt %s: no daemon at %s (start xgntd, or set XGNT_SOCKET)\n",
				cmd, path);
		else if (rc == -ESRCH)
			fprintf(stderr, "xgnt %s: the daemon has no domain $XGNT_DOMID\n", cmd);
		else
			fprintf(stderr, "xgnt %s: %s: %s\n", cmd, path, strerror(-rc));
		return -1;
	}
	return 0;
}

static int failed(const char *cmd, long rc)
{
	if (rc == -EPERM)
		fprintf(stderr, "xgnt %s: not allowed: $XGNT_DOMID is not a privileged domain\n", cmd);
	else
		fprintf(stderr, "xgnt %s: %s\n", cmd, strerror((int)-rc));
	return 1;
}

static long list(struct xgntc *c, struct xgntd_domain_info *out, size_t max, size_t *n)
{
	size_t got = 0;
	long rc = xgntc_call(c, XGNTD_CTL_DOMAIN_LIST, NULL, 0, out, max * sizeof(*out), &got);

	*n = got / sizeof(*out);
	return rc;
}

static int domain_create(struct xgntc *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "type", required_argument, NULL, 't' },
		{ "ram-mib", required_argument, NULL, 'r' },
		{ "vcpus", required_argument, NULL, 'v' },
		{ "privileged", no_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	struct xgntd_domain_create req = { 0 };
	unsigned long v;
	int opt;
	long rc;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 't':
			if (!strcmp(optarg, "hvm"))
				req.type = 0;
			else if (!strcmp(optarg, "pv"))
				req.type = 1;
			else if (!strcmp(optarg, "arm"))
				req.type = 2;
			else {
				fprintf(stderr, "xgnt domain create: --type is hvm, pv or arm, not '%s'\n",
					optarg);
				return EXIT_USAGE;
			}
			break;
		case 'r':
			if (cli_parse_uint(optarg, 1, 16384, &v)) {
				fprintf(stderr, "xgnt domain create: --ram-mib wants 1..16384\n");
				return EXIT_USAGE;
			}
			req.ram_frames = (uint32_t)v * 256;
			break;
		case 'v':
			if (cli_parse_uint(optarg, 1, 128, &v)) {
				fprintf(stderr, "xgnt domain create: --vcpus wants 1..128\n");
				return EXIT_USAGE;
			}
			req.vcpus = (uint32_t)v;
			break;
		case 'p':
			req.privileged = 1;
			break;
		default:
			return EXIT_USAGE;
		}
	}
	if (optind != argc - 1 || cli_parse_uint(argv[optind], 1, 0x7fef, &v)) {
		fprintf(stderr, "xgnt domain create: wants one DOMID, 1..32751\n");
		return EXIT_USAGE;
	}
	req.domid = (uint32_t)v;
	rc = xgntc_call(c, XGNTD_CTL_DOMAIN_CREATE, &req, sizeof(req), NULL, 0, NULL);
	if (rc == -EEXIST) {
		fprintf(stderr, "xgnt domain create: domain %lu exists\n", v);
		return 1;
	}
	if (rc == -ENOMEM) {
		fprintf(stderr, "xgnt domain create: the machine has no room for it "
				"(xgntd --memory-mib)\n");
		return 1;
	}
	return rc < 0 ? failed("domain create", rc) : 0;
}

static int domain_cmd(int argc, char **argv, const char *help)
{
	struct xgntc c;
	unsigned long v;
	int status;
	long rc;

	if (argc < 2) {
		fputs(help, stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "create") && strcmp(argv[1], "destroy") && strcmp(argv[1], "list")) {
		fprintf(stderr, "xgnt domain: unknown subcommand '%s'\n%s", argv[1], help);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "destroy") && (argc != 3 || cli_parse_uint(argv[2], 0, 0x7fef, &v))) {
		fprintf(stderr, "xgnt domain destroy: wants one DOMID\n");
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "list") && argc != 2) {
		fprintf(stderr, "xgnt domain list: takes no arguments\n");
		return EXIT_USAGE;
	}
	if (connect_ctl(&c, "domain"))
		return 1;
	if (!strcmp(argv[1], "create")) {
		status = domain_create(&c, argc - 1, argv + 1);
	} else if (!strcmp(argv[1], "destroy")) {
		struct xgntd_domid req = { .domid = (uint32_t)v };

		rc = xgntc_call(&c, XGNTD_CTL_DOMAIN_DESTROY, &req, sizeof(req), NULL, 0, NULL);
		if (rc == -ESRCH) {
			fprintf(stderr, "xgnt domain destroy: no domain %lu\n", v);
			status = 1;
		} else if (rc == -EPERM && v == 0) {
			fprintf(stderr, "xgnt domain destroy: domain 0 lives as long as the daemon\n");
			status = 1;
		} else {
			status = rc < 0 ? failed("domain destroy", rc) : 0;
		}
	} else {
		static struct xgntd_domain_info d[512];
		size_t n, i;

		rc = list(&c, d, 512, &n);
		if (rc < 0) {
			status = failed("domain list", rc);
		} else {
			printf("%5s %-4s %4s %5s %8s %7s %6s %8s %6s %7s\n", "DOMID", "TYPE", "PRIV",
			       "VCPUS", "RAM_MIB", "HANDLES", "GRANTS", "MAPPINGS", "PORTS",
			       "FRAMES");
			for (i = 0; i < n; i++)
				printf("%5u %-4s %4s %5u %8llu %7u %6u %8u %6u %3u/%-3u\n", d[i].domid,
				       type_name(d[i].type), d[i].privileged ? "yes" : "no", d[i].vcpus,
				       (unsigned long long)d[i].ram_frames / 256, d[i].nr_handles,
				       d[i].nr_grants, d[i].nr_mappings, d[i].nr_ports,
				       d[i].nr_grant_frames, d[i].max_grant_frames);
			status = 0;
		}
	}
	xgntc_close(&c);
	return status;
}

static int dump_cmd(int argc, char **argv)
{
	static char text[XGNTD_MAX_MSG + 1];
	struct xgntd_domid req = { .domid = XGNTD_DOMID_ALL };
	struct xgntc c;
	unsigned long v;
	size_t got = 0;
	long rc;

	if (argc > 2) {
		fprintf(stderr, "xgnt dump: wants at most one DOMID\n");
		return EXIT_USAGE;
	}
	if (argc == 2 && cli_parse_uint(argv[1], 0, 0x7fef, &v)) {
		fprintf(stderr, "xgnt dump: \"%s\" is not a domain id (0 to 32751)\n", argv[1]);
		return EXIT_USAGE;
	}
	if (argc == 2)
		req.domid = (uint32_t)v;
	if (connect_ctl(&c, "dump"))
		return 1;
	rc = xgntc_call(&c, XGNTD_CTL_DUMP, &req, sizeof(req), text, XGNTD_MAX_MSG, &got);
	xgntc_close(&c);
	if (rc == -ESRCH) {
		fprintf(stderr, "xgnt dump: no domain %u\n", req.domid);
		return 1;
	}
	if (rc < 0)
		return failed("dump", rc);
	fwrite(text, 1, got, stdout);
	return 0;
}

static volatile sig_atomic_t top_stop;

static void on_sigint(int sig)
{
	(void)sig;
	top_stop = 1;
}

static int top_cmd(int argc, char **argv)
{
	static struct xgntd_domain_info prev[512], cur[512];
	size_t np = 0, n, i, j;
	unsigned long iters = 0, delay_ms = 1000;
	struct timespec t0, t1;
	struct xgntc c;
	bool tty = isatty(STDOUT_FILENO);
	int opt;

	optind = 1;
	while ((opt = getopt(argc, argv, "n:d:")) != -1) {
		if (opt == 'n' && !cli_parse_uint(optarg, 1, 1000000, &iters))
			continue;
		if (opt == 'd' && !cli_parse_uint(optarg, 10, 60000, &delay_ms))
			continue;
		fprintf(stderr, "usage: xgnt top [-n ITERATIONS] [-d DELAY_MS]\n");
		return EXIT_USAGE;
	}
	if (optind != argc) {
		fprintf(stderr, "usage: xgnt top [-n ITERATIONS] [-d DELAY_MS]\n");
		return EXIT_USAGE;
	}
	if (connect_ctl(&c, "top"))
		return 1;
	signal(SIGINT, on_sigint);
	signal(SIGTERM, on_sigint);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (unsigned long it = 0; !top_stop && (!iters || it < iters); it++) {
		double dt;
		long rc = list(&c, cur, 512, &n);

		if (rc < 0) {
			xgntc_close(&c);
			return failed("top", rc);
		}
		clock_gettime(CLOCK_MONOTONIC, &t1);
		dt = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
		if (tty)
			fputs("\033[H\033[2J", stdout);
		printf("%5s %-4s %7s %6s %6s %8s %6s %10s %10s %10s\n", "DOMID", "TYPE", "HANDLES",
		       "GRANTS", "ACTIVE", "MAPPINGS", "PORTS", "SENT/s", "DELIV/s", "CALLS/s");
		for (i = 0; i < n; i++) {
			double sent = 0, deliv = 0, calls = 0;

			for (j = 0; j < np && it; j++) {
				if (prev[j].domid != cur[i].domid || dt <= 0)
					continue;
				sent = (double)(cur[i].events_sent - prev[j].events_sent) / dt;
				deliv = (double)(cur[i].events_delivered - prev[j].events_delivered) / dt;
				calls = (double)(cur[i].hypercalls - prev[j].hypercalls) / dt;
			}
			printf("%5u %-4s %7u %6u %6u %8u %6u %10.0f %10.0f %10.0f\n", cur[i].domid,
			       type_name(cur[i].type), cur[i].nr_handles, cur[i].nr_grants,
			       cur[i].nr_active, cur[i].nr_mappings, cur[i].nr_ports, sent, deliv,
			       calls);
		}
		fflush(stdout);
		memcpy(prev, cur, n * sizeof(cur[0]));
		np = n;
		t0 = t1;
		if (iters && it + 1 == iters)
			break;
		usleep((useconds_t)delay_ms * 1000);
	}
	xgntc_close(&c);
	return 0;
}

int daemon_main(const char *cmd, int argc, char **argv, const char *help)
{
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			fputs(help, stdout);
			return 0;
		}
	if (!strcmp(cmd, "domain"))
		return domain_cmd(argc, argv, help);
	if (!strcmp(cmd, "dump"))
		return dump_cmd(argc, argv);
	return top_cmd(argc, argv);
}
