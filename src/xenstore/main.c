// SPDX-License-Identifier: MIT
/*
 * xgnt-xenstored: a xenstore server speaking Xen's wire protocol on a Unix
 * socket, for processes acting as the domains of an xgnt machine. Command
 * line, socket placement and the daemon link; the rest is in the other
 * files of this directory.
 */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "client.h"
#include "domlink.h"
#include "sock.h"
#include "xenstored.h"

static void usage(FILE *f)
{
	fputs(
"Usage: xgnt-xenstored [OPTION]...\n"
"A xenstore server (Xen's wire protocol) on a Unix socket. Foreground only.\n"
"\n"
"  -s, --socket PATH         listen here; default $XENSTORED_PATH, else\n"
"                            $XENSTORED_RUNDIR/socket, else\n"
"                            $XDG_RUNTIME_DIR/xgnt/xenstored.sock, else\n"
"                            /run/xenstored/socket\n"
"  -x, --xgnt-socket PATH    learn domains from the xgntd there (default\n"
"                            $XGNT_SOCKET, else xgntd's default socket; if\n"
"                            that is unreachable, run standalone; an\n"
"                            explicit PATH must work). A lost link is\n"
"                            tried again every 0.5 s\n"
"  -d, --domains LIST        declare domains, e.g. 1,2,3 (besides dom0)\n"
"      --quota-nodes N       nodes a domain may own (1000)\n"
"      --quota-watches N     watches of a domain (128)\n"
"      --quota-transactions N  open transactions per connection (10)\n"
"      --quota-node-size N   bytes of one node as xenstored counts them:\n"
"                            24 + 8 per perm + value + child names (2048)\n"
"      --quota-outstanding N unread replies before reading pauses (20)\n"
"      --quota-perms N       entries of one permission list (5)\n"
"      --quota-path-len N    path length below /local/domain/<id>/ (2048)\n"
"      --quota-transaction-nodes N  nodes one transaction may touch (1024)\n"
"      --max-output BYTES    queued output before a client is dropped (1048576)\n"
"  -v, --verbose             log to stderr (twice: every request)\n"
"  -h, --help                this text\n"
"\n"
"A client acts for the domain named by XGNT_DOMID in its process's\n"
"environment (default 0, privileged). Quotas do not apply to privileged\n"
"domains. SIGTERM or SIGINT: clean exit, socket removed.\n", f);
}

enum {
	OPT_QNODES = 256, OPT_QWATCH, OPT_QTX, OPT_QSIZE, OPT_QOUT, OPT_QPERMS,
	OPT_QPATH, OPT_QTXNODES, OPT_MAXOUT,
};

static int parse_uint(const char *s, unsigned long min, unsigned long max,
		      unsigned long *out)
{
	char *end;
	unsigned long v;

	if (!s || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static int add_domains(struct xsv_server *s, const char *list)
{
	char *dup = strdup(list), *save = NULL, *tok;
	int ret = 0;

	if (!dup)
		return -ENOMEM;
	for (tok = strtok_r(dup, ",", &save); tok && !ret;
	     tok = strtok_r(NULL, ",", &save)) {
		unsigned long id;

		if (parse_uint(tok, 1, XSV_DOMID_MAX, &id))
			ret = -EINVAL;
		else
			ret = xsv_domain_add(s, (uint32_t)id, false);
	}
	free(dup);
	return ret;
}

/* mkdir -p of the directory holding path. */
static void make_parent(const char *path, mode_t mode)
{
	char *dir = strdup(path), *slash;

	if (!dir)
		return;
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		for (char *p = dir + 1; *p; p++) {
			if (*p == '/') {
				*p = '\0';
				mkdir(dir, mode);
				*p = '/';
			}
		}
		mkdir(dir, mode);
	}
	free(dir);
}

static char *default_socket(mode_t *mode)
{
	const char *e;
	char *p = NULL;

	*mode = 0755;
	if ((e = getenv("XENSTORED_PATH")) && *e)
		return strdup(e);
	if ((e = getenv("XENSTORED_RUNDIR")) && *e) {
		if (asprintf(&p, "%s/socket", e) < 0)
			return NULL;
		return p;
	}
	if ((e = getenv("XDG_RUNTIME_DIR")) && *e) {
		*mode = 0700;
		if (asprintf(&p, "%s/xgnt/xenstored.sock", e) < 0)
			return NULL;
		return p;
	}
	return strdup("/run/xenstored/socket");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "xgnt-socket", required_argument, NULL, 'x' },
		{ "domains", required_argument, NULL, 'd' },
		{ "quota-nodes", required_argument, NULL, OPT_QNODES },
		{ "quota-watches", required_argument, NULL, OPT_QWATCH },
		{ "quota-transactions", required_argument, NULL, OPT_QTX },
		{ "quota-node-size", required_argument, NULL, OPT_QSIZE },
		{ "quota-outstanding", required_argument, NULL, OPT_QOUT },
		{ "quota-perms", required_argument, NULL, OPT_QPERMS },
		{ "quota-path-len", required_argument, NULL, OPT_QPATH },
		{ "quota-transaction-nodes", required_argument, NULL, OPT_QTXNODES },
		{ "max-output", required_argument, NULL, OPT_MAXOUT },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct xsv_loop l = { .ep = -1, .lfd = -1, .sfd = -1, .dfd = -1 };
	const char *sock_opt = NULL, *xgnt_opt = NULL, *domains = NULL, *dpath;
	char ddefault[108];
	int lock_fd = -1;
	struct xsv_quota q;
	unsigned long maxout = XSV_OUT_LIMIT;
	char *sock_path = NULL;
	int verbose = 0, c, ret, status = 1;
	bool bound = false;
	mode_t mode;

	xsv_quota_defaults(&q);
	while ((c = getopt_long(argc, argv, "s:x:d:vh", opts, NULL)) != -1) {
		unsigned long v = 0;
		bool num = c >= OPT_QNODES && c <= OPT_MAXOUT;

		if (num && parse_uint(optarg, c == OPT_MAXOUT ? 65536 : 1,
				      c == OPT_MAXOUT ? (1ul << 30) : UINT_MAX, &v)) {
			const char *name = "?";

			for (const struct option *o = opts; o->name; o++)
				if (o->val == c)
					name = o->name;
			fprintf(stderr, "xgnt-xenstored: bad number for --%s: \"%s\"\n",
				name, optarg);
			return 2;
		}
		switch (c) {
		case 's': sock_opt = optarg; break;
		case 'x': xgnt_opt = optarg; break;
		case 'd': domains = optarg; break;
		case OPT_QNODES: q.nodes = (unsigned int)v; break;
		case OPT_QWATCH: q.watches = (unsigned int)v; break;
		case OPT_QTX: q.transactions = (unsigned int)v; break;
		case OPT_QSIZE: q.node_size = (unsigned int)v; break;
		case OPT_QOUT: q.outstanding = (unsigned int)v; break;
		case OPT_QPERMS: q.perms = (unsigned int)v; break;
		case OPT_QPATH: q.path_len = (unsigned int)v; break;
		case OPT_QTXNODES: q.trans_nodes = (unsigned int)v; break;
		case OPT_MAXOUT: maxout = v; break;
		case 'v': verbose++; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "xgnt-xenstored: unexpected argument \"%s\"\n", argv[optind]);
		usage(stderr);
		return 2;
	}

	if (xsv_server_init(&l.srv)) {
		fprintf(stderr, "xgnt-xenstored: out of memory\n");
		return 1;
	}
	l.srv.quota = q;
	l.srv.out_limit = maxout;
	l.srv.verbose = verbose;
	if (domains && add_domains(&l.srv, domains)) {
		fprintf(stderr, "xgnt-xenstored: bad --domains \"%s\" (want e.g. 1,2,3)\n",
			domains);
		status = 2;
		goto out;
	}

	/* The daemon: --xgnt-socket, else $XGNT_SOCKET, else xgntd's own
	 * default, tried quietly (standalone when nothing answers there). */
	dpath = xgnt_opt;
	if (!dpath && getenv("XGNT_SOCKET") && *getenv("XGNT_SOCKET"))
		dpath = getenv("XGNT_SOCKET");
	if (!dpath && xgntc_socket_path(ddefault, sizeof(ddefault)) == 0 &&
	    access(ddefault, F_OK) == 0)
		dpath = ddefault;
	if (dpath == ddefault) {
		l.dfd = xsv_domlink_open(dpath);
		if (l.dfd >= 0 && xsv_domlink_start(&l.srv, l.dfd, 5000)) {
			close(l.dfd);
			l.dfd = -1;
		}
		if (l.dfd < 0) {
			xsv_log(&l.srv, 1, "no xgntd at the default %s; standalone", dpath);
		} else {
			xsv_log(&l.srv, 1, "learning domains from xgntd at %s", dpath);
			l.dpath = dpath;
		}
	} else if (dpath) {
		l.dfd = xsv_domlink_open(dpath);
		if (l.dfd >= 0 && (ret = xsv_domlink_start(&l.srv, l.dfd, 5000))) {
			close(l.dfd);
			l.dfd = ret;
		}
		if (l.dfd < 0) {
			fprintf(stderr, "xgnt-xenstored: no xgntd at %s: %s%s\n", dpath,
				strerror(-l.dfd), xgnt_opt ? "" : "; running standalone");
			l.dfd = -1;
			if (xgnt_opt)
				goto out;
		} else {
			xsv_log(&l.srv, 1, "learning domains from xgntd at %s", dpath);
			l.dpath = dpath;
		}
	}

	sock_path = sock_opt ? strdup(sock_opt) : default_socket(&mode);
	if (!sock_path)
		goto out;
	if (!sock_opt)
		make_parent(sock_path, mode);
	l.lfd = xsv_listen(sock_path, &lock_fd);
	if (l.lfd < 0) {
		fprintf(stderr, "xgnt-xenstored: cannot listen on %s: %s\n", sock_path,
			l.lfd == -EADDRINUSE ? "another server answers there"
					     : strerror(-l.lfd));
		l.lfd = -1;
		goto out;
	}
	bound = true;
	ret = xsv_loop_setup(&l);
	if (ret) {
		fprintf(stderr, "xgnt-xenstored: setup: %s\n", strerror(-ret));
		goto out;
	}
	xsv_log(&l.srv, 1, "listening on %s", sock_path);
	ret = xsv_loop_run(&l);
	if (ret)
		fprintf(stderr, "xgnt-xenstored: %s\n", strerror(-ret));
	else
		status = 0;
out:
	xsv_loop_fini(&l);
	if (bound)
		unlink(sock_path);
	if (lock_fd >= 0)
		close(lock_fd);   /* after the socket is gone: the next may start */
	free(sock_path);
	xsv_server_fini(&l.srv);
	return status;
}
