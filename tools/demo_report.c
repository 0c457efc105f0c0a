/* SPDX-License-Identifier: MIT */
/* xgnt demo: the results, as a table for people and JSON for machines. */
#include <stdio.h>

#include "demo.h"

const char *demo_mode_name(enum demo_mode m)
{
	static const char *const names[] = { "map", "persistent", "copy" };

	return m < MODE_NR ? names[m] : "direct";
}

static double mbs(const struct demo_pass *p)
{
	return p->secs > 0 ? p->bytes / p->secs / 1e6 : 0;
}

static double iops(const struct demo_pass *p)
{
	return p->secs > 0 ? p->ios / p->secs : 0;
}

static double ops_per_sec(const struct demo_result *r)
{
	double t = r->write.secs + r->read.secs;

	return t > 0 ? r->grant_ops / t : 0;
}

static const struct demo_floor *floor_of(const struct demo_floor *f, unsigned int nf, uint32_t bs)
{
	for (unsigned int i = 0; i < nf; i++)
		if (f[i].bs == bs)
			return &f[i];
	return NULL;
}

static void bs_str(char *buf, size_t len, uint32_t bs)
{
	if (bs >= (1u << 20))
		snprintf(buf, len, "%uM", bs >> 20);
	else
		snprintf(buf, len, "%uk", bs >> 10);
}

void demo_report_table(const struct demo_opts *o, const struct demo_result *r, unsigned int nr,
		       const struct demo_floor *f, unsigned int nf)
{
	char b[16];

	printf("xgnt demo: frontend d1 -> backend d0 over a blkif ring and an event channel,\n"
	       "%llu MiB disk image, queue depth %u, every byte written read back and verified\n\n",
	       (unsigned long long)(o->size >> 20), o->queue_depth);
	printf("%-10s %5s %9s %8s %9s %8s %11s %7s %7s %6s %6s %s\n", "mode", "block",
	       "write MB/s", "IOPS", "read MB/s", "IOPS", "gntops/s", "d1 gnt", "d1 act",
	       "d0 map", "xfloor", "verify");
	for (unsigned int i = 0; i < nr; i++) {
		const struct demo_floor *fl = floor_of(f, nf, r[i].bs);
		double t = r[i].write.secs + r[i].read.secs;
		double ft = fl ? fl->write.secs + fl->read.secs : 0;

		bs_str(b, sizeof(b), r[i].bs);
		printf("%-10s %5s %10.0f %8.0f %9.0f %8.0f %11.0f %7lld %7lld %6lld %6.2f %s\n",
		       demo_mode_name(r[i].mode), b, mbs(&r[i].write), iops(&r[i].write),
		       mbs(&r[i].read), iops(&r[i].read), ops_per_sec(&r[i]),
		       (long long)r[i].front_grants, (long long)r[i].front_active,
		       (long long)r[i].back_mappings, ft > 0 ? t / ft : 0,
		       r[i].mismatches || r[i].bad_responses ? "FAILED" : "ok");
	}
	for (unsigned int i = 0; i < nf; i++) {
		bs_str(b, sizeof(b), f[i].bs);
		printf("%-10s %5s %10.0f %8.0f %9.0f %8.0f %11s %7s %7s %6s %6.2f %s\n", "floor", b,
		       mbs(&f[i].write), iops(&f[i].write), mbs(&f[i].read), iops(&f[i].read), "-",
		       "-", "-", "-", 1.0, f[i].mismatches ? "FAILED" : "ok");
	}
	printf("\ngntops/s: grant + end access (d1), map + unmap + copy (d0), per second of I/O.\n"
	       "d1 gnt / d1 act / d0 map: peak grants d1 has issued, of them active (pinned),\n"
	       "and mappings d0 holds (xgnt_domain_table_info, sampled). xfloor: time over\n"
	       "the floor's time, the floor being pread/pwrite of the same blocks on the same\n"
	       "file from one thread, with the same data generation and verification.\n");
	for (unsigned int i = 0; i < nr; i++)
		if (r[i].mismatches || r[i].bad_responses)
			printf("%s %u: %llu bytes did not verify, %llu error responses\n",
			       demo_mode_name(r[i].mode), r[i].bs,
			       (unsigned long long)r[i].mismatches,
			       (unsigned long long)r[i].bad_responses);
}

static void json_pass(const char *name, const struct demo_pass *p, const char *sep)
{
	printf("\"%s\": {\"seconds\": %.6f, \"ios\": %llu, \"bytes\": %llu, \"mb_per_s\": %.1f, "
	       "\"iops\": %.0f}%s", name, p->secs, (unsigned long long)p->ios,
	       (unsigned long long)p->bytes, mbs(p), iops(p), sep);
}

void demo_report_json(const struct demo_opts *o, const struct demo_result *r, unsigned int nr,
		      const struct demo_floor *f, unsigned int nf)
{
	uint64_t total_bad = 0;

	printf("{\n  \"size\": %llu,\n  \"queue_depth\": %u,\n  \"results\": [\n",
	       (unsigned long long)o->size, o->queue_depth);
	for (unsigned int i = 0; i < nr; i++) {
		total_bad += r[i].mismatches;
		printf("    {\"mode\": \"%s\", \"block_size\": %u, ", demo_mode_name(r[i].mode), r[i].bs);
		json_pass("write", &r[i].write, ", ");
		json_pass("read", &r[i].read, ", ");
		printf("\"grant_ops\": {\"grant\": %llu, \"end\": %llu, \"map\": %llu, "
		       "\"unmap\": %llu, \"copy\": %llu, \"total\": %llu, \"per_s\": %.0f}, ",
		       (unsigned long long)r[i].grants, (unsigned long long)r[i].ends,
		       (unsigned long long)r[i].maps, (unsigned long long)r[i].unmaps,
		       (unsigned long long)r[i].copies, (unsigned long long)r[i].grant_ops,
		       ops_per_sec(&r[i]));
		printf("\"peak\": {\"d1\": {\"grants\": %lld, \"active\": %lld}, "
		       "\"d0\": {\"mappings\": %lld, \"active\": %lld}}, ",
		       (long long)r[i].front_grants, (long long)r[i].front_active,
		       (long long)r[i].back_mappings, (long long)r[i].back_active);
		printf("\"mismatches\": %llu, \"error_responses\": %llu}%s\n",
		       (unsigned long long)r[i].mismatches, (unsigned long long)r[i].bad_responses,
		       i + 1 < nr ? "," : "");
	}
	printf("  ],\n  \"floor\": [\n");
	for (unsigned int i = 0; i < nf; i++) {
		total_bad += f[i].mismatches;
		printf("    {\"block_size\": %u, ", f[i].bs);
		json_pass("write", &f[i].write, ", ");
		json_pass("read", &f[i].read, ", ");
		printf("\"mismatches\": %llu}%s\n", (unsigned long long)f[i].mismatches,
		       i + 1 < nf ? "," : "");
	}
	printf("  ],\n  \"mismatches\": %llu\n}\n", (unsigned long long)total_bad);
}
