// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* cgroup v2 ids, paths and containers (cgroup.h). */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include "cgroup.h"
#include "fmt.h"
#include "keyed.h"

struct centry {
	uint64_t id; /* the key */
	char *path;
};

static struct {
	bool mount_known;
	char mount[256];
	struct keyed ids; /* struct centry */
	bool init;
	uint64_t last_scan_ns;
} cg;

/* The cgroup2 mount point, or NULL when there is none */
static const char *cgroup2_mount(void)
{
	char line[1024];
	FILE *f;

	if (cg.mount_known)
		return cg.mount[0] ? cg.mount : NULL;
	cg.mount_known = true;
	/* mountinfo: ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE ... */
	f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return NULL;
	while (fgets(line, sizeof(line), f)) {
		char *sep = strstr(line, " - cgroup2 "), mp[256];

		if (!sep || sscanf(line, "%*s %*s %*s %*s %255s", mp) != 1)
			continue;
		snprintf(cg.mount, sizeof(cg.mount), "%s", mp);
		break;
	}
	fclose(f);
	return cg.mount[0] ? cg.mount : NULL;
}

uint64_t cgroup_id_of_path(const char *path)
{
	const char *m = cgroup2_mount();
	char full[1024];
	struct stat st;

	if (!m || snprintf(full, sizeof(full), "%s%s", m, path) >= (int)sizeof(full) ||
	    stat(full, &st) || !S_ISDIR(st.st_mode))
		return 0;
	return st.st_ino;
}

uint64_t cgroup_id_of_pid(uint32_t pid)
{
	char file[64], line[CGROUP_PATH_MAX + 8];
	uint64_t id = 0;
	FILE *f;

	snprintf(file, sizeof(file), "/proc/%u/cgroup", pid);
	f = fopen(file, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "0::", 3)) {
			line[strcspn(line, "\n")] = 0;
			id = cgroup_id_of_path(line + 3);
			break;
		}
	fclose(f);
	return id;
}

static void remember(uint64_t id, const char *path)
{
	struct centry *e;

	if (!cg.init) {
		keyed_init(&cg.ids, sizeof(struct centry), sizeof(uint64_t));
		cg.init = true;
	}
	e = keyed_get(&cg.ids, &id);
	if (!e || (e->path && !strcmp(e->path, path)))
		return;
	free(e->path);
	e->path = strdup(path);
}

/* Every directory below dir (path: its name under the mount), bounded */
static void scan(const char *dir, const char *path, int depth, size_t *budget)
{
	DIR *d;
	struct dirent *de;
	struct stat st;

	if (depth > 16 || !*budget || stat(dir, &st))
		return;
	(*budget)--;
	remember(st.st_ino, path[0] ? path : "/");
	d = opendir(dir);
	if (!d)
		return;
	while ((de = readdir(d))) {
		char sub[1024], subpath[CGROUP_PATH_MAX];

		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		if (snprintf(sub, sizeof(sub), "%s/%s", dir, de->d_name) >= (int)sizeof(sub) ||
		    snprintf(subpath, sizeof(subpath), "%s/%s", path, de->d_name) >=
			    (int)sizeof(subpath))
			continue;
		scan(sub, subpath, depth + 1, budget);
	}
	closedir(d);
}

const char *cgroup_path(uint64_t id)
{
	struct centry *e;
	const char *m;

	if (!id)
		return NULL;
	e = cg.init ? keyed_find(&cg.ids, &id) : NULL;
	if (e)
		return e->path;
	m = cgroup2_mount();
	if (!m || (cg.last_scan_ns && mono_ns() - cg.last_scan_ns < NSEC_PER_SEC))
		return NULL;
	cg.last_scan_ns = mono_ns();
	size_t budget = 100000; /* directories: a bound on a pathological tree */

	scan(m, "", 0, &budget);
	e = cg.init ? keyed_find(&cg.ids, &id) : NULL;
	return e ? e->path : NULL;
}

static bool hex64(const char *s)
{
	for (int i = 0; i < 64; i++)
		if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i]))
			return false;
	return true;
}

bool cgroup_container(const char *path, char id[65], char pod[37])
{
	static const char *const prefixes[] = { "docker-", "cri-containerd-", "crio-", "libpod-",
						"containerd-" };
	const char *last = strrchr(path, '/'), *p;

	id[0] = pod[0] = 0;
	if (!last)
		return false;
	last++;
	/* the container: a last component of 64 hex, bare or RUNTIME-<hex>.scope */
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]) && !id[0]; i++) {
		size_t n = strlen(prefixes[i]);

		if (!strncmp(last, prefixes[i], n) && hex64(last + n) &&
		    (!last[n + 64] || !strcmp(last + n + 64, ".scope")))
			memcpy(id, last + n, 64), id[64] = 0;
	}
	if (!id[0] && strlen(last) == 64 && hex64(last))
		memcpy(id, last, 64), id[64] = 0;
	if (!id[0])
		return false;
	/* the pod: "pod<uid>" (cgroupfs: dashes) or "-pod<uid with _>.slice" (systemd) */
	p = strstr(path, "pod");
	while (p) {
		const char *u = p + 3;
		size_t n = 0;

		while (n < 36 && (isxdigit((unsigned char)u[n]) || u[n] == '-' || u[n] == '_'))
			n++;
		if (n == 36 && (u[36] == '/' || !strncmp(u + 36, ".slice", 6))) {
			for (size_t i = 0; i < 36; i++)
				pod[i] = u[i] == '_' ? '-' : u[i];
			pod[36] = 0;
			break;
		}
		p = strstr(p + 3, "pod");
	}
	return true;
}

int cgroup_subtree_ids(const char *path, uint64_t *out, size_t max, char *err, size_t errlen)
{
	const char *m = cgroup2_mount();
	char dir[1024];
	size_t n = 0;

	if (!m) {
		snprintf(err, errlen, "--cgroup %s: no cgroup2 file system is mounted here", path);
		return -1;
	}
	if (path[0] != '/' || !cgroup_id_of_path(path)) {
		snprintf(err, errlen, "--cgroup %s: no such cgroup under %s (give its path there, "
			 "as /proc/PID/cgroup shows it, e.g. /system.slice/nginx.service)", path, m);
		return -1;
	}
	/* the cgroup first, then its descendants (scanned into the cache) */
	size_t budget = 100000;

	snprintf(dir, sizeof(dir), "%s%s", m, strcmp(path, "/") ? path : "");
	scan(dir, strcmp(path, "/") ? path : "", 0, &budget);
	for (size_t i = 0; cg.init && i < cg.ids.n; i++) {
		const struct centry *e = keyed_at(&cg.ids, i);
		size_t l = strlen(path);

		if (strcmp(e->path, path) && (strncmp(e->path, path, l) ||
					      (e->path[l] != '/' && strcmp(path, "/"))))
			continue;
		if (n == max) {
			snprintf(err, errlen, "--cgroup %s: more than %zu cgroups below it; give a "
				 "deeper one", path, max);
			return -1;
		}
		out[n++] = e->id;
	}
	return (int)n;
}
