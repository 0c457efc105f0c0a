/* SPDX-License-Identifier: MIT */
/*
 * FIFO event delivery, one vCPU, one priority queue, NP ports:
 *
 *   hypervisor (src/hv/event_fifo.c)        guest (src/guest/evtchn_fifo.c)
 *   set_pending_fifo, under the queue lock:  dispatcher (poll_fifo +
 *     test_and_set PENDING; if not MASKED     consume_one): rounds of:
 *     and test_and_set LINKED was clear:      upcall_pending = 0, ready =
 *     forget the port as tail, link it        xchg(cb->ready, 0); while ready:
 *     after the tail (set_link: CAS of the    port = its own head, or the
 *     tail word iff still LINKED; after one   control block's head when it
 *     failure set BUSY and retry 4 times),    reached the tail; clear LINKED
 *     or else make it the head; it is the     and LINK together (CAS), the
 *     new tail; if it was not linked after    old LINK is the next port (0:
 *     anything: set ready, and if ready was   queue done, ready bit off); if
 *     clear mark_events_pending               not MASKED, test-and-clear
 *   EVTCHNOP_unmask: clear MASKED; if         PENDING and deliver; ready |=
 *     PENDING: set_pending_fifo               xchg(cb->ready, 0); again while
 *                                             upcall_pending; then sleep
 *                                           masker: set MASKED; unmask: clear
 *                                             MASKED unless BUSY (spins), then
 *                                             EVTCHNOP_unmask if PENDING
 *
 * A word is one byte here: PENDING, MASKED, LINKED, BUSY and the LINK field
 * (a port number) above them; each access to a shared word or to the
 * control block is one atomic step, compare-and-swap included.
 *
 * No lost events: once senders and masker are done and every process is
 * blocked (timeout), every event sent has been delivered at least once;
 * and no port is ever linked after itself.
 *
 * Variants (spin -D...), which check.sh expects to be caught:
 *   BROKEN_UNMASK   the guest's unmask only clears MASKED (no EVTCHNOP_unmask).
 *   BROKEN_LINK     set_link links after the tail without checking that it
 *                   is still LINKED (the dispatcher may have passed it).
 */

#define NP     2   /* ports 1..NP */
#define SENDS  2   /* sends per sender */
#define MASKS  1   /* mask/unmask cycles of the masker */
#define ROUNDS 2   /* GEV_POLL_ROUNDS (16 in the code) */

#define PEND   1
#define MASK   2
#define LNKD   4
#define BUSY   8
#define LINKOF(w) ((w) >> 4)

byte word[NP + 1];        /* event words; port 0 unused */
byte head = 0;            /* control block: head[q] */
bit ready = 0;            /* control block: ready bit of q */
bit upcall_pending = 0;
bit kick = 0;             /* the upcall eventfd is readable */
byte tail = 0;            /* hypervisor: the queue's tail (under qlock) */
bit qlock = 0;            /* hypervisor: the queue lock */

bit unobserved[NP + 1];   /* ghost: sent and not delivered since */
byte sent = 0, delivered = 0;

inline mark_events_pending()
{
	atomic {
		if
		:: !upcall_pending -> upcall_pending = 1; kick = 1
		:: else -> skip
		fi
	}
}

/* try_set_link: 0 not LINKED, 1 linked, 2 raced (w reloaded). */
inline try_set_link(t, w, p, ret)
{
	if
	:: !(w & LNKD) -> ret = 0
	:: else ->
		atomic {
			if
			:: word[t] == w -> word[t] = (w & (PEND | MASK | LNKD)) | (p << 4); ret = 1
			:: else -> w = word[t]; ret = 2
			fi
		}
	fi
}

/* set_link(tail t, port p): ret 1 linked, 0 not (t was not LINKED). */
inline set_link(t, p, ret)
{
	assert(t != p);   /* never linked after itself: a cycle */
	w = word[t];
#ifndef BROKEN_LINK
	try_set_link(t, w, p, ret);
	if
	:: ret == 2 ->
		atomic { word[t] = word[t] | BUSY };
		w = word[t];
		tries = 0;
		do
		:: tries < 4 ->
			tries++;
			try_set_link(t, w, p, ret);
			if
			:: ret == 0 -> atomic { word[t] = word[t] & ~BUSY }; break
			:: ret == 1 -> break
			:: else -> skip
			fi
		:: else ->
			/* gave up: the code logs and returns true */
			atomic { word[t] = word[t] & ~BUSY };
			ret = 1;
			break
		od;
		tries = 0
	:: else -> skip
	fi;
#else
	atomic { word[t] = (word[t] & (PEND | MASK | LNKD | BUSY)) | (p << 4); ret = 1 };
#endif
	w = 0
}

/* set_pending_fifo(p); ghost: a new event when fresh. */
inline set_pending(p, fresh)
{
	atomic { qlock == 0 -> qlock = 1 };
	atomic {
		word[p] = word[p] | PEND;
		if
		:: fresh -> unobserved[p] = 1; sent++
		:: else -> skip
		fi
	};
	linked = 1;
	if
	:: !(word[p] & MASK) ->
		atomic { was = word[p] & LNKD; word[p] = word[p] | LNKD };
		if
		:: !was ->
			if
			:: tail == p -> tail = 0
			:: else -> skip
			fi;
			linked = 0;
			if
			:: tail != 0 -> set_link(tail, p, rc); linked = rc; rc = 0
			:: else -> skip
			fi;
			if
			:: !linked -> head = p
			:: else -> skip
			fi;
			tail = p
		:: else -> skip
		fi
	:: else -> skip
	fi;
	if
	:: !linked ->
		atomic { was = ready; ready = 1 };
		qlock = 0;
		if
		:: !was -> mark_events_pending()
		:: else -> skip
		fi
	:: else -> qlock = 0
	fi;
	d_step { was = 0; linked = 0 }
}

proctype sender(byte p)
{
	byte n = 0, w, tries, was, rc;
	bit linked;

	do
	:: n < SENDS -> n++; set_pending(p, 1)
	:: else -> break
	od
}

proctype masker()
{
	byte n = 0, p, w, tries, was, rc;
	bit linked;

	do
	:: n < MASKS ->
		n++;
		if
		:: p = 1
		:: p = 2
		fi;
		atomic { word[p] = word[p] | MASK };
		/* unmask_fifo, guest side: clear MASKED unless BUSY */
		atomic { !(word[p] & BUSY) -> word[p] = word[p] & ~MASK };
#ifndef BROKEN_UNMASK
		if
		:: word[p] & PEND ->
			/* EVTCHNOP_unmask: unmask_fifo, hypervisor side */
			atomic { word[p] = word[p] & ~MASK };
			if
			:: word[p] & PEND -> set_pending(p, 0)
			:: else -> skip
			fi
		:: else -> skip
		fi;
#endif
		p = 0
	:: else -> break
	od
}

proctype dispatcher()
{
	byte round, n, lh = 0, port, next;
	bit r, pend;

	do
	:: kick = 0;   /* drain */
		n = 0;
		round = 0;
		do
		:: round < ROUNDS ->
			upcall_pending = 0;
			atomic { r = ready; ready = 0 };
			do
			:: r ->
				/* consume_one */
				port = lh;
				if
				:: !port -> port = head
				:: else -> skip
				fi;
				if
				:: !port -> r = 0; lh = 0   /* NEVER() in the code */
				:: else ->
					atomic {
						next = LINKOF(word[port]);
						word[port] = word[port] & (PEND | MASK | BUSY)
					};
					if
					:: !next -> r = 0
					:: else -> skip
					fi;
					lh = next;
					if
					:: !(word[port] & MASK) ->
						atomic {
							pend = word[port] & PEND;
							word[port] = word[port] & ~PEND;
							if
							:: pend -> unobserved[port] = 0; delivered++; n++
							:: else -> skip
							fi
						}
					:: else -> skip
					fi
				fi;
				atomic { r = r | ready; ready = 0 };
				d_step { port = 0; next = 0; pend = 0 }
			:: else -> break
			od;
			if
			:: upcall_pending -> round++
			:: else -> break
			fi
		:: else -> break
		od;
		if
		:: n > 0 || upcall_pending -> skip
		:: else -> end_sleep: kick == 1
		fi
	od
}

/* Everyone is done or asleep: nothing sent may be left undelivered.
 * (Not delivered <= sent: an unmask that saw PENDING re-raises it even if
 * the dispatcher took the event meanwhile, a spurious event, as in Xen.) */
proctype final()
{
	timeout ->
	assert(!unobserved[1] && !unobserved[2])
}

init
{
	atomic {
		run sender(1);
		run sender(2);
		run masker();
		run dispatcher();
		run final()
	}
}
