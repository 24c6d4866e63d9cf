// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Names of network namespaces (nsname.h). */
#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include "fmt.h"
#include "nsname.h"

#define NSNAME_MAX 1024		    /* names kept; more are not named */
#define REREAD_MISS_NS NSEC_PER_SEC /* an unknown inode: at most once a second */
#define REREAD_AGE_NS (10 * NSEC_PER_SEC) /* a known one: the cache at most 10 s old */

static const struct {
	const char *dir, *source;
} dirs[] = {
	{ "/run/netns", "ip-netns" },
	{ "/var/run/docker/netns", "docker" },
};

static struct nsname names[NSNAME_MAX];
static size_t nnames;
static uint64_t read_ns; /* when the cache was read; 0: never */

static void reread(uint64_t now)
{
	struct stat self, st;
	char file[512];

	nnames = 0;
	read_ns = now ? now : 1;
	/* nsfs files live on the nsfs device of our own namespace's file */
	if (stat("/proc/self/ns/net", &self))
		return;
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		DIR *d = opendir(dirs[i].dir);
		struct dirent *de;

		while (d && nnames < NSNAME_MAX && (de = readdir(d))) {
			if (de->d_name[0] == '.' ||
			    snprintf(file, sizeof(file), "%s/%s", dirs[i].dir, de->d_name) >=
				    (int)sizeof(file) ||
			    stat(file, &st) || st.st_dev != self.st_dev || st.st_ino > UINT32_MAX)
				continue;
			names[nnames].netns = (uint32_t)st.st_ino;
			names[nnames].source = dirs[i].source;
			snprintf(names[nnames].name, sizeof(names[nnames].name), "%s", de->d_name);
			nnames++;
		}
		if (d)
			closedir(d);
	}
}

static const struct nsname *lookup(uint32_t netns)
{
	for (size_t i = 0; i < nnames; i++)
		if (names[i].netns == netns)
			return &names[i];
	return NULL;
}

const char *nsname_of(uint32_t netns)
{
	/* the last answer: events come in runs of one namespace */
	static uint32_t last_netns;
	static const struct nsname *last;
	static uint64_t last_read, last_miss_ns;
	uint64_t now = mono_ns();

	if (!read_ns || now - read_ns >= REREAD_AGE_NS)
		reread(now);
	if (netns == last_netns && last_read == read_ns &&
	    (last || now - last_miss_ns < REREAD_MISS_NS))
		return last ? last->name : NULL;
	last = lookup(netns);
	if (!last && now - read_ns >= REREAD_MISS_NS) {
		reread(now);
		last = lookup(netns);
	}
	last_netns = netns;
	last_read = read_ns;
	last_miss_ns = now;
	return last ? last->name : NULL;
}

uint32_t nsname_find(const char *name)
{
	if (!name[0] || strchr(name, '/'))
		return 0;
	reread(mono_ns());
	for (size_t i = 0; i < nnames; i++)
		if (!strcmp(names[i].name, name))
			return names[i].netns;
	return 0;
}

size_t nsname_all(const struct nsname **out)
{
	reread(mono_ns());
	*out = names;
	return nnames;
}
