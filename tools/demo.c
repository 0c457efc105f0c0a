/* SPDX-License-Identifier: MIT */
/*
 * xgnt demo: options, the machine with its two domains, one connection per
 * backend mode (frontend and backend each on their own thread), the
 * sampler and progress bar on the main thread, and the pread/pwrite floor.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "demo.h"

static const char demo_usage[] =
	"usage: xgnt demo [options]\n"
	"\n"
	"A frontend domain (1) writes a data set to a disk image served by a\n"
	"backend domain (0, privileged) over Xen's PV block protocol (blkif ring,\n"
	"grant references per segment, indirect descriptors above 11 pages, an\n"
	"event channel), reads it back and verifies every byte. Prints MB/s, IOPS\n"
	"and grant operations per mode and block size, beside direct pread/pwrite\n"
	"on the same file as the floor. Exit status 1 if any byte did not verify.\n"
	"\n"
	"options:\n"
	"  --size N            disk image size (k/M/G suffixes; default 64M)\n"
	"  --mode M            map | persistent | copy | all (default all)\n"
	"                        map: map and unmap per request (blkback)\n"
	"                        persistent: frontend reuses a granted pool, backend\n"
	"                          caches mappings by reference (feature-persistent)\n"
	"                        copy: GNTTABOP_copy to a bounce buffer (qdisk)\n"
	"  --queue-depth N     requests in flight, 1..%u (default 32)\n"
	"  --block-size LIST   comma-separated, powers of two 4k..1M (default 4k,64k)\n"
	"  --json              machine-readable results on stdout (no table)\n"
	"  --dump              Xen-style dump of the grant tables at the end of the\n"
	"                      last mode's run (persistent if run), mappings live\n"
	"  --graph FILE        who grants what to whom, as DOT (FILE.svg: rendered\n"
	"                      with graphviz's dot if installed, DOT beside it)\n"
	"  -h, --help          this text\n";

#define MAX_QD __CONST_RING_SIZE(blkif, DEMO_PAGE)

double demo_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* ---- the xenstore stand-in ----------------------------------------------- */

void store_set(struct demo_ctx *c, enum demo_state *who, enum demo_state st)
{
	pthread_mutex_lock(&c->store.lock);
	*who = st;
	pthread_cond_broadcast(&c->store.cond);
	pthread_mutex_unlock(&c->store.lock);
}

/* Waits for *who >= st; an error ends the wait early, except for the
 * closing states every side always reaches. */
int store_wait(struct demo_ctx *c, enum demo_state *who, enum demo_state st)
{
	int rc = 0;

	pthread_mutex_lock(&c->store.lock);
	while (*who < st) {
		if (c->store.error && st < ST_CLOSING) {
			rc = c->store.error;
			break;
		}
		pthread_cond_wait(&c->store.cond, &c->store.lock);
	}
	pthread_mutex_unlock(&c->store.lock);
	return rc;
}

void store_fail(struct demo_ctx *c, int err)
{
	pthread_mutex_lock(&c->store.lock);
	if (!c->store.error)
		c->store.error = err;
	pthread_cond_broadcast(&c->store.cond);
	pthread_mutex_unlock(&c->store.lock);
}

/* ---- options ------------------------------------------------------------------ */

__attribute__((format(printf, 1, 2))) static int bad(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "xgnt demo: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'xgnt demo --help'.\n", stderr);
	return -1;
}

static int parse_bs(struct demo_opts *o, const char *arg)
{
	char *copy = strdup(arg), *save = NULL;
	int rc = 0;

	if (!copy)
		return -1;
	o->nr_bs = 0;
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		uint64_t v;

		if (cli_parse_size(t, &v)) {
			rc = bad("bad block size '%s'", t);
			break;
		}
		if (v < DEMO_PAGE || v > DEMO_MAX_BS || (v & (v - 1))) {
			rc = bad("block size '%s' out of range (powers of two, 4k..1M)", t);
			break;
		}
		if (o->nr_bs == DEMO_MAX_BSIZES) {
			rc = bad("too many block sizes in '%s'", arg);
			break;
		}
		o->bs[o->nr_bs++] = (uint32_t)v;
	}
	if (!rc && !o->nr_bs)
		rc = bad("empty block size list '%s'", arg);
	free(copy);
	return rc;
}

static int parse_opts(struct demo_opts *o, int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "size", required_argument, NULL, 's' },
		{ "mode", required_argument, NULL, 'm' },
		{ "queue-depth", required_argument, NULL, 'q' },
		{ "block-size", required_argument, NULL, 'b' },
		{ "json", no_argument, NULL, 'j' },
		{ "dump", no_argument, NULL, 'd' },
		{ "graph", required_argument, NULL, 'g' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	unsigned long v;
	int ch;

	*o = (struct demo_opts){ .size = 64ull << 20, .queue_depth = 32, .nr_bs = 2,
				 .bs = { 4096, 65536 }, .modes = { true, true, true },
				 .indirect = true };
	opterr = 0;
	optind = 1;
	while ((ch = getopt_long(argc, argv, ":h", lopts, NULL)) != -1) {
		switch (ch) {
		case 's':
			if (cli_parse_size(optarg, &o->size))
				return bad("bad size '%s'", optarg);
			if (o->size < DEMO_PAGE || o->size > (64ull << 30))
				return bad("size '%s' out of range (4k..64G)", optarg);
			break;
		case 'm':
			memset(o->modes, 0, sizeof(o->modes));
			if (!strcmp(optarg, "all"))
				o->modes[MODE_MAP] = o->modes[MODE_PERSISTENT] = o->modes[MODE_COPY] = true;
			else if (!strcmp(optarg, "map"))
				o->modes[MODE_MAP] = true;
			else if (!strcmp(optarg, "persistent"))
				o->modes[MODE_PERSISTENT] = true;
			else if (!strcmp(optarg, "copy"))
				o->modes[MODE_COPY] = true;
			else
				return bad("unknown mode '%s' (map, persistent, copy, all)", optarg);
			break;
		case 'q':
			if (cli_parse_uint(optarg, 1, MAX_QD, &v))
				return bad("bad queue depth '%s' (1..%u)", optarg, (unsigned)MAX_QD);
			o->queue_depth = (unsigned int)v;
			break;
		case 'b':
			if (parse_bs(o, optarg))
				return -1;
			break;
		case 'j': o->json = true; break;
		case 'd': o->dump = true; break;
		case 'g': o->graph = optarg; break;
		case 'h':
			printf(demo_usage, (unsigned)MAX_QD);
			return 1;
		case ':':
			return bad("option '%s' needs a value", argv[optind - 1]);
		default:
			return bad("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return bad("unexpected argument '%s'", argv[optind]);
	for (unsigned int i = 0; i < o->nr_bs; i++)
		if (o->size < o->bs[i] || o->size % o->bs[i])
			return bad("size must be a multiple of every block size (%u)", o->bs[i]);
	return 0;
}

/* ---- the sampler and progress bar ---------------------------------------------- */

static void peak(int64_t *p, int64_t v)
{
	if (v > *p)
		*p = v;
}

static void sample(struct demo_ctx *c)
{
	struct xgnt_table_info fi, bi;
	struct demo_result *r = &c->res[atomic_load(&c->cur_bs)];

	if (xgnt_domain_table_info(c->fdom, &fi) || xgnt_domain_table_info(c->bdom, &bi))
		return;
	peak(&r->front_active, fi.nr_active);
	peak(&r->back_mappings, bi.nr_mappings);
	peak(&r->back_active, bi.nr_active);
}

struct progress {
	bool on;
	uint64_t total, base;
	double last;
};

static void progress_draw(struct progress *p, struct demo_ctx *c, bool force)
{
	double now = demo_now();

	if (!p->on || (!force && now - p->last < 0.1))
		return;
	p->last = now;
	uint64_t done = p->base + atomic_load(&c->fc.bytes_done);
	unsigned int pct = p->total ? (unsigned int)(done * 100 / p->total) : 100, w = 30;
	char bar[31];
	for (unsigned int i = 0; i < w; i++)
		bar[i] = i < pct * w / 100 ? '#' : '.';
	bar[w] = 0;
	fprintf(stderr, "\r[%s] %3u%%  %-10s %5uk %-5s", bar, pct > 100 ? 100 : pct,
		demo_mode_name(c->mode), c->o->bs[atomic_load(&c->cur_bs)] / 1024,
		atomic_load(&c->cur_dir) ? "read" : "write");
}

/* ---- one mode ------------------------------------------------------------------ */

static int run_mode(struct demo_ctx *c, struct progress *pg, bool want_pause)
{
	pthread_t ft, bt;
	int rc;

	if ((rc = pthread_create(&bt, NULL, demo_back_main, c)))
		return -rc;
	if ((rc = pthread_create(&ft, NULL, demo_front_main, c))) {
		store_fail(c, -rc);
		store_set(c, &c->store.front, ST_CLOSING);
		pthread_join(bt, NULL);
		return -rc;
	}
	while (!atomic_load(&c->front_done)) {
		sample(c);
		progress_draw(pg, c, false);
		if (want_pause) {
			pthread_mutex_lock(&c->store.lock);
			bool q = c->store.quiescent;
			pthread_mutex_unlock(&c->store.lock);
			if (q) {
				if (c->o->dump && demo_dump(c->m, stdout))
					store_fail(c, -EIO);
				if (c->o->graph && demo_graph(c->m, c->o->graph))
					store_fail(c, -EIO);
				want_pause = false;
				pthread_mutex_lock(&c->store.lock);
				c->store.resume = true;
				pthread_cond_broadcast(&c->store.cond);
				pthread_mutex_unlock(&c->store.lock);
			}
		}
		usleep(2000);
	}
	pthread_join(ft, NULL);
	pthread_join(bt, NULL);
	pg->base += atomic_load(&c->fc.bytes_done);
	return c->store.error;
}

/* ---- the floor: pread/pwrite of the same blocks, same data, same checks ---- */

static int floor_run(const struct demo_opts *o, int fd, uint32_t bs, struct demo_floor *f)
{
	uint64_t nblocks = o->size / bs, seed = demo_seed(MODE_NR, bs);
	uint8_t *buf = aligned_alloc(DEMO_PAGE, (size_t)bs * o->queue_depth);
	uint64_t *csum = calloc(nblocks, sizeof(*csum));
	int rc = 0;

	f->bs = bs;
	if (!buf || !csum) {
		rc = -ENOMEM;
		goto out;
	}
	double t0 = demo_now();
	for (uint64_t b = 0; b < nblocks; b++) {
		uint8_t *p = buf + (size_t)(b % o->queue_depth) * bs;
		csum[b] = demo_fill(p, bs, seed, b);
		if (pwrite(fd, p, bs, (off_t)(b * bs)) != (ssize_t)bs) {
			rc = -EIO;
			goto out;
		}
	}
	double t1 = demo_now();
	for (uint64_t b = 0; b < nblocks; b++) {
		uint8_t *p = buf + (size_t)(b % o->queue_depth) * bs;
		uint64_t badb = 0;
		if (pread(fd, p, bs, (off_t)(b * bs)) != (ssize_t)bs) {
			rc = -EIO;
			goto out;
		}
		if (demo_check(p, bs, seed, b, &badb) != csum[b] && !badb)
			badb = bs;
		f->mismatches += badb;
	}
	double t2 = demo_now();
	f->write = (struct demo_pass){ t1 - t0, nblocks, nblocks * bs };
	f->read = (struct demo_pass){ t2 - t1, nblocks, nblocks * bs };
out:
	free(buf);
	free(csum);
	return rc;
}

/* ---- the demo ------------------------------------------------------------------ */

static int open_image(uint64_t size)
{
	const char *dir = getenv("TMPDIR");
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/xgnt-demo-XXXXXX", dir && *dir ? dir : "/tmp");
	if ((fd = mkstemp(path)) < 0)
		return -errno;
	unlink(path);
	if (ftruncate(fd, (off_t)size)) {
		int e = -errno;
		close(fd);
		return e;
	}
	return fd;
}

int demo_main(int argc, char **argv)
{
	struct demo_opts o;
	struct demo_result res[MODE_NR * DEMO_MAX_BSIZES];
	struct demo_floor fl[DEMO_MAX_BSIZES] = { 0 };
	unsigned int nres = 0, nmodes = 0, last_mode = 0;
	struct xgnt_machine *m = NULL;
	struct xgnt_domain *bd = NULL, *fd_ = NULL;
	struct xgnt_guest *bg = NULL, *fg = NULL;
	int rc = parse_opts(&o, argc, argv), status = 1, fd = -1;

	if (rc)
		return rc > 0 ? 0 : EXIT_USAGE;
	for (unsigned int i = 0; i < MODE_NR; i++)
		if (o.modes[i]) {
			nmodes++;
			last_mode = i;
		}
	unsigned int pause_mode = o.modes[MODE_PERSISTENT] ? MODE_PERSISTENT : last_mode;

	uint32_t maxbs = 0;
	for (unsigned int i = 0; i < o.nr_bs; i++)
		maxbs = o.bs[i] > maxbs ? o.bs[i] : maxbs;
	uint32_t pages = maxbs / DEMO_PAGE;
	uint32_t need = o.queue_depth * (pages + BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST) + 1024;

	if ((fd = open_image(o.size)) < 0) {
		fprintf(stderr, "xgnt demo: cannot create the disk image: %s\n", strerror(-fd));
		return 1;
	}
	struct xgnt_domain_config bc = { .domid = DEMO_BACK_DOMID, .privileged = true,
					 .ram_frames = 16384 };
	struct xgnt_domain_config fc = { .domid = DEMO_FRONT_DOMID,
					 .ram_frames = need > 16384 ? need : 16384 };
	if (!(m = xgnt_machine_create(NULL)) || !(bd = xgnt_domain_create(m, &bc)) ||
	    !(fd_ = xgnt_domain_create(m, &fc)) || !(bg = xgnt_guest_create_inproc(bd)) ||
	    !(fg = xgnt_guest_create_inproc(fd_))) {
		fprintf(stderr, "xgnt demo: cannot create the machine: %s\n", strerror(errno));
		goto out;
	}
	if ((rc = xgnt_gnttab_init(bg, 0)) || (rc = xgnt_gnttab_init(fg, 0)) ||
	    (rc = xgnt_evtchn_init(bg, 0)) || (rc = xgnt_evtchn_init(fg, 0))) {
		fprintf(stderr, "xgnt demo: guest setup: %s\n", strerror(-rc));
		goto out;
	}

	struct progress pg = { .on = isatty(STDERR_FILENO),
			       .total = (uint64_t)nmodes * o.nr_bs * 2 * o.size };
	bool failed = false;
	for (unsigned int md = 0; md < MODE_NR && !failed; md++) {
		if (!o.modes[md])
			continue;
		struct demo_ctx *c = calloc(1, sizeof(*c));
		if (!c)
			goto out;
		*c = (struct demo_ctx){ .o = &o, .m = m, .front = fg, .back = bg, .fdom = fd_,
					.bdom = bd, .fd = fd, .mode = md,
					.pause_at_end = (o.dump || o.graph) && md == pause_mode };
		pthread_mutex_init(&c->store.lock, NULL);
		pthread_cond_init(&c->store.cond, NULL);
		if ((rc = run_mode(c, &pg, c->pause_at_end))) {
			fprintf(stderr, "%sxgnt demo: %s mode failed: %s\n", pg.on ? "\n" : "",
				demo_mode_name(md), strerror(-rc));
			failed = true;
		}
		for (unsigned int i = 0; i < o.nr_bs && !failed; i++)
			res[nres++] = c->res[i];
		pthread_mutex_destroy(&c->store.lock);
		pthread_cond_destroy(&c->store.cond);
		free(c);
	}
	if (pg.on)
		fprintf(stderr, "\r%-70s\r", "");
	if (failed)
		goto out;
	for (unsigned int i = 0; i < o.nr_bs; i++)
		if ((rc = floor_run(&o, fd, o.bs[i], &fl[i]))) {
			fprintf(stderr, "xgnt demo: floor: %s\n", strerror(-rc));
			goto out;
		}

	char why[256];
	if (xgnt_machine_check(m, 0, why, sizeof(why))) {
		fprintf(stderr, "xgnt demo: machine invariant check failed: %s\n", why);
		goto out;
	}
	if (o.json)
		demo_report_json(&o, res, nres, fl, o.nr_bs);
	else
		demo_report_table(&o, res, nres, fl, o.nr_bs);
	status = 0;
	for (unsigned int i = 0; i < nres; i++)
		if (res[i].mismatches || res[i].bad_responses)
			status = 1;
	for (unsigned int i = 0; i < o.nr_bs; i++)
		if (fl[i].mismatches)
			status = 1;
	if (status)
		fprintf(stderr, "xgnt demo: VERIFY FAILED: data read back differs from what was written\n");
out:
	if (fg)
		xgnt_guest_destroy(fg);
	if (bg)
		xgnt_guest_destroy(bg);
	if (m)
		xgnt_machine_destroy(m);
	if (fd >= 0)
		close(fd);
	return status;
}
