// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * scenario: reproduce the TCP situations tcpscope must make obvious, with
 * real sockets, each role in its own process (so owners differ). Prints one
 * JSON object with the pids and ports involved, for the tests to assert on.
 *
 *   scenario -l                          list scenarios
 *   scenario NAME ADDR PORT [ARG]
 *
 * All loops are bounded in count and time.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static struct sockaddr_storage dst;
static socklen_t dstlen;
static int family;

static void die(const char *what)
{
	fprintf(stderr, "scenario: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void parse_addr(const char *a, int port)
{
	struct sockaddr_in *s4 = (void *)&dst;
	struct sockaddr_in6 *s6 = (void *)&dst;

	memset(&dst, 0, sizeof(dst));
	if (inet_pton(AF_INET, a, &s4->sin_addr) == 1) {
		s4->sin_family = family = AF_INET;
		s4->sin_port = htons(port);
		dstlen = sizeof(*s4);
	} else if (inet_pton(AF_INET6, a, &s6->sin6_addr) == 1) {
		s6->sin6_family = family = AF_INET6;
		s6->sin6_port = htons(port);
		dstlen = sizeof(*s6);
	} else {
		fprintf(stderr, "scenario: bad address %s\n", a);
		exit(2);
	}
}

static void msleep(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static int listener(int backlog)
{
	int one = 1, fd = socket(family, SOCK_STREAM, 0);

	if (fd < 0)
		die("socket");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (void *)&dst, dstlen))
		die("bind");
	if (listen(fd, backlog))
		die("listen");
	return fd;
}

static int local_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (void *)&ss, &len))
		return 0;
	return ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port :
						((struct sockaddr_in *)&ss)->sin_port);
}

/* Server roles */
enum srv_mode {
	SRV_WAIT_EOF,	 /* read until the client's FIN, then close */
	SRV_CLOSE_FIRST, /* close at once */
	SRV_KEEP_OPEN,	 /* never close (a CLOSE_WAIT leak once clients close), stay */
};

static sigset_t ctl_signals; /* blocked by the diagnosis scenarios, not by their children */

/* Fork a server that accepts n connections; returns its pid once it listens. */
static pid_t start_server(enum srv_mode mode, int n, const char *name)
{
	int ready[2];
	pid_t pid;
	char c = 0;

	if (pipe(ready))
		die("pipe");
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		int lfd;

		sigprocmask(SIG_UNBLOCK, &ctl_signals, NULL);
		prctl(PR_SET_NAME, name);
		lfd = listener(128);
		if (write(ready[1], &c, 1) != 1)
			_exit(1);
		for (int i = 0; i < n; i++) {
			struct pollfd pfd = { lfd, POLLIN, 0 };
			char buf[256];
			int cfd;

			/* nobody came within 40 s (a diagnosis scenario may wait 30 s for its go) */
			if (poll(&pfd, 1, 40000) <= 0)
				_exit(3);
			cfd = accept(lfd, NULL, NULL);
			if (cfd < 0)
				_exit(1);
			if (mode == SRV_KEEP_OPEN)
				continue;
			if (mode == SRV_CLOSE_FIRST) {
				close(cfd);
				continue;
			}
			/* wait for the client's FIN (bounded), then close */
			pfd.fd = cfd;
			while (poll(&pfd, 1, 5000) > 0 && read(cfd, buf, sizeof(buf)) > 0)
				;
			msleep(20);
			close(cfd);
		}
		if (mode == SRV_KEEP_OPEN)
			pause(); /* until killed */
		close(lfd);
		_exit(0);
	}
	close(ready[1]);
	if (read(ready[0], &c, 1) != 1) {
		fprintf(stderr, "scenario: server did not start\n");
		exit(1);
	}
	close(ready[0]);
	return pid;
}

static int wait_pid(pid_t pid)
{
	int st = 0;

	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* A client process: connect, then act; reports its port through a pipe. */
enum cli_mode { CLI_CLOSE, CLI_HOLD, CLI_LINGER0, CLI_REFUSED };

static pid_t start_client(enum cli_mode mode, int hold_ms, const char *name, int *port_out)
{
	int p[2], port = 0;
	pid_t pid;

	if (pipe(p))
		die("pipe");
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		int fd;

		prctl(PR_SET_NAME, name);
		fd = socket(family, SOCK_STREAM, 0);
		if (fd < 0)
			_exit(1);
		if (connect(fd, (void *)&dst, dstlen)) {
			int e = errno;

			port = -e;
			if (write(p[1], &port, sizeof(port)) < 0)
				_exit(1);
			_exit(mode == CLI_REFUSED && e == ECONNREFUSED ? 0 : 1);
		}
		port = local_port(fd);
		if (write(p[1], &port, sizeof(port)) < 0)
			_exit(1);
		if (mode == CLI_LINGER0) {
			struct linger lg = { 1, 0 };

			setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
			close(fd);
		} else if (mode == CLI_HOLD) {
			msleep(hold_ms); /* the peer closed; we leak CLOSE_WAIT */
			close(fd);
		} else {
			close(fd);
		}
		msleep(50);
		_exit(0);
	}
	close(p[1]);
	if (read(p[0], &port, sizeof(port)) != sizeof(port))
		port = 0;
	close(p[0]);
	*port_out = port;
	return pid;
}

static int sc_client_close(int arg)
{
	int port, rs, rc;
	pid_t srv = start_server(SRV_WAIT_EOF, 1, "ts-server");
	pid_t cli = start_client(CLI_CLOSE, 0, "ts-client", &port);

	rc = wait_pid(cli);
	rs = wait_pid(srv);
	printf("{\"server_pid\":%d,\"client_pid\":%d,\"client_port\":%d}\n", srv, cli, port);
	return rc || rs;
}

static int sc_leak(int hold_ms)
{
	int port, rs, rc;
	pid_t srv = start_server(SRV_CLOSE_FIRST, 1, "ts-server");
	pid_t cli = start_client(CLI_HOLD, hold_ms ? hold_ms : 1500, "ts-leaker", &port);

	rs = wait_pid(srv);
	rc = wait_pid(cli);
	printf("{\"server_pid\":%d,\"client_pid\":%d,\"client_port\":%d}\n", srv, cli, port);
	return rc || rs;
}

static int sc_refused(int arg)
{
	int port;
	pid_t cli = start_client(CLI_REFUSED, 0, "ts-refused", &port);
	int rc = wait_pid(cli);

	printf("{\"client_pid\":%d,\"errno\":%d}\n", cli, -port);
	return rc;
}

/* A process whose name needs escaping in JSON: quote, backslash, a control
 * byte and a non-UTF-8 byte; it connects to a closed port. */
static int sc_weird_comm(int arg)
{
	int fd, e;

	prctl(PR_SET_NAME, "a\"b\\c\x01\xff");
	fd = socket(family, SOCK_STREAM, 0);
	if (fd < 0)
		die("socket");
	e = connect(fd, (void *)&dst, dstlen) ? errno : 0;
	close(fd);
	printf("{\"pid\":%d,\"errno\":%d}\n", getpid(), e);
	return e == ECONNREFUSED ? 0 : 1;
}

static int sc_linger(int arg)
{
	int port, rs, rc;
	pid_t srv = start_server(SRV_WAIT_EOF, 1, "ts-server");
	pid_t cli = start_client(CLI_LINGER0, 0, "ts-linger", &port);

	rc = wait_pid(cli);
	rs = wait_pid(srv);
	printf("{\"server_pid\":%d,\"client_pid\":%d,\"client_port\":%d}\n", srv, cli, port);
	return rc || rs;
}

/* Two client processes, client closes first, for the -p filter test. */
static int sc_two_clients(int arg)
{
	int p1, p2;
	pid_t srv = start_server(SRV_WAIT_EOF, 2, "ts-server");
	pid_t c1 = start_client(CLI_CLOSE, 0, "ts-client1", &p1);
	pid_t c2 = start_client(CLI_CLOSE, 0, "ts-client2", &p2);
	int r = wait_pid(c1) | wait_pid(c2) | wait_pid(srv);

	printf("{\"server_pid\":%d,\"client1_pid\":%d,\"client1_port\":%d,"
	       "\"client2_pid\":%d,\"client2_port\":%d}\n",
	       srv, c1, p1, c2, p2);
	return r;
}

/* Short connections to one ip:port, client closing first, until connect()
 * fails (port range exhausted by TIME_WAIT) or max attempts. */
static int connect_loop(int max, int gap_ms)
{
	pid_t srv, me = getpid();
	int ok = 0, err = 0, fails = 0;

	if (max <= 0)
		max = 200;
	prctl(PR_SET_NAME, "ts-exhaust");
	srv = start_server(SRV_WAIT_EOF, max, "ts-server");
	for (int i = 0; i < max; i++) {
		int fd = socket(family, SOCK_STREAM, 0);

		if (fd < 0)
			die("socket");
		if (connect(fd, (void *)&dst, dstlen)) {
			err = errno;
			close(fd);
			/* a client that keeps trying: three failures in a row */
			if (err != EADDRNOTAVAIL || ++fails == 3)
				break;
			msleep(5);
			continue;
		}
		ok++;
		close(fd);
		msleep(gap_ms);
	}
	/* let the last FINs be ACKed (a delayed ACK takes ~40 ms) before the
	 * server goes away, so every used port reaches TIME_WAIT */
	msleep(300);
	kill(srv, SIGTERM);
	wait_pid(srv);
	printf("{\"client_pid\":%d,\"server_pid\":%d,\"connected\":%d,\"errno\":%d,"
	       "\"failures\":%d}\n", me, srv, ok, err, fails);
	return err == EADDRNOTAVAIL ? 0 : 1;
}

static int sc_exhaust(int max)
{
	return connect_loop(max, 5);
}

/* Like exhaust, but slow enough for each timewait to reach the TIME_WAIT
 * substate (the server closes 20 ms after us) and be reusable. */
static int sc_reuse(int n)
{
	connect_loop(n, 150);
	return 0;
}

/* Kernels without net.ipv4.tcp_tw_reuse_delay (before ~6.13) reuse a
 * timewait socket only once its last timestamp is a second old. */
static int sc_reuse_slow(int n)
{
	connect_loop(n, 1100);
	return 0;
}

/* Every kind of ephemeral port allocation, once: connect() unbound, bind()
 * to port 0, listen() unbound; then bind() to port 0 until the range is
 * used up (EADDRINUSE) or ARG sockets (default 100). */
static int sc_ports(int max)
{
	struct sockaddr_storage any = dst;
	int c, b, l, fds[1000], n = 0, err = 0;
	pid_t srv, me = getpid();

	if (max <= 0 || max > 1000)
		max = 100;
	prctl(PR_SET_NAME, "ts-ports");
	srv = start_server(SRV_WAIT_EOF, 1, "ts-server");
	if (any.ss_family == AF_INET6)
		((struct sockaddr_in6 *)&any)->sin6_port = 0;
	else
		((struct sockaddr_in *)&any)->sin_port = 0;
	c = socket(family, SOCK_STREAM, 0);
	if (c < 0 || connect(c, (void *)&dst, dstlen))
		die("connect");
	b = socket(family, SOCK_STREAM, 0);
	if (b < 0 || bind(b, (void *)&any, dstlen))
		die("bind to port 0");
	l = socket(family, SOCK_STREAM, 0);
	if (l < 0 || listen(l, 1))
		die("listen unbound");
	while (n < max) {
		int fd = socket(family, SOCK_STREAM, 0);

		if (fd < 0)
			die("socket");
		if (bind(fd, (void *)&any, dstlen)) {
			err = errno;
			close(fd);
			break;
		}
		fds[n++] = fd;
	}
	printf("{\"pid\":%d,\"connect_port\":%d,\"bind_port\":%d,\"listen_port\":%d,"
	       "\"binds\":%d,\"bind_errno\":%d}\n",
	       me, local_port(c), local_port(b), local_port(l), n, err);
	while (n > 0)
		close(fds[--n]);
	close(l);
	close(b);
	close(c);
	msleep(100);
	kill(srv, SIGTERM);
	wait_pid(srv);
	return err == EADDRINUSE ? 0 : 1;
}

/* A listener with listen(fd, 1) that never accepts, and ARG clients
 * (default 8) connecting to it without waiting: beyond the queue's limit
 * the kernel drops their SYNs (ListenOverflows). */
static int sc_backlog(int n)
{
	int lfd, fds[256], one = 1;
	pid_t me = getpid();

	if (n <= 0 || n > 256)
		n = 8;
	prctl(PR_SET_NAME, "ts-backlog");
	lfd = socket(family, SOCK_STREAM, 0);
	if (lfd < 0)
		die("socket");
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(lfd, (void *)&dst, dstlen) || listen(lfd, 1))
		die("listen");
	for (int i = 0; i < n; i++) {
		fds[i] = socket(family, SOCK_STREAM | SOCK_NONBLOCK, 0);
		if (fds[i] < 0)
			die("socket");
		if (connect(fds[i], (void *)&dst, dstlen) && errno != EINPROGRESS)
			die("connect");
		msleep(20);
	}
	msleep(300);
	for (int i = 0; i < n; i++)
		close(fds[i]);
	close(lfd);
	printf("{\"pid\":%d,\"clients\":%d}\n", me, n);
	return 0;
}

/* Churn for the benchmark and the accounting tests: n connections as fast
 * as possible, spread over TS_CHURN_THREADS client threads (default 1). The
 * client closes first, or with TS_CHURN_SERVER_CLOSES=1 the server closes at
 * once and the client closes on EOF. Prints the rate. */
static int churn_server_closes;

struct churn_arg {
	int n, ok;
};

static void *churn_client(void *p)
{
	struct churn_arg *a = p;

	for (int i = 0; i < a->n; i++) {
		int fd = socket(family, SOCK_STREAM, 0);
		char buf[64];

		if (fd < 0)
			die("socket");
		if (connect(fd, (void *)&dst, dstlen) == 0) {
			a->ok++;
			if (churn_server_closes)
				while (read(fd, buf, sizeof(buf)) > 0)
					;
		}
		close(fd);
	}
	return NULL;
}

static int sc_churn(int n)
{
	struct churn_arg args[16];
	pthread_t th[16];
	struct timespec a, b;
	const char *e;
	int threads = 1, ok = 0;
	pid_t srv;
	double s;

	if (n <= 0)
		n = 10000;
	if ((e = getenv("TS_CHURN_THREADS")) && atoi(e) > 0)
		threads = atoi(e) > 16 ? 16 : atoi(e);
	churn_server_closes = (e = getenv("TS_CHURN_SERVER_CLOSES")) && *e == '1';
	srv = fork();
	if (srv == 0) {
		int lfd = listener(4096);

		prctl(PR_SET_NAME, "ts-churn-srv");
		/* every connection is served before the scenario ends: one
		 * killed with a backlog would reset the rest (not churn) */
		for (int i = 0; i < n; i++) {
			char buf[64];
			int cfd = accept(lfd, NULL, NULL);

			if (cfd < 0)
				_exit(1);
			if (!churn_server_closes)
				while (read(cfd, buf, sizeof(buf)) > 0)
					;
			close(cfd);
		}
		_exit(0);
	}
	msleep(100);
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (int i = 0; i < threads; i++) {
		args[i].n = n / threads + (i < n % threads);
		args[i].ok = 0;
		if (pthread_create(&th[i], NULL, churn_client, &args[i]))
			die("pthread_create");
	}
	for (int i = 0; i < threads; i++) {
		pthread_join(th[i], NULL);
		ok += args[i].ok;
	}
	if (ok < n)
		kill(srv, SIGKILL); /* it waits for connections that never came */
	if (wait_pid(srv))
		ok = -1;
	clock_gettime(CLOCK_MONOTONIC, &b);
	s = (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9;
	printf("{\"connections\":%d,\"seconds\":%.3f,\"rate\":%.0f,\"threads\":%d,\"server_closes\":%s}\n",
	       ok, s, ok / s, threads, churn_server_closes ? "true" : "false");
	return ok == n ? 0 : 1;
}

/* ---- Diagnosis scenarios: a situation that lasts ----
 * Each sets up what must exist before the diagnosis starts, prints its JSON
 * line (the test then starts tcpscope), waits for SIGUSR1 (tcpscope is
 * attached), does what must happen during the run, then holds everything
 * open until SIGTERM. Waits are bounded (30 s for the go, 60 s of hold). */

static void ctl_init(void)
{
	sigemptyset(&ctl_signals);
	sigaddset(&ctl_signals, SIGUSR1);
	sigaddset(&ctl_signals, SIGTERM);
	sigprocmask(SIG_BLOCK, &ctl_signals, NULL);
}

static void ready_and_wait_go(void)
{
	struct timespec t = { 30, 0 };

	fflush(stdout);
	sigtimedwait(&ctl_signals, NULL, &t); /* SIGUSR1, or SIGTERM to stop early */
}

/* Hold everything open until SIGTERM (at most 60 s), then end our server
 * (0: none left) */
static void hold(pid_t server)
{
	struct timespec t = { 60, 0 };
	sigset_t term;

	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	sigtimedwait(&term, NULL, &t);
	if (server > 0) {
		kill(server, SIGKILL);
		wait_pid(server);
	}
}

static int connect_to_dst(int flags)
{
	int fd = socket(family, SOCK_STREAM | flags, 0);

	if (fd < 0)
		die("socket");
	if (connect(fd, (void *)&dst, dstlen) && errno != EINPROGRESS)
		die("connect");
	return fd;
}

/* A server process that accepts and never closes: its sockets sit in
 * CLOSE_WAIT once the clients close. n before the go, more during the run. */
static int sc_cw_leak(int n)
{
	int before = n > 0 && n <= 40 ? n : 12, during = 8;
	pid_t leaker, me = getpid();

	ctl_init();
	leaker = start_server(SRV_KEEP_OPEN, before + during, "ts-leaky");
	prctl(PR_SET_NAME, "ts-peer");
	for (int i = 0; i < before; i++) {
		int fd = connect_to_dst(0);

		msleep(5);
		close(fd);
	}
	msleep(200);
	printf("{\"leaker_pid\":%d,\"peer_pid\":%d,\"before\":%d,\"during\":%d}\n", leaker, me,
	       before, during);
	ready_and_wait_go();
	for (int i = 0; i < during; i++) {
		close(connect_to_dst(0));
		msleep(250);
	}
	hold(leaker);
	return 0;
}

/* A 16-port range (the test sets it) used up by TIME_WAIT toward one
 * ip:port before the go; during the run the client keeps failing. */
static int sc_exhaust_hold(int arg)
{
	pid_t srv, me = getpid();
	int ok = 0, fails = 0;

	ctl_init();
	prctl(PR_SET_NAME, "ts-exhaust");
	srv = start_server(SRV_WAIT_EOF, 64, "ts-server");
	for (int i = 0; i < 64; i++) {
		int fd = socket(family, SOCK_STREAM, 0);

		if (fd < 0)
			die("socket");
		if (connect(fd, (void *)&dst, dstlen)) {
			close(fd);
			if (errno != EADDRNOTAVAIL)
				die("connect");
			fails++;
			break;
		}
		ok++;
		close(fd);
		msleep(5);
	}
	msleep(300); /* the last ports reach TIME_WAIT */
	printf("{\"client_pid\":%d,\"server_pid\":%d,\"connected\":%d}\n", me, srv, ok);
	ready_and_wait_go();
	for (int i = 0; i < 10; i++) { /* the client retries, and fails */
		int fd = socket(family, SOCK_STREAM, 0);

		if (fd < 0)
			die("socket");
		if (connect(fd, (void *)&dst, dstlen) && errno == EADDRNOTAVAIL)
			fails++;
		close(fd);
		msleep(200);
	}
	hold(srv);
	return fails ? 0 : 1;
}

/* A server that closes first: n connections end in TIME_WAIT on the
 * server's port (before the go); nothing is wrong. */
static int sc_server_tw(int n)
{
	pid_t srv, me = getpid();

	ctl_init();
	if (n <= 0)
		n = 40;
	prctl(PR_SET_NAME, "ts-client");
	srv = start_server(SRV_CLOSE_FIRST, n, "ts-web");
	for (int i = 0; i < n; i++) {
		int fd = connect_to_dst(0);
		char buf[16];

		while (read(fd, buf, sizeof(buf)) > 0) /* until the server's FIN */
			;
		close(fd);
	}
	wait_pid(srv);
	msleep(100);
	printf("{\"server_pid\":%d,\"client_pid\":%d,\"connections\":%d}\n", srv, me, n);
	ready_and_wait_go();
	hold(0);
	return 0;
}

/* listen(fd, 5), never accept(): the queue is full before the go; during the
 * run n more clients knock and are dropped. */
static int sc_backlog_hold(int n)
{
	int lfd, fds[64], one = 1, k = 0;
	pid_t me = getpid();

	ctl_init();
	if (n <= 0 || n > 40)
		n = 8;
	prctl(PR_SET_NAME, "ts-slowacc");
	lfd = socket(family, SOCK_STREAM, 0);
	if (lfd < 0)
		die("socket");
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(lfd, (void *)&dst, dstlen) || listen(lfd, 5))
		die("listen");
	for (int i = 0; i < 6; i++) { /* the accept queue holds backlog + 1 */
		fds[k++] = connect_to_dst(SOCK_NONBLOCK);
		msleep(20);
	}
	msleep(200);
	printf("{\"pid\":%d,\"backlog\":5,\"clients\":%d}\n", me, n);
	ready_and_wait_go();
	for (int i = 0; i < n; i++) {
		fds[k++] = connect_to_dst(SOCK_NONBLOCK);
		msleep(100);
	}
	hold(0);
	for (int i = 0; i < k; i++)
		close(fds[i]);
	close(lfd);
	return 0;
}

/* Our server closes, the peer never does: the server's n sockets wait in
 * FIN_WAIT2 (orphaned) while the peer process sits in CLOSE_WAIT. */
static int sc_fin_wait2(int n)
{
	int fds[40];
	pid_t closer, me = getpid();

	ctl_init();
	if (n <= 0 || n > 40)
		n = 8;
	closer = start_server(SRV_CLOSE_FIRST, n, "ts-closer");
	prctl(PR_SET_NAME, "ts-stuck");
	for (int i = 0; i < n; i++)
		fds[i] = connect_to_dst(0); /* never closed: the server's FIN_WAIT2 stays */
	msleep(300);
	printf("{\"closer_pid\":%d,\"peer_pid\":%d,\"count\":%d}\n", closer, me, n);
	ready_and_wait_go();
	hold(closer);
	for (int i = 0; i < n; i++)
		close(fds[i]);
	return 0;
}

/* During the run a client resets n connections (SO_LINGER {1, 0}). */
static int sc_abort(int n)
{
	pid_t srv, me = getpid();

	ctl_init();
	if (n <= 0)
		n = 15;
	prctl(PR_SET_NAME, "ts-resetter");
	srv = start_server(SRV_WAIT_EOF, n, "ts-server");
	printf("{\"client_pid\":%d,\"server_pid\":%d,\"count\":%d}\n", me, srv, n);
	ready_and_wait_go();
	for (int i = 0; i < n; i++) {
		struct linger lg = { 1, 0 };
		int fd = connect_to_dst(0);

		msleep(20); /* the server has accepted */
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		close(fd);
		msleep(80); /* 15 over 1.5 s: resets that recur, not one burst */
	}
	hold(srv);
	return 0;
}

/* Nothing wrong: n short connections during the run, client closes first,
 * server closes at once after. */
/* ARG connections opened and held (2 x ARG sockets) for scripts/scale */
static int sc_hold(int n)
{
	struct rlimit rl;
	pid_t srv, me = getpid();

	if (n <= 0)
		n = 1000;
	/* a process holds n (client) or n (server) sockets */
	if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_max < (rlim_t)n + 64) {
		fprintf(stderr, "scenario: hold %d needs %d open files, the limit is %llu: hold "
			"fewer in more namespaces\n", n, n + 64, (unsigned long long)rl.rlim_max);
		return 1;
	}
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl))
		die("setrlimit");
	ctl_init();
	prctl(PR_SET_NAME, "ts-hold");
	srv = start_server(SRV_KEEP_OPEN, n, "ts-held");
	for (int i = 0; i < n; i++)
		connect_to_dst(0);
	printf("{\"client_pid\":%d,\"server_pid\":%d,\"connections\":%d}\n", me, srv, n);
	fflush(stdout);
	hold(srv);
	return 0;
}

static int sc_healthy(int n)
{
	pid_t srv, me = getpid();

	ctl_init();
	if (n <= 0)
		n = 30;
	prctl(PR_SET_NAME, "ts-client");
	srv = start_server(SRV_WAIT_EOF, n, "ts-server");
	printf("{\"client_pid\":%d,\"server_pid\":%d,\"count\":%d}\n", me, srv, n);
	ready_and_wait_go();
	for (int i = 0; i < n; i++) {
		int fd = connect_to_dst(0);

		if (write(fd, "hello", 5) != 5)
			die("write");
		close(fd);
		msleep(50);
	}
	hold(srv);
	return 0;
}

static const struct {
	const char *name;
	int (*fn)(int arg);
	const char *help;
} scenarios[] = {
	{ "client-close", sc_client_close, "client closes first (TIME_WAIT on the client)" },
	{ "leak", sc_leak, "server closes, client holds its socket ARG ms (CLOSE_WAIT leak)" },
	{ "refused", sc_refused, "connect() to a closed port (ECONNREFUSED)" },
	{ "weird-comm", sc_weird_comm, "connect() refused, from a process named a\"b\\c\\x01\\xff" },
	{ "linger", sc_linger, "client closes with SO_LINGER {1,0} (RST, no TIME_WAIT)" },
	{ "two-clients", sc_two_clients, "two client processes, for filters" },
	{ "exhaust", sc_exhaust, "connect until EADDRNOTAVAIL (at most ARG tries)" },
	{ "reuse", sc_reuse, "ARG connections 150 ms apart (timewait reuse)" },
	{ "reuse-slow", sc_reuse_slow, "ARG connections 1.1 s apart (reuse, older kernels)" },
	{ "ports", sc_ports, "connect/bind/listen port allocations, then bind(0) until EADDRINUSE" },
	{ "backlog", sc_backlog, "listen(fd, 1), never accept(); ARG clients connect (overflow)" },
	{ "churn", sc_churn, "ARG connections as fast as possible (benchmark)" },
	/* diagnosis: print, wait for SIGUSR1, act, hold until SIGTERM */
	{ "cw-leak", sc_cw_leak, "a server never closes: ARG CLOSE_WAIT before, 8 during" },
	{ "exhaust-hold", sc_exhaust_hold, "ports used up by TIME_WAIT, connect keeps failing" },
	{ "server-tw", sc_server_tw, "server closes ARG connections first (TIME_WAIT on :PORT)" },
	{ "backlog-hold", sc_backlog_hold, "listen(fd, 5) full, never accept(); ARG more knock" },
	{ "fin-wait2", sc_fin_wait2, "server closes ARG connections, the peer never does" },
	{ "abort", sc_abort, "client resets ARG connections (SO_LINGER {1,0})" },
	{ "healthy", sc_healthy, "ARG short connections, nothing wrong" },
	{ "hold", sc_hold, "ARG connections opened and held 60 s (scale)" },
};

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "-l")) {
		for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++)
			printf("%-14s %s\n", scenarios[i].name, scenarios[i].help);
		return 0;
	}
	if (argc < 4) {
		fprintf(stderr, "usage: scenario -l | scenario NAME ADDR PORT [ARG]\n");
		return 2;
	}
	parse_addr(argv[2], atoi(argv[3]));
	alarm(120); /* no scenario may hang a test run (diagnosis ones: 30 + 60 s at most) */
	for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++)
		if (!strcmp(argv[1], scenarios[i].name))
			return scenarios[i].fn(argc > 4 ? atoi(argv[4]) : 0);
	fprintf(stderr, "scenario: unknown scenario %s (scenario -l lists them)\n", argv[1]);
	return 2;
}
