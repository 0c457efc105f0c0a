// SPDX-License-Identifier: MIT
/*
 * Quotas with C xenstored's error names, and hostile input: bad framing,
 * unterminated strings, unknown types, random bytes, a client that never
 * reads its replies.
 */
#include "xs_client.h"

static struct xsv_server S;

static int setup(void **state)
{
	assert_int_equal(xsv_server_init(&S), 0);
	assert_int_equal(xsv_domain_add(&S, 1, false), 0);
	return 0;
}

static int teardown(void **state)
{
	xsv_server_fini(&S);
	return 0;
}

static void test_quota_defaults(void **state)
{
	assert_int_equal(S.quota.nodes, 1000);
	assert_int_equal(S.quota.watches, 128);
	assert_int_equal(S.quota.transactions, 10);
	assert_int_equal(S.quota.node_size, 2048);
	assert_int_equal(S.quota.outstanding, 20);
	assert_int_equal(S.quota.perms, 5);
	assert_int_equal(S.quota.path_len, 2048);
	assert_int_equal(S.quota.trans_nodes, 1024);
}

static void test_quota_nodes(void **state)
{
	struct cl *d1 = cl_new(&S, 1), *d0 = cl_new(&S, 0);
	char p[64];
	int i, ret = 0;

	S.quota.nodes = 10;   /* dom1 owns 2 already: home and domid */
	for (i = 0; i < 20 && !ret; i++) {
		snprintf(p, sizeof(p), "n%d", i);
		ret = xs_w(d1, 0, p, "v");
	}
	assert_int_equal(ret, ENOSPC);
	assert_int_equal(i, 9);   /* 8 created, the 9th refused */
	/* several levels at once count each new node */
	assert_int_equal(XS_ONE(d1, XS_RM, 0, "n0"), 0);
	assert_int_equal(xs_w(d1, 0, "a/b", "v"), ENOSPC);
	assert_int_equal(xs_w(d1, 0, "a", "v"), 0);
	/* dom0 is exempt */
	for (i = 0; i < 20; i++) {
		snprintf(p, sizeof(p), "/d0/n%d", i);
		assert_int_equal(xs_w(d0, 0, p, "v"), 0);
	}
	cl_free(d1);
	cl_free(d0);
}

static void test_quota_watches_tx_size_perms(void **state)
{
	struct cl *d1 = cl_new(&S, 1), *d1b = cl_new(&S, 1), *d0 = cl_new(&S, 0);
	char tok[32], *big;
	uint32_t t[16];
	int i;

	S.quota.watches = 4;
	for (i = 0; i < 4; i++) {
		snprintf(tok, sizeof(tok), "t%d", i);
		assert_int_equal(xs_watch(i % 2 ? d1 : d1b, "data", tok), 0);
	}
	/* counted per domain, over its connections */
	assert_int_equal(xs_watch(d1, "data", "more"), E2BIG);
	assert_int_equal(xs_watch(d1b, "data", "more"), E2BIG);
	for (i = 0; i < 10; i++) {
		snprintf(tok, sizeof(tok), "t%d", i);
		assert_int_equal(xs_watch(d0, "/", tok), 0);
	}
	/* transactions: per connection */
	S.quota.transactions = 3;
	for (i = 0; i < 3; i++)
		assert_int_equal(xs_tx_start(d1, &t[i]), 0);
	assert_int_equal(xs_tx_start(d1, &t[3]), ENOSPC);
	assert_int_equal(xs_tx_start(d1b, &t[3]), 0);
	assert_int_equal(xs_tx_end(d1, t[0], false), 0);
	assert_int_equal(xs_tx_start(d1, &t[0]), 0);
	for (i = 4; i < 10; i++)
		assert_int_equal(xs_tx_start(d0, &t[i]), 0);
	/* node size as xenstored counts it: 24 + 8 per perm + value +
	 * children; refused from the quota on (>=) */
	S.quota.node_size = 100;
	big = calloc(1, 200);
	memset(big, 'x', 68);   /* 24 + 8 + 68 = 100 */
	assert_int_equal(xs_w(d1, 0, "big", big), ENOSPC);
	big[67] = '\0';        /* 99 */
	assert_int_equal(xs_w(d1, 0, "big", big), 0);
	memset(big, 'x', 150);
	assert_int_equal(xs_w(d0, 0, "/big", big), 0);
	/* more perms make the node bigger too */
	assert_int_equal(xs_setperms(d1, 0, "big", "n1 r2"), ENOSPC);
	big[40] = '\0';
	assert_int_equal(xs_w(d1, 0, "big", big), 0);
	free(big);
	S.quota.node_size = 2048;
	/* permission list length */
	assert_int_equal(xs_setperms(d1, 0, "big", "n1 r2 r3 r4 r5 r6"), ENOSPC);
	assert_int_equal(xs_setperms(d1, 0, "big", "n1 r2 r3 r4 r5"), 0);
	assert_int_equal(xs_setperms(d0, 0, "/big", "n0 r2 r3 r4 r5 r6 r7"), 0);
	/* nodes one transaction touches */
	S.quota.trans_nodes = 3;
	assert_int_equal(xs_tx_end(d1, t[0], false), 0);
	assert_int_equal(xs_tx_start(d1, &t[0]), 0);
	assert_int_equal(xs_r(d1, t[0], "domid", tok), 0);
	assert_int_equal(xs_r(d1, t[0], "big", NULL), 0);
	assert_int_equal(xs_r(d1, t[0], "big", NULL), 0);   /* seen already */
	assert_int_equal(xs_r(d1, t[0], "data", NULL), ENOENT);
	assert_int_equal(xs_r(d1, t[0], "other", NULL), ENOSPC);
	assert_int_equal(xs_tx_end(d1, t[0], false), 0);
	/* an RM that runs out halfway leaves the transaction unable to commit */
	S.quota.trans_nodes = 1000;
	for (i = 0; i < 5; i++) {
		snprintf(tok, sizeof(tok), "tree/n%d", i);
		assert_int_equal(xs_w(d1, 0, tok, "v"), 0);
	}
	S.quota.trans_nodes = 4;
	assert_int_equal(xs_tx_start(d1, &t[0]), 0);
	assert_int_equal(XS_ONE(d1, XS_RM, t[0], "tree"), ENOSPC);
	assert_int_equal(xs_tx_end(d1, t[0], true), EAGAIN);
	assert_int_equal(xs_r(d1, 0, "tree/n4", tok), 0);
	/* path length below the domain's home */
	S.quota.path_len = 20;
	assert_int_equal(xs_w(d1, 0, "aaaaaaaaaaaaaaaaaaaaa", "v"), EINVAL);
	assert_int_equal(xs_w(d1, 0, "aaaaaaaaaaaaaaaaaaaa", "v"), 0);
	cl_free(d1);
	cl_free(d1b);
	cl_free(d0);
}

static void test_malformed(void **state)
{
	struct cl *k = cl_new(&S, 1);
	struct xsd_sockmsg h = { .type = XS_READ, .req_id = 9, .len = 6 }, r = { 0 };
	char out[XENSTORE_PAYLOAD_MAX + 1];

	/* unknown and server-only types */
	assert_int_equal(cl_call(k, 30, 0, "x", 2, out, NULL), ENOSYS);
	assert_int_equal(cl_call(k, XS_INVALID, 0, "", 0, out, NULL), ENOSYS);
	assert_int_equal(cl_call(k, XS_WATCH_EVENT, 0, "a\0b", 4, out, NULL), ENOSYS);
	assert_int_equal(cl_call(k, XS_ERROR, 0, "EINVAL", 7, out, NULL), ENOSYS);
	assert_int_equal(cl_call(k, 20, 0, "", 0, out, NULL), ENOSYS);
	/* strings without their NUL, or with extra ones */
	assert_int_equal(cl_call(k, XS_READ, 0, "domid", 5, out, NULL), EINVAL);
	assert_int_equal(cl_call(k, XS_READ, 0, "domid\0\0", 7, out, NULL), EINVAL);
	assert_int_equal(cl_call(k, XS_READ, 0, "", 0, out, NULL), EINVAL);
	assert_int_equal(cl_call(k, XS_WRITE, 0, "data", 4, out, NULL), EINVAL);
	assert_int_equal(cl_call(k, XS_MKDIR, 0, "x", 1, out, NULL), EINVAL);
	assert_int_equal(cl_call(k, XS_RM, 0, "", 0, out, NULL), EINVAL);
	assert_int_equal(cl_call(k, XS_GET_PERMS, 0, "x", 1, out, NULL), EINVAL);
	assert_int_equal(cl_call(k, XS_SET_PERMS, 0, "data\0n1", 7, out, NULL), EINVAL);
	assert_int_equal(cl_call(k, XS_GET_DOMAIN_PATH, 0, "", 0, out, NULL), EINVAL);
	assert_int_equal(cl_call(k, XS_GET_DOMAIN_PATH, 0, "99999999999", 12, out, NULL), EINVAL);
	assert_int_equal(cl_call(k, XS_DIRECTORY_PART, 0, "data", 5, out, NULL), EINVAL);
	assert_int_equal(cl_call(k, XS_UNWATCH, 0, "x", 2, out, NULL), EINVAL);
	/* a header arriving in pieces, then the payload a byte at a time */
	xsv_conn_feed(k->c, &h, 7);
	assert_null(k->c->out_head);
	xsv_conn_feed(k->c, (char *)&h + 7, sizeof(h) - 7);
	for (int i = 0; i < 6; i++)
		xsv_conn_feed(k->c, "domid" + i, 1);
	assert_true(cl_pop(k, &r, out));
	assert_int_equal(r.type, XS_READ);
	assert_int_equal(r.req_id, 9);
	assert_int_equal(r.len, 1);
	assert_string_equal(out, "1");
	assert_false(k->c->dead);
	/* over XENSTORE_PAYLOAD_MAX: the connection is dropped, nothing sent */
	h.len = XENSTORE_PAYLOAD_MAX + 1;
	assert_int_equal(xsv_conn_feed(k->c, &h, sizeof(h)), -EPROTO);
	assert_true(k->c->dead);
	assert_null(k->c->out_head);
	cl_free(k);
	/* exactly XENSTORE_PAYLOAD_MAX is fine */
	k = cl_new(&S, 0);
	char *big = malloc(XENSTORE_PAYLOAD_MAX);
	memcpy(big, "/big", 5);
	memset(big + 5, 'v', XENSTORE_PAYLOAD_MAX - 5);
	assert_int_equal(cl_call_ok(k, XS_WRITE, 0, big, XENSTORE_PAYLOAD_MAX), 0);
	free(big);
	cl_free(k);
}

/* The reply-before-the-next-request cap pauses reading; output past the
 * byte limit drops the client instead of growing without bound. */
static void test_never_reads(void **state)
{
	struct cl *k = cl_new(&S, 1), *d0 = cl_new(&S, 0);
	struct xsd_sockmsg h = { .type = XS_READ, .len = 6 };
	char msg[sizeof(h) + 6];
	int i;

	memcpy(msg, &h, sizeof(h));
	memcpy(msg + sizeof(h), "domid", 6);
	for (i = 0; i < 19; i++)
		xsv_conn_feed(k->c, msg, sizeof(msg));
	assert_false(xsv_conn_paused(k->c));
	xsv_conn_feed(k->c, msg, sizeof(msg));
	assert_true(xsv_conn_paused(k->c));
	assert_false(xsv_conn_paused(d0->c));
	for (i = 0; i < 20; i++) {
		struct xsd_sockmsg r;
		char out[XENSTORE_PAYLOAD_MAX + 1];

		assert_true(cl_pop(k, &r, out));
		assert_int_equal(r.type, XS_READ);
		assert_string_equal(out, "1");
	}
	assert_false(xsv_conn_paused(k->c));
	/* events are not replies, but do count against the byte limit */
	S.out_limit = 16 * 1024;
	assert_int_equal(xs_watch(k, "domid", "t"), 0);   /* drains k */
	assert_false(k->c->dead);
	for (i = 0; i < 2000 && !k->c->dead; i++)
		assert_int_equal(xs_w(d0, 0, "/local/domain/1/domid", "1"), 0);
	assert_true(k->c->dead);
	assert_true(k->c->out_bytes <= S.out_limit);
	/* the server carries on for others */
	assert_int_equal(xs_w(d0, 0, "/still", "ok"), 0);
	cl_free(k);
	cl_free(d0);
}

/* Random and mutated messages: replies only, no crash, no leak (ASan). */
static void test_random_bytes(void **state)
{
	static const uint32_t types[] = {
		XS_READ, XS_WRITE, XS_MKDIR, XS_RM, XS_DIRECTORY, XS_DIRECTORY_PART,
		XS_GET_PERMS, XS_SET_PERMS, XS_WATCH, XS_UNWATCH,
		XS_TRANSACTION_START, XS_TRANSACTION_END, XS_GET_DOMAIN_PATH,
		XS_RESET_WATCHES, XS_INTRODUCE, XS_RELEASE, XS_IS_DOMAIN_INTRODUCED,
		XS_RESUME, 99,
	};
	static const char alphabet[] = "/ab@01\0\0\0-_TFrnwb";
	unsigned int seed = 12345;

	for (int round = 0; round < 3000; round++) {
		struct cl *k = cl_new(&S, round % 3 == 0 ? 0 : 1);
		char buf[sizeof(struct xsd_sockmsg) + 64];
		struct xsd_sockmsg h = { .req_id = (uint32_t)round };
		uint32_t len = (uint32_t)(rand_r(&seed) % 40);

		h.type = types[rand_r(&seed) % (sizeof(types) / sizeof(types[0]))];
		h.tx_id = rand_r(&seed) % 4 ? 0 : (uint32_t)(rand_r(&seed) % 4);
		h.len = len;
		memcpy(buf, &h, sizeof(h));
		for (uint32_t i = 0; i < len; i++)
			buf[sizeof(h) + i] = alphabet[rand_r(&seed) % (sizeof(alphabet) - 1)];
		xsv_conn_feed(k->c, buf, sizeof(h) + len);
		/* every request got exactly one reply (or ERROR), maybe events */
		unsigned int replies = 0;
		struct xsd_sockmsg r;
		char out[XENSTORE_PAYLOAD_MAX + 1];

		while (cl_pop(k, &r, out)) {
			if (r.type == XS_WATCH_EVENT)
				continue;
			replies++;
			assert_int_equal(r.req_id, (uint32_t)round);
			assert_true(r.type == h.type || r.type == XS_ERROR);
		}
		assert_int_equal(replies, 1);
		cl_free(k);
	}
	/* fully random byte streams, framing included */
	for (int round = 0; round < 300; round++) {
		struct cl *k = cl_new(&S, 1);
		unsigned char buf[512];

		for (size_t i = 0; i < sizeof(buf); i++)
			buf[i] = (unsigned char)rand_r(&seed);
		/* small lengths keep the stream parseable for a while */
		for (size_t i = 12; i + 4 <= sizeof(buf); i += 48)
			buf[i] = (unsigned char)(buf[i] % 32), buf[i + 1] = buf[i + 2] = buf[i + 3] = 0;
		xsv_conn_feed(k->c, buf, sizeof(buf));
		cl_free(k);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_quota_defaults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_quota_nodes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_quota_watches_tx_size_perms, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_never_reads, setup, teardown),
		cmocka_unit_test_setup_teardown(test_random_bytes, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
