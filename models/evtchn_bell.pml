/* SPDX-License-Identifier: MIT */
/*
 * The bell (src/daemon/bell.h): one port's slot of an evtchn handle's bell,
 * shared by processes, and the handle's pipe.
 *
 *   sender (libxenevtchn's direct notify,    receiver (the handle's process)
 *   or the daemon's on_event): bell_raise     read a port from the pipe;
 *     ENABLED: clear it, then write the        unmask: bell_enable: ENABLED:
 *       port to the pipe (a later step)          nothing; PENDING: ask the
 *     else: set PENDING                          daemon; else set ENABLED
 *                                            daemon (XGNTD_EVTCHN_UNMASK):
 *                                              bell_unmask: PENDING: clear
 *                                              it, write; else set ENABLED
 *
 * Each compare-and-swap loop is one atomic step (it retries until its
 * read-modify-write lands); the pipe write after a successful raise is a
 * step of its own, as in the code. Two senders raise SENDS events each.
 *
 * Checked:
 *   - delivered once until unmask: a sender or the daemon decides to write
 *     only when no delivery is outstanding (written, or read and not yet
 *     unmasked);
 *   - no lost events: once everything is blocked, no event raised after
 *     the receiver's last read is left undelivered.
 *
 * Variants (spin -D...), which check.sh expects to be caught:
 *   BROKEN_ENABLE  the receiver's unmask sets ENABLED though PENDING is set
 *                  (the held event stays held).
 *   BROKEN_RAISE   raise reads the slot and writes it back in two steps
 *                  (no compare-and-swap): two senders both deliver.
 */

#define SENDS 2

bit en = 1;              /* ENABLED */
bit pend = 0;            /* PENDING */
chan pipe = [2] of { byte };
chan unmaskq = [2] of { byte };

bit unobserved = 0;      /* ghost: raised since the receiver's last read */
byte outstanding = 0;    /* ghost: deliveries not yet unmasked */
byte done = 0;

inline decide()
{
	assert(outstanding == 0);
	outstanding++
}

proctype sender()
{
	byte n = 0;
	bit deliver, e;

	do
	:: n < SENDS ->
		n++;
		deliver = 0;
#ifdef BROKEN_RAISE
		atomic { e = en; unobserved = 1 };
		if
		:: e -> atomic { en = 0; deliver = 1; decide() }
		:: else -> pend = 1
		fi;
#else
		atomic {
			unobserved = 1;
			if
			:: en -> en = 0; deliver = 1; decide()
			:: else -> pend = 1
			fi
		};
#endif
		if
		:: deliver -> pipe!0
		:: else -> skip
		fi
	:: else -> break
	od;
	atomic { done++ }
}

/* The daemon's XGNTD_EVTCHN_UNMASK handler. */
proctype daemon()
{
	byte x;
	bit deliver;

end:	do
	:: unmaskq?x ->
		deliver = 0;
		atomic {
			if
			:: en -> skip
			:: !en && pend -> pend = 0; deliver = 1; decide()
			:: !en && !pend -> en = 1
			fi
		};
		if
		:: deliver -> pipe!0
		:: else -> skip
		fi
	od
}

proctype receiver()
{
	byte x;
	bit ask;

end:	do
	:: pipe?x ->
		unobserved = 0;
		/* the program looks at its ring, then unmasks */
		ask = 0;
		atomic {
			outstanding--;
			if
			:: en -> skip
#ifdef BROKEN_ENABLE
			:: !en -> en = 1
#else
			:: !en && pend -> ask = 1
			:: !en && !pend -> en = 1
#endif
			fi
		};
		if
		:: ask -> unmaskq!0
		:: else -> skip
		fi
	od
}

init
{
	atomic {
		run sender();
		run sender();
		run daemon();
		run receiver()
	}
}

/* Every process blocked: the senders are done, so nothing raised may be
 * left unread. */
active proctype watchdog()
{
	timeout -> assert(done == 2 && !unobserved)
}
