/* SPDX-License-Identifier: MIT */
/*
 * xgnt: event channels, the guest side. What a guest kernel does with
 * Xen's EVTCHNOP interface: place shared_info and vcpu_info, pick the FIFO
 * ABI when offered (2-level otherwise), bind ports to handlers, and run the
 * per-vCPU upcall dispatch loop.
 *
 * Where the usual guest implementations fall short, this one does not:
 * unbinding closes the channel; unmasking re-raises an event that became
 * pending while the port was masked; events that arrive before a handler
 * is bound are counted and delivered once it is.
 */
#ifndef XGNT_EVTCHN_H
#define XGNT_EVTCHN_H

#include <xgnt/guest.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * A handler runs on the thread that dispatches the port's vCPU
 * (xgnt_evtchn_poll / xgnt_evtchn_wait), never on two threads at once for
 * one port, and never after xgnt_evtchn_unbind of its port has returned.
 * Events that arrive while it runs make it run again (coalesced: one call
 * may stand for several notifications, none is lost). It may bind, unbind
 * (its own port included), notify, mask and unmask; unbinding another port
 * waits for that port's handler if it is running elsewhere, so two
 * handlers must not unbind each other's ports.
 */
typedef void (*xgnt_evtchn_handler_t)(struct xgnt_guest *g, evtchn_port_t port, void *data);

/* Flags of xgnt_evtchn_init. */
#define XGNT_EVTCHN_FORCE_2L      1u   /* 2-level even when FIFO is offered */
#define XGNT_EVTCHN_VCPU_INFO_ALL 2u   /* register vcpu_info for every vCPU
					  (always done for vCPUs >= 32) */

enum xgnt_evtchn_abi {
	XGNT_EVTCHN_ABI_NONE = 0,      /* not set up */
	XGNT_EVTCHN_ABI_2L,
	XGNT_EVTCHN_ABI_FIFO,
};

/*
 * Set event channels up for g, as a guest kernel's boot does: shared_info
 * placed (XENMEM_add_to_physmap for translated guests, update_va_mapping
 * of the start-info frame for PV), vcpu_info registered where needed, the
 * FIFO ABI (EVTCHNOP_init_control on every vCPU) unless the hypervisor
 * refuses it or XGNT_EVTCHN_FORCE_2L, and the upcall unmasked on every
 * vCPU. Call once, before any other function here. 0, -EEXIST (already
 * set up), -EINVAL (flags), -ENOMEM, or the hypercall's -errno.
 *
 * Xen cannot undo a vcpu_info registration: those pages stay the
 * hypervisor's, and a later context over the same domain cannot register
 * again (-EINVAL). Going back from FIFO takes EVTCHNOP_reset, which
 * xgnt_guest_destroy issues: it closes every port of the domain.
 */
XGNT_GUEST_API int xgnt_evtchn_init(struct xgnt_guest *g, unsigned int flags);
XGNT_GUEST_API enum xgnt_evtchn_abi xgnt_evtchn_abi(struct xgnt_guest *g);
/* Ports the ABI can name (4096 for 2-level, 131072 for FIFO); 0 before
 * init. The domain's own limit may be lower. */
XGNT_GUEST_API unsigned int xgnt_evtchn_max_ports(struct xgnt_guest *g);

/*
 * Open a channel and bind it to handler(g, port, data). The port is
 * unmasked once the handler is in place; what arrived before (the
 * interdomain bind's own event included) is delivered then. handler may
 * be NULL: the port is opened but not bound, and its events are counted
 * until xgnt_evtchn_bind. 0 and *port, or the hypercall's -errno (the
 * channel is closed again if binding fails after it was opened).
 */
XGNT_GUEST_API int xgnt_evtchn_alloc_unbound(struct xgnt_guest *g, domid_t remote_dom,
					     xgnt_evtchn_handler_t handler, void *data,
					     evtchn_port_t *port);
XGNT_GUEST_API int xgnt_evtchn_bind_interdomain(struct xgnt_guest *g, domid_t remote_dom,
						evtchn_port_t remote_port,
						xgnt_evtchn_handler_t handler, void *data,
						evtchn_port_t *local_port);
XGNT_GUEST_API int xgnt_evtchn_bind_virq(struct xgnt_guest *g, uint32_t virq, unsigned int vcpu,
					 xgnt_evtchn_handler_t handler, void *data,
					 evtchn_port_t *port);
XGNT_GUEST_API int xgnt_evtchn_bind_ipi(struct xgnt_guest *g, unsigned int vcpu,
					xgnt_evtchn_handler_t handler, void *data,
					evtchn_port_t *port);
/*
 * Bind a port obtained otherwise (a raw hypercall, the toolstack). Events
 * counted before are delivered. 0; -EINVAL (bad port, closed, or handler
 * NULL); -EBUSY (already bound); -ENODEV (not set up).
 */
XGNT_GUEST_API int xgnt_evtchn_bind(struct xgnt_guest *g, evtchn_port_t port,
				    xgnt_evtchn_handler_t handler, void *data);
/*
 * Unbind and close (EVTCHNOP_close): the port is masked, its pending event
 * cleared and its handler removed, waiting for a call in progress on
 * another thread; an interdomain peer turns unbound. Returns the close's
 * result (-EINVAL if the port was not open); the local state is released
 * either way.
 */
XGNT_GUEST_API int xgnt_evtchn_unbind(struct xgnt_guest *g, evtchn_port_t port);

/* EVTCHNOP_send. */
XGNT_GUEST_API int xgnt_evtchn_notify(struct xgnt_guest *g, evtchn_port_t port);
/* Mask a port; unmask it, raising again an event that became pending
 * while it was masked (EVTCHNOP_unmask when one is pending). 0 or -EINVAL. */
XGNT_GUEST_API int xgnt_evtchn_mask(struct xgnt_guest *g, evtchn_port_t port);
XGNT_GUEST_API int xgnt_evtchn_unmask(struct xgnt_guest *g, evtchn_port_t port);
XGNT_GUEST_API bool xgnt_evtchn_is_masked(struct xgnt_guest *g, evtchn_port_t port);
XGNT_GUEST_API bool xgnt_evtchn_is_pending(struct xgnt_guest *g, evtchn_port_t port);
/* Deliver port's events to vCPU vcpu from now on (EVTCHNOP_bind_vcpu; the
 * port is masked meanwhile, so nothing is lost in the move). */
XGNT_GUEST_API int xgnt_evtchn_bind_vcpu(struct xgnt_guest *g, evtchn_port_t port,
					 unsigned int vcpu);
/* The vCPU the guest dispatches port on (0 for ports it never bound). */
XGNT_GUEST_API unsigned int xgnt_evtchn_vcpu(struct xgnt_guest *g, evtchn_port_t port);
/* FIFO only (EVTCHNOP_set_priority, 0 highest .. 15); -ENOSYS on 2-level. */
XGNT_GUEST_API int xgnt_evtchn_set_priority(struct xgnt_guest *g, evtchn_port_t port,
					    unsigned int priority);
/* Events taken for port while no handler was bound, not yet delivered. */
XGNT_GUEST_API unsigned int xgnt_evtchn_missed(struct xgnt_guest *g, evtchn_port_t port);

/*
 * The upcall: take everything pending for vCPU vcpu and call the handlers
 * (2-level: the selector and pending words, bit by bit; FIFO: the ready
 * queues, highest priority first). At most a bounded batch per call: a
 * port that keeps firing cannot hold the caller forever. Returns the
 * number of events taken (delivered or counted), or -EINVAL, -ENODEV;
 * -EDEADLK when called from a handler of the same vCPU.
 */
XGNT_GUEST_API int xgnt_evtchn_poll(struct xgnt_guest *g, unsigned int vcpu);
/*
 * The per-vCPU dispatch loop's body: wait up to timeout_ms (negative:
 * forever) for the vCPU's upcall (its upcall fd), then poll. Returns the
 * events taken (> 0), 0 on timeout, or -errno.
 */
XGNT_GUEST_API int xgnt_evtchn_wait(struct xgnt_guest *g, unsigned int vcpu, int timeout_ms);

#ifdef __cplusplus
}
#endif
#endif /* XGNT_EVTCHN_H */
