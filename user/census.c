// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/tcp.h>
#include <linux/sock_diag.h>
#include "census.h"
#include "fmt.h"
#include "cgroup.h"
#include "netns.h"

int census_add(struct census *c, const struct census_sock *s)
{
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 1024;
		struct census_sock *p = realloc(c->s, cap * sizeof(*p));

		if (!p)
			return -1;
		c->s = p;
		c->cap = cap;
	}
	c->s[c->n++] = *s;
	return 0;
}

static void from_msg(const struct inet_diag_msg *m, uint32_t netns, struct census_sock *s)
{
	memset(s, 0, sizeof(*s));
	s->netns = netns;
	s->state = m->idiag_state;
	s->timer = m->idiag_timer;
	s->timewait = m->idiag_timer == CT_TIMEWAIT;
	s->t.family = m->idiag_family;
	s->t.sport = ntohs(m->id.idiag_sport);
	s->t.dport = ntohs(m->id.idiag_dport);
	memcpy(s->t.saddr, m->id.idiag_src, m->idiag_family == AF_INET6 ? 16 : 4);
	memcpy(s->t.daddr, m->id.idiag_dst, m->idiag_family == AF_INET6 ? 16 : 4);
	s->expires_ms = m->idiag_expires;
	s->rqueue = m->idiag_rqueue;
	s->wqueue = m->idiag_wqueue;
	s->uid = m->idiag_uid;
	s->inode = m->idiag_inode;
	s->cookie = (uint64_t)m->id.idiag_cookie[1] << 32 | m->id.idiag_cookie[0];
}

/* The age in its state that tcp_info gives (census_sock.age_ms) */
static void age_from_info(const struct nlmsghdr *h, struct census_sock *s)
{
	const struct inet_diag_msg *m = NLMSG_DATA(h);
	struct rtattr *a = (void *)((char *)m + NLMSG_ALIGN(sizeof(*m)));
	int len = (int)h->nlmsg_len - NLMSG_LENGTH(sizeof(*m));

	if (s->timewait || (s->state != TS_CLOSE_WAIT && s->state != TS_FIN_WAIT2))
		return;
	for (; RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		struct tcp_info ti = {};
		size_t n = RTA_PAYLOAD(a);

		if (a->rta_type != INET_DIAG_INFO)
			continue;
		if (n < offsetof(struct tcp_info, tcpi_last_ack_recv) + sizeof(ti.tcpi_last_ack_recv))
			return;
		memcpy(&ti, RTA_DATA(a), n < sizeof(ti) ? n : sizeof(ti));
		s->age_ms = ti.tcpi_last_ack_recv;
		s->age_known = true;
		return;
	}
}

/* Every TCP socket of one family in the current namespace. */
static int dump_family(struct census *c, int family, uint32_t netns)
{
	struct {
		struct nlmsghdr nlh;
		struct inet_diag_req_v2 r;
	} req = {
		.nlh = { .nlmsg_len = sizeof(req), .nlmsg_type = SOCK_DIAG_BY_FAMILY,
			 .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP },
		.r = { .sdiag_family = family, .sdiag_protocol = IPPROTO_TCP,
		       .idiag_states = c->states ? c->states : ~0u,
		       /* tcp_info: the age of CLOSE_WAIT and FIN_WAIT2 sockets */
		       .idiag_ext = c->states ? 0 : 1 << (INET_DIAG_INFO - 1) },
	};
	static char buf[32768] __attribute__((aligned(NLMSG_ALIGNTO)));
	int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	int ret = -1;

	if (fd < 0)
		return -1;
	if (send(fd, &req, sizeof(req), 0) != sizeof(req))
		goto out;
	for (;;) {
		ssize_t len = recv(fd, buf, sizeof(buf), 0);
		struct nlmsghdr *h;

		if (len < 0 && errno == EINTR)
			continue;
		if (len <= 0)
			goto out;
		for (h = (void *)buf; NLMSG_OK(h, (size_t)len); h = NLMSG_NEXT(h, len)) {
			struct census_sock s;

			if (h->nlmsg_type == NLMSG_DONE) {
				ret = 0;
				goto out;
			}
			if (h->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = NLMSG_DATA(h);

				/* a kernel without IPv6 has nothing to dump */
				ret = family == AF_INET6 ? 0 : -1;
				c->last_error = -e->error;
				goto out;
			}
			if (h->nlmsg_len < NLMSG_LENGTH(sizeof(struct inet_diag_msg)))
				continue;
			from_msg(NLMSG_DATA(h), netns, &s);
			age_from_info(h, &s);
			if (census_add(c, &s))
				goto out;
		}
	}
out:
	close(fd);
	return ret;
}

static int by_inode(const void *a, const void *b)
{
	const struct census_sock *x = a, *y = b;

	return x->inode < y->inode ? -1 : x->inode > y->inode;
}

/* Owners, as ss -p finds them: the first process whose fd table holds it. */
static void find_owners(struct census *c)
{
	struct dirent *p, *f;
	DIR *proc = opendir("/proc");

	if (!proc || !c->n)
		goto out;
	qsort(c->s, c->n, sizeof(c->s[0]), by_inode);
	while ((p = readdir(proc))) {
		char path[600], link[64], comm[32] = "";
		unsigned long ino;
		uint64_t cgroup_id = 0; /* read once per process, at its first socket */
		DIR *fds;

		if (p->d_name[0] < '1' || p->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/fd", p->d_name);
		fds = opendir(path);
		if (!fds)
			continue;
		while ((f = readdir(fds))) {
			struct census_sock key = {}, *hit;
			ssize_t n;

			snprintf(path, sizeof(path), "/proc/%s/fd/%s", p->d_name, f->d_name);
			n = readlink(path, link, sizeof(link) - 1);
			if (n <= 0)
				continue;
			link[n] = 0;
			if (sscanf(link, "socket:[%lu]", &ino) != 1 || !ino)
				continue;
			key.inode = (uint32_t)ino;
			hit = bsearch(&key, c->s, c->n, sizeof(c->s[0]), by_inode);
			if (!hit || hit->owner.pid)
				continue;
			if (!comm[0]) {
				FILE *cf;

				snprintf(path, sizeof(path), "/proc/%s/comm", p->d_name);
				cf = fopen(path, "r");
				if (!cf || !fgets(comm, sizeof(comm), cf))
					strcpy(comm, "?");
				if (cf)
					fclose(cf);
				comm[strcspn(comm, "\n")] = 0;
			}
			/* the same socket may sit in several entries (v4 and v6 dumps never
			 * overlap, but be safe): mark every entry with this inode */
			while (hit > c->s && hit[-1].inode == key.inode)
				hit--;
			for (; hit < c->s + c->n && hit->inode == key.inode; hit++) {
				hit->owner.pid = (uint32_t)atoi(p->d_name);
				hit->owner.tid = hit->owner.pid;
				snprintf(hit->owner.comm, sizeof(hit->owner.comm), "%s", comm);
				if (!cgroup_id)
					cgroup_id = cgroup_id_of_pid(hit->owner.pid);
				hit->owner.cgroup = cgroup_id;
			}
		}
		closedir(fds);
	}
out:
	if (proc)
		closedir(proc);
}

static int census_one(uint32_t netns, void *ctx)
{
	struct census *c = ctx;
	uint32_t *ids;

	if (dump_family(c, AF_INET, netns) || dump_family(c, AF_INET6, netns))
		return -1;
	ids = realloc(c->netns_ids, (c->netns_seen + 1) * sizeof(*ids));
	if (!ids)
		return -1;
	c->netns_ids = ids;
	ids[c->netns_seen++] = netns;
	return 0;
}

bool census_has_netns(const struct census *c, uint32_t netns)
{
	for (unsigned i = 0; i < c->netns_seen; i++)
		if (c->netns_ids[i] == netns)
			return true;
	return false;
}

static int take(struct census *c, uint32_t states, bool owners, char *err, size_t errlen)
{
	int seen;

	memset(c, 0, sizeof(*c));
	c->states = states;
	c->taken_ns = mono_ns();
	seen = netns_foreach(census_one, c, &c->netns_failed, err, errlen);
	if (seen < 0) {
		census_free(c);
		return -1;
	}
	if (owners)
		find_owners(c);
	return 0;
}

int census_take(struct census *c, char *err, size_t errlen)
{
	return take(c, 0, true, err, errlen);
}

int census_take_listeners(struct census *c, char *err, size_t errlen)
{
	return take(c, 1u << TS_LISTEN, false, err, errlen);
}

void census_free(struct census *c)
{
	free(c->s);
	free(c->netns_ids);
	memset(c, 0, sizeof(*c));
}
