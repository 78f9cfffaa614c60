/*
 * loadgen.h — what the files of the load generator share: the connection struct, the options
 * (set once by main.c from the command line), the run's counters, and the functions one file
 * calls in another. What the program does, and its options, are described at the top of main.c.
 *
 *   main.c     options and main: connect the subscribers, idle memory, handshake mode, then the phases
 *   phases.c   the measured phases (fanout, overload, latency) and --listen, each printing its JSON member
 *   net.c      sockets, the epoll loop, per-connection buffers, opening the subscribers
 *   client.c   the subscriber protocols: the upgrade / HTTP request, WebSocket frames (+ permessage-deflate),
 *              Tidings JSON, STOMP, Socket.IO, SSE / chunked and long-poll parsing
 *   publish.c  the HTTP publishers: keep-alive POSTs, per-user bodies, their answers
 *   stats.c    copies counted per broadcast, the latency histogram, server RSS and CPU from /proc
 *
 * Built as one binary from every .c here (bench/lib/loadgen.ts: gcc -O2 … -lz).
 */
#ifndef LOADGEN_H
#define LOADGEN_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <signal.h>
#include <stddef.h>
#include <stdint.h>

enum proto { P_TWS, P_STOMP, P_TSSE, P_TPOLL, P_WS, P_SIO, P_SSE };
enum mode { M_FANOUT, M_OVERLOAD, M_LATENCY, M_IDLE, M_HANDSHAKE };
enum kind { K_SUB, K_PUB };
#define PEND_MAX 32 /* requests one publisher connection may have unanswered */
enum state { S_CONNECTING, S_HEADERS, S_OPEN, S_CLOSED };

typedef struct conn {
  int fd;
  uint8_t kind, state, ready, chunked, is_ws, poll_round;
  uint8_t ck_state; /* dechunker: 0 size line, 1 data, 2 CRLF after data */
  uint32_t ck_left;
  char *in;         /* unconsumed input */
  uint32_t in_len, in_cap;
  char *sb;         /* SSE: dechunked bytes not yet ending in a newline */
  uint32_t sb_len, sb_cap;
  char *out;        /* unsent output */
  uint32_t out_len, out_cap;
  uint32_t http_body_left; /* publisher / poll: body bytes of the current response still to skip */
  uint32_t outstanding;    /* publisher: requests without an answer */
  uint32_t pend_head;      /* publisher: index in pend of the oldest unanswered request */
  int pub_index;           /* publisher: slot in pubs */
  int64_t pend[PEND_MAX];  /* publisher: broadcasts of the unanswered requests, oldest first */
  uint64_t started;        /* handshake mode: when the connect began (µs) */
  uint64_t pend_t[PEND_MAX]; /* publisher: when each unanswered request was sent (µs) */
  int index;               /* subscriber: its number, the user id in per-user runs */
} conn;

/* ---------- options (main.c) ---------- */
extern enum proto proto;
extern enum mode mode; /* what the run does now: the phase, M_IDLE while connecting, M_HANDSHAKE */
extern int port;
extern const char *sub_path;
extern const char *pub_path;
extern const char *pub_key;
extern int pub_tidings;
extern int conns_wanted;
extern int sources;
extern int publishers;
extern double duration, warmup, rate, settle, drain_max, ready_timeout, hold;
extern int lag_cap;
extern int concurrency;
extern int connect_batch;
extern int server_pid;
extern int gc_signal;
extern long rss_before_kb, rss_settled_before_kb;
extern int upgrade_only;
extern int connect_in_handshake;
extern int deflate_offer;
extern int notification_payload;
extern const char *sub_channel;
extern int pub_users;
extern int pub_batch;
extern double listen_s;

/* ---------- connections and the event loop (net.c) ---------- */
extern int ep;
extern int hs_active, subs_ready, subs_failed, subs_closed_after_ready, subs_connecting;
extern int sub_index;
extern uint64_t bytes_total;
extern uint64_t sub_bytes_window; /* bytes subscribers read in the measured window */
extern uint64_t handshakes, handshake_errors;

/* Microseconds of CLOCK_MONOTONIC. */
uint64_t now_us(void);
/* Prints "loadgen: <message>" on stderr and exits with status 2. */
void die(const char *fmt, ...);
void buf_append(char **b, uint32_t *len, uint32_t *cap, const char *p, uint32_t n);
void buf_consume(char *b, uint32_t *len, uint32_t n);
int subst(char *out, size_t size, const char *fmt, int n);
void conn_send(conn *c, const char *p, uint32_t n);
conn *conn_open(int kind, int index);
void conn_close(conn *c);
void loop_once(int timeout_ms);
int connect_all(void);

/* ---------- subscriber protocols (client.c) ---------- */
const char *default_path(void);
void send_request(conn *c);
void on_sub_input(conn *c, const char *p, uint32_t n, uint64_t t);
uint32_t content_length(const char *h, size_t n);

/* ---------- publishers (publish.c) ---------- */
extern uint64_t pub_sent, pub_answered, pub_errors, pub_reconnects;
extern int64_t pubs_lost, pubs_lost_measured; /* broadcasts whose request died with its connection */
extern int64_t seq_next;                      /* next broadcast to publish */
extern uint64_t copies_offered;               /* per-user: copies published so far */
extern uint64_t call_sum_us, call_count, call_max_us; /* publish answer times in the window */

void publish_one(conn *c, uint64_t t);
void on_pub_input(conn *c, const char *p, uint32_t n);
conn *idle_publisher(void);
conn *any_publisher(void);
void pub_lost(conn *c);
void open_publishers(void);

/* ---------- accounting, latency, /proc (stats.c) ---------- */
#define RING 65536
extern uint64_t msgs_total, msgs_window;
extern int measuring;
extern uint64_t t_window_start, t_window_end;
extern int64_t seq_measure_from; /* broadcasts from here on are measured (latency) */
extern int64_t seq_measure_to;
extern uint32_t seq_count[RING];    /* copies received of broadcast seq (mod RING) */
extern int64_t seq_done;            /* every broadcast <= seq_done reached every live subscriber */
extern int64_t seq_max_seen;
extern uint32_t seq_expected[RING]; /* per-user: copies broadcast seq goes to */
extern uint8_t *user_live;          /* per-user: whether subscriber (user) i is ready and open */
extern uint64_t t_last_copy;

/* latency histogram: 10 µs buckets below 1 s, 1 ms buckets up to 200 s */
#define H_FINE 100000
#define H_COARSE 199000
extern uint64_t hist[H_FINE + H_COARSE + 1];
extern uint64_t lat_count, lat_max;

double hist_quantile(double q);
int live_subs(void);
void advance_done(void);
void sub_lost(conn *c);
void scan(const char *p, size_t n, uint64_t t);
long rss_kb(int pid);
double cpu_seconds(int pid);
double self_cpu(void);

/* ---------- phases (phases.c) ---------- */
void run_for(uint64_t until, void (*tick)(uint64_t));
void listen_progress(uint64_t t);
void listen_for(double seconds);
void run_phase(enum mode m, double seconds);

#endif
