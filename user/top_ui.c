// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <langinfo.h>
#include <locale.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cgroup.h"
#include "findings.h"
#include "fmt.h"
#include "ladder.h"
#include "nsname.h"
#include "states.h"
#include "top_ui.h"
/* last: term.h defines a macro for every terminfo capability (lines, tab...) */
#define NCURSES_WIDECHAR 1
#include <curses.h>
#include <term.h>

#define WIDE_COLS 160 /* from here, two columns of panes */
#define LEFT_W 86      /* the tables' column then, */
#define LEFT_MAX_W 110 /* growing with half the width past WIDE_COLS up to every table's columns */
#define KEY_ESC 27

enum { C_RED = 1, C_YELLOW, C_GREEN, C_CYAN };

/* The display atexit() gives back if an exit() skips top_ui_end() */
static struct top_ui *active;

static void end_at_exit(void)
{
	if (active)
		top_ui_end(active);
}

int top_ui_check(char *err, size_t errlen)
{
	const char *t;
	int e = 0;

	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		snprintf(err, errlen, "top needs a terminal (standard input and output); without "
				      "one use 'tcpscope trace' (e.g. -F json -o FILE)");
		return -1;
	}
	if (setupterm(NULL, STDOUT_FILENO, &e) == OK) {
		del_curterm(cur_term); /* newterm() loads its own */
		return 0;
	}
	t = getenv("TERM");
	snprintf(err, errlen, "top cannot drive this terminal (TERM=%s): set TERM to one terminfo "
			      "knows (e.g. xterm-256color) or use 'tcpscope trace'",
		 t && *t ? t : "unset");
	return -1;
}

int top_ui_start(struct top_ui *ui, char *err, size_t errlen)
{
	SCREEN *s;

	setlocale(LC_ALL, "");
	ui->utf8 = !strcmp(nl_langinfo(CODESET), "UTF-8");
	s = newterm(NULL, stdout, stdin);
	if (!s) {
		snprintf(err, errlen, "top cannot start the terminal display (TERM=%s)",
			 getenv("TERM") ? getenv("TERM") : "unset");
		return -1;
	}
	ui->started = true;
	active = ui;
	atexit(end_at_exit);
	cbreak(); /* Ctrl-C stays a signal: the run ends, the terminal is given back */
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	set_escdelay(25);
	curs_set(0);
	if (has_colors()) {
		start_color();
		use_default_colors();
		init_pair(C_RED, COLOR_RED, -1);
		init_pair(C_YELLOW, COLOR_YELLOW, -1);
		init_pair(C_GREEN, COLOR_GREEN, -1);
		init_pair(C_CYAN, COLOR_CYAN, -1);
		ui->colors = true;
	}
	return 0;
}

void top_ui_end(struct top_ui *ui)
{
	if (!ui->started)
		return;
	ui->started = false;
	curs_set(1);
	endwin();
	fflush(stdout);
	active = NULL;
}

/* ---- drawing helpers: ASCII text clipped to a width; the few wide glyphs apart ---- */

/* Write at most w columns of printable ASCII at (y, x); returns columns written */
static int put(int y, int x, int w, const char *s)
{
	char buf[512];
	int n = 0;

	if (w <= 0 || y < 0 || y >= LINES || x >= COLS)
		return 0;
	if (x + w > COLS)
		w = COLS - x;
	for (; s[n] && n < w && n < (int)sizeof(buf) - 1; n++)
		buf[n] = s[n] >= 0x20 && s[n] < 0x7f ? s[n] : '?';
	buf[n] = 0;
	mvaddnstr(y, x, buf, n);
	return n;
}

static int __attribute__((format(printf, 4, 5))) putf(int y, int x, int w, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return put(y, x, w, buf);
}

static void fill_line(int y, int x, int w, attr_t a)
{
	attron(a);
	mvhline(y, x, ' ', w);
	attroff(a);
}

static attr_t color(const struct top_ui *ui, int pair)
{
	return ui->colors ? COLOR_PAIR(pair) : A_BOLD;
}

/* One glyph: the UTF-8 one where the terminal has it, else ASCII */
static void glyph(const struct top_ui *ui, int y, int x, const char *utf8, char ascii)
{
	if (y < 0 || y >= LINES || x < 0 || x >= COLS)
		return;
	if (ui->utf8)
		mvaddstr(y, x, utf8);
	else
		mvaddch(y, x, (chtype)ascii);
}

static const char *const bars[8] = { "\u2581", "\u2582", "\u2583", "\u2584",
				     "\u2585", "\u2586", "\u2587", "\u2588" };
static const char bars_ascii[8] = { '_', '.', '-', '-', '=', '=', '#', '#' };

static const char *tier(int via)
{
	switch (via) {
	case VIA_TRACEPOINT:
		return "tp";
	case VIA_FENTRY:
		return "fentry";
	case VIA_KPROBE:
		return "kprobe";
	default:
		return "-";
	}
}

/* ---- the parts of the screen ---- */

static void draw_header(struct top_ui *ui, const struct top_view *v, uint64_t now)
{
	static const char *const fact_short[FACT_MAX] = { "state", "tw", "tw-end", "port",
							   "scan",  "reuse", "overflow" };
	char clock[32], line[512];
	int x = 0, n;

	fill_line(0, 0, COLS, A_REVERSE);
	attron(A_REVERSE | A_BOLD);
	x += putf(0, x, COLS - x, " tcpscope top  %s  %s", ui->host, ui->kernel);
	attroff(A_BOLD);
	x += putf(0, x, COLS - x, "  %.0f ev/s", v->ev_rate);
	if (v->lost) {
		attroff(A_REVERSE);
		attron(color(ui, C_RED) | A_REVERSE | A_BOLD);
	}
	x += putf(0, x, COLS - x, "  lost %llu", (unsigned long long)v->lost);
	attroff(color(ui, C_RED) | A_BOLD);
	attron(A_REVERSE);
	if (v->untracked)
		x += putf(0, x, COLS - x, "  untracked %llu", (unsigned long long)v->untracked);
	fmt_clock(now, ui->clock_offset, 0, clock, sizeof(clock));
	if (v->paused) {
		attron(A_BOLD);
		x += put(0, x, COLS - x, "  PAUSED");
		attroff(A_BOLD);
	}
	n = (int)strlen(clock) + 1;
	if (COLS - n > x)
		put(0, COLS - n, n, clock);
	attroff(A_REVERSE);

	/* line 1: the mechanism per fact, then what is unknown */
	n = snprintf(line, sizeof(line), "hooks:");
	for (int f = 0; f < FACT_MAX && v->ladder; f++)
		n += snprintf(line + n, sizeof(line) - n, " %s %s%s", fact_short[f],
			      tier(v->ladder->f[f].via), f < FACT_MAX - 1 ? "," : "");
	x = put(1, 0, COLS, line);
	if (v->ladder && x + 10 < COLS) {
		char blind[1024];

		ladder_blind_spots(v->ladder, false, blind, sizeof(blind));
		if (blind[0]) {
			attron(color(ui, C_YELLOW));
			putf(1, x, COLS - x, "  blind: %s", blind);
			attroff(color(ui, C_YELLOW));
		}
	}
}

/* the states worth a cell, in lifecycle order; CLOSING only when there are some */
static const int shown_states[] = { TS_ESTABLISHED, TS_SYN_SENT,  TS_SYN_RECV,
				    TS_FIN_WAIT1,   TS_FIN_WAIT2, TS_TIME_WAIT,
				    TS_CLOSE_WAIT,  TS_LAST_ACK,  TS_LISTEN,
				    TS_CLOSING };
#define NSHOWN (int)(sizeof(shown_states) / sizeof(shown_states[0]))
#define CELL_W 26

static int states_rows(const struct top_view *v)
{
	int per = COLS / CELL_W, n = v->states[TS_CLOSING] ? NSHOWN : NSHOWN - 1;

	if (per < 1)
		per = 1;
	return (n + per - 1) / per;
}

static void draw_states(struct top_ui *ui, const struct top_view *v, int y0)
{
	int per = COLS / CELL_W, n = v->states[TS_CLOSING] ? NSHOWN : NSHOWN - 1;

	if (per < 1)
		per = 1;
	for (int i = 0; i < n; i++) {
		int st = shown_states[i], y = y0 + i / per, x = (i % per) * CELL_W;
		char delta[16];
		attr_t a = 0;

		if ((st == TS_CLOSE_WAIT || st == TS_FIN_WAIT2 || st == TS_SYN_SENT) &&
		    v->change[st] > 0)
			a = color(ui, C_YELLOW);
		if (v->change[st])
			snprintf(delta, sizeof(delta), "%+lld", (long long)v->change[st]);
		else
			snprintf(delta, sizeof(delta), "=");
		/* "CLOSEWT   1234  +120 _.-=#": 7 + 6 + 6 + 1 + TOP_TREND < CELL_W */
		attron(A_BOLD);
		put(y, x, 7, state_brief_name(st));
		attroff(A_BOLD);
		putf(y, x + 7, 6, "%6llu", (unsigned long long)v->states[st]);
		attron(a);
		putf(y, x + 13, 6, "%6s", delta);
		attroff(a);
		attron(color(ui, C_CYAN));
		for (int c = 0; c < TOP_TREND && x + 20 + c < COLS; c++) {
			int lvl = v->trend[st][c];

			glyph(ui, y, x + 20 + c, bars[lvl], bars_ascii[lvl]);
		}
		attroff(color(ui, C_CYAN));
	}
}

struct rect {
	int y, x, h, w; /* h: lines including the pane's header line */
};

static size_t pane_rows(const struct top_ui *ui, const struct top_view *v, enum top_pane p)
{
	switch (p) {
	case PANE_CW:
		return v->ncw;
	case PANE_DEST:
		return v->ndest;
	case PANE_LIS:
		return v->nlis;
	default:
		return ui->stream ? top_view_records_count(v) : top_view_tail_count(v);
	}
}

static int clampi(int v, int lo, int hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* Where each pane goes in lines y0..y1-1 */
static void layout(const struct top_ui *ui, const struct top_view *v, int y0, int y1,
		   struct rect r[PANE_MAX])
{
	int avail = y1 - y0;

	if (COLS >= WIDE_COLS) {
		/* the tables stacked on the left, each a third at most of what it
		 * needs is not there; the events on the right, full height */
		int third = avail / 3, y = y0;
		int lw = clampi(LEFT_W + (COLS - WIDE_COLS) / 2, LEFT_W, LEFT_MAX_W);

		for (int p = PANE_CW; p <= PANE_LIS; p++) {
			int want = 1 + clampi((int)pane_rows(ui, v, p), 1, 1000);
			int h = p == PANE_LIS ? y1 - y : clampi(want, 2, third);

			r[p] = (struct rect){ y, 0, h, lw };
			y += h;
		}
		r[PANE_EVENTS] = (struct rect){ y0, lw + 1, avail, COLS - lw - 1 };
		return;
	}
	/* one column: the tables take what they need up to a share (twice that
	 * for the focused one), the events the rest */
	int share = clampi((avail - 4) / 4, 1, 1000), y = y0;

	for (int p = PANE_CW; p <= PANE_LIS; p++) {
		int want = clampi((int)pane_rows(ui, v, p), 1, 1000);
		int cap = p == (int)ui->focus ? 2 * share : share;

		r[p] = (struct rect){ y, 0, 1 + clampi(want, 1, cap), COLS };
		y += r[p].h;
	}
	r[PANE_EVENTS] = (struct rect){ y, 0, y1 - y, COLS };
}

/* A table pane: its header line names the columns (the first one names the
 * pane), the sorted column marked; columns that do not fit are left out. */
struct col {
	const char *title;
	int w;	   /* the first column grows into the width left over */
	bool right; /* right-aligned */
	int sort;  /* the sort order it shows, -1 none */
};

#define MAX_COLS 8
#define FIRST_MAX_W 40

static int place(const struct col *c, int n, int width, int x[MAX_COLS], int w[MAX_COLS])
{
	int used = 0, k;

	for (k = 0; k < n; k++) {
		w[k] = c[k].w;
		if (used + (k ? 1 : 0) + w[k] > width)
			break;
		used += (k ? 1 : 0) + w[k];
	}
	/* the room left goes to the first column, up to a point */
	int extra = width - used - 1 /* the sort mark after the last */;

	if (extra > 0)
		w[0] += extra < FIRST_MAX_W - w[0] ? extra : FIRST_MAX_W - w[0] > 0 ? FIRST_MAX_W - w[0] : 0;
	for (int i = 0, pos = 0; i < k; i++) {
		x[i] = pos;
		pos += w[i] + 1;
	}
	return k; /* columns shown */
}

static void cell(int y, int x, int w, bool right, const char *text)
{
	char buf[256];

	snprintf(buf, sizeof(buf), right ? "%*.*s" : "%-*.*s", w, w, text);
	put(y, x, w, buf);
}

static attr_t header_attr(const struct top_ui *ui, const struct top_view *v, enum top_pane p)
{
	return p == ui->focus && !v->detail_on ? A_REVERSE | A_BOLD : A_BOLD | A_UNDERLINE;
}

/* A table pane as placed: its columns, where they go, how many fit */
struct table {
	const struct col *c;
	int shown, x[MAX_COLS], w[MAX_COLS];
};

static void scroll_to(struct top_ui *ui, enum top_pane p, size_t nrows, int shown);

/* Place the columns, draw the header (sorted column marked), keep the
 * selected row in sight; false when the pane has no rows (empty says so) */
static bool table_start(struct top_ui *ui, const struct top_view *v, enum top_pane p,
			const struct rect *r, const struct col *c, int n, size_t nrows,
			const char *empty, struct table *t)
{
	attr_t a = header_attr(ui, v, p);

	t->c = c;
	t->shown = place(c, n, r->w, t->x, t->w);
	fill_line(r->y, r->x, r->w, a);
	attron(a);
	for (int k = 0; k < t->shown; k++) {
		cell(r->y, r->x + t->x[k], t->w[k], c[k].right, c[k].title);
		if (c[k].sort == v->sort[p])
			glyph(ui, r->y, r->x + t->x[k] + t->w[k], v->reverse[p] ? "\u25b2" : "\u25bc",
			      v->reverse[p] ? '^' : 'v');
	}
	attroff(a);
	scroll_to(ui, p, nrows, r->h - 1);
	if (!nrows && r->h > 1)
		put(r->y + 1, r->x + 1, r->w - 1, empty);
	return nrows > 0;
}

/* Keep the selected row on screen */
static void scroll_to(struct top_ui *ui, enum top_pane p, size_t nrows, int shown)
{
	if (!nrows) {
		ui->row[p] = ui->scroll[p] = 0;
		return;
	}
	if (ui->row[p] >= nrows)
		ui->row[p] = nrows - 1;
	if (ui->row[p] < ui->scroll[p])
		ui->scroll[p] = ui->row[p];
	if (shown > 0 && ui->row[p] >= ui->scroll[p] + (size_t)shown)
		ui->scroll[p] = ui->row[p] - shown + 1;
}

/* One row of cells; the selected row of the focused pane stands out */
static void table_row(struct top_ui *ui, enum top_pane p, size_t i, const struct rect *r, int y,
		      const struct table *t, char cells[MAX_COLS][64], attr_t a)
{
	bool sel = p == ui->focus && i == ui->row[p];

	if (sel)
		fill_line(y, r->x, r->w, A_STANDOUT);
	attron(a | (sel ? A_STANDOUT : 0));
	for (int k = 0; k < t->shown; k++)
		cell(y, r->x + t->x[k], t->w[k], t->c[k].right, cells[k]);
	attroff(a | (sel ? A_STANDOUT : 0));
}

static const char *owner_text(uint32_t pid, const char *comm, bool known, char *buf, size_t len)
{
	if (known && pid)
		snprintf(buf, len, "%u %.15s", pid, comm);
	else
		snprintf(buf, len, "-");
	return buf;
}

/* A container's short id (12 hex digits, as docker ps shows it), "-" for a
 * host process or an owner not known */
static const char *container_text(uint64_t cgroup, char *buf, size_t len)
{
	const char *path = cgroup ? cgroup_path(cgroup) : NULL;
	char id[65], pod[37];

	if (path && cgroup_container(path, id, pod))
		snprintf(buf, len, "%.12s", id);
	else
		snprintf(buf, len, "-");
	return buf;
}

/* A namespace by its name (ip netns, docker) where it has one, else its inode */
static const char *netns_text(uint32_t netns, char *buf, size_t len)
{
	const char *name = nsname_of(netns);

	if (name)
		snprintf(buf, len, "%s", name);
	else
		snprintf(buf, len, "%u", netns);
	return buf;
}

static void draw_cw(struct top_ui *ui, const struct top_view *v, const struct rect *r)
{
	static const struct col c[] = {
		{ "CLOSE_WAIT BY PROCESS", 22, false, SORT_CW_PID },
		{ "LOCAL PORT/PEER", 21, false, -1 },
		{ "CLOSE_WAIT", 10, true, SORT_CW_COUNT },
		{ "OLDEST", 9, true, SORT_CW_OLDEST },
		{ "CONTAINER", 12, false, -1 },
		{ "NETNS", 16, true, -1 },
	};
	int rows = r->h - 1;
	char cells[MAX_COLS][64];
	struct table t;

	if (!table_start(ui, v, PANE_CW, r, c, (int)(sizeof(c) / sizeof(c[0])), v->ncw,
			 "no CLOSE_WAIT sockets", &t))
		return;
	for (int k = 0; k < rows && ui->scroll[PANE_CW] + k < v->ncw; k++) {
		size_t i = ui->scroll[PANE_CW] + k;
		const struct top_cw *g = v->cw[i];
		attr_t a = 0;

		owner_text(g->k.pid, g->k.comm, g->k.pid != 0, cells[0], sizeof(cells[0]));
		if (g->k.side)
			fmt_endpoint(g->k.family, g->k.peer, g->k.port, cells[1], sizeof(cells[1]));
		else
			snprintf(cells[1], sizeof(cells[1]), ":%u", g->k.port);
		snprintf(cells[2], sizeof(cells[2]), "%llu", (unsigned long long)g->count);
		top_format_age(g->oldest_ns, g->oldest_lb, cells[3], sizeof(cells[3]));
		container_text(g->cgroup, cells[4], sizeof(cells[4]));
		netns_text(g->k.netns, cells[5], sizeof(cells[5]));
		if (g->count >= CW_MIN_COUNT && g->oldest_ns >= CW_MIN_AGE_NS)
			a = color(ui, g->count >= CW_CRITICAL_COUNT ? C_RED : C_YELLOW);
		table_row(ui, PANE_CW, i, r, r->y + 1 + k, &t, cells, a);
	}
}

static void draw_dest(struct top_ui *ui, const struct top_view *v, const struct rect *r)
{
	static const struct col c[] = {
		{ "PORTS BY DESTINATION", 21, false, -1 },
		{ "HELD", 6, true, -1 },
		{ "%RANGE", 6, true, SORT_DEST_PCT },
		{ "TIME_WAIT", 9, true, SORT_DEST_TW },
		{ "CONN/s", 6, true, SORT_DEST_RATE },
		{ "EADDRNOTAVAIL", 13, true, SORT_DEST_FAILS },
		{ "FROM", 15, false, -1 },
		{ "NETNS", 16, true, -1 },
	};
	int rows = r->h - 1;
	char cells[MAX_COLS][64];
	struct table t;

	if (!table_start(ui, v, PANE_DEST, r, c, (int)(sizeof(c) / sizeof(c[0])), v->ndest,
			 "no connect() and no ports held toward anyone", &t))
		return;
	for (int k = 0; k < rows && ui->scroll[PANE_DEST] + k < v->ndest; k++) {
		size_t i = ui->scroll[PANE_DEST] + k;
		const struct top_dest *d = v->dest[i];
		attr_t a = 0;

		fmt_endpoint(d->family, d->daddr, d->dport, cells[0], sizeof(cells[0]));
		snprintf(cells[1], sizeof(cells[1]), "%llu", (unsigned long long)d->held);
		if (d->usable)
			snprintf(cells[2], sizeof(cells[2]), "%.0f%%", d->pct);
		else
			snprintf(cells[2], sizeof(cells[2]), "?");
		snprintf(cells[3], sizeof(cells[3]), "%llu", (unsigned long long)d->time_wait);
		snprintf(cells[4], sizeof(cells[4]), "%.1f", d->rate);
		snprintf(cells[5], sizeof(cells[5]), "%llu", (unsigned long long)d->fails);
		fmt_addr(d->family, d->saddr, cells[6], sizeof(cells[6]));
		netns_text(d->netns, cells[7], sizeof(cells[7]));
		if (d->fails || d->pct >= PORT_CRIT_PCT)
			a = color(ui, C_RED);
		else if (d->pct >= PORT_WARN_PCT)
			a = color(ui, C_YELLOW);
		table_row(ui, PANE_DEST, i, r, r->y + 1 + k, &t, cells, a);
	}
}

static void draw_lis(struct top_ui *ui, const struct top_view *v, const struct rect *r)
{
	static const struct col c[] = {
		{ "LISTENERS", 21, false, SORT_LIS_PORT },
		{ "PROCESS", 21, false, -1 },
		{ "ACCEPT Q", 9, true, -1 },
		{ "FILL", 5, true, SORT_LIS_FILL },
		{ "OVERFLOWS", 9, true, SORT_LIS_OVF },
		{ "OVF/s", 6, true, -1 },
		{ "CONTAINER", 12, false, -1 },
		{ "NETNS", 16, true, -1 },
	};
	int rows = r->h - 1;
	char cells[MAX_COLS][64];
	struct table t;

	if (!table_start(ui, v, PANE_LIS, r, c, (int)(sizeof(c) / sizeof(c[0])), v->nlis,
			 "no listening sockets", &t))
		return;
	for (int k = 0; k < rows && ui->scroll[PANE_LIS] + k < v->nlis; k++) {
		size_t i = ui->scroll[PANE_LIS] + k;
		const struct top_lis *l = &v->lis[i];
		attr_t a = 0;

		fmt_endpoint(l->family, l->saddr, l->port, cells[0], sizeof(cells[0]));
		owner_text(l->owner.pid, l->owner.comm, l->owner_known, cells[1], sizeof(cells[1]));
		if (l->have_queue) {
			snprintf(cells[2], sizeof(cells[2]), "%u/%u", l->queue, l->backlog);
			snprintf(cells[3], sizeof(cells[3]), "%.0f%%", l->fill * 100);
		} else {
			snprintf(cells[2], sizeof(cells[2]), "?");
			snprintf(cells[3], sizeof(cells[3]), "?");
		}
		snprintf(cells[4], sizeof(cells[4]), "%llu", (unsigned long long)l->ovf);
		snprintf(cells[5], sizeof(cells[5]), "%.1f", l->ovf_rate);
		container_text(l->owner_known ? l->owner.cgroup : 0, cells[6], sizeof(cells[6]));
		netns_text(l->netns, cells[7], sizeof(cells[7]));
		if (l->ovf_rate > 0 || l->fill >= 1)
			a = color(ui, C_RED);
		else if (l->ovf || l->fill >= 0.5)
			a = color(ui, C_YELLOW);
		table_row(ui, PANE_LIS, i, r, r->y + 1 + k, &t, cells, a);
	}
}

static void pane_header(struct top_ui *ui, const struct top_view *v, enum top_pane p,
			const struct rect *r, const char *text)
{
	attr_t a = header_attr(ui, v, p);

	fill_line(r->y, r->x, r->w, a);
	attron(a);
	put(r->y, r->x, r->w, text);
	attroff(a);
}

static void row_attr(struct top_ui *ui, enum top_pane p, size_t i, bool on)
{
	if (p == ui->focus && i == ui->row[p]) {
		if (on)
			attron(A_STANDOUT);
		else
			attroff(A_STANDOUT);
	}
}

#define MAX_EVENT_ROWS 256

static void draw_events(struct top_ui *ui, const struct top_view *v, const struct rect *r)
{
	char h[256], line[512], tbuf[32];
	int shown = r->h - 1 < MAX_EVENT_ROWS ? r->h - 1 : MAX_EVENT_ROWS;
	size_t total = pane_rows(ui, v, PANE_EVENTS), n;

	if (ui->stream)
		snprintf(h, sizeof(h), "EVERY RECORD, newest first (%zu kept; t: notable only)",
			 total);
	else
		snprintf(h, sizeof(h), "NOTABLE EVENTS, newest first (%zu; t: every record)", total);
	pane_header(ui, v, PANE_EVENTS, r, h);
	scroll_to(ui, PANE_EVENTS, total, shown);
	if (!total) {
		put(r->y + 1, r->x + 1, r->w - 1,
		    ui->stream ? "no records yet"
			       : "nothing notable yet: failed connects, long port scans, leaks, "
				 "resets and overflows show here");
		return;
	}
	if (ui->stream) {
		const union top_ev *rec[MAX_EVENT_ROWS];

		n = top_view_records(v, ui->scroll[PANE_EVENTS], rec, (size_t)shown);
		for (size_t k = 0; k < n; k++) {
			size_t i = ui->scroll[PANE_EVENTS] + k;

			top_format_event(rec[k], ui->clock_offset, line, sizeof(line));
			row_attr(ui, PANE_EVENTS, i, true);
			put(r->y + 1 + (int)k, r->x, r->w, line);
			row_attr(ui, PANE_EVENTS, i, false);
		}
		return;
	}
	const struct top_note *notes[MAX_EVENT_ROWS];

	n = top_view_tail(v, ui->scroll[PANE_EVENTS], notes, (size_t)shown);
	for (size_t k = 0; k < n; k++) {
		const struct top_note *x = notes[k];
		size_t i = ui->scroll[PANE_EVENTS] + k;
		attr_t a = x->kind == NOTE_LEAK || x->kind == NOTE_PORTS ||
				   x->kind == NOTE_LISTEN_OVF || x->kind == NOTE_TW_OVF
			   ? color(ui, C_RED) : color(ui, C_YELLOW);
		int y = r->y + 1 + (int)k, col;

		row_attr(ui, PANE_EVENTS, i, true);
		col = put(y, r->x, r->w,
			  fmt_clock(x->ts_ns, ui->clock_offset, 0, tbuf, sizeof(tbuf)));
		attron(a);
		if (x->repeat > 1)
			col += putf(y, r->x + col, r->w - col, " %s x%u%*s", note_kind_name(x->kind),
				    x->repeat, 0, "");
		else
			col += putf(y, r->x + col, r->w - col, " %-18s", note_kind_name(x->kind));
		attroff(a);
		if (x->has_ev) {
			top_format_event(&x->ev, ui->clock_offset, line, sizeof(line));
			/* the record's own time is the note's */
			put(y, r->x + col, r->w - col, line + strlen(tbuf));
		} else {
			putf(y, r->x + col, r->w - col, " %s", x->text);
		}
		row_attr(ui, PANE_EVENTS, i, false);
	}
}

static void sel_title(const struct top_view *v, char *buf, size_t len)
{
	char a[ENDPOINT_STRLEN], b[ENDPOINT_STRLEN];
	const struct top_sel *s = &v->sel;

	switch (s->pane) {
	case PANE_CW:
		if (s->cw.k.side)
			fmt_endpoint(s->cw.k.family, s->cw.k.peer, s->cw.k.port, a, sizeof(a));
		else
			snprintf(a, sizeof(a), "local port %u", s->cw.k.port);
		if (s->cw.k.pid)
			snprintf(buf, len, "CLOSE_WAIT sockets of %u %.15s, %s", s->cw.k.pid,
				 s->cw.k.comm, a);
		else
			snprintf(buf, len, "CLOSE_WAIT sockets of no known process, %s", a);
		break;
	case PANE_DEST:
		snprintf(buf, len, "sockets from %s toward %s",
			 fmt_addr(s->dest.family, s->dest.saddr, a, sizeof(a)),
			 fmt_endpoint(s->dest.family, s->dest.daddr, s->dest.dport, b, sizeof(b)));
		break;
	case PANE_LIS:
		snprintf(buf, len, "sockets on %s (the listener and its connections)",
			 fmt_endpoint(s->lis.family, s->lis.saddr, s->lis.port, a, sizeof(a)));
		break;
	default:
		snprintf(buf, len, "sockets of the event: %s", note_kind_name(s->note.kind));
		break;
	}
}

static void draw_detail(struct top_ui *ui, const struct top_view *v, int y0, int y1)
{
	char title[200], h[320], l[ENDPOINT_STRLEN], p[ENDPOINT_STRLEN], who[40], age[32];
	int shown = y1 - y0 - 2;
	struct rect r = { y0, 0, y1 - y0, COLS };

	sel_title(v, title, sizeof(title));
	snprintf(h, sizeof(h), "%s: %zu%s   (Esc/Enter: back)", title, v->detail_total,
		 v->detail_total > v->ndetail ? " (the oldest shown)" : "");
	fill_line(r.y, 0, COLS, A_REVERSE | A_BOLD);
	attron(A_REVERSE | A_BOLD);
	put(r.y, 0, COLS, h);
	attroff(A_REVERSE | A_BOLD);
	attron(A_UNDERLINE);
	putf(r.y + 1, 0, COLS, "%-11s %-24s %-24s %-22s %9s", "STATE", "LOCAL", "PEER", "PROCESS",
	     "AGE");
	attroff(A_UNDERLINE);
	if (!v->ndetail) {
		put(r.y + 2, 1, COLS - 1, "no such socket now (closed, or the row's filter hides it)");
		return;
	}
	if (ui->detail_row >= v->ndetail)
		ui->detail_row = v->ndetail - 1;
	size_t first = shown > 0 && ui->detail_row >= (size_t)shown ? ui->detail_row - shown + 1 : 0;

	for (int k = 0; k < shown && first + k < v->ndetail; k++) {
		const struct top_sock *s = &v->detail[first + k];
		char st[24];

		snprintf(st, sizeof(st), "%s%s", state_kernel_name(s->state), s->tw ? "*" : "");
		fmt_endpoint(s->t.family, s->t.saddr, s->t.sport, l, sizeof(l));
		fmt_endpoint(s->t.family, s->t.daddr, s->t.dport, p, sizeof(p));
		if (first + k == ui->detail_row)
			attron(A_STANDOUT);
		putf(y0 + 2 + k, 0, COLS, "%-11s %-24s %-24s %-22s %9s", st, l, p,
		     owner_text(s->owner.pid, s->owner.comm, s->owner_known, who, sizeof(who)),
		     top_format_age(s->age_ns, s->age_lb, age, sizeof(age)));
		if (first + k == ui->detail_row)
			attroff(A_STANDOUT);
	}
}

static const char *const help_lines[] = {
	"tcpscope top: TCP on this host, live, in every namespace tcpscope can see",
	"",
	"  q            quit (Ctrl-C, SIGTERM too; the terminal is given back)",
	"  space        pause / resume the screen (events are still counted)",
	"  tab, arrows  panes: tab, shift-tab, left, right; rows: up, down,",
	"               PgUp, PgDn, Home, End",
	"  Enter        the sockets of the selected row; Esc or Enter: back",
	"  s / S        next sort order of the pane / reverse it",
	"  /            filter with trace's words: -p PID -c COMM -L PORT",
	"               -D PORT --state STATE -4 -6; empty clears",
	"  t            events pane: notable events <-> every record",
	"  h, ?         this help (any key closes it)",
	"",
	"States: sockets now (census at start + every transition since), their",
	"change over the last minute and trend. A CLOSE_WAIT count that only grows:",
	"a process that never close()s. Ports toward one destination near 100% of",
	"the range: connect() fails with EADDRNOTAVAIL. A full accept queue drops",
	"connections. '>=' before an age: older than tcpscope (a lower bound);",
	"'*' after a state: a timewait socket. hooks: the mechanism per fact",
	"(tp tracepoint, fentry, kprobe, - not observed).",
};

static void draw_help(struct top_ui *ui, const struct top_view *v, int y0, int y1)
{
	int n = (int)(sizeof(help_lines) / sizeof(help_lines[0]));
	char blind[1024] = "";

	for (int y = y0; y < y1; y++)
		mvhline(y, 0, ' ', COLS);
	fill_line(y0, 0, COLS, A_REVERSE | A_BOLD);
	attron(A_REVERSE | A_BOLD);
	put(y0, 0, COLS, "HELP (any key: back)");
	attroff(A_REVERSE | A_BOLD);
	for (int i = 0; i < n && y0 + 1 + i < y1; i++)
		put(y0 + 1 + i, 0, COLS, help_lines[i]);
	if (v->ladder)
		ladder_blind_spots(v->ladder, false, blind, sizeof(blind));
	if (y0 + 2 + n < y1)
		putf(y0 + 1 + n, 0, COLS, "blind spots on this kernel: %s", blind[0] ? blind : "none");
}

static void draw_status(struct top_ui *ui, const struct top_view *v, uint64_t now)
{
	int y = LINES - 1;

	mvhline(y, 0, ' ', COLS);
	if (ui->prompt) {
		int x = put(y, 0, COLS, "filter (trace's words, empty clears, Esc cancels): ");

		x += put(y, x, COLS - x, ui->input);
		curs_set(1);
		move(y, x < COLS ? x : COLS - 1);
		return;
	}
	curs_set(0);
	if (ui->msg[0] && now < ui->msg_until_ns) {
		attron(color(ui, C_RED) | A_BOLD);
		put(y, 0, COLS, ui->msg);
		attroff(color(ui, C_RED) | A_BOLD);
		return;
	}
	int x = 0;

	if (v->filter_text[0] || (ui->kernel_filter && ui->kernel_filter[0])) {
		attron(A_BOLD);
		x += putf(y, x, COLS, "filter: %s%s%s ", ui->kernel_filter ? ui->kernel_filter : "",
			  ui->kernel_filter && ui->kernel_filter[0] && v->filter_text[0] ? " + " : "",
			  v->filter_text);
		attroff(A_BOLD);
	}
	if (v->failed) {
		attron(color(ui, C_RED));
		x += put(y, x, COLS - x, "out of memory: rows missing ");
		attroff(color(ui, C_RED));
	}
	attron(A_DIM);
	put(y, x, COLS - x,
	    "q quit  space pause  tab pane  Enter sockets  s/S sort  / filter  t all  h help");
	attroff(A_DIM);
}

void top_ui_draw(struct top_ui *ui, const struct top_view *v, uint64_t now)
{
	struct rect r[PANE_MAX];
	int y;

	if (!ui->started)
		return;
	erase(); /* the virtual screen only: refresh() sends what changed */
	if (LINES < 10 || COLS < 40) {
		put(0, 0, COLS, "terminal too small for tcpscope top (at least 40x10)");
		refresh();
		return;
	}
	draw_header(ui, v, now);
	draw_states(ui, v, 2);
	y = 2 + states_rows(v);
	if (ui->help) {
		draw_help(ui, v, y, LINES - 1);
	} else if (v->detail_on) {
		draw_detail(ui, v, y, LINES - 1);
	} else {
		layout(ui, v, y, LINES - 1, r);
		draw_cw(ui, v, &r[PANE_CW]);
		draw_dest(ui, v, &r[PANE_DEST]);
		draw_lis(ui, v, &r[PANE_LIS]);
		draw_events(ui, v, &r[PANE_EVENTS]);
	}
	draw_status(ui, v, now);
	refresh();
}

/* ---- keys ---- */

static int filter_key(struct top_ui *ui, struct top_view *v, int ch, uint64_t now)
{
	char err[200];

	switch (ch) {
	case KEY_ESC:
		ui->prompt = false;
		return UI_REDRAW;
	case '\n':
	case '\r':
	case KEY_ENTER:
		ui->prompt = false;
		ui->input[ui->ninput] = 0;
		if (top_view_set_filter(v, ui->input, err, sizeof(err))) {
			snprintf(ui->msg, sizeof(ui->msg), "filter: %s", err);
			ui->msg_until_ns = now + 5 * NSEC_PER_SEC;
			return UI_REDRAW;
		}
		memset(ui->row, 0, sizeof(ui->row));
		memset(ui->scroll, 0, sizeof(ui->scroll));
		ui->msg[0] = 0;
		return UI_UPDATE;
	case KEY_BACKSPACE:
	case 127:
	case 8:
		if (ui->ninput)
			ui->input[--ui->ninput] = 0;
		return UI_REDRAW;
	case 21: /* Ctrl-U */
		ui->ninput = 0;
		ui->input[0] = 0;
		return UI_REDRAW;
	default:
		if (ch >= 0x20 && ch < 0x7f && ui->ninput + 1 < sizeof(ui->input)) {
			ui->input[ui->ninput++] = (char)ch;
			ui->input[ui->ninput] = 0;
		}
		return UI_REDRAW;
	}
}

/* The selected row of the focused pane, by value */
static bool selected(struct top_ui *ui, const struct top_view *v, struct top_sel *sel)
{
	size_t i = ui->row[ui->focus];

	memset(sel, 0, sizeof(*sel));
	sel->pane = ui->focus;
	switch (ui->focus) {
	case PANE_CW:
		if (i >= v->ncw)
			return false;
		sel->cw = *v->cw[i];
		return true;
	case PANE_DEST:
		if (i >= v->ndest)
			return false;
		sel->dest = *v->dest[i];
		return true;
	case PANE_LIS:
		if (i >= v->nlis)
			return false;
		sel->lis = v->lis[i];
		return true;
	default: {
		const struct top_note *n;
		const union top_ev *e;

		if (ui->stream) {
			if (!top_view_records(v, i, &e, 1))
				return false;
			sel->note.has_ev = true;
			sel->note.ev = *e;
			return true;
		}
		if (!top_view_tail(v, i, &n, 1))
			return false;
		sel->note = *n;
		return true;
	}
	}
}

static int move_row(struct top_ui *ui, const struct top_view *v, long delta)
{
	size_t *row = v->detail_on ? &ui->detail_row : &ui->row[ui->focus];
	size_t n = v->detail_on ? v->ndetail : pane_rows(ui, v, ui->focus);
	long r = (long)*row + delta;

	if (r >= (long)n)
		r = (long)n - 1;
	if (r < 0)
		r = 0;
	*row = (size_t)r;
	return UI_REDRAW;
}

int top_ui_keys(struct top_ui *ui, struct top_view *v, struct top_sel *sel, uint64_t now)
{
	int ch, ret = 0, page = LINES / 2 > 1 ? LINES / 2 : 1;

	while ((ch = getch()) != ERR && !(ret & UI_QUIT)) {
		if (ch == KEY_RESIZE) {
			ret |= UI_REDRAW;
			continue;
		}
		if (ui->prompt) {
			ret |= filter_key(ui, v, ch, now);
			continue;
		}
		if (ui->help) {
			ui->help = false;
			ret |= UI_REDRAW;
			if (ch != 'q')
				continue;
		}
		switch (ch) {
		case 'q':
		case 'Q':
			ret |= UI_QUIT;
			break;
		case ' ':
			v->paused = !v->paused;
			ret |= UI_UPDATE;
			break;
		case 'h':
		case '?':
			ui->help = true;
			ret |= UI_REDRAW;
			break;
		case '/':
			ui->prompt = true;
			snprintf(ui->input, sizeof(ui->input), "%s", v->filter_text);
			ui->ninput = strlen(ui->input);
			ret |= UI_REDRAW;
			break;
		case 't':
			ui->stream = !ui->stream;
			ui->row[PANE_EVENTS] = ui->scroll[PANE_EVENTS] = 0;
			ret |= UI_REDRAW;
			break;
		case 's':
			v->sort[ui->focus] = (v->sort[ui->focus] + 1) % top_sort_count(ui->focus);
			ret |= UI_UPDATE;
			break;
		case 'S':
			v->reverse[ui->focus] = !v->reverse[ui->focus];
			ret |= UI_UPDATE;
			break;
		case '\t':
		case KEY_RIGHT:
			if (!v->detail_on)
				ui->focus = (ui->focus + 1) % PANE_MAX;
			ret |= UI_REDRAW;
			break;
		case KEY_BTAB:
		case KEY_LEFT:
			if (v->detail_on) {
				ret |= UI_UNSELECT;
				break;
			}
			ui->focus = (ui->focus + PANE_MAX - 1) % PANE_MAX;
			ret |= UI_REDRAW;
			break;
		case KEY_UP:
		case 'k':
			ret |= move_row(ui, v, -1);
			break;
		case KEY_DOWN:
		case 'j':
			ret |= move_row(ui, v, 1);
			break;
		case KEY_PPAGE:
			ret |= move_row(ui, v, -page);
			break;
		case KEY_NPAGE:
			ret |= move_row(ui, v, page);
			break;
		case KEY_HOME:
			ret |= move_row(ui, v, -(1L << 30));
			break;
		case KEY_END:
			ret |= move_row(ui, v, 1L << 30);
			break;
		case '\n':
		case '\r':
		case KEY_ENTER:
			if (v->detail_on) {
				ret |= UI_UNSELECT;
			} else if (selected(ui, v, sel)) {
				ui->detail_row = 0;
				ret |= UI_SELECT;
			}
			break;
		case KEY_ESC:
		case KEY_BACKSPACE:
		case 127:
			if (v->detail_on)
				ret |= UI_UNSELECT;
			break;
		case 12: /* Ctrl-L: the terminal was garbled by someone else */
			clearok(curscr, TRUE);
			ret |= UI_REDRAW;
			break;
		}
	}
	return ret;
}
