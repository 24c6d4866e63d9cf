/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * cgroup v2 ids and what they name. The BPF side records the owner's
 * cgroup id (bpf_get_current_cgroup_id(): on cgroup v2 the inode number of
 * the cgroup's directory); here an id becomes its path under the cgroup2
 * mount (found in /proc/self/mountinfo, wherever it is: /sys/fs/cgroup or
 * /sys/fs/cgroup/unified on a hybrid layout), and a path its container:
 *   docker     /system.slice/docker-<64 hex>.scope, /docker/<64 hex>
 *   kubernetes /kubepods.slice/kubepods-<qos>.slice/kubepods-<qos>-pod<uid>.slice/
 *              {cri-containerd,crio,docker}-<64 hex>.scope  (systemd driver)
 *              /kubepods/<qos>/pod<uid>/<64 hex>             (cgroupfs driver)
 *   podman     /machine.slice/libpod-<64 hex>.scope, user.slice/.../libpod-<64 hex>.scope
 * anything else is a host service (no container).
 */
#ifndef CGROUP_H
#define CGROUP_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CGROUP_PATH_MAX 512

/* The id of a path under the mount ("/system.slice/x.service"), 0 if none */
uint64_t cgroup_id_of_path(const char *path);
/* A process's cgroup v2 id (/proc/PID/cgroup "0::PATH"), 0 if unknown */
uint64_t cgroup_id_of_pid(uint32_t pid);
/* The path of an id ("/" for the root), or NULL when unknown. Looked up in
 * a cache; an unknown id rescans the tree, at most once a second. The
 * result stays valid until the next call. */
const char *cgroup_path(uint64_t id);
/* The container of a cgroup path: its id (64 hex) in id, and the pod's uid
 * (dashes, as Kubernetes writes it) in pod when the path shows one ("" if
 * not). false for a host cgroup. */
bool cgroup_container(const char *path, char id[65], char pod[37]);
/* PATH and every cgroup below it now: ids into out (at most max); the
 * count, or -1 with a message naming the problem in err */
int cgroup_subtree_ids(const char *path, uint64_t *out, size_t max, char *err, size_t errlen);

#endif
