/* SPDX-License-Identifier: MIT */
/*
 * 2-level event delivery, one vCPU, two ports in one selector word:
 *
 *   hypervisor (src/hv/event_2l.c, vcpu.c)  guest (src/guest/evtchn_2l.c,
 *                                                  evtchn.c)
 *   set_pending: test_and_set pending;      dispatcher (xgnt_evtchn_wait +
 *     if it was clear and the port is        poll_2l): drain the upcall fd;
 *     unmasked and test_and_set of the        rounds of: upcall_pending = 0,
 *     selector bit was clear:                 sel = xchg(selector, 0), for
 *     vcpu_mark_events_pending (xchg          each word: pending & ~mask,
 *     upcall_pending 1; if it was 0 and        test_and_clear each bit and
 *     upcalls unmasked, kick the fd)          deliver; again while
 *   EVTCHNOP_unmask: test_and_clear mask     upcall_pending; then sleep on
 *     && pending && !test_and_set sel         the fd unless upcall_pending
 *     -> mark_events_pending                unmask: clear mask; if pending:
 *                                             mask again, EVTCHNOP_unmask
 *
 * Each access to a shared word is one atomic step. Senders send SENDS
 * events each on their port; a masker masks and unmasks ports meanwhile.
 * No lost events: once senders and masker are done and every process is
 * blocked (timeout), every event sent has been delivered at least once.
 *
 * Variants (spin -D...), which check.sh expects to be caught:
 *   BROKEN_UNMASK   the guest's unmask only clears the mask (no re-raise).
 *   BROKEN_ORDER    the dispatcher clears upcall_pending after taking the
 *                   selector instead of before.
 */

#define NP     2   /* ports, both in selector word 0 */
#define SENDS  2   /* sends per sender */
#define MASKS  2   /* mask/unmask cycles of the masker */
#define ROUNDS 2   /* GEV_POLL_ROUNDS (16 in the code) */

bit pending[NP];
bit mask[NP];
bit sel = 0;              /* evtchn_pending_sel, word 0 */
bit upcall_pending = 0;   /* evtchn_upcall_pending */
bit kick = 0;             /* the upcall eventfd is readable */

bit unobserved[NP];       /* ghost: sent and not delivered since */
byte sent = 0, delivered = 0;

/* vcpu_mark_events_pending (evtchn_upcall_mask is 0: upcalls enabled). */
inline mark_events_pending()
{
	atomic {
		if
		:: !upcall_pending -> upcall_pending = 1; kick = 1
		:: else -> skip
		fi
	}
}

proctype sender(byte p)
{
	byte n = 0;
	bit was;

	do
	:: n < SENDS ->
		n++;
		/* set_pending_2l */
		atomic { was = pending[p]; pending[p] = 1; unobserved[p] = 1; sent++ };
		if
		:: !was ->
			if
			:: !mask[p] ->
				atomic { was = sel; sel = 1 };
				if
				:: !was -> mark_events_pending()
				:: else -> skip
				fi
			:: else -> skip
			fi
		:: else -> skip
		fi;
		was = 0
	:: else -> break
	od
}

proctype masker()
{
	byte n = 0, p;
	bit was;

	do
	:: n < MASKS ->
		n++;
		if
		:: p = 0
		:: p = 1
		fi;
		mask[p] = 1;   /* test_and_mask */
		/* unmask_2l, guest side */
		mask[p] = 0;
#ifndef BROKEN_UNMASK
		if
		:: pending[p] ->
			mask[p] = 1;
			/* EVTCHNOP_unmask: unmask_2l, hypervisor side */
			atomic { was = mask[p]; mask[p] = 0 };
			if
			:: was && pending[p] ->
				atomic { was = sel; sel = 1 };
				if
				:: !was -> mark_events_pending()
				:: else -> skip
				fi
			:: else -> skip
			fi
		:: else -> skip
		fi;
#endif
		was = 0; p = 0
	:: else -> break
	od
}

proctype dispatcher()
{
	byte round, n;
	bit s, b0, b1, m0, m1;

	do
	:: kick = 0;   /* drain */
		n = 0;
		round = 0;
		do
		:: round < ROUNDS ->
#ifndef BROKEN_ORDER
			upcall_pending = 0;
			atomic { s = sel; sel = 0 };
#else
			atomic { s = sel; sel = 0 };
			upcall_pending = 0;
#endif
			if
			:: s ->
				atomic { b0 = pending[0]; b1 = pending[1] };
				atomic { m0 = mask[0]; m1 = mask[1] };
				if
				:: b0 && !m0 ->
					atomic {
						if
						:: pending[0] -> pending[0] = 0; unobserved[0] = 0; delivered++; n++
						:: else -> skip
						fi
					}
				:: else -> skip
				fi;
				if
				:: b1 && !m1 ->
					atomic {
						if
						:: pending[1] -> pending[1] = 0; unobserved[1] = 0; delivered++; n++
						:: else -> skip
						fi
					}
				:: else -> skip
				fi
			:: else -> skip
			fi;
			d_step { s = 0; b0 = 0; b1 = 0; m0 = 0; m1 = 0 };
			if
			:: upcall_pending -> round++
			:: else -> break
			fi
		:: else -> break
		od;
		if
		:: n > 0 || upcall_pending -> skip   /* return n / continue */
		:: else -> end_sleep: kick == 1       /* poll() on the fd */
		fi
	od
}

/* Everyone is done or asleep: nothing sent may be left undelivered. */
proctype final()
{
	timeout ->
	assert(!unobserved[0] && !unobserved[1]);
	assert(delivered <= sent)
}

init
{
	atomic {
		run sender(0);
		run sender(1);
		run masker();
		run dispatcher();
		run final()
	}
}
