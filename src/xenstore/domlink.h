/* SPDX-License-Identifier: MIT */
/* The link to xgntd that tells the server which domains exist. */
#ifndef XGNT_XENSTORED_DOMLINK_H
#define XGNT_XENSTORED_DOMLINK_H

struct xsv_server;

/* Connects, says HELLO (ctl, dom0) and WATCH_DOMAINS. fd or -errno. */
int xsv_domlink_open(const char *path);
/* Handles what arrived; 0, or -errno when the link should be closed. */
int xsv_domlink_input(struct xsv_server *s, int fd);
/* Waits for the WATCH_DOMAINS reply and the domain list behind it:
 * 0, -ETIMEDOUT, or -errno (refused, broken). */
int xsv_domlink_start(struct xsv_server *s, int fd, int timeout_ms);

#endif
