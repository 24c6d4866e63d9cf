/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The terminal of `tcpscope top`: ncurses (wide characters), drawn from the
 * view (top_view.h) and nothing else. Drawing reads the view and formats
 * into stack buffers: no I/O of its own, no allocation; ncurses sends only
 * what changed (erase + refresh, never a clear per frame). Keys change the
 * UI's own state and the view's settings (sort, filter, pause, selection);
 * the caller then updates the view.
 */
#ifndef TOP_UI_H
#define TOP_UI_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "top_view.h"

enum top_key_result {
	UI_REDRAW = 1,	  /* draw again */
	UI_UPDATE = 2,	  /* the view's settings changed: update it, then draw */
	UI_SELECT = 4,	  /* show the sockets of *sel */
	UI_UNSELECT = 8,  /* back from the sockets */
	UI_QUIT = 16,
};

struct top_ui {
	bool started, utf8, colors;
	enum top_pane focus;
	size_t row[PANE_MAX];	 /* the selected row of each pane */
	size_t scroll[PANE_MAX]; /* its first row shown */
	size_t detail_row;
	bool stream; /* the events pane shows every record */
	bool help;
	bool prompt; /* typing a filter */
	char input[256];
	size_t ninput;
	char msg[240]; /* one line at the bottom, for a while */
	uint64_t msg_until_ns;
	int64_t clock_offset; /* realtime - monotonic */
	uint64_t interval_ns;
	const char *host, *kernel;
	const char *kernel_filter; /* the command line's filter, "" when none */
};

/* The terminal can be driven (isatty and a known TERM): 0, or -1 with a
 * one-line message. Nothing is drawn yet. */
int top_ui_check(char *err, size_t errlen);
/* Take over the terminal. 0, or -1 with a message. */
int top_ui_start(struct top_ui *ui, char *err, size_t errlen);
/* Give the terminal back as it was; safe to call at any time, twice. */
void top_ui_end(struct top_ui *ui);
void top_ui_draw(struct top_ui *ui, const struct top_view *v, uint64_t now_ns);
/* Read the pending keys; a mask of enum top_key_result. *sel gets the row
 * of UI_SELECT. */
int top_ui_keys(struct top_ui *ui, struct top_view *v, struct top_sel *sel, uint64_t now_ns);

#endif
