/* SPDX-License-Identifier: MIT */
/*
 * The xgntd wire protocol (private to xgnt: the daemon, src/client/ and
 * the tools). Unix SOCK_SEQPACKET: one message per datagram, so message
 * boundaries and passed descriptors (SCM_RIGHTS) never straddle messages.
 *
 * Every message is a struct xgntd_hdr followed by hdr.len payload bytes;
 * the datagram's size must equal sizeof(hdr) + hdr.len, and no message is
 * larger than XGNTD_MAX_MSG. Host byte order (the socket is local).
 *
 * A connection is one handle: its first message is XGNTD_HELLO naming the
 * kind (gntdev, gntalloc, evtchn, ctl) and the domain it acts for. Every
 * request gets exactly one reply with the same type and seq, in order,
 * except those with XGNTD_F_NOREPLY (event notify and unmask, which Linux's
 * evtchn driver also answers without an error the caller can see). A reply
 * carries ret >= 0 or -errno. The daemon treats every byte as untrusted: a
 * malformed request gets -EINVAL (or -EPROTO for a message of the wrong
 * shape) and a connection that breaks the framing is closed.
 *
 * Unsolicited messages (daemon to client): only on a ctl connection that
 * asked for XGNTD_CTL_WATCH_DOMAINS (then it receives nothing else).
 * Pending event ports travel on a pipe, not on the socket (see HELLO).
 */
#ifndef XGNT_DAEMON_PROTO_H
#define XGNT_DAEMON_PROTO_H

#include <stdint.h>

#define XGNTD_MAGIC    0x746e6778u     /* "xgnt" */
#define XGNTD_VERSION  1u
#define XGNTD_MAX_MSG  65536u
#define XGNTD_MAX_REFS 4096u           /* grants in one map or share request */
#define XGNTD_COPY_BATCH 16u           /* segments per copy request (bounce pages) */

struct xgntd_hdr {
	uint32_t type;          /* enum xgntd_type */
	uint32_t len;           /* payload bytes after the header */
	int32_t ret;            /* replies: >= 0 or -errno; requests: 0 */
	uint16_t seq;           /* echoed in the reply */
	uint16_t flags;         /* XGNTD_F_* */
};
#define XGNTD_F_NOREPLY 1u

enum xgntd_type {
	XGNTD_HELLO = 1,
	/* gntdev handle (libxengnttab) */
	XGNTD_GNTDEV_MAP = 16,
	XGNTD_GNTDEV_UNMAP,
	XGNTD_GNTDEV_COPY,
	XGNTD_GNTDEV_SET_MAX,
	/* gntalloc handle (libxengntshr) */
	XGNTD_GNTALLOC_SHARE = 32,
	XGNTD_GNTALLOC_UNSHARE,
	/* evtchn handle (libxenevtchn) */
	XGNTD_EVTCHN_BIND_UNBOUND = 48,
	XGNTD_EVTCHN_BIND_INTERDOMAIN,
	XGNTD_EVTCHN_BIND_VIRQ,
	XGNTD_EVTCHN_UNBIND,
	XGNTD_EVTCHN_NOTIFY,            /* XGNTD_F_NOREPLY allowed */
	XGNTD_EVTCHN_UNMASK,            /* XGNTD_F_NOREPLY allowed */
	XGNTD_EVTCHN_RESTRICT,
	XGNTD_EVTCHN_ROUTE,             /* notify, and ask for the peer's bell */
	/* control (tools, xenstored, libxenctrl) */
	XGNTD_CTL_DOMAIN_CREATE = 64,
	XGNTD_CTL_DOMAIN_DESTROY,
	XGNTD_CTL_DOMAIN_LIST,
	XGNTD_CTL_DUMP,
	XGNTD_CTL_WATCH_DOMAINS,
	XGNTD_CTL_EVENT_DOMAIN,         /* unsolicited, on a watching connection */
	XGNTD_CTL_SHUTDOWN,
};

enum xgntd_kind {
	XGNTD_KIND_GNTDEV = 1,
	XGNTD_KIND_GNTALLOC,
	XGNTD_KIND_EVTCHN,
	XGNTD_KIND_CTL,
};

/* HELLO: request. The reply's payload is struct xgntd_hello_reply, and it
 * passes descriptors: gntdev and gntalloc get the machine memory memfd
 * (frame f at offset f * 4096); evtchn gets two: the read end of the
 * handle's pipe of pending ports (4 bytes per port, host order) and the
 * handle's bell (below). */
struct xgntd_hello {
	uint32_t magic, version;
	uint32_t kind;          /* enum xgntd_kind */
	uint32_t domid;         /* the domain this handle acts for */
	uint32_t flags;         /* XGNTD_HELLO_* */
};
/* evtchn only (xenevtchn_fdopen): the HELLO passes the read end of an
 * existing handle's pipe (SCM_RIGHTS); this connection takes that handle
 * over (its ports, pipe and restriction), and no new pipe is passed back.
 * -ENOENT when no handle of the domain owns that pipe. */
#define XGNTD_HELLO_ADOPT 1u
struct xgntd_hello_reply {
	uint32_t version;
	uint32_t domid;
	uint64_t nr_frames;     /* size of the machine memfd in frames */
	/* gntdev: the handle's bounce pages for grant copy, machine frames */
	uint64_t bounce_mfn[XGNTD_COPY_BATCH];
};

/* Unmap notification (gntdev and gntalloc), Linux's UNMAP_NOTIFY_*. */
#define XGNTD_NOTIFY_CLEAR_BYTE 1u
#define XGNTD_NOTIFY_SEND_EVENT 2u

/* GNTDEV_MAP: maps count grants; refs[] follow (count of them). ret: the
 * map's id (>= 0). Reply payload: count uint64_t machine frames. */
struct xgntd_map_ref {
	uint32_t domid;
	uint32_t ref;
};
struct xgntd_map {
	uint32_t count;
	uint32_t readonly;      /* 0 or 1 */
	uint32_t notify;        /* XGNTD_NOTIFY_* */
	uint32_t notify_offset; /* byte offset in the mapping */
	uint32_t notify_port;
	uint32_t pad;
	struct xgntd_map_ref refs[];
};
/* GNTDEV_UNMAP: ret 0; -ENOENT (Linux's) when id is not a map of this
 * handle or count does not match it. */
struct xgntd_unmap {
	uint32_t id;
	uint32_t count;
};
/* GNTDEV_COPY: count <= XGNTD_COPY_BATCH segments; a side that is not a
 * grant is the handle's bounce page of the same index, at offset 0. The
 * reply's payload: count int16_t statuses (GNTST_*). ret 0, or -errno for
 * a malformed segment (Linux's -EINVAL), after the segments before it. */
#define XGNTD_COPY_SRC_GREF 1u   /* GNTCOPY_source_gref */
#define XGNTD_COPY_DST_GREF 2u   /* GNTCOPY_dest_gref */
struct xgntd_copy_seg {
	uint32_t src_ref, dst_ref;
	uint16_t src_offset, dst_offset;
	uint16_t src_domid, dst_domid;
	uint16_t len;
	uint16_t flags;
};
struct xgntd_copy {
	uint32_t count;
	uint32_t pad;
	struct xgntd_copy_seg segs[];
};
struct xgntd_set_max {
	uint32_t nr_grants;
};

/* GNTALLOC_SHARE: count fresh zeroed pages of the domain granted to domid.
 * ret: the share's id. Reply payload: count struct xgntd_share_page. */
struct xgntd_share {
	uint32_t domid;
	uint32_t count;
	uint32_t writable;
	uint32_t notify;        /* XGNTD_NOTIFY_* */
	uint32_t notify_offset;
	uint32_t notify_port;
};
struct xgntd_share_page {
	uint32_t ref;
	uint32_t pad;
	uint64_t mfn;
};
struct xgntd_unshare {
	uint32_t id;
};

/* Event channels: ret is the local port, or 0, or -errno. */
struct xgntd_evtchn {
	uint32_t domid;         /* bind_unbound, bind_interdomain, restrict */
	uint32_t port;          /* bind_interdomain (remote), unbind, notify, unmask,
				 * route */
	uint32_t virq;          /* bind_virq */
};

/*
 * The bell: a memfd per evtchn handle holding, for each port the handle
 * bound, the state Linux's evtchn driver keeps (delivered, and held while
 * masked), so that a process notifying an interdomain port whose peer is
 * another handle can deliver the event itself, writing the peer's pipe,
 * without waking the daemon. Slot p (at XGNTD_BELL_SLOT(p)) is one 64-bit
 * word, changed only by compare-and-swap: its low 32 bits are the binding's
 * token (0: the port is not bound to this handle), then ENABLED (not
 * delivered since the last unmask) and PENDING (raised while not enabled).
 *
 *   raise:  token differs: stale route (ask the daemon); ENABLED: clear it
 *           and set WRITING, write the port to the pipe, clear WRITING;
 *           else set PENDING. (A handle that goes leaves WRITING set only
 *           if its process died mid-delivery: the daemon then writes the
 *           port itself.)
 *   unmask: ENABLED: nothing; PENDING: clear it, write the port to the
 *           pipe; else set ENABLED. The handle's own process only sets
 *           ENABLED, and sends XGNTD_EVTCHN_UNMASK when PENDING is set:
 *           it holds no write end of its pipe, so that the pipe ends (EOF)
 *           when the daemon and every route to it have gone.
 *
 * The daemon raises for the events it delivers, and clears a slot's token
 * before the port leaves the handle, so a sender holding an old route finds
 * it stale. The header counts deliveries into this handle and the sends of
 * its own fast notifies, for `xgnt top`.
 */
#define XGNTD_BELL_PORTS    (1u << 17)           /* EVTCHN_FIFO_NR_CHANNELS */
#define XGNTD_BELL_HDR      64u
#define XGNTD_BELL_SLOT(p)  (XGNTD_BELL_HDR + (uint64_t)(p) * 8u)
#define XGNTD_BELL_SIZE     XGNTD_BELL_SLOT(XGNTD_BELL_PORTS)
#define XGNTD_BELL_TOKEN    0xffffffffull
#define XGNTD_BELL_ENABLED  (1ull << 32)
#define XGNTD_BELL_PENDING  (1ull << 33)
#define XGNTD_BELL_WRITING  (1ull << 34)   /* raised, pipe write under way */
struct xgntd_bell_hdr {
	uint64_t delivered;     /* events written to this handle's pipe by senders */
	uint64_t sent;          /* this handle's notifies delivered without the daemon */
};

/* EVTCHN_ROUTE: as NOTIFY, and then, when the port is interdomain and its
 * peer is bound by a handle (of any domain, this one included), ret 1,
 * this payload, and two descriptors: the peer handle's pipe write end and
 * its bell. ret 0: no route now (unbound, or the peer is not a handle's). */
struct xgntd_evtchn_route {
	uint32_t handle;        /* the peer handle's id: the same pipe and bell */
	uint32_t port;          /* the peer's port: its slot in the bell */
	uint32_t token;         /* the binding's token in that slot */
	uint32_t pad;
};

/* Control. */
struct xgntd_domain_create {
	uint32_t domid;
	uint32_t type;          /* enum xgnt_domain_type */
	uint32_t ram_frames;    /* 0: the default */
	uint32_t vcpus;         /* 0: 1 */
	uint32_t privileged;
};
struct xgntd_domid {
	uint32_t domid;         /* DOMID_DUMP_ALL for every domain (dump) */
};
#define XGNTD_DOMID_ALL 0xffffffffu
/* DOMAIN_LIST reply payload: an array of these; also the payload of an
 * EVENT_DOMAIN message (then `alive` tells created from destroyed). */
struct xgntd_domain_info {
	uint32_t domid;
	uint32_t type;
	uint32_t privileged;
	uint32_t vcpus;
	uint32_t alive;         /* 0: destroyed (EVENT_DOMAIN only) */
	uint32_t nr_handles;    /* connections acting for it */
	uint64_t ram_frames;
	uint32_t nr_grant_frames, max_grant_frames;
	uint32_t nr_grants;     /* shared entries in use */
	uint32_t nr_active;     /* pinned by others */
	uint32_t nr_mappings;   /* grants it maps */
	uint32_t nr_ports;      /* event channels bound through handles */
	uint64_t events_sent;   /* notifies through handles, ever */
	uint64_t events_delivered;
	uint64_t hypercalls;    /* issued by the daemon for it, ever */
};

#endif /* XGNT_DAEMON_PROTO_H */
