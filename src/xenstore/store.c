// SPDX-License-Identifier: MIT
/*
 * The store: a tree of nodes addressed by canonical absolute paths, and
 * the permission lists xenstored keeps on every node.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xenstored.h"

/* Child of n named by the component [name, name + len), or NULL. */
static struct xsv_node *find_child(const struct xsv_node *n, const char *name,
				   size_t len)
{
	for (unsigned int i = 0; i < n->nr_child; i++) {
		const char *cn = n->child[i]->name;
		if (strncmp(cn, name, len) == 0 && cn[len] == '\0')
			return n->child[i];
	}
	return NULL;
}

/* path is canonical: "/" or "/a/b" (no empty components). */
struct xsv_node *xsv_node_lookup(struct xsv_node *root, const char *path)
{
	struct xsv_node *n = root;

	if (!path || path[0] != '/')
		return NULL;
	path++;
	while (n && *path) {
		const char *slash = strchr(path, '/');
		size_t len = slash ? (size_t)(slash - path) : strlen(path);

		n = find_child(n, path, len);
		path += len;
		if (*path == '/')
			path++;
	}
	return n;
}

struct xsv_node *xsv_node_new(const char *name, size_t namelen)
{
	struct xsv_node *n = calloc(1, sizeof(*n));

	if (!n)
		return NULL;
	n->name = strndup(name, namelen);
	if (!n->name) {
		free(n);
		return NULL;
	}
	return n;
}

int xsv_node_add_child(struct xsv_node *parent, struct xsv_node *child)
{
	if (parent->nr_child == parent->cap_child) {
		unsigned int cap = parent->cap_child ? parent->cap_child * 2 : 4;
		struct xsv_node **c = realloc(parent->child, cap * sizeof(*c));

		if (!c)
			return -ENOMEM;
		parent->child = c;
		parent->cap_child = cap;
	}
	parent->child[parent->nr_child++] = child;
	child->parent = parent;
	return 0;
}

void xsv_node_unlink(struct xsv_node *n)
{
	struct xsv_node *p = n->parent;

	if (!p)
		return;
	for (unsigned int i = 0; i < p->nr_child; i++) {
		if (p->child[i] == n) {
			memmove(&p->child[i], &p->child[i + 1],
				(p->nr_child - i - 1) * sizeof(p->child[0]));
			p->nr_child--;
			break;
		}
	}
	n->parent = NULL;
}

void xsv_node_free(struct xsv_node *n)
{
	if (!n)
		return;
	for (unsigned int i = 0; i < n->nr_child; i++)
		xsv_node_free(n->child[i]);
	free(n->child);
	free(n->name);
	free(n->value);
	xsv_perms_free(&n->perms);
	free(n);
}

/* A deep copy (generations included), or NULL when out of memory. */
struct xsv_node *xsv_tree_clone(const struct xsv_node *n)
{
	struct xsv_node *c = xsv_node_new(n->name, strlen(n->name));

	if (!c)
		return NULL;
	c->gen = n->gen;
	if (xsv_node_set_value(c, n->value, n->len) ||
	    xsv_perms_copy(&c->perms, &n->perms))
		goto fail;
	if (n->nr_child) {
		c->child = calloc(n->nr_child, sizeof(*c->child));
		if (!c->child)
			goto fail;
		c->cap_child = n->nr_child;
	}
	for (unsigned int i = 0; i < n->nr_child; i++) {
		struct xsv_node *cc = xsv_tree_clone(n->child[i]);

		if (!cc)
			goto fail;
		cc->parent = c;
		c->child[c->nr_child++] = cc;
	}
	return c;
fail:
	xsv_node_free(c);
	return NULL;
}

int xsv_node_set_value(struct xsv_node *n, const void *data, uint32_t len)
{
	uint8_t *v = NULL;

	if (len) {
		v = malloc(len);
		if (!v)
			return -ENOMEM;
		memcpy(v, data, len);
	}
	free(n->value);
	n->value = v;
	n->len = len;
	return 0;
}

char *xsv_node_path(const struct xsv_node *n)
{
	size_t len = 0;
	char *p, *end;

	if (!n->parent)
		return strdup("/");
	for (const struct xsv_node *i = n; i->parent; i = i->parent)
		len += strlen(i->name) + 1;
	p = malloc(len + 1);
	if (!p)
		return NULL;
	end = p + len;
	*end = '\0';
	for (const struct xsv_node *i = n; i->parent; i = i->parent) {
		size_t l = strlen(i->name);

		end -= l;
		memcpy(end, i->name, l);
		*--end = '/';
	}
	return p;
}

char *xsv_path_join(const char *dir, const char *name)
{
	char *p;

	if (asprintf(&p, "%s/%s", strcmp(dir, "/") ? dir : "", name) < 0)
		return NULL;
	return p;
}

/* "/a/b" -> "/a"; "/a" -> "/". */
char *xsv_path_parent(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash || slash == path)
		return strdup("/");
	return strndup(path, (size_t)(slash - path));
}

unsigned long xsv_count_owned(const struct xsv_node *n, uint32_t domid)
{
	unsigned long c = n->perms.num && n->perms.p[0].id == domid;

	for (unsigned int i = 0; i < n->nr_child; i++)
		c += xsv_count_owned(n->child[i], domid);
	return c;
}

/*
 * The size C xenstored checks against its node-size quota: its record
 * header (generation, counts: 24 bytes), 8 bytes per permission, the value
 * and the NUL-separated child names. n may be NULL (a node to create).
 */
size_t xsv_node_size(const struct xsv_node *n, uint32_t vlen, unsigned int nperms)
{
	size_t size = 24 + 8 * (size_t)nperms + vlen;

	for (unsigned int i = 0; n && i < n->nr_child; i++)
		size += strlen(n->child[i]->name) + 1;
	return size;
}

/* Is child equal to parent or below it? "/" contains everything. */
bool xsv_is_child(const char *child, const char *parent)
{
	size_t len = strlen(parent);

	if (strcmp(parent, "/") == 0)
		return child[0] == '/';
	return strncmp(child, parent, len) == 0 &&
	       (child[len] == '/' || child[len] == '\0');
}

int xsv_perms_copy(struct xsv_perms *dst, const struct xsv_perms *src)
{
	struct xsv_perm *p = NULL;

	if (src->num) {
		p = malloc(src->num * sizeof(*p));
		if (!p)
			return -ENOMEM;
		memcpy(p, src->p, src->num * sizeof(*p));
	}
	free(dst->p);
	dst->p = p;
	dst->num = src->num;
	return 0;
}

void xsv_perms_free(struct xsv_perms *p)
{
	free(p->p);
	p->p = NULL;
	p->num = 0;
}

int xsv_perms_set1(struct xsv_perms *p, uint32_t owner, uint32_t dflt)
{
	struct xsv_perms one = {
		.num = 1, .p = &(struct xsv_perm){ .id = owner, .perms = dflt },
	};
	return xsv_perms_copy(p, &one);
}

/*
 * What domid may do with a node: the privileged and the owner everything,
 * a domain listed after the owner its own letter, anyone else the owner's
 * letter (the default).
 */
unsigned int xsv_perm_for(const struct xsv_perms *p, uint32_t domid, bool priv)
{
	const unsigned int all = XS_PERM_READ | XS_PERM_WRITE | XS_PERM_OWNER;

	if (priv || p->num == 0 || p->p[0].id == domid)
		return all;
	for (unsigned int i = 1; i < p->num; i++)
		if (p->p[i].id == domid)
			return p->p[i].perms;
	return p->p[0].perms;
}

/* num NUL-terminated "<r|w|b|n><domid>" strings at s (len bytes). */
int xsv_perms_parse(struct xsv_perms *out, const char *s, size_t len,
		    unsigned int num)
{
	const char *end = s + len;
	struct xsv_perm *p;

	if (num == 0)
		return -EINVAL;
	p = calloc(num, sizeof(*p));
	if (!p)
		return -ENOMEM;
	for (unsigned int i = 0; i < num; i++) {
		const char *nul = memchr(s, '\0', (size_t)(end - s));
		unsigned long id = 0;

		if (!nul || nul - s < 2)
			goto inval;
		switch (s[0]) {
		case 'n': p[i].perms = XS_PERM_NONE; break;
		case 'r': p[i].perms = XS_PERM_READ; break;
		case 'w': p[i].perms = XS_PERM_WRITE; break;
		case 'b': p[i].perms = XS_PERM_READ | XS_PERM_WRITE; break;
		default: goto inval;
		}
		for (const char *d = s + 1; d < nul; d++) {
			if (*d < '0' || *d > '9')
				goto inval;
			id = id * 10 + (unsigned long)(*d - '0');
			if (id > 0xFFFF)
				goto inval;
		}
		p[i].id = (uint32_t)id;
		s = nul + 1;
	}
	free(out->p);
	out->p = p;
	out->num = num;
	return 0;
inval:
	free(p);
	return -EINVAL;
}

/* The wire form: NUL-terminated strings back to back. Bytes written. */
size_t xsv_perms_format(const struct xsv_perms *p, char *buf, size_t cap)
{
	size_t off = 0;

	for (unsigned int i = 0; i < p->num; i++) {
		static const char letter[] = "nrwb";
		int n = snprintf(buf + off, cap - off, "%c%u",
				 letter[p->p[i].perms & 3], p->p[i].id);

		if (n < 0 || (size_t)n + 1 > cap - off)
			break;
		off += (size_t)n + 1;
	}
	return off;
}
