/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A growable array of items that each start with a fixed-size key, with a
 * hash index on the key (open addressing, no deletion). The model's
 * aggregates (namespaces, destinations, listeners, resets) and the
 * findings' groups use it: a lookup costs the same with 10 items or 100,000,
 * and iterating is walking the array in insertion order.
 */
#ifndef KEYED_H
#define KEYED_H
#include <stdbool.h>
#include <stddef.h>

struct keyed {
	void *items;
	size_t n, cap;
	size_t size, klen; /* item size; its first klen bytes are the key */
	size_t *slot;	   /* index + 1 of an item; 0 = empty */
	size_t nslot;
};

/* item_size and the key's length (the key's padding must be zeroed) */
void keyed_init(struct keyed *k, size_t item_size, size_t key_len);
/* The item whose key is key's first klen bytes; a new one (zeroed, key
 * copied) when there is none. NULL when out of memory. */
void *keyed_get(struct keyed *k, const void *key);
/* The item, or NULL */
void *keyed_find(const struct keyed *k, const void *key);
/* Forget every item; the memory is kept for the next ones */
void keyed_clear(struct keyed *k);
/* Keep the items keep() says true of (in their order); the others go */
void keyed_retain(struct keyed *k, bool (*keep)(void *item, void *ctx), void *ctx);
void keyed_free(struct keyed *k);

static inline void *keyed_at(const struct keyed *k, size_t i)
{
	return (char *)k->items + i * k->size;
}

#endif
