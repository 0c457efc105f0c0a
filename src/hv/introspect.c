/* SPDX-License-Identifier: MIT */
/* Introspection (being written). */
#include "gnttab.h"
#include <errno.h>
