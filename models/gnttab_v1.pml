/* SPDX-License-Identifier: MIT */
/*
 * The v1 shared grant entry protocol (xen/grant_table.h), one entry:
 *
 *   guest (src/guest/gnttab_access.c)      hypervisor (src/hv/entry.c, map.c)
 *   ---------------------------------      ----------------------------------
 *   grant: frame, domid, then flags        map: act lock; if !act->pin or a
 *     (permit_access [| readonly])              first writer: set_status_v1 =
 *   end:   end_cas: load flags; while          compare-and-swap of the
 *     tries < END_RETRIES: busy if              (flags, domid) word, at most
 *     reading|writing, else CAS(flags,0)        SET_STATUS_RETRIES+1 = 5 tries,
 *   reuse: grant again, maybe another domid     checking type/domid/readonly
 *                                          unmap: act lock; pin--;
 *                                            gt_reduce_status_for_pin
 *
 * Each shared-word access is one atomic step; the active entry's spin
 * lock (act_lock) serialises the mappers, as in map.c.
 *
 * Variants (spin -D...):
 *   (none)            cooperative guest, safety (assertions).
 *   HOSTILE           the guest flips flags and domid for ever;
 *                     checks the hypervisor's own invariants (pin
 *                     accounting, one domain per active entry) and that
 *                     set_status never makes more than 5 attempts, so it
 *                     ends whatever the guest does.
 *   BROKEN_END        end access without the reading|writing busy check.
 *   BROKEN_RO         map without the GTF_readonly check.
 *   BROKEN_UNBOUNDED  (with HOSTILE) no give-up: attempts past 5.
 * check.sh expects the BROKEN_* variants to be caught.
 */

#define PERMIT   1   /* GTF_permit_access */
#define TYPEMASK 3   /* GTF_type_mask */
#define RO       4   /* GTF_readonly */
#define READING  8   /* GTF_reading */
#define WRITING  16  /* GTF_writing */

#define NM            2   /* mappers: domains 1 and 2 */
#ifdef HOSTILE
#define MAPS          1   /* map/unmap cycles per mapper */
#else
#define MAPS          2
#endif
#define GRANTS        2   /* grants the guest makes (the entry is reused) */
#define SET_STATUS_RETRIES 4   /* entry.c: 5 compare-and-swap attempts */
#define END_RETRIES   2   /* gnttab_access.c has 64; any bound >= 1 will do */

/* The shared entry: header word (flags, domid) and frame. */
byte flags = 0;
byte domid = 0;
byte frame = 0;

/* The active entry (hypervisor private), guarded by act_lock. */
bit  act_lock = 0;
byte act_rpin = 0;   /* read-only pins */
byte act_wpin = 0;   /* writable pins */
byte act_dom = 0;
byte act_frame = 0;

/* Ghost state. */
byte inflight = 0;   /* set_status succeeded, pin not yet counted or undone */
bool gro = false;    /* the guest's current grant is read-only */
byte gframe = 0;     /* the frame of the guest's current grant */
byte gdom = 0;       /* the domain the current grant is for (0: none) */
byte mdone = 0;      /* mappers that have finished */

#define PINS (act_rpin + act_wpin)

/* set_status_v1: rc = 1 okay, 2 error. */
inline set_status(pinned)
{
	sf = flags; sd = domid;   /* __atomic_load_n of the 32-bit word */
	tries = 0;
	rc = 0;
	do
	:: true ->
		if
		:: !pinned && !(sd == me && (sf & TYPEMASK) == PERMIT) -> rc = 2; break
		:: else -> skip
		fi;
		nf = sf | READING;
		if
		:: !ro ->
			nf = nf | WRITING;
#ifndef BROKEN_RO
			if
			:: (sf & RO) -> rc = 2; break
			:: else -> skip
			fi
#endif
		:: else -> skip
		fi;
		atomic {   /* __atomic_compare_exchange_n */
			if
			:: flags == sf && domid == sd ->
				flags = nf; rc = 1; inflight++;
#ifndef HOSTILE
				/* The guest granted this domain, writably if we write. */
				assert(gdom == me);
				assert(ro || !gro)
#endif
			:: else -> sf = flags; sd = domid
			fi
		}
		if
		:: rc == 1 -> break
		:: else -> skip
		fi;
		assert(tries <= SET_STATUS_RETRIES);   /* at most 5 attempts */
		if
#ifndef BROKEN_UNBOUNDED
		:: tries == SET_STATUS_RETRIES -> rc = 2; break
#endif
		:: else -> tries++
		fi
	od
}

/* gt_reduce_status_for_pin, act_lock held, act->pin already updated. */
inline reduce_status()
{
	clr = (PINS == 0 -> READING : 0);
	if
	:: !ro && act_wpin == 0 -> clr = clr | WRITING
	:: else -> skip
	fi;
	flags = flags & (255 - clr)   /* __atomic_fetch_and */
}

proctype mapper(byte me)
{
	byte sf, sd, nf, tries, rc, clr, fr, n = 0;
	bool ro, first;

	do
	:: n < MAPS ->
		n++;
		if
		:: ro = true
		:: ro = false
		fi;
		/* map_one */
		atomic { act_lock == 0 -> act_lock = 1 };
		if
		:: PINS > 0 && act_dom != me -> rc = 2
		:: else ->
			first = (PINS == 0);
			if
			:: first || (!ro && act_wpin == 0) ->
				set_status(!first);
				if
				:: rc == 1 && first ->
					fr = frame;   /* gt_entry_frame, after the pin */
#ifndef HOSTILE
					assert(fr == gframe);
#endif
					if
					:: skip   /* granted_frame okay */
					:: rc = 2; inflight--; reduce_status()   /* granted_frame fails */
					fi;
					if
					:: rc == 1 -> act_dom = me; act_frame = fr
					:: else -> skip
					fi
				:: else -> skip
				fi
			:: else -> rc = 1; inflight++   /* already pinned as needed */
			fi;
			if
			:: rc == 1 ->
				atomic {
					inflight--;
					if
					:: ro -> act_rpin++
					:: else -> act_wpin++
					fi
				}
			:: else -> skip
			fi
		fi;
		assert(PINS == 0 || act_dom == me || rc != 1);
		act_lock = 0;

		if
		:: rc == 1 ->
			/* ... the frame is in use ... then unmap: unpin() */
			atomic { act_lock == 0 -> act_lock = 1 };
			assert(act_dom == me);
			if
			:: ro -> assert(act_rpin > 0); act_rpin--
			:: else -> assert(act_wpin > 0); act_wpin--
			fi;
			reduce_status();
			act_lock = 0
		:: else -> skip
		fi;
		d_step { sf = 0; sd = 0; nf = 0; tries = 0; rc = 0; clr = 0; fr = 0; first = false }
	:: else -> break
	od;
	mdone++
}

#ifndef HOSTILE
/* The cooperative guest: grant, end access, reuse the entry. */
proctype guest()
{
	byte g = 0, f, tries, target;
	bool ro, ended;

	do
	:: g < GRANTS ->
		g++;
		if
		:: target = 1
		:: target = 2
		fi;
		if
		:: ro = true
		:: ro = false
		fi;
		/* write_entry: frame and domid, then flags with release. */
		frame = g;
		domid = target;
		atomic {
			flags = PERMIT | (ro -> RO : 0);
			gro = ro; gframe = g; gdom = target
		}
		/* end access (end_cas); -EBUSY: try again later, or give up
		 * (leak the page, as xgnt_end_access_deferred finally does). */
		ended = false;
		do
		:: !ended ->
			f = flags;
			tries = 0;
			do
			:: tries < END_RETRIES ->
#ifndef BROKEN_END
				if
				:: (f & (READING | WRITING)) -> break   /* -EBUSY */
				:: else -> skip
				fi;
#endif
				atomic {
					if
					:: flags == f ->
						flags = 0; ended = true;
						/* The property: no pin survives a successful end. */
						assert(PINS == 0 && inflight == 0);
						gdom = 0
					:: else -> f = flags
					fi
				}
				if
				:: ended -> break
				:: else -> tries++
				fi
			:: else -> break
			od
		:: !ended -> goto leak
		:: else -> break
		od
	:: else -> break
	od;
leak:
	skip
}
#else
/* The hostile guest: rewrites its entry at any moment, for ever. */
proctype guest()
{
	do
	:: flags = flags ^ PERMIT
	:: flags = flags ^ RO
	:: flags = flags ^ READING
	:: flags = flags ^ WRITING
	:: domid = 3 - domid   /* 1 <-> 2 */
	od
}
#endif

init
{
	atomic {
#ifdef HOSTILE
		flags = PERMIT; domid = 1;
#endif
		run guest();
		run mapper(1);
		run mapper(2)
	}
}
