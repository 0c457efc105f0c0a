/* SPDX-License-Identifier: MIT */
/*
 * Event channel round trip: two guests joined by an interdomain channel,
 * one thread each running its vCPU's dispatch loop (xgnt_evtchn_wait).
 * The pinger notifies and waits for the echo; the echo handler notifies
 * back. Both ABIs. Floor: two threads playing ping-pong over two
 * eventfds (the upcall is an eventfd wake-up), with blocking reads, and
 * again with the system calls the dispatch loop makes per wake-up. With
 * the threads left to the scheduler, then all on one CPU. Every ping must
 * be echoed once and every echo seen once.
 */
#include "world.h"

#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <xgnt/evtchn.h>

#define TARGET  1.5
#define WAIT_MS 5000

struct ev_pair {
	struct xgnt_domain *d[2];
	struct xgnt_guest *g[2];       /* [0] pings, [1] echoes */
	evtchn_port_t port[2];
	atomic_uint echoes, replies;   /* handler calls on each side */
	atomic_bool stop;
	pthread_t echo_thread;
};

static void on_echo(struct xgnt_guest *g, evtchn_port_t port, void *data)
{
	struct ev_pair *e = data;
	int rc;

	if (atomic_load(&e->stop))
		return;
	atomic_fetch_add(&e->echoes, 1);
	rc = xgnt_evtchn_notify(g, port);
	BENCH_CHECK(rc == 0, "echo notify: %d", rc);
}

static void on_reply(struct xgnt_guest *g, evtchn_port_t port, void *data)
{
	struct ev_pair *e = data;

	(void)g;
	(void)port;
	atomic_fetch_add(&e->replies, 1);
}

/* The echoing guest's vCPU 0: its dispatch loop, until told to stop. */
static void *echo_main(void *arg)
{
	struct ev_pair *e = arg;

	while (!atomic_load(&e->stop)) {
		int n = xgnt_evtchn_wait(e->g[1], 0, WAIT_MS);

		BENCH_CHECK(n >= 0, "xgnt_evtchn_wait (echo): %d", n);
	}
	return NULL;
}

static void ev_setup(struct ev_pair *e, struct xgnt_machine *m, unsigned int flags)
{
	struct xgnt_domain_config c = { .ram_frames = 64, .ext_frames = 1024 };
	int rc;

	memset(e, 0, sizeof(*e));
	for (int i = 0; i < 2; i++) {
		c.domid = (domid_t)(1 + i);
		e->d[i] = xgnt_domain_create(m, &c);
		BENCH_CHECK(e->d[i], "xgnt_domain_create: errno %d", errno);
		e->g[i] = xgnt_guest_create_inproc(e->d[i]);
		BENCH_CHECK(e->g[i], "xgnt_guest_create_inproc: errno %d", errno);
		rc = xgnt_evtchn_init(e->g[i], flags);
		BENCH_CHECK(rc == 0, "xgnt_evtchn_init: %d", rc);
	}
	rc = xgnt_evtchn_alloc_unbound(e->g[1], 1, on_echo, e, &e->port[1]);
	BENCH_CHECK(rc == 0, "alloc_unbound: %d", rc);
	rc = xgnt_evtchn_bind_interdomain(e->g[0], 2, e->port[1], on_reply, e, &e->port[0]);
	BENCH_CHECK(rc == 0, "bind_interdomain: %d", rc);
	/* The bind raises the binder's own port once: take it before counting. */
	while (xgnt_evtchn_poll(e->g[0], 0) > 0 || xgnt_evtchn_poll(e->g[1], 0) > 0)
		;
	atomic_store(&e->replies, 0);
	atomic_store(&e->echoes, 0);
	BENCH_CHECK(pthread_create(&e->echo_thread, NULL, echo_main, e) == 0, "pthread_create");
}

static void ev_teardown(struct ev_pair *e)
{
	int rc;

	atomic_store(&e->stop, true);
	rc = xgnt_evtchn_notify(e->g[0], e->port[0]);
	BENCH_CHECK(rc == 0, "final notify: %d", rc);
	pthread_join(e->echo_thread, NULL);
	for (int i = 0; i < 2; i++) {
		xgnt_guest_destroy(e->g[i]);
		rc = xgnt_domain_destroy(e->d[i]);
		BENCH_CHECK(rc == 0, "xgnt_domain_destroy: %d", rc);
	}
}

/* iters round trips from the pinging guest's dispatch loop. */
static void ev_ping(struct ev_pair *e, unsigned int iters)
{
	unsigned int base = atomic_load(&e->replies);

	for (unsigned int i = 1; i <= iters; i++) {
		int rc = xgnt_evtchn_notify(e->g[0], e->port[0]);

		BENCH_CHECK(rc == 0, "notify: %d", rc);
		while (atomic_load(&e->replies) - base < i) {
			int n = xgnt_evtchn_wait(e->g[0], 0, WAIT_MS);

			BENCH_CHECK(n > 0 || atomic_load(&e->replies) - base >= i,
				    "no echo within %d ms (wait: %d)", WAIT_MS, n);
		}
	}
	BENCH_CHECK(atomic_load(&e->replies) - base == iters, "%u replies to %u pings",
		    atomic_load(&e->replies) - base, iters);
}

/* ---- the floor: eventfd ping-pong ------------------------------------------------- */

struct efd_pair {
	int ping, pong;
	bool dispatch;       /* wait as xgnt_evtchn_wait does, else a blocking read */
	atomic_bool stop;
	atomic_uint echoes;
	pthread_t t;
};

/* Take one wake-up from fd. The dispatch loop's way: read what is there
 * (nothing yet), poll(), read again: three system calls, not one. */
static void efd_take(const struct efd_pair *f, int fd)
{
	uint64_t v;

	if (!f->dispatch) {
		BENCH_CHECK(read(fd, &v, sizeof(v)) == sizeof(v), "eventfd read: errno %d", errno);
		return;
	}
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		if (read(fd, &v, sizeof(v)) == sizeof(v))
			return;
		BENCH_CHECK(errno == EAGAIN, "eventfd read: errno %d", errno);
		BENCH_CHECK(poll(&p, 1, -1) >= 0 || errno == EINTR, "poll: errno %d", errno);
	}
}

static void *efd_echo(void *arg)
{
	struct efd_pair *f = arg;
	uint64_t one = 1;

	for (;;) {
		efd_take(f, f->ping);
		if (atomic_load(&f->stop))
			return NULL;
		atomic_fetch_add(&f->echoes, 1);
		BENCH_CHECK(write(f->pong, &one, sizeof(one)) == sizeof(one),
			    "eventfd write: errno %d", errno);
	}
}

static void efd_ping(struct efd_pair *f, unsigned int iters)
{
	uint64_t one = 1;

	for (unsigned int i = 0; i < iters; i++) {
		BENCH_CHECK(write(f->ping, &one, sizeof(one)) == sizeof(one),
			    "eventfd write: errno %d", errno);
		efd_take(f, f->pong);
	}
}

static void efd_start(struct efd_pair *f, bool dispatch)
{
	int fl = EFD_CLOEXEC | (dispatch ? EFD_NONBLOCK : 0);

	memset(f, 0, sizeof(*f));
	f->dispatch = dispatch;
	f->ping = eventfd(0, fl);
	f->pong = eventfd(0, fl);
	BENCH_CHECK(f->ping >= 0 && f->pong >= 0, "eventfd: errno %d", errno);
	BENCH_CHECK(pthread_create(&f->t, NULL, efd_echo, f) == 0, "pthread_create");
}

static void efd_stop(struct efd_pair *f)
{
	uint64_t one = 1;

	atomic_store(&f->stop, true);
	BENCH_CHECK(write(f->ping, &one, sizeof(one)) == sizeof(one), "eventfd write");
	pthread_join(f->t, NULL);
	close(f->ping);
	close(f->pong);
}

static double timed_efd(struct efd_pair *f, unsigned int iters)
{
	int64_t t0 = bench_now();

	efd_ping(f, iters);
	return (double)(bench_now() - t0) / iters;
}

static void one_abi(struct efd_pair *fb, struct efd_pair *fd, unsigned int flags, const char *abi,
		    const char *where)
{
	unsigned int iters = bench_iters(20000, 500), warm = iters / 10 + 1;
	struct xgnt_machine *m = world_machine(4096, 0);
	unsigned int fb0 = atomic_load(&fb->echoes), fd0 = atomic_load(&fd->echoes);
	struct bench_result r, rd;
	struct ev_pair e;

	ev_setup(&e, m, flags);
	BENCH_CHECK(strcmp(abi, "FIFO") ||
		    xgnt_evtchn_abi(e.g[0]) == XGNT_EVTCHN_ABI_FIFO, "FIFO not offered");
	result_init(&r, "event", "eventfd ping-pong, blocking read",
		    "event channel round trip (%s, %s)", abi, where);
	result_init(&rd, "event", "eventfd ping-pong, read + poll + read",
		    "event channel round trip (%s, %s)", abi, where);
	snprintf(rd.note, sizeof(rd.note), "floor: the dispatch loop's calls (read, poll, read)");
	r.target = TARGET;
	ev_ping(&e, warm);
	efd_ping(fb, warm);
	efd_ping(fd, warm);
	for (unsigned int rep = 0; rep < bench_cfg.reps; rep++) {
		int64_t t0;

		samples_add(&r.fs, timed_efd(fb, iters));
		samples_add(&rd.fs, timed_efd(fd, iters));
		t0 = bench_now();
		ev_ping(&e, iters);
		samples_add(&r.xs, (double)(bench_now() - t0) / iters);
		rd.xs = r.xs;
		r.ops += iters;
	}
	rd.ops = r.ops;
	ev_teardown(&e);
	BENCH_CHECK(atomic_load(&e.echoes) == r.ops + warm, "%u echoes for %llu pings",
		    atomic_load(&e.echoes), (unsigned long long)r.ops + warm);
	BENCH_CHECK(atomic_load(&fb->echoes) - fb0 == r.ops + warm &&
		    atomic_load(&fd->echoes) - fd0 == r.ops + warm, "eventfd floors: echoes lost");
	bench_report(&r);
	bench_report(&rd);
	xgnt_machine_destroy(m);
}

/* Both ABIs, with the echo threads created by the calling thread (they
 * inherit its CPU affinity). */
static void all_abis(const char *where)
{
	struct efd_pair fb, fd;

	efd_start(&fb, false);
	efd_start(&fd, true);
	one_abi(&fb, &fd, 0, "FIFO", where);
	one_abi(&fb, &fd, XGNT_EVTCHN_FORCE_2L, "2-level", where);
	efd_stop(&fb);
	efd_stop(&fd);
}

void bench_event(void)
{
	cpu_set_t all, one;

	/*
	 * Threads left to the scheduler usually sit on different CPUs: each
	 * wake-up is then a cross-CPU one, which in a VM can cost tens of
	 * microseconds when the other vCPU has gone idle. On one CPU the
	 * round trip is two context switches and the software's own cost.
	 */
	all_abis("threads unpinned");
	BENCH_CHECK(pthread_getaffinity_np(pthread_self(), sizeof(all), &all) == 0,
		    "pthread_getaffinity_np");
	CPU_ZERO(&one);
	for (int c = 0; c < CPU_SETSIZE; c++) {
		if (CPU_ISSET(c, &all)) {
			CPU_SET(c, &one);
			break;
		}
	}
	BENCH_CHECK(pthread_setaffinity_np(pthread_self(), sizeof(one), &one) == 0,
		    "pthread_setaffinity_np");
	all_abis("one CPU");
	BENCH_CHECK(pthread_setaffinity_np(pthread_self(), sizeof(all), &all) == 0,
		    "pthread_setaffinity_np");
}
