// SPDX-License-Identifier: MIT
/*
 * Transactions (isolation, EAGAIN on conflict, queued watch events) and
 * watches (fire once up front, descendants, relative paths, permissions,
 * special nodes).
 */
#include "xs_client.h"

static struct xsv_server S;

static int setup(void **state)
{
	assert_int_equal(xsv_server_init(&S), 0);
	assert_int_equal(xsv_domain_add(&S, 1, false), 0);
	assert_int_equal(xsv_domain_add(&S, 2, false), 0);
	return 0;
}

static int teardown(void **state)
{
	xsv_server_fini(&S);
	return 0;
}

static void test_tx_isolation_commit(void **state)
{
	struct cl *a = cl_new(&S, 0), *b = cl_new(&S, 0);
	char out[4096];
	uint32_t t = 0;

	assert_int_equal(xs_w(a, 0, "/x", "0"), 0);
	assert_int_equal(xs_tx_start(a, &t), 0);
	assert_true(t != 0);
	assert_int_equal(xs_w(a, t, "/x", "1"), 0);
	assert_int_equal(xs_w(a, t, "/new/deep", "n"), 0);
	/* invisible outside until commit, visible inside */
	assert_int_equal(xs_r(b, 0, "/x", out), 0);
	assert_string_equal(out, "0");
	assert_int_equal(xs_r(b, 0, "/new/deep", out), ENOENT);
	assert_int_equal(xs_r(a, t, "/x", out), 0);
	assert_string_equal(out, "1");
	assert_int_equal(xs_tx_end(a, t, true), 0);
	assert_int_equal(xs_r(b, 0, "/x", out), 0);
	assert_string_equal(out, "1");
	assert_int_equal(xs_r(b, 0, "/new/deep", out), 0);
	assert_string_equal(out, "n");
	/* the id is gone after the end */
	assert_int_equal(xs_r(a, t, "/x", out), ENOENT);
	assert_int_equal(xs_tx_end(a, t, true), ENOENT);
	cl_free(a);
	cl_free(b);
}

static void test_tx_conflict_eagain(void **state)
{
	struct cl *a = cl_new(&S, 0), *b = cl_new(&S, 0);
	char out[4096];
	uint32_t t = 0;

	assert_int_equal(xs_w(a, 0, "/ctr", "5"), 0);
	/* read-modify-write raced by another writer */
	assert_int_equal(xs_tx_start(a, &t), 0);
	assert_int_equal(xs_r(a, t, "/ctr", out), 0);
	assert_int_equal(xs_w(b, 0, "/ctr", "6"), 0);
	assert_int_equal(xs_w(a, t, "/ctr", "after-5"), 0);
	assert_int_equal(xs_tx_end(a, t, true), EAGAIN);
	assert_int_equal(xs_r(b, 0, "/ctr", out), 0);
	assert_string_equal(out, "6");
	/* a conflict on a node the transaction only read */
	assert_int_equal(xs_tx_start(a, &t), 0);
	assert_int_equal(xs_r(a, t, "/ctr", out), 0);
	assert_int_equal(xs_w(a, t, "/elsewhere", "z"), 0);
	assert_int_equal(XS_ONE(b, XS_RM, 0, "/ctr"), 0);
	assert_int_equal(xs_tx_end(a, t, true), EAGAIN);
	assert_int_equal(xs_r(b, 0, "/elsewhere", out), ENOENT);
	/* unrelated writes do not conflict (creating a child changes the
	 * parent, so a new top-level node would: both would change "/") */
	assert_int_equal(xs_w(b, 0, "/p", ""), 0);
	assert_int_equal(xs_w(b, 0, "/u", ""), 0);
	assert_int_equal(xs_tx_start(a, &t), 0);
	assert_int_equal(xs_w(a, t, "/p/q", "1"), 0);
	assert_int_equal(xs_w(b, 0, "/u/v", "1"), 0);
	assert_int_equal(xs_tx_end(a, t, true), 0);
	/* but both creating children of one parent do */
	assert_int_equal(xs_tx_start(a, &t), 0);
	assert_int_equal(xs_w(a, t, "/u/mine", "1"), 0);
	assert_int_equal(xs_w(b, 0, "/u/theirs", "1"), 0);
	assert_int_equal(xs_tx_end(a, t, true), EAGAIN);
	assert_int_equal(xs_r(b, 0, "/p/q", out), 0);
	/* abort discards */
	assert_int_equal(xs_tx_start(a, &t), 0);
	assert_int_equal(XS_ONE(a, XS_RM, t, "/p"), 0);
	assert_int_equal(xs_tx_end(a, t, false), 0);
	assert_int_equal(xs_r(b, 0, "/p/q", out), 0);
	/* RM inside a transaction commits */
	assert_int_equal(xs_tx_start(a, &t), 0);
	assert_int_equal(XS_ONE(a, XS_RM, t, "/p"), 0);
	assert_int_equal(xs_r(a, t, "/p/q", out), ENOENT);
	assert_int_equal(xs_r(b, 0, "/p/q", out), 0);
	assert_int_equal(xs_tx_end(a, t, true), 0);
	assert_int_equal(xs_r(b, 0, "/p", out), ENOENT);
	cl_free(a);
	cl_free(b);
}

static void test_tx_errors(void **state)
{
	struct cl *a = cl_new(&S, 0), *b = cl_new(&S, 0);
	char out[4096];
	uint32_t t = 0;

	assert_int_equal(xs_r(a, 12345, "/x", out), ENOENT);
	assert_int_equal(xs_tx_end(a, 0, true), ENOENT);
	assert_int_equal(xs_tx_start(a, &t), 0);
	/* another connection cannot use it */
	assert_int_equal(xs_r(b, t, "/local", out), ENOENT);
	assert_int_equal(cl_call(a, XS_TRANSACTION_START, t, "", 1, out, NULL), EBUSY);
	assert_int_equal(cl_call_ok(a, XS_TRANSACTION_END, t, "X", 2), EINVAL);
	assert_int_equal(cl_call_ok(a, XS_TRANSACTION_END, t, "T", 1), EINVAL);
	/* still open after the bad ends */
	assert_int_equal(xs_tx_end(a, t, false), 0);
	/* a transaction that saw nothing commits (found by fuzzing: UB) */
	assert_int_equal(xs_tx_start(a, &t), 0);
	assert_int_equal(xs_w(a, t, "/bad//path", "x"), EINVAL);
	assert_int_equal(xs_tx_end(a, t, true), 0);
	/* set_perms inside a transaction (libxenvchan does this) */
	assert_int_equal(xs_tx_start(a, &t), 0);
	assert_int_equal(xs_w(a, t, "/v/ring-ref", "8"), 0);
	assert_int_equal(xs_setperms(a, t, "/v/ring-ref", "n0 r1"), 0);
	assert_int_equal(xs_getperms(b, 0, "/v/ring-ref", out), ENOENT);
	assert_int_equal(xs_tx_end(a, t, true), 0);
	assert_int_equal(xs_getperms(b, 0, "/v/ring-ref", out), 0);
	assert_string_equal(out, "n0 r1");
	cl_free(a);
	cl_free(b);
}

static void test_tx_watch_events_queued(void **state)
{
	struct cl *a = cl_new(&S, 0), *w = cl_new(&S, 0);
	uint32_t t = 0;

	assert_int_equal(xs_watch(w, "/q", "tok"), 0);
	cl_drain(w);
	assert_int_equal(w->nev, 1);
	w->nev = 0;
	assert_int_equal(xs_tx_start(a, &t), 0);
	assert_int_equal(xs_w(a, t, "/q/a", "1"), 0);
	cl_drain(w);
	assert_int_equal(w->nev, 0);
	assert_int_equal(xs_tx_end(a, t, true), 0);
	cl_drain(w);
	assert_int_equal(w->nev, 1);
	assert_string_equal(w->ev[0], "/q/a tok");
	/* aborted or failed: nothing */
	w->nev = 0;
	assert_int_equal(xs_tx_start(a, &t), 0);
	assert_int_equal(xs_w(a, t, "/q/b", "1"), 0);
	assert_int_equal(xs_tx_end(a, t, false), 0);
	cl_drain(w);
	assert_int_equal(w->nev, 0);
	cl_free(a);
	cl_free(w);
}

static void test_watch_basics(void **state)
{
	struct cl *a = cl_new(&S, 0), *w = cl_new(&S, 0);
	struct xsd_sockmsg h;
	char buf[XENSTORE_PAYLOAD_MAX + 1];

	/* reply first, then the event that fires once up front */
	cl_send(w, XS_WATCH, 0, "/w\0tok", 7);
	assert_true(cl_pop(w, &h, buf));
	assert_int_equal(h.type, XS_WATCH);
	assert_string_equal(buf, "OK");
	assert_true(cl_pop(w, &h, buf));
	assert_int_equal(h.type, XS_WATCH_EVENT);
	assert_memory_equal(buf, "/w\0tok", 7);
	assert_int_equal(h.len, 7);
	assert_false(cl_pop(w, &h, buf));
	/* the path, descendants; not siblings or ancestors */
	assert_int_equal(xs_w(a, 0, "/w", "1"), 0);
	assert_int_equal(xs_w(a, 0, "/w/x/y", "1"), 0);
	assert_int_equal(xs_w(a, 0, "/wx", "1"), 0);
	assert_int_equal(xs_w(a, 0, "/other", "1"), 0);
	cl_drain(w);
	assert_int_equal(w->nev, 2);
	assert_string_equal(w->ev[0], "/w tok");
	assert_string_equal(w->ev[1], "/w/x/y tok");
	/* RM fires the node's watches and those on its ancestors, and the
	 * watches set exactly on each removed descendant */
	assert_int_equal(xs_watch(w, "/w/x/y", "deep"), 0);
	assert_int_equal(xs_watch(w, "/", "root"), 0);
	cl_drain(w);
	w->nev = 0;
	assert_int_equal(XS_ONE(a, XS_RM, 0, "/w"), 0);
	cl_drain(w);
	assert_int_equal(w->nev, 3);
	assert_true(cl_has_event(w, "/w tok"));
	assert_true(cl_has_event(w, "/w root"));
	assert_true(cl_has_event(w, "/w/x/y deep"));
	assert_int_equal(xs_unwatch(w, "/w/x/y", "deep"), 0);
	assert_int_equal(xs_unwatch(w, "/", "root"), 0);
	/* duplicates, unwatch, reset */
	assert_int_equal(xs_watch(w, "/w", "tok"), EEXIST);
	assert_int_equal(xs_watch(w, "/w", "tok2"), 0);
	assert_int_equal(xs_unwatch(w, "/w", "tok"), 0);
	assert_int_equal(xs_unwatch(w, "/w", "tok"), ENOENT);
	w->nev = 0;
	assert_int_equal(xs_w(a, 0, "/w", "2"), 0);
	cl_drain(w);
	assert_int_equal(w->nev, 1);
	assert_string_equal(w->ev[0], "/w tok2");
	assert_int_equal(cl_call_ok(w, XS_RESET_WATCHES, 0, "", 0), 0);
	w->nev = 0;
	assert_int_equal(xs_w(a, 0, "/w", "3"), 0);
	cl_drain(w);
	assert_int_equal(w->nev, 0);
	/* malformed */
	assert_int_equal(cl_call_ok(w, XS_WATCH, 0, "/w", 3), EINVAL);
	assert_int_equal(cl_call_ok(w, XS_WATCH, 0, "/w//\0t", 7), EINVAL);
	cl_free(a);
	cl_free(w);
}

static void test_watch_relative_and_perms(void **state)
{
	struct cl *d0 = cl_new(&S, 0), *d1 = cl_new(&S, 1), *d2 = cl_new(&S, 2);

	/* a relative watch sees relative paths, up front and later */
	assert_int_equal(xs_watch(d1, "data", "rel"), 0);
	cl_drain(d1);
	assert_int_equal(d1->nev, 1);
	assert_string_equal(d1->ev[0], "data rel");
	assert_int_equal(xs_w(d0, 0, "/local/domain/1/data/k", "v"), 0);
	cl_drain(d1);
	assert_int_equal(d1->nev, 2);
	assert_string_equal(d1->ev[1], "data/k rel");
	/* dom2 watching dom1's private node: registered, but no events */
	assert_int_equal(xs_watch(d2, "/local/domain/1/data", "peek"), 0);
	cl_drain(d2);
	assert_int_equal(d2->nev, 1);   /* the up-front one only */
	assert_int_equal(xs_w(d1, 0, "data/secret", "s"), 0);
	cl_drain(d2);
	assert_int_equal(d2->nev, 1);
	/* once granted read, it hears */
	assert_int_equal(xs_setperms(d0, 0, "/local/domain/1/data", "n1 r2"), 0);
	cl_drain(d2);
	assert_int_equal(d2->nev, 2);
	assert_string_equal(d2->ev[1], "/local/domain/1/data peek");
	/* special nodes: only the privileged, or those granted read */
	assert_int_equal(xs_watch(d2, "@introduceDomain", "intro"), 0);
	assert_int_equal(xs_watch(d0, "@introduceDomain", "intro0"), 0);
	cl_drain(d2);
	cl_drain(d0);
	d2->nev = d0->nev = 0;
	assert_int_equal(xsv_domain_add(&S, 7, false), 0);
	cl_drain(d2);
	cl_drain(d0);
	assert_int_equal(d2->nev, 0);
	assert_true(cl_has_event(d0, "@introduceDomain intro0"));
	assert_int_equal(xs_setperms(d0, 0, "@introduceDomain", "n0 r2"), 0);
	assert_int_equal(xsv_domain_add(&S, 8, false), 0);
	cl_drain(d2);
	assert_true(cl_has_event(d2, "@introduceDomain intro"));
	cl_free(d0);
	cl_free(d1);
	cl_free(d2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_tx_isolation_commit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tx_conflict_eagain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tx_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tx_watch_events_queued, setup, teardown),
		cmocka_unit_test_setup_teardown(test_watch_basics, setup, teardown),
		cmocka_unit_test_setup_teardown(test_watch_relative_and_perms, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
