/* SPDX-License-Identifier: MIT */
/*
 * No lost events, guest side: two guests with two vCPUs each, one thread
 * per vCPU running the dispatch loop and, between dispatches, sending on
 * its outgoing channels and stirring its incoming ones (mask and unmask,
 * EVTCHNOP_bind_vcpu to the other vCPU, close and reopen). Every
 * notification is numbered before it is sent; a handler records the
 * number it finds when it starts. No loss means: for every notification,
 * some handler starts after it was numbered and sees it (coalescing
 * allowed), within a deadline. Also: no handler call after its unbind
 * returned. Both ABIs.
 */
#include "harness.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <xgnt/evtchn.h>
#include <xgnt/guest.h>

#define NR_CHAN      8          /* 4 each way */
#define STORM_MS     1500
#define DEADLINE_MS  3000
#define MAX_BINDINGS 16384      /* per channel, over the whole run */

/* One binding of a channel's receiving end: the handler's data. */
struct binding {
	struct chan *ch;
	atomic_int dead;            /* set once its unbind returned */
};

struct chan {
	int from, to;               /* guest indexes */
	evtchn_port_t sport;        /* sender's port: never closed */
	_Atomic evtchn_port_t rport;
	atomic_uint sent, seen;     /* numbered before sending; seen by a handler */
	int64_t sent_at;            /* sender's thread only */
	bool masked;                /* stirring thread only */
	struct binding *b[MAX_BINDINGS];
	atomic_int nb;
};

struct storm {
	struct xgnt_machine *m;
	struct xgnt_domain *d[2];
	struct xgnt_guest *g[2];
	struct chan ch[NR_CHAN];
	atomic_int phase;           /* 0 storm, 1 settle, 2 stop */
	atomic_int settling;        /* threads that saw phase 1: they send no more */
	atomic_int lost, late_calls, failures;
	atomic_uint notifies, masks, moves, reopens, calls;
};

struct vthread {
	struct storm *st;
	int gi;
	unsigned int vcpu;
	unsigned int seed;
	pthread_t t;
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct storm *the_storm;

static void on_recv(struct xgnt_guest *g, evtchn_port_t port, void *data)
{
	struct binding *b = data;
	struct chan *ch = b->ch;
	unsigned int n = atomic_load(&ch->sent), s = atomic_load(&ch->seen);

	(void)g;
	(void)port;
	if (atomic_load(&b->dead))
		atomic_fetch_add(&the_storm->late_calls, 1);
	atomic_fetch_add(&the_storm->calls, 1);
	while (s < n && !atomic_compare_exchange_weak(&ch->seen, &s, n))
		;
}

static void on_sender_port(struct xgnt_guest *g, evtchn_port_t port, void *data)
{
	(void)g;
	(void)port;
	(void)data;
}

static struct binding *new_binding(struct chan *ch)
{
	int i = atomic_fetch_add(&ch->nb, 1);
	struct binding *b;

	assert_true(i < MAX_BINDINGS);
	b = calloc(1, sizeof(*b));
	assert_non_null(b);
	b->ch = ch;
	ch->b[i] = b;
	return b;
}

static struct binding *cur_binding(struct chan *ch)
{
	return ch->b[atomic_load(&ch->nb) - 1];
}

static void note_failure(struct storm *st, const char *what, long rc)
{
	fprintf(stderr, "storm: %s: %ld\n", what, rc);
	atomic_fetch_add(&st->failures, 1);
}

/* Channels this thread sends on, and those whose receiving end it stirs. */
static bool sends(const struct vthread *vt, int c)
{
	return vt->st->ch[c].from == vt->gi && (unsigned int)(c / 2) % 2 == vt->vcpu;
}

static bool stirs(const struct vthread *vt, int c)
{
	return vt->st->ch[c].to == vt->gi && (unsigned int)c % 2 == vt->vcpu;
}

static void send_step(struct vthread *vt, struct chan *ch, bool storm)
{
	struct storm *st = vt->st;
	unsigned int sent = atomic_load(&ch->sent);
	unsigned int burst, i;

	if (atomic_load(&ch->seen) < sent) {
		if (now_ms() - ch->sent_at > DEADLINE_MS) {
			fprintf(stderr, "storm: lost: %u not seen (seen %u)\n", sent,
				atomic_load(&ch->seen));
			atomic_fetch_add(&st->lost, 1);
			ch->sent_at = now_ms();
		}
		return;
	}
	if (!storm)
		return;
	/* A burst: the notifications may coalesce. */
	burst = 1 + rand_r(&vt->seed) % 3;
	for (i = 0; i < burst; i++) {
		long rc;

		atomic_store(&ch->sent, sent + i + 1);
		ch->sent_at = now_ms();
		rc = xgnt_evtchn_notify(st->g[vt->gi], ch->sport);
		if (rc)
			note_failure(st, "notify", rc);
		atomic_fetch_add(&st->notifies, 1);
	}
}

static void stir_step(struct vthread *vt, struct chan *ch)
{
	struct storm *st = vt->st;
	struct xgnt_guest *g = st->g[vt->gi];
	evtchn_port_t p = atomic_load(&ch->rport), np;
	struct binding *old, *b;
	long rc;

	if (ch->masked) {
		ch->masked = false;
		if ((rc = xgnt_evtchn_unmask(g, p)))
			note_failure(st, "unmask", rc);
		return;
	}
	switch (rand_r(&vt->seed) % 8) {
	case 0:
		ch->masked = true;
		if ((rc = xgnt_evtchn_mask(g, p)))
			note_failure(st, "mask", rc);
		atomic_fetch_add(&st->masks, 1);
		break;
	case 1:
		if ((rc = xgnt_evtchn_bind_vcpu(g, p, rand_r(&vt->seed) % 2)))
			note_failure(st, "bind_vcpu", rc);
		atomic_fetch_add(&st->moves, 1);
		break;
	case 2:
		if (atomic_load(&ch->nb) >= MAX_BINDINGS)
			break;
		/* Close and reopen: the peer's port turns unbound meanwhile,
		 * and the new binding is raised at once (Xen). */
		old = cur_binding(ch);
		if ((rc = xgnt_evtchn_unbind(g, p)))
			note_failure(st, "unbind", rc);
		atomic_store(&old->dead, 1);
		b = new_binding(ch);
		rc = xgnt_evtchn_bind_interdomain(g, xgnt_domain_id(st->d[ch->from]), ch->sport,
						  on_recv, b, &np);
		if (rc)
			note_failure(st, "rebind", rc);
		atomic_store(&ch->rport, np);
		atomic_fetch_add(&st->reopens, 1);
		break;
	default:
		break;   /* leave it alone this time */
	}
}

static void *vcpu_main(void *arg)
{
	struct vthread *vt = arg;
	struct storm *st = vt->st;
	struct xgnt_guest *g = st->g[vt->gi];
	bool settling = false;
	int c, phase;

	assert_int_equal(xgnt_guest_bind(g, vt->vcpu), 0);
	while ((phase = atomic_load(&st->phase)) < 2) {
		int n;

		if (phase && !settling) {
			settling = true;
			atomic_fetch_add(&st->settling, 1);
		}
		n = xgnt_evtchn_wait(g, vt->vcpu, 1);
		if (n < 0)
			note_failure(st, "wait", n);
		for (c = 0; c < NR_CHAN; c++) {
			struct chan *ch = &st->ch[c];

			if (sends(vt, c))
				send_step(vt, ch, phase == 0);
			if (stirs(vt, c)) {
				if (phase == 0)
					stir_step(vt, ch);
				else if (ch->masked)
					stir_step(vt, ch);   /* unmasks */
			}
		}
	}
	xgnt_guest_bind(NULL, 0);
	return NULL;
}

static void storm_run(enum xgnt_domain_type ta, enum xgnt_domain_type tb, unsigned int flags)
{
	struct storm *st = calloc(1, sizeof(*st));
	struct vthread vt[4];
	int64_t end;
	int i, c;

	assert_non_null(st);
	the_storm = st;
	st->m = t_machine();
	st->d[0] = t_domain(st->m, 1, ta, false);
	st->d[1] = t_domain(st->m, 2, tb, false);
	for (i = 0; i < 2; i++) {
		st->g[i] = xgnt_guest_create_inproc(st->d[i]);
		assert_non_null(st->g[i]);
		assert_int_equal(xgnt_evtchn_init(st->g[i], flags), 0);
		assert_int_equal(xgnt_evtchn_abi(st->g[i]), flags & XGNT_EVTCHN_FORCE_2L
				 ? XGNT_EVTCHN_ABI_2L : XGNT_EVTCHN_ABI_FIFO);
	}
	for (c = 0; c < NR_CHAN; c++) {
		struct chan *ch = &st->ch[c];
		evtchn_port_t rp;

		ch->from = c < NR_CHAN / 2 ? 0 : 1;
		ch->to = !ch->from;
		assert_int_equal(xgnt_evtchn_alloc_unbound(st->g[ch->from],
							   xgnt_domain_id(st->d[ch->to]),
							   on_sender_port, NULL, &ch->sport), 0);
		assert_int_equal(xgnt_evtchn_bind_interdomain(st->g[ch->to],
							      xgnt_domain_id(st->d[ch->from]),
							      ch->sport, on_recv, new_binding(ch),
							      &rp), 0);
		atomic_store(&ch->rport, rp);
	}
	for (i = 0; i < 4; i++) {
		vt[i] = (struct vthread){ .st = st, .gi = i / 2, .vcpu = (unsigned int)i % 2,
					  .seed = 1234u + (unsigned int)i };
		assert_int_equal(pthread_create(&vt[i].t, NULL, vcpu_main, &vt[i]), 0);
	}
	end = now_ms() + STORM_MS;
	while (now_ms() < end)
		usleep(10000);
	/* Settle: once every thread has stopped sending and stirring,
	 * everything sent must be seen. */
	atomic_store(&st->phase, 1);
	end = now_ms() + DEADLINE_MS;
	while (atomic_load(&st->settling) < 4 && now_ms() < end)
		usleep(1000);
	assert_int_equal(atomic_load(&st->settling), 4);
	for (c = 0; c < NR_CHAN && now_ms() < end; ) {
		if (atomic_load(&st->ch[c].seen) >= atomic_load(&st->ch[c].sent))
			c++;
		else
			usleep(1000);
	}
	atomic_store(&st->phase, 2);
	for (i = 0; i < 4; i++)
		pthread_join(vt[i].t, NULL);

	print_message("storm: %u notifies, %u handler calls, %u masks, %u moves, %u reopens\n",
		      atomic_load(&st->notifies), atomic_load(&st->calls), atomic_load(&st->masks),
		      atomic_load(&st->moves), atomic_load(&st->reopens));
	for (c = 0; c < NR_CHAN; c++) {
		if (atomic_load(&st->ch[c].seen) < atomic_load(&st->ch[c].sent))
			fail_msg("channel %d: sent %u, seen %u", c, atomic_load(&st->ch[c].sent),
				 atomic_load(&st->ch[c].seen));
	}
	assert_int_equal(atomic_load(&st->lost), 0);
	assert_int_equal(atomic_load(&st->late_calls), 0);
	assert_int_equal(atomic_load(&st->failures), 0);
	assert_true(atomic_load(&st->notifies) > 100);
	assert_true(atomic_load(&st->reopens) > 5);
	assert_true(atomic_load(&st->moves) > 5);

	for (i = 0; i < 2; i++)
		xgnt_guest_destroy(st->g[i]);
	xgnt_machine_destroy(st->m);
	for (c = 0; c < NR_CHAN; c++)
		for (i = 0; i < atomic_load(&st->ch[c].nb); i++)
			free(st->ch[c].b[i]);
	free(st);
}

static void test_storm_fifo(void **state)
{
	(void)state;
	storm_run(XGNT_DOMAIN_HVM, XGNT_DOMAIN_PV, 0);
}

static void test_storm_2l(void **state)
{
	(void)state;
	storm_run(XGNT_DOMAIN_HVM, XGNT_DOMAIN_PV, XGNT_EVTCHN_FORCE_2L);
}

static void test_storm_arm(void **state)
{
	(void)state;
	storm_run(XGNT_DOMAIN_ARM, XGNT_DOMAIN_ARM, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_storm_fifo),
		cmocka_unit_test(test_storm_2l),
		cmocka_unit_test(test_storm_arm),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
