// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "keyed.h"

void keyed_init(struct keyed *k, size_t item_size, size_t key_len)
{
	memset(k, 0, sizeof(*k));
	k->size = item_size;
	k->klen = key_len;
}

/* A word at a time (keys are tens of bytes, hashed per socket by the
 * findings and the metrics): multiply and fold, then a final mix */
static size_t hash(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint64_t h = 0x9e3779b97f4a7c15ULL ^ n, w;

	for (; n >= 8; b += 8, n -= 8) {
		memcpy(&w, b, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdULL;
		h ^= h >> 32;
	}
	w = 0;
	memcpy(&w, b, n);
	h = (h ^ w) * 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 29;
	return (size_t)h;
}

/* The slot holding key, or the empty slot where it would go */
static size_t probe(const struct keyed *k, const void *key)
{
	size_t i = hash(key, k->klen) & (k->nslot - 1);

	while (k->slot[i] && memcmp(keyed_at(k, k->slot[i] - 1), key, k->klen))
		i = (i + 1) & (k->nslot - 1);
	return i;
}

void *keyed_find(const struct keyed *k, const void *key)
{
	size_t i;

	if (!k->nslot)
		return NULL;
	i = probe(k, key);
	return k->slot[i] ? keyed_at(k, k->slot[i] - 1) : NULL;
}

static int reindex(struct keyed *k, size_t nslot)
{
	size_t *old = k->slot;

	k->slot = calloc(nslot, sizeof(*k->slot));
	if (!k->slot) {
		k->slot = old;
		return -1;
	}
	k->nslot = nslot;
	for (size_t i = 0; i < k->n; i++)
		k->slot[probe(k, keyed_at(k, i))] = i + 1;
	free(old);
	return 0;
}

void *keyed_get(struct keyed *k, const void *key)
{
	void *item = keyed_find(k, key);

	if (item)
		return item;
	if (k->n == k->cap) {
		size_t nc = k->cap ? k->cap * 2 : 16;
		void *p = realloc(k->items, nc * k->size);

		if (!p)
			return NULL;
		k->items = p;
		k->cap = nc;
	}
	if ((k->n + 1) * 2 > k->nslot && reindex(k, k->nslot ? k->nslot * 2 : 64))
		return NULL;
	item = keyed_at(k, k->n);
	memset(item, 0, k->size);
	memcpy(item, key, k->klen);
	k->slot[probe(k, key)] = ++k->n;
	return item;
}

void keyed_free(struct keyed *k)
{
	free(k->items);
	free(k->slot);
	keyed_init(k, k->size, k->klen);
}

void keyed_clear(struct keyed *k)
{
	k->n = 0;
	if (k->slot)
		memset(k->slot, 0, k->nslot * sizeof(*k->slot));
}

void keyed_retain(struct keyed *k, bool (*keep)(void *item, void *ctx), void *ctx)
{
	size_t n = 0;

	for (size_t i = 0; i < k->n; i++) {
		if (!keep(keyed_at(k, i), ctx))
			continue;
		if (n != i)
			memcpy(keyed_at(k, n), keyed_at(k, i), k->size);
		n++;
	}
	if (n == k->n)
		return;
	k->n = n;
	memset(k->slot, 0, k->nslot * sizeof(*k->slot));
	for (size_t i = 0; i < n; i++)
		k->slot[probe(k, keyed_at(k, i))] = i + 1;
}
