// SPDX-License-Identifier: MIT
/*
 * The store through the wire protocol: reads, writes, directories, removal,
 * permissions and their inheritance, relative paths, special domain ops.
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

static void test_initial_store(void **state)
{
	struct cl *d0 = cl_new(&S, 0);
	char out[4096];

	assert_int_equal(xs_dir(d0, 0, "/", out), 0);
	assert_string_equal(out, "tool local");
	assert_int_equal(xs_r(d0, 0, "/local/domain/0/domid", out), 0);
	assert_string_equal(out, "0");
	assert_int_equal(xs_r(d0, 0, "/local/domain/0/name", out), 0);
	assert_string_equal(out, "Domain-0");
	assert_int_equal(xs_r(d0, 0, "/local/domain/1/domid", out), 0);
	assert_string_equal(out, "1");
	assert_int_equal(xs_getperms(d0, 0, "/local/domain/1", out), 0);
	assert_string_equal(out, "n1");
	assert_int_equal(xs_getperms(d0, 0, "@introduceDomain", out), 0);
	assert_string_equal(out, "n0");
	cl_free(d0);
}

static void test_read_write_rm(void **state)
{
	struct cl *d0 = cl_new(&S, 0);
	char out[4096];
	uint32_t len;

	assert_int_equal(xs_w(d0, 0, "/a/b/c", "hello"), 0);
	assert_int_equal(xs_r(d0, 0, "/a/b/c", out), 0);
	assert_string_equal(out, "hello");
	/* missing parents are created empty */
	assert_int_equal(cl_call(d0, XS_READ, 0, "/a/b", 5, out, &len), 0);
	assert_int_equal(len, 0);
	/* binary values, NULs included, come back byte for byte */
	assert_int_equal(cl_call_ok(d0, XS_WRITE, 0, "/bin\0x\0y", 8), 0);
	assert_int_equal(cl_call(d0, XS_READ, 0, "/bin", 5, out, &len), 0);
	assert_int_equal(len, 3);
	assert_memory_equal(out, "x\0y", 3);
	assert_int_equal(xs_w(d0, 0, "/a/d", ""), 0);
	assert_int_equal(xs_dir(d0, 0, "/a", out), 0);
	assert_string_equal(out, "b d");
	assert_int_equal(xs_r(d0, 0, "/nope", out), ENOENT);
	assert_int_equal(xs_dir(d0, 0, "/nope", out), ENOENT);
	/* RM is recursive; absent is fine if the parent exists */
	assert_int_equal(XS_ONE(d0, XS_RM, 0, "/a/b"), 0);
	assert_int_equal(xs_r(d0, 0, "/a/b/c", out), ENOENT);
	assert_int_equal(XS_ONE(d0, XS_RM, 0, "/a/b"), 0);
	assert_int_equal(XS_ONE(d0, XS_RM, 0, "/a/x/y"), ENOENT);
	assert_int_equal(XS_ONE(d0, XS_RM, 0, "/"), EINVAL);
	/* MKDIR: creates, and is fine on an existing node */
	assert_int_equal(XS_ONE(d0, XS_MKDIR, 0, "/m/n"), 0);
	assert_int_equal(XS_ONE(d0, XS_MKDIR, 0, "/m/n"), 0);
	assert_int_equal(xs_dir(d0, 0, "/m", out), 0);
	assert_string_equal(out, "n");
	cl_free(d0);
}

static void test_bad_paths(void **state)
{
	struct cl *d0 = cl_new(&S, 0);
	static const char *bad[] = {
		"/a//b", "/a/", "/a b", "/a\x01", "@foo", "/a*", "", "/a/b/",
		"/\xff",
	};
	char out[4096];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(xs_r(d0, 0, bad[i], out), EINVAL);
		assert_int_equal(xs_w(d0, 0, bad[i], "v"), EINVAL);
		assert_int_equal(XS_ONE(d0, XS_MKDIR, 0, bad[i]), EINVAL);
	}
	/* too long: absolute limit 3072 */
	char *p = malloc(3100);
	memset(p, 'a', 3090);
	p[0] = '/';
	p[3090] = '\0';
	assert_int_equal(xs_w(d0, 0, p, "v"), EINVAL);
	free(p);
	cl_free(d0);
}

static void test_relative_paths(void **state)
{
	struct cl *d1 = cl_new(&S, 1), *d0 = cl_new(&S, 0);
	char out[4096];

	assert_int_equal(xs_r(d1, 0, "domid", out), 0);
	assert_string_equal(out, "1");
	assert_int_equal(xs_w(d1, 0, "data/x", "v"), 0);
	assert_int_equal(xs_r(d0, 0, "/local/domain/1/data/x", out), 0);
	assert_string_equal(out, "v");
	/* dom0's relative paths are below /local/domain/0 (libxenvchan) */
	assert_int_equal(xs_r(d0, 0, "domid", out), 0);
	assert_string_equal(out, "0");
	assert_int_equal(cl_call(d0, XS_GET_DOMAIN_PATH, 0, "7", 2, out, NULL), 0);
	assert_string_equal(out, "/local/domain/7");
	assert_int_equal(cl_call(d0, XS_GET_DOMAIN_PATH, 0, "x7", 3, out, NULL), EINVAL);
	cl_free(d1);
	cl_free(d0);
}

static void test_permissions(void **state)
{
	struct cl *d0 = cl_new(&S, 0), *d1 = cl_new(&S, 1), *d2 = cl_new(&S, 2);
	char out[4096];

	/* a domain owns what it creates; perms are inherited from the parent */
	assert_int_equal(xs_w(d1, 0, "data/a", "1"), 0);
	assert_int_equal(xs_getperms(d0, 0, "/local/domain/1/data/a", out), 0);
	assert_string_equal(out, "n1");
	/* others see nothing, and cannot tell what exists below */
	assert_int_equal(xs_r(d2, 0, "/local/domain/1/data/a", out), EACCES);
	assert_int_equal(xs_r(d2, 0, "/local/domain/1/data/none", out), EACCES);
	assert_int_equal(xs_w(d2, 0, "/local/domain/1/data/a", "x"), EACCES);
	assert_int_equal(xs_w(d2, 0, "/local/domain/1/new", "x"), EACCES);
	assert_int_equal(XS_ONE(d2, XS_RM, 0, "/local/domain/1/data/a"), EACCES);
	/* the owner grants read; children inherit the list */
	assert_int_equal(xs_setperms(d1, 0, "data", "n1 r2"), 0);
	assert_int_equal(xs_w(d1, 0, "data/b/c", "2"), 0);
	assert_int_equal(xs_getperms(d2, 0, "/local/domain/1/data/b/c", out), 0);
	assert_string_equal(out, "n1 r2");
	assert_int_equal(xs_r(d2, 0, "/local/domain/1/data/b/c", out), 0);
	assert_string_equal(out, "2");
	assert_int_equal(xs_r(d2, 0, "/local/domain/1/data/zz", out), ENOENT);
	assert_int_equal(xs_w(d2, 0, "/local/domain/1/data/b/c", "x"), EACCES);
	/* only the owner sets perms; only the privileged change the owner */
	assert_int_equal(xs_setperms(d2, 0, "/local/domain/1/data", "b2"), EACCES);
	assert_int_equal(xs_setperms(d1, 0, "data", "n2"), EPERM);
	assert_int_equal(xs_setperms(d0, 0, "/local/domain/1/data", "b2 n1"), 0);
	assert_int_equal(xs_w(d2, 0, "/local/domain/1/data/b2", "x"), 0);
	/* the default (owner's letter) applies to unlisted domains */
	assert_int_equal(xs_r(d1, 0, "data", out), EACCES);
	/* write-only */
	assert_int_equal(xs_setperms(d0, 0, "/local/domain/1/data", "w2"), 0);
	assert_int_equal(xs_r(d1, 0, "data", out), EACCES);
	assert_int_equal(xs_w(d1, 0, "data", "v"), 0);
	/* bad perm strings */
	assert_int_equal(xs_setperms(d0, 0, "/local/domain/1/data", "x1"), EINVAL);
	assert_int_equal(xs_setperms(d0, 0, "/local/domain/1/data", "r"), EINVAL);
	assert_int_equal(xs_setperms(d0, 0, "/local/domain/1/data", "r1x"), EINVAL);
	assert_int_equal(xs_setperms(d0, 0, "/local/domain/1/data", "r99999"), EINVAL);
	assert_int_equal(cl_call_ok(d0, XS_SET_PERMS, 0, "/local", 7), EINVAL);
	assert_int_equal(xs_setperms(d0, 0, "/nope", "n0"), ENOENT);
	cl_free(d0);
	cl_free(d1);
	cl_free(d2);
}

static void test_privileged_ops(void **state)
{
	struct cl *d0 = cl_new(&S, 0), *d1 = cl_new(&S, 1);
	char out[4096];

	assert_int_equal(cl_call(d1, XS_IS_DOMAIN_INTRODUCED, 0, "1", 2, out, NULL), EACCES);
	assert_int_equal(cl_call(d1, XS_INTRODUCE, 0, "5\0" "1\0" "2", 6, out, NULL), EACCES);
	assert_int_equal(cl_call(d1, XS_RELEASE, 0, "2", 2, out, NULL), EACCES);
	assert_int_equal(cl_call(d1, XS_CONTROL, 0, "print\0x", 8, out, NULL), EACCES);
	assert_int_equal(cl_call(d0, XS_IS_DOMAIN_INTRODUCED, 0, "1", 2, out, NULL), 0);
	assert_string_equal(out, "T");
	assert_int_equal(cl_call(d0, XS_IS_DOMAIN_INTRODUCED, 0, "9", 2, out, NULL), 0);
	assert_string_equal(out, "F");
	assert_int_equal(cl_call(d0, XS_CONTROL, 0, "print\0x", 8, out, NULL), ENOSYS);
	assert_int_equal(cl_call_ok(d0, XS_INTRODUCE, 0, "9\0" "1\0" "2", 6), 0);
	assert_int_equal(xs_r(d0, 0, "/local/domain/9/domid", out), 0);
	assert_string_equal(out, "9");
	assert_int_equal(cl_call_ok(d0, XS_RELEASE, 0, "9", 2), 0);
	assert_int_equal(xs_r(d0, 0, "/local/domain/9", out), ENOENT);
	assert_int_equal(cl_call_ok(d0, XS_RELEASE, 0, "9", 2), ENOENT);
	assert_int_equal(cl_call_ok(d0, XS_RELEASE, 0, "0", 2), EINVAL);
	cl_free(d0);
	cl_free(d1);
}

static void test_domain_release_cleans(void **state)
{
	struct cl *d0 = cl_new(&S, 0), *d2 = cl_new(&S, 2);
	char out[4096];

	/* dom2 owns a node outside its home and is granted read elsewhere */
	assert_int_equal(xs_w(d0, 0, "/shared", ""), 0);
	assert_int_equal(xs_setperms(d0, 0, "/shared", "n0 b2"), 0);
	assert_int_equal(xs_w(d2, 0, "/shared/mine", "x"), 0);
	assert_int_equal(xs_w(d0, 0, "/other", "y"), 0);
	assert_int_equal(xs_setperms(d0, 0, "/other", "n0 r2"), 0);
	assert_int_equal(xs_setperms(d0, 0, "/", "n2 r1"), 0);
	assert_int_equal(xs_watch(d2, "/shared", "t"), 0);
	assert_int_equal(xs_watch(d0, "@releaseDomain", "rel"), 0);
	cl_drain(d0);
	assert_true(cl_has_event(d0, "@releaseDomain rel"));
	d0->nev = 0;
	assert_int_equal(xsv_domain_remove(&S, 2), 0);
	cl_drain(d0);
	assert_true(cl_has_event(d0, "@releaseDomain rel"));
	assert_int_equal(xs_r(d0, 0, "/local/domain/2", out), ENOENT);
	assert_int_equal(xs_r(d0, 0, "/shared/mine", out), ENOENT);
	assert_int_equal(xs_getperms(d0, 0, "/other", out), 0);
	assert_string_equal(out, "n0");
	assert_int_equal(xs_getperms(d0, 0, "/", out), 0);
	assert_string_equal(out, "n0 r1");
	assert_null(d2->c->watches);
	cl_free(d0);
	cl_free(d2);
}

static void test_directory_part(void **state)
{
	struct cl *d0 = cl_new(&S, 0);
	char out[XENSTORE_PAYLOAD_MAX + 1], name[64], req[64];
	uint32_t len;
	unsigned int seen = 0, off = 0;

	/* 200 children of 40 chars: 8200 bytes, over one payload */
	for (int i = 0; i < 200; i++) {
		snprintf(name, sizeof(name), "/big/child-%03d-%028d", i, 0);
		assert_int_equal(xs_w(d0, 0, name, ""), 0);
	}
	assert_int_equal(cl_call(d0, XS_DIRECTORY, 0, "/big", 5, out, &len), E2BIG);
	for (;;) {
		size_t rl = (size_t)snprintf(req, sizeof(req), "/big%c%u", 0, off) + 1;
		const char *p;

		assert_int_equal(cl_call(d0, XS_DIRECTORY_PART, 0, req, rl, out, &len), 0);
		assert_true(len <= XENSTORE_PAYLOAD_MAX);
		p = out + strlen(out) + 1;   /* skip the generation */
		if (*p == '\0')
			break;
		while (p < out + len && *p) {
			snprintf(name, sizeof(name), "child-%03u-%028d", seen, 0);
			assert_string_equal(p, name);
			seen++;
			off += (unsigned int)strlen(p) + 1;
			p += strlen(p) + 1;
		}
		if (p < out + len && *p == '\0')
			break;   /* list ended in this part */
	}
	assert_int_equal(seen, 200);
	assert_int_equal(cl_call(d0, XS_DIRECTORY_PART, 0, "/big", 5, out, &len), EINVAL);
	cl_free(d0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_initial_store, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_write_rm, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_paths, setup, teardown),
		cmocka_unit_test_setup_teardown(test_relative_paths, setup, teardown),
		cmocka_unit_test_setup_teardown(test_permissions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_privileged_ops, setup, teardown),
		cmocka_unit_test_setup_teardown(test_domain_release_cleans, setup, teardown),
		cmocka_unit_test_setup_teardown(test_directory_part, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
