/* SPDX-License-Identifier: MIT */
/*
 * xgnt demo --dump and --graph: each domain's grant table, active entries
 * and maptrack printed the way Xen's 'g' debug key does, and a DOT graph
 * of who grants what to whom, both from the introspection walks.
 */
#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "demo.h"

extern char **environ;

int demo_dump(struct xgnt_machine *m, FILE *out)
{
	return xgnt_machine_dump(m, out);
}

/* ---- the graph ------------------------------------------------------------------ */

#define GRAPH_DOMS 64                    /* the demo has two; room to spare */

struct edges {
	domid_t ids[GRAPH_DOMS];
	unsigned int nr;
	uint64_t grants[GRAPH_DOMS][GRAPH_DOMS];   /* [granter][grantee] */
	uint64_t maps[GRAPH_DOMS][GRAPH_DOMS];     /* [granter][mapper] */
	unsigned int cur;
};

static int idx(struct edges *e, domid_t id)
{
	for (unsigned int i = 0; i < e->nr; i++)
		if (e->ids[i] == id)
			return (int)i;
	if (e->nr == GRAPH_DOMS)
		return -1;
	e->ids[e->nr] = id;
	return (int)e->nr++;
}

static int count_grant(const struct xgnt_grant_info *gi, void *arg)
{
	struct edges *e = arg;
	int to = idx(e, gi->domid);

	if (to >= 0)
		e->grants[e->cur][to]++;
	return 0;
}

static int count_map(const struct xgnt_mapping_info *mi, void *arg)
{
	struct edges *e = arg;
	int from = idx(e, mi->domid);

	if (from >= 0)
		e->maps[from][e->cur]++;
	return 0;
}

static int collect(struct xgnt_domain *d, void *arg)
{
	struct edges *e = arg;
	int i = idx(e, xgnt_domain_id(d));

	if (i < 0)
		return 0;
	e->cur = (unsigned int)i;
	int rc = xgnt_domain_walk_grants(d, count_grant, e);
	return rc ? rc : xgnt_domain_walk_mappings(d, count_map, e);
}

static int write_dot(struct xgnt_machine *m, const char *path)
{
	struct edges *e = calloc(1, sizeof(*e));
	FILE *f;
	int rc;

	if (!e)
		return -ENOMEM;
	if ((rc = xgnt_machine_walk_domains(m, collect, e)) || !(f = fopen(path, "w"))) {
		rc = rc ? rc : -errno;
		free(e);
		return rc;
	}
	fprintf(f, "// xgnt demo: who grants what to whom (edges: granter -> grantee)\n"
		   "digraph xgnt {\n  rankdir=LR;\n  node [shape=box, style=rounded];\n");
	for (unsigned int i = 0; i < e->nr; i++)
		fprintf(f, "  d%u [label=\"d%u\\n%s\"];\n", e->ids[i], e->ids[i],
			e->ids[i] == DEMO_BACK_DOMID ? "blkback (privileged)" :
			e->ids[i] == DEMO_FRONT_DOMID ? "blkfront" : "domain");
	for (unsigned int a = 0; a < e->nr; a++)
		for (unsigned int b = 0; b < e->nr; b++)
			if (e->grants[a][b] || e->maps[a][b])
				fprintf(f, "  d%u -> d%u [label=\"%llu grants\\n%llu mapped\"];\n",
					e->ids[a], e->ids[b], (unsigned long long)e->grants[a][b],
					(unsigned long long)e->maps[a][b]);
	fprintf(f, "}\n");
	rc = fclose(f) ? -errno : 0;
	free(e);
	return rc;
}

static bool have_dot(void)
{
	const char *path = getenv("PATH");
	char buf[4096];

	for (const char *p = path ? path : "/usr/bin:/bin"; *p;) {
		const char *c = strchr(p, ':');
		size_t n = c ? (size_t)(c - p) : strlen(p);
		snprintf(buf, sizeof(buf), "%.*s/dot", (int)n, p);
		if (access(buf, X_OK) == 0)
			return true;
		p += n + (c ? 1 : 0);
	}
	return false;
}

int demo_graph(struct xgnt_machine *m, const char *path)
{
	size_t len = strlen(path);
	bool svg = len > 4 && !strcmp(path + len - 4, ".svg");
	char dotpath[4096];
	int rc, st;
	pid_t pid;

	if (!svg) {
		if ((rc = write_dot(m, path)))
			fprintf(stderr, "xgnt demo: --graph %s: %s\n", path, strerror(-rc));
		return rc;
	}
	snprintf(dotpath, sizeof(dotpath), "%.*s.dot", (int)(len - 4), path);
	if ((rc = write_dot(m, dotpath))) {
		fprintf(stderr, "xgnt demo: --graph %s: %s\n", dotpath, strerror(-rc));
		return rc;
	}
	if (!have_dot()) {
		fprintf(stderr, "xgnt demo: graphviz's dot not found: wrote %s only\n", dotpath);
		return 0;
	}
	char *argv[] = { "dot", "-Tsvg", "-o", (char *)path, dotpath, NULL };
	if ((rc = posix_spawnp(&pid, "dot", NULL, NULL, argv, environ)) ||
	    waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st)) {
		fprintf(stderr, "xgnt demo: dot -Tsvg failed for %s\n", path);
		return -EIO;
	}
	return 0;
}
