/*
 * loadgen — the Tidings benchmark load generator.
 *
 * One single-threaded epoll process that opens many client connections to one server on
 * 127.0.0.1 (from several loopback source addresses, so ephemeral ports never run out), speaks
 * just enough of each protocol to subscribe, counts what arrives and measures latency. It also
 * publishes, over HTTP keep-alive connections to the server's publish endpoint.
 *
 * Written in C because a Node.js client costs more CPU per message than the servers it measures:
 * on a 2-core machine the client must not be the bottleneck.
 *
 * Protocols (--proto):
 *   tws     Tidings JSON protocol over WebSocket (/ws): connect + subscribe "bench"
 *   stomp   Tidings STOMP over WebSocket (/ws, subprotocol v12.stomp): CONNECT + SUBSCRIBE /topic/bench
 *   tsse    Tidings Server-Sent Events (/sse?channel=bench)
 *   tpoll   Tidings long polling (/poll?channel=bench, then wait=60 with the cursor) — idle mode only
 *   ws      a raw WebSocket server (messages are the payload itself)
 *   sio     Socket.IO 4 / Engine.IO 4 over WebSocket only (/socket.io/?EIO=4&transport=websocket)
 *   sse     a plain node:http SSE server (/sse)
 *
 * What it measures, after connecting --conns subscribers (phases run in order on the same connections):
 *   --idle             the server's RSS per connection (--pid; --gc-signal makes it collect first),
 *                      against --rss-before (KB) or its own reading before connecting; with --hold S,
 *                      again after S more idle seconds, against --rss-settled-before
 *   --phase NAME:SECONDS, NAME one of
 *   fanout    saturation, one message per broadcast: broadcast n+1 is published as soon as the
 *             first copy of broadcast n arrives, so the server always has exactly one to fan out
 *   overload  --publishers connections publish back to back (each waits only for its HTTP
 *             answer), bounded by --lag-cap broadcasts not yet delivered to every subscriber
 *   latency   open loop: --rate broadcasts per second; publish time -> receive time per message
 * or, instead, --mode handshake: --concurrency parallel connect/handshake/close loops for
 *   --duration seconds; completed handshakes per second (a handshake ends when the client could
 *   use the connection: 101 for raw WebSocket, the connect reply for Tidings, CONNECTED for STOMP,
 *   the namespace connect for Socket.IO; with --upgrade-only, the 101 for every protocol; with
 *   --connect-in-handshake, Tidings JSON opens /ws?connect=1 and is done at the `connected` message
 *   that comes with the 101, without sending `connect`)
 *
 * --deflate offers permessage-deflate (Tidings --ws-compression on: no context takeover) and inflates
 * compressed messages; the last one is remembered, as the server sends every subscriber the same
 * bytes, so the client's cost per copy stays a memcmp. Fan-out phases also report subBytesPerMsg:
 * bytes subscribers read in the window (frames and headers) per message counted. --notification adds
 * a realistic ~1 KB notification object ("n") to every published message.
 *
 * Per-user delivery (--sub-channel FMT, --pub-users N): subscriber i subscribes to FMT with %d
 * replaced by i (tws), or opens --path with %d replaced by i (any protocol); each publication goes
 * to one user (--pub-batch 1: Tidings POST /api/publish {"channel":FMT(u)}, peers POST
 * <pub-path>?to=u) or to B consecutive users (--pub-batch B: Tidings POST /api/broadcast
 * {"channels":[…]}, peers <pub-path>?from=u&count=B), users taken round robin over 0..N-1; a
 * publication is delivered when its N or B copies have arrived. Each phase reports the publish
 * calls' answer time (callMeanMs, callMaxMs).
 *
 * --listen S: only subscribe, then count what arrives (publications come from elsewhere) for at
 * most S seconds or until SIGTERM; stderr gets "progress <done> <t> <copies>" whenever every live
 * subscriber has had every publication up to seq <done> (t: CLOCK_MONOTONIC µs of the last copy),
 * and every 250 ms. Output: copies, latency quantiles (publish → receive) and maxMs.
 *
 * Every published message is a 100-byte JSON object {"bt":<µs, CLOCK_MONOTONIC>,"seq":<n>,"p":"…"};
 * a message is counted wherever the text "bt": appears in what a subscriber receives.
 * Output: one JSON object on stdout. Progress and errors on stderr.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

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

/* ---------- options ---------- */
static enum proto proto = P_TWS;
static enum mode mode = M_FANOUT;
static int port = 8080;
static const char *sub_path = NULL;
static const char *pub_path = "/api/publish";
static const char *pub_key = "";
static int pub_tidings = 0; /* wrap in {"channel":"bench","data":…} */
static int conns_wanted = 1000;
static int sources = 16;
static int publishers = 4;
static double duration = 5, warmup = 1, rate = 10, settle = 3, drain_max = 10, ready_timeout = 60, hold = 0;
static int lag_cap = 200;
static int concurrency = 64;
static int connect_batch = 256;
static int server_pid = 0;
static int gc_signal = 0;
static long rss_before_kb = -1, rss_settled_before_kb = -1; /* baselines taken by the caller */
static int upgrade_only = 0; /* handshake mode: done at 101 whatever the protocol */
static int connect_in_handshake = 0; /* tws: /ws?connect=1, usable at `connected` */
static int deflate_offer = 0; /* --deflate: offer permessage-deflate, inflate RSV1 messages */
static uint64_t sub_bytes_window = 0;
static int notification_payload = 0; /* --notification: publish a ~1 KB notification object instead of the 100-byte message */
static const char NOTIFICATION[] = "{\"type\":\"comment.created\",\"userId\":\"u-7001\",\"title\":\"New comment on your post\",\"body\":\"Alice Johnson commented on \\\"Quarterly planning notes\\\": Looks good to me, but can we move the review to Thursday afternoon? I have a conflict with the design sync and would rather not rush it.\",\"actor\":{\"id\":\"u-42\",\"name\":\"Alice Johnson\",\"avatar\":\"https://cdn.example.com/avatars/u-42.png\",\"url\":\"https://app.example.com/users/u-42\"},\"target\":{\"type\":\"post\",\"id\":\"p-9876\",\"title\":\"Quarterly planning notes\",\"url\":\"https://app.example.com/posts/9876\"},\"link\":\"https://app.example.com/posts/9876#comment-5001\",\"createdAt\":\"2023-11-14T22:13:21.000Z\",\"read\":false,\"seen\":false,\"priority\":\"normal\",\"tags\":[\"comment\",\"mention\",\"project:alpha\"],\"channels\":[\"inbox\",\"push\",\"email\"],\"meta\":{\"source\":\"comments-service\",\"version\":3,\"locale\":\"en-US\",\"timezone\":\"Europe/Berlin\",\"template\":\"comment.created\",\"traceId\":\"4bf92f3577b34da6a3ce929d0e0e4736\"}}";
static const char *sub_channel = "bench"; /* tws: the channel subscribed to, %d = subscriber number */
static int pub_users = 0;  /* per-user publishing: users 0..pub_users-1 (0: every publication to every subscriber) */
static int pub_batch = 1;  /* users per publish call */
static double listen_s = 0; /* --listen: subscribe and count only */

/* ---------- state ---------- */
static int ep;
static conn **by_fd;
static int by_fd_cap;
static int hs_active, subs_ready, subs_failed, subs_closed_after_ready, subs_connecting;
static int sub_index;
static uint64_t msgs_total, msgs_window, bytes_total;
static int measuring;
static uint64_t t_window_start, t_window_end;
static uint64_t handshakes, handshake_errors;
static conn **pubs;
static int pub_rr;
static uint64_t pub_sent, pub_answered, pub_errors, pub_reconnects;
static int64_t pubs_lost, pubs_lost_measured; /* broadcasts whose request died with its connection */
static int64_t seq_next = 1;      /* next broadcast to publish */
static int64_t seq_measure_from = 1; /* broadcasts from here on are measured (latency) */
static int64_t seq_measure_to = INT64_MAX;
#define RING 65536
static uint32_t seq_count[RING];   /* copies received of broadcast seq (mod RING) */
static int64_t seq_done = 0;       /* every broadcast <= seq_done reached every live subscriber */
static int64_t seq_max_seen = 0;
static uint32_t seq_expected[RING]; /* per-user: copies broadcast seq goes to */
static uint64_t copies_offered;      /* per-user: copies published so far */
static int64_t pub_user_next;        /* per-user: next user to publish to */
static uint8_t *user_live;           /* per-user: whether subscriber (user) i is ready and open */
static uint64_t call_sum_us, call_count, call_max_us; /* publish answer times in the window */
static volatile sig_atomic_t stop_listening;
static char rbuf[1 << 18];

/* latency histogram: 10 µs buckets below 1 s, 1 ms buckets up to 200 s */
#define H_FINE 100000
#define H_COARSE 199000
static uint64_t hist[H_FINE + H_COARSE + 1];
static uint64_t lat_count, lat_max;

static uint64_t now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void die(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "loadgen: ");
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\n");
  va_end(ap);
  exit(2);
}

static void hist_add(uint64_t v) {
  size_t i = v < 1000000 ? v / 10 : H_FINE + (v / 1000 - 1000);
  if (i > H_FINE + H_COARSE) i = H_FINE + H_COARSE;
  hist[i]++;
  lat_count++;
  if (v > lat_max) lat_max = v;
}

static double hist_quantile(double q) {
  if (lat_count == 0) return -1;
  uint64_t want = (uint64_t)(q * (double)lat_count);
  if (want >= lat_count) want = lat_count - 1;
  uint64_t acc = 0;
  for (size_t i = 0; i <= H_FINE + H_COARSE; i++) {
    acc += hist[i];
    if (acc > want) return i < H_FINE ? (double)(i * 10 + 5) : (double)((i - H_FINE + 1000) * 1000 + 500);
  }
  return (double)lat_max;
}

/* ---------- buffers ---------- */
static void buf_append(char **b, uint32_t *len, uint32_t *cap, const char *p, uint32_t n) {
  if (*len + n > *cap) {
    uint32_t c = *cap ? *cap : 512;
    while (c < *len + n) c *= 2;
    *b = realloc(*b, c);
    if (!*b) die("out of memory");
    *cap = c;
  }
  memcpy(*b + *len, p, n);
  *len += n;
}

static void buf_consume(char *b, uint32_t *len, uint32_t n) {
  memmove(b, b + n, *len - n);
  *len -= n;
}

static void buf_free(char **b, uint32_t *len, uint32_t *cap) {
  free(*b);
  *b = NULL;
  *len = *cap = 0;
}

/* `fmt` with its first %d replaced by n, into out (always NUL-terminated). */
static int subst(char *out, size_t size, const char *fmt, int n) {
  const char *d = strstr(fmt, "%d");
  if (!d) return snprintf(out, size, "%s", fmt);
  return snprintf(out, size, "%.*s%d%s", (int)(d - fmt), fmt, n, d + 2);
}

/* ---------- connections ---------- */
static void conn_close(conn *c);

static void set_events(conn *c, uint32_t ev) {
  struct epoll_event e = {.events = ev, .data.ptr = c};
  epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &e);
}

static void conn_send(conn *c, const char *p, uint32_t n) {
  if (c->state == S_CLOSED) return;
  if (c->out_len == 0) {
    ssize_t w = write(c->fd, p, n);
    if (w == (ssize_t)n) return;
    if (w < 0) {
      if (errno != EAGAIN) { conn_close(c); return; }
      w = 0;
    }
    buf_append(&c->out, &c->out_len, &c->out_cap, p + w, n - (uint32_t)w);
    set_events(c, EPOLLIN | EPOLLOUT);
  } else {
    buf_append(&c->out, &c->out_len, &c->out_cap, p, n);
  }
}

static void conn_flush(conn *c) {
  while (c->out_len) {
    ssize_t w = write(c->fd, c->out, c->out_len);
    if (w < 0) {
      if (errno == EAGAIN) return;
      conn_close(c);
      return;
    }
    buf_consume(c->out, &c->out_len, (uint32_t)w);
  }
  set_events(c, EPOLLIN);
}

/* A masked client frame (mask key 0, so the payload goes as is). */
static void ws_send(conn *c, int opcode, const char *p, uint32_t n) {
  char h[14];
  uint32_t hl;
  h[0] = (char)(0x80 | opcode);
  if (n < 126) { h[1] = (char)(0x80 | n); hl = 2; }
  else if (n < 65536) { h[1] = (char)(0x80 | 126); h[2] = (char)(n >> 8); h[3] = (char)n; hl = 4; }
  else die("client frame too large");
  memset(h + hl, 0, 4);
  hl += 4;
  char tmp[1024];
  if (hl + n <= sizeof tmp) {
    memcpy(tmp, h, hl);
    memcpy(tmp + hl, p, n);
    conn_send(c, tmp, hl + n);
  } else {
    conn_send(c, h, hl);
    conn_send(c, p, n);
  }
}

static uint32_t src_addr(int i) {
  return htonl(0x7f000001u + (uint32_t)(i % sources));
}

static conn *conn_open(int kind, int index) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    fprintf(stderr, "loadgen: socket: %s\n", strerror(errno));
    return NULL;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
  struct sockaddr_in src = {.sin_family = AF_INET, .sin_port = 0, .sin_addr.s_addr = src_addr(index)};
  if (bind(fd, (struct sockaddr *)&src, sizeof src) < 0) {
    fprintf(stderr, "loadgen: bind: %s\n", strerror(errno));
    close(fd);
    return NULL;
  }
  struct sockaddr_in dst = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port), .sin_addr.s_addr = htonl(0x7f000001u)};
  if (connect(fd, (struct sockaddr *)&dst, sizeof dst) < 0 && errno != EINPROGRESS) {
    fprintf(stderr, "loadgen: connect: %s\n", strerror(errno));
    close(fd);
    return NULL;
  }
  conn *c = calloc(1, sizeof *c);
  c->fd = fd;
  c->kind = (uint8_t)kind;
  c->state = S_CONNECTING;
  c->started = now_us();
  c->index = index;
  if (fd >= by_fd_cap) {
    int n = by_fd_cap ? by_fd_cap : 1024;
    while (n <= fd) n *= 2;
    by_fd = realloc(by_fd, sizeof *by_fd * (size_t)n);
    memset(by_fd + by_fd_cap, 0, sizeof *by_fd * (size_t)(n - by_fd_cap));
    by_fd_cap = n;
  }
  by_fd[fd] = c;
  struct epoll_event e = {.events = EPOLLOUT | EPOLLIN, .data.ptr = c};
  epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
  return c;
}

static void sub_lost(conn *c);
static void pub_lost(conn *c);

static void conn_close(conn *c) {
  if (c->state == S_CLOSED) return;
  c->state = S_CLOSED;
  epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
  close(c->fd);
  by_fd[c->fd] = NULL;
  if (c->kind == K_SUB) {
    if (mode == M_HANDSHAKE) {
      hs_active--;
      if (!c->ready) handshake_errors++;
    } else {
      if (c->ready && user_live && c->index < conns_wanted) user_live[c->index] = 0;
      if (c->ready) subs_closed_after_ready++;
      else { subs_failed++; subs_connecting--; }
      sub_lost(c);
    }
  } else {
    pub_lost(c);
  }
  buf_free(&c->in, &c->in_len, &c->in_cap);
  buf_free(&c->sb, &c->sb_len, &c->sb_cap);
  buf_free(&c->out, &c->out_len, &c->out_cap);
  /* the struct stays allocated (a few hundred bytes at most) so no dangling event can touch freed memory */
}

/* ---------- subscription requests per protocol ---------- */
static const char *default_path(void) {
  switch (proto) {
    case P_TWS: return connect_in_handshake ? "/ws?connect=1" : "/ws";
    case P_STOMP: return "/ws";
    case P_TSSE: return "/sse?channel=bench";
    case P_TPOLL: return "/poll?channel=bench&wait=60";
    case P_WS: return "/";
    case P_SIO: return "/socket.io/?EIO=4&transport=websocket";
    case P_SSE: return "/sse";
  }
  return "/";
}

static int proto_is_ws(void) {
  return proto == P_TWS || proto == P_STOMP || proto == P_WS || proto == P_SIO;
}

static void send_request(conn *c) {
  char req[1024], path[512];
  int n;
  subst(path, sizeof path, sub_path, c->index);
  if (proto_is_ws()) {
    n = snprintf(req, sizeof req,
                 "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                 "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n%s%s\r\n",
                 path, port, proto == P_STOMP ? "Sec-WebSocket-Protocol: v12.stomp\r\n" : "",
                 deflate_offer ? "Sec-WebSocket-Extensions: permessage-deflate\r\n" : "");
  } else {
    n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nAccept: %s\r\n\r\n", path, port,
                 proto == P_TPOLL ? "application/json" : "text/event-stream");
  }
  c->state = S_HEADERS;
  conn_send(c, req, (uint32_t)n);
}

static void mark_ready(conn *c) {
  if (c->ready) return;
  c->ready = 1;
  if (mode == M_HANDSHAKE) {
    uint64_t t = now_us();
    if (measuring && t >= t_window_start && t < t_window_end) handshakes++;
    conn_close(c);
    return;
  }
  subs_ready++;
  subs_connecting--;
  if (user_live && c->index < conns_wanted) user_live[c->index] = 1;
}

/* The WebSocket / stream is open: send what subscribes. */
static void on_open(conn *c) {
  static const char TWS_CONNECT[] = "{\"id\":1,\"type\":\"connect\"}";
  static const char STOMP_SUB[] =
      "CONNECT\naccept-version:1.2\nhost:localhost\nheart-beat:0,0\n\n\0"
      "SUBSCRIBE\nid:0\ndestination:/topic/bench\nack:auto\nreceipt:r1\n\n";
  static const char STOMP_CONNECT[] = "CONNECT\naccept-version:1.2\nhost:localhost\nheart-beat:0,0\n\n";
  int hs = mode == M_HANDSHAKE;
  if (hs && upgrade_only) {
    mark_ready(c);
    return;
  }
  switch (proto) {
    case P_TWS:
      if (connect_in_handshake) break; /* the server sends `connected` unasked */
      if (hs) ws_send(c, 1, TWS_CONNECT, sizeof TWS_CONNECT - 1);
      else {
        char ch[256], sub[400];
        subst(ch, sizeof ch, sub_channel, c->index);
        int k = snprintf(sub, sizeof sub, "{\"id\":1,\"type\":\"connect\"}\n{\"id\":2,\"type\":\"subscribe\",\"channel\":\"%s\"}", ch);
        ws_send(c, 1, sub, (uint32_t)k);
      }
      break;
    case P_STOMP:
      /* sizeof includes the final NUL, which ends the last STOMP frame */
      if (hs) ws_send(c, 1, STOMP_CONNECT, sizeof STOMP_CONNECT);
      else ws_send(c, 1, STOMP_SUB, sizeof STOMP_SUB);
      break;
    case P_WS: case P_SSE:
      mark_ready(c);
      break;
    default:
      break; /* sio waits for the open packet; tsse for "subscribed"; tpoll for its first answer */
  }
}

static const char *ready_marker(void) {
  int hs = mode == M_HANDSHAKE;
  switch (proto) {
    case P_TWS: return hs ? (connect_in_handshake ? "\"type\":\"connected\"" : "\"id\":1") : "\"id\":2";
    case P_STOMP: return hs ? "CONNECTED" : "RECEIPT";
    case P_TSSE: return "\"type\":\"subscribed\"";
    case P_SIO: return "40{";
    default: return NULL;
  }
}

/* ---------- message accounting ---------- */
static int live_subs(void) {
  return subs_ready - subs_closed_after_ready;
}

static uint64_t t_last_copy;
static void listen_progress(uint64_t t);

static void advance_done(void) {
  int live = live_subs();
  if (listen_s > 0) {
    /* publications come from elsewhere: seq_next is unknown, a slot is cleared once done */
    int64_t before = seq_done;
    while (live > 0 && seq_count[(seq_done + 1) % RING] >= (uint32_t)live) seq_count[(++seq_done) % RING] = 0;
    if (seq_done != before) listen_progress(t_last_copy);
    return;
  }
  while (seq_done + 1 < seq_next && live > 0 &&
         seq_count[(seq_done + 1) % RING] >= (pub_users ? seq_expected[(seq_done + 1) % RING] : (uint32_t)live)) seq_done++;
}

static void sub_lost(conn *c) {
  (void)c;
  advance_done();
}

static void on_copy(uint64_t bt, int64_t seq, uint64_t t) {
  msgs_total++;
  if (measuring && t >= t_window_start && t < t_window_end) msgs_window++;
  if (listen_s > 0) {
    t_last_copy = t;
    if (t >= bt) hist_add(t - bt);
    if (seq > seq_done && seq - seq_done < RING / 2) {
      seq_count[seq % RING]++;
      if (seq == seq_done + 1) advance_done();
    }
    return;
  }
  if (seq > 0 && seq < seq_next && seq > seq_done && seq_next - seq < RING) {
    if (seq_count[seq % RING] == UINT32_MAX) return; /* counted as lost with its publisher connection */
    seq_count[seq % RING]++;
    if (seq == seq_done + 1) advance_done();
  }
  if (seq > seq_max_seen) seq_max_seen = seq;
  if (mode == M_LATENCY && seq >= seq_measure_from && seq <= seq_measure_to && t >= bt) hist_add(t - bt);
}

/* Counts every "bt": in a subscriber's payload. */
static void scan(const char *p, size_t n, uint64_t t) {
  const char *end = p + n;
  while (p < end) {
    const char *m = memmem(p, (size_t)(end - p), "\"bt\":", 5);
    if (!m) break;
    p = m + 5;
    uint64_t bt = 0;
    while (p < end && *p >= '0' && *p <= '9') bt = bt * 10 + (uint64_t)(*p++ - '0');
    int64_t seq = 0;
    if (end - p > 7 && memcmp(p, ",\"seq\":", 7) == 0) {
      p += 7;
      while (p < end && *p >= '0' && *p <= '9') seq = seq * 10 + (*p++ - '0');
    }
    on_copy(bt, seq, t);
  }
}

static void on_payload(conn *c, const char *p, size_t n, uint64_t t) {
  if (proto == P_SIO) {
    if (n == 1 && p[0] == '2') { ws_send(c, 1, "3", 1); return; }
    if (n >= 2 && p[0] == '0' && p[1] == '{') { ws_send(c, 1, "40", 2); return; }
  }
  if (!c->ready) {
    const char *mk = ready_marker();
    if (mk && memmem(p, n, mk, strlen(mk))) {
      mark_ready(c);
      if (c->state == S_CLOSED) return;
    }
  }
  scan(p, n, t);
}

/* ---------- permessage-deflate (no context takeover) ---------- */
static z_stream zin;
static int zin_ready = 0;
static char *last_z = NULL, *last_plain = NULL;
static size_t last_z_len = 0, last_z_cap = 0, last_plain_len = 0, last_plain_cap = 0;

/* Inflates one compressed message into last_plain; the same bytes as last time are not inflated again. */
static int inflate_msg(const char *p, size_t n) {
  static const unsigned char tail[4] = {0, 0, 0xff, 0xff};
  if (last_z && n == last_z_len && memcmp(p, last_z, n) == 0) return 0;
  if (!zin_ready) {
    memset(&zin, 0, sizeof zin);
    if (inflateInit2(&zin, -15) != Z_OK) return -1;
    zin_ready = 1;
  } else inflateReset(&zin);
  last_plain_len = 0;
  for (int part = 0; part < 2; part++) {
    zin.next_in = part ? (unsigned char *)tail : (unsigned char *)p;
    zin.avail_in = part ? 4 : (uInt)n;
    while (zin.avail_in > 0) {
      if (last_plain_cap - last_plain_len < 4096) {
        last_plain_cap = last_plain_cap * 2 + 65536;
        last_plain = realloc(last_plain, last_plain_cap);
        if (!last_plain) return -1;
      }
      zin.next_out = (unsigned char *)last_plain + last_plain_len;
      zin.avail_out = (uInt)(last_plain_cap - last_plain_len);
      int rc = inflate(&zin, Z_SYNC_FLUSH);
      last_plain_len = last_plain_cap - zin.avail_out;
      if (rc != Z_OK && rc != Z_BUF_ERROR) return -1;
      if (rc == Z_BUF_ERROR && zin.avail_out > 0) break;
    }
  }
  if (last_z_cap < n) {
    last_z_cap = n * 2;
    last_z = realloc(last_z, last_z_cap);
    if (!last_z) return -1;
  }
  memcpy(last_z, p, n);
  last_z_len = n;
  return 0;
}

/* ---------- input parsing ---------- */
static int parse_ws(conn *c, const char *p, uint32_t n, uint64_t t, uint32_t *used) {
  uint32_t off = 0;
  while (n - off >= 2) {
    const uint8_t *h = (const uint8_t *)p + off;
    int opcode = h[0] & 0x0f;
    uint64_t len = h[1] & 0x7f;
    uint32_t hl = 2;
    if (h[1] & 0x80) return -1; /* servers never mask */
    if (len == 126) {
      if (n - off < 4) break;
      len = ((uint64_t)h[2] << 8) | h[3];
      hl = 4;
    } else if (len == 127) {
      if (n - off < 10) break;
      len = 0;
      for (int i = 2; i < 10; i++) len = (len << 8) | h[i];
      hl = 10;
    }
    if (len > (64u << 20)) return -1;
    if (n - off < hl + len) break;
    const char *pl = p + off + hl;
    if (opcode == 0x8) return -1;
    if (opcode == 0x9) ws_send(c, 0xA, pl, (uint32_t)len);
    else if (opcode <= 2 && deflate_offer && (h[0] & 0x40)) {
      if (inflate_msg(pl, (size_t)len) < 0) return -1;
      on_payload(c, last_plain, last_plain_len, t);
    } else if (opcode <= 2) on_payload(c, pl, (size_t)len, t);
    if (c->state == S_CLOSED) return -1;
    off += hl + (uint32_t)len;
  }
  *used = off;
  return 0;
}

/* SSE: whole lines only, so a "bt": is never cut in two. */
static void on_stream(conn *c, const char *p, uint32_t n, uint64_t t) {
  if (c->sb_len == 0) {
    const char *last = memrchr(p, '\n', n);
    if (!last) { buf_append(&c->sb, &c->sb_len, &c->sb_cap, p, n); return; }
    uint32_t k = (uint32_t)(last - p) + 1;
    on_payload(c, p, k, t);
    if (c->state != S_CLOSED && k < n) buf_append(&c->sb, &c->sb_len, &c->sb_cap, p + k, n - k);
    return;
  }
  buf_append(&c->sb, &c->sb_len, &c->sb_cap, p, n);
  const char *last = memrchr(c->sb, '\n', c->sb_len);
  if (!last) return;
  uint32_t k = (uint32_t)(last - c->sb) + 1;
  on_payload(c, c->sb, k, t);
  if (c->state != S_CLOSED) buf_consume(c->sb, &c->sb_len, k);
}

/* Chunked transfer coding -> on_stream. Returns -1 at the last chunk or on bad input. */
static int parse_chunked(conn *c, const char *p, uint32_t n, uint64_t t, uint32_t *used) {
  uint32_t off = 0;
  while (off < n && c->state != S_CLOSED) {
    if (c->ck_state == 0) {
      const char *nl = memchr(p + off, '\n', n - off);
      if (!nl) break;
      c->ck_left = (uint32_t)strtoul(p + off, NULL, 16);
      off = (uint32_t)(nl - p) + 1;
      if (c->ck_left == 0) return -1;
      c->ck_state = 1;
    } else if (c->ck_state == 1) {
      uint32_t k = n - off < c->ck_left ? n - off : c->ck_left;
      on_stream(c, p + off, k, t);
      off += k;
      c->ck_left -= k;
      if (c->ck_left == 0) c->ck_state = 2;
    } else {
      const char *nl = memchr(p + off, '\n', n - off);
      if (!nl) break;
      off = (uint32_t)(nl - p) + 1;
      c->ck_state = 0;
    }
  }
  *used = off;
  return 0;
}

static int header_has(const char *h, size_t n, const char *needle) {
  size_t k = strlen(needle);
  for (size_t i = 0; i + k <= n; i++)
    if (strncasecmp(h + i, needle, k) == 0) return 1;
  return 0;
}

static uint32_t content_length(const char *h, size_t n) {
  size_t k = strlen("content-length:");
  for (size_t i = 0; i + k <= n; i++)
    if (strncasecmp(h + i, "content-length:", k) == 0) return (uint32_t)strtoul(h + i + k, NULL, 10);
  return 0;
}

static void poll_again(conn *c, const char *body, uint32_t n) {
  /* {"messages":[…],"cursor":"bench~3~abc"} -> GET /poll?cursor=bench~3~abc&wait=60 */
  const char *m = memmem(body, n, "\"cursor\":\"", 10);
  if (!m) { conn_close(c); return; }
  m += 10;
  const char *e = memchr(m, '"', (size_t)(body + n - m));
  if (!e) { conn_close(c); return; }
  char req[1024], cur[512];
  size_t k = 0;
  for (const char *q = m; q < e && k + 4 < sizeof cur; q++) {
    unsigned char ch = (unsigned char)*q;
    if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.' || ch == '~') cur[k++] = (char)ch;
    else k += (size_t)sprintf(cur + k, "%%%02X", ch);
  }
  cur[k] = 0;
  int len = snprintf(req, sizeof req, "GET /poll?cursor=%s&wait=60 HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nAccept: application/json\r\n\r\n", cur, port);
  c->state = S_HEADERS;
  c->poll_round++;
  conn_send(c, req, (uint32_t)len);
  if (c->poll_round == 1) mark_ready(c);
}

static void on_sub_input(conn *c, const char *p, uint32_t n, uint64_t t) {
  const char *data = p;
  uint32_t len = n;
  if (c->in_len) {
    buf_append(&c->in, &c->in_len, &c->in_cap, p, n);
    data = c->in;
    len = c->in_len;
  }
  uint32_t off = 0;
  for (;;) {
    if (c->state == S_CLOSED) return;
    if (c->state == S_HEADERS) {
      const char *e = memmem(data + off, len - off, "\r\n\r\n", 4);
      if (!e) break;
      uint32_t hl = (uint32_t)(e - (data + off)) + 4;
      const char *h = data + off;
      int ok = proto_is_ws() ? (len - off >= 12 && memcmp(h + 9, "101", 3) == 0) : (len - off >= 12 && memcmp(h + 9, "200", 3) == 0);
      if (!ok) {
        if (getenv("LOADGEN_DEBUG")) fprintf(stderr, "loadgen: refused: %.*s\n", (int)(hl < 300 ? hl : 300), h);
        conn_close(c);
        return;
      }
      c->chunked = (uint8_t)header_has(h, hl, "transfer-encoding: chunked");
      c->http_body_left = proto == P_TPOLL ? content_length(h, hl) : 0;
      off += hl;
      c->state = S_OPEN;
      if (c->poll_round == 0) on_open(c);
      continue;
    }
    uint32_t used = 0;
    if (proto == P_TPOLL) {
      if (len - off < c->http_body_left) break;
      const char *body = data + off;
      uint32_t bl = c->http_body_left;
      scan(body, bl, t);
      off += bl;
      poll_again(c, body, bl);
      continue;
    }
    int r = proto_is_ws() ? parse_ws(c, data + off, len - off, t, &used)
                          : c->chunked ? parse_chunked(c, data + off, len - off, t, &used)
                                       : (on_stream(c, data + off, len - off, t), used = len - off, 0);
    if (r < 0) { conn_close(c); return; }
    off += used;
    break;
  }
  if (c->state == S_CLOSED) return;
  if (c->in_len) buf_consume(c->in, &c->in_len, off);
  else if (off < len) buf_append(&c->in, &c->in_len, &c->in_cap, data + off, len - off);
}

/* ---------- publishing ---------- */
/* The publish request's body and path for per-user publishing; returns the copies to expect
   (users that failed to connect or were cut off get none, so they never stall the accounting). */
static uint32_t per_user_request(const char *msg, char *body, size_t size, int *blen, char *path, size_t psize) {
  int from = (int)(pub_user_next % pub_users);
  int count = pub_batch < pub_users - from ? pub_batch : pub_users - from;
  pub_user_next = from + count;
  uint32_t live = 0;
  for (int u = from; u < from + count; u++) live += u < conns_wanted && user_live[u];
  char ch[256];
  if (!pub_tidings) {
    *blen = snprintf(body, size, "%s", msg);
    if (pub_batch == 1) snprintf(path, psize, "%s?to=%d", pub_path, from);
    else snprintf(path, psize, "%s?from=%d&count=%d", pub_path, from, count);
    return live;
  }
  snprintf(path, psize, "%s", pub_path);
  if (pub_batch == 1) {
    subst(ch, sizeof ch, sub_channel, from);
    *blen = snprintf(body, size, "{\"channel\":\"%s\",\"data\":%s}", ch, msg);
    return live;
  }
  int n = snprintf(body, size, "{\"channels\":[");
  for (int u = from; u < from + count; u++) {
    subst(ch, sizeof ch, sub_channel, u);
    n += snprintf(body + n, size - (size_t)n, "%s\"%s\"", u == from ? "" : ",", ch);
  }
  *blen = n + snprintf(body + n, size - (size_t)n, "],\"data\":%s}", msg);
  if ((size_t)*blen >= size) die("--pub-batch too large");
  return live;
}

static void publish_one(conn *c, uint64_t t) {
  static char big[1 << 16], bigreq[(1 << 16) + 512];
  char body[2048], req[4096];
  int64_t seq = seq_next++;
  seq_count[seq % RING] = 0;
  /* exactly 100 bytes of JSON */
  int n = snprintf(body, sizeof body, "{\"bt\":%llu,\"seq\":%lld,\"p\":\"", (unsigned long long)t, (long long)seq);
  while (n < 98) body[n++] = 'x';
  body[n++] = '"';
  if (notification_payload) n += snprintf(body + n, sizeof body - (size_t)n, ",\"n\":%s", NOTIFICATION);
  body[n++] = '}';
  body[n] = 0;
  char wrapped[2400];
  const char *payload = body;
  int plen = n;
  if (pub_tidings) {
    plen = snprintf(wrapped, sizeof wrapped, "{\"channel\":\"bench\",\"data\":%s}", body);
    payload = wrapped;
  }
  const char *path = pub_path;
  char upath[256];
  char *out = req;
  size_t out_size = sizeof req;
  if (pub_users > 0) {
    uint32_t copies = per_user_request(body, big, sizeof big, &plen, upath, sizeof upath);
    seq_expected[seq % RING] = copies;
    copies_offered += copies;
    payload = big;
    path = upath;
    out = bigreq;
    out_size = sizeof bigreq;
  }
  int k = snprintf(out, out_size,
                   "POST %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nX-API-Key: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
                   path, port, pub_key, plen, payload);
  c->pend[(c->pend_head + c->outstanding) % PEND_MAX] = seq;
  c->pend_t[(c->pend_head + c->outstanding) % PEND_MAX] = now_us();
  c->outstanding++;
  pub_sent++;
  conn_send(c, out, (uint32_t)k);
  if (pub_users > 0) advance_done(); /* a publication to no live user is done at once */
}

static void on_pub_input(conn *c, const char *p, uint32_t n) {
  buf_append(&c->in, &c->in_len, &c->in_cap, p, n);
  uint32_t off = 0;
  for (;;) {
    if (c->http_body_left) {
      uint32_t k = c->in_len - off < c->http_body_left ? c->in_len - off : c->http_body_left;
      off += k;
      c->http_body_left -= k;
      if (c->http_body_left) break;
      continue;
    }
    const char *e = memmem(c->in + off, c->in_len - off, "\r\n\r\n", 4);
    if (!e) break;
    uint32_t hl = (uint32_t)(e - (c->in + off)) + 4;
    if (memcmp(c->in + off + 9, "200", 3) != 0 && memcmp(c->in + off + 9, "204", 3) != 0) {
      pub_errors++;
      if (pub_errors < 5) fprintf(stderr, "loadgen: publish answered %.*s\n", 12, c->in + off);
    }
    c->http_body_left = content_length(c->in + off, hl);
    off += hl;
    if (c->outstanding) {
      uint64_t now = now_us(), sent = c->pend_t[c->pend_head];
      if (measuring && sent >= t_window_start && sent < t_window_end) {
        call_sum_us += now - sent;
        call_count++;
        if (now - sent > call_max_us) call_max_us = now - sent;
      }
      c->outstanding--;
      c->pend_head = (c->pend_head + 1) % PEND_MAX;
    }
    pub_answered++;
  }
  buf_consume(c->in, &c->in_len, off);
}

static conn *idle_publisher(void) {
  for (int i = 0; i < publishers; i++) {
    conn *c = pubs[(pub_rr + i) % publishers];
    if (c->state == S_OPEN && c->outstanding == 0) {
      pub_rr = (pub_rr + i + 1) % publishers;
      return c;
    }
  }
  return NULL;
}

static conn *any_publisher(void) {
  conn *c = idle_publisher();
  if (c) return c;
  for (int i = 0; i < publishers; i++) {
    c = pubs[(pub_rr + i) % publishers];
    if (c->state == S_OPEN && c->outstanding < PEND_MAX) {
      pub_rr = (pub_rr + i + 1) % publishers;
      return c;
    }
  }
  return NULL;
}

/* ---------- event loop ---------- */
static void handle(conn *c, uint32_t ev, uint64_t t) {
  if (c->state == S_CONNECTING) {
    if ((ev & (EPOLLERR | EPOLLHUP)) && !(ev & EPOLLOUT)) {
      if (getenv("LOADGEN_DEBUG")) fprintf(stderr, "loadgen: connect failed (hang-up)\n");
      conn_close(c);
      return;
    }
    if (ev & EPOLLOUT) {
      int err = 0;
      socklen_t l = sizeof err;
      getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &l);
      if (err) {
        if (getenv("LOADGEN_DEBUG")) fprintf(stderr, "loadgen: connect failed: %s\n", strerror(err));
        conn_close(c);
        return;
      }
      set_events(c, EPOLLIN);
      if (c->kind == K_PUB) c->state = S_OPEN;
      else send_request(c);
    }
    return;
  }
  if ((ev & EPOLLOUT) && c->out_len) conn_flush(c);
  if (c->state == S_CLOSED) return;
  if (ev & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
    ssize_t r = read(c->fd, rbuf, sizeof rbuf);
    if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
      if (getenv("LOADGEN_DEBUG") && !c->ready) fprintf(stderr, "loadgen: closed before ready (state %d, %s)\n", c->state, r == 0 ? "eof" : strerror(errno));
      conn_close(c);
      return;
    }
    if (r < 0) return;
    bytes_total += (uint64_t)r;
    if (c->kind != K_PUB && measuring && t >= t_window_start && t < t_window_end) sub_bytes_window += (uint64_t)r;
    if (c->kind == K_PUB) on_pub_input(c, rbuf, (uint32_t)r);
    else on_sub_input(c, rbuf, (uint32_t)r, t);
  }
}

static void loop_once(int timeout_ms) {
  static struct epoll_event evs[1024];
  int n = epoll_wait(ep, evs, 1024, timeout_ms);
  if (n <= 0) return;
  uint64_t t = now_us();
  for (int i = 0; i < n; i++) handle(evs[i].data.ptr, evs[i].events, t);
}

static void open_subscribers(int target) {
  while (sub_index < target && subs_connecting < connect_batch) {
    conn *c = conn_open(K_SUB, sub_index);
    sub_index++;
    if (!c) { subs_failed++; continue; }
    subs_connecting++;
  }
}

static int connect_all(void) {
  uint64_t deadline = now_us() + (uint64_t)(ready_timeout * 1e6);
  while (subs_ready + subs_failed < conns_wanted && now_us() < deadline) {
    open_subscribers(conns_wanted);
    loop_once(5);
  }
  return subs_ready;
}

/*
 * A publisher connection closed (an HTTP server closes keep-alive connections idle for a few
 * seconds, and may do so just as a request arrives): the broadcasts of its unanswered requests
 * count as never published, and a new connection takes its place.
 */
static void pub_lost(conn *c) {
  pub_errors++;
  for (uint32_t i = 0; i < c->outstanding; i++) {
    int64_t seq = c->pend[(c->pend_head + i) % PEND_MAX];
    pubs_lost++;
    if (seq >= seq_measure_from && seq <= seq_measure_to) pubs_lost_measured++;
    if (seq > seq_done && seq_next - seq < RING) seq_count[seq % RING] = UINT32_MAX;
  }
  c->outstanding = 0;
  advance_done();
  conn *n = conn_open(K_PUB, c->pub_index);
  if (n) {
    n->pub_index = c->pub_index;
    pubs[c->pub_index] = n;
    pub_reconnects++;
  }
}

static void open_publishers(void) {
  pubs = calloc((size_t)publishers, sizeof *pubs);
  for (int i = 0; i < publishers; i++) {
    pubs[i] = conn_open(K_PUB, i);
    if (!pubs[i]) die("cannot open a publisher connection");
    pubs[i]->pub_index = i;
  }
  uint64_t deadline = now_us() + 5000000;
  for (;;) {
    int open = 0;
    for (int i = 0; i < publishers; i++) open += pubs[i]->state == S_OPEN;
    if (open == publishers) return;
    if (now_us() > deadline) die("publisher connections did not open");
    loop_once(5);
  }
}

static long rss_kb(int pid) {
  char path[64], line[256];
  snprintf(path, sizeof path, "/proc/%d/status", pid);
  FILE *f = fopen(path, "r");
  if (!f) return -1;
  long v = -1;
  while (fgets(line, sizeof line, f))
    if (strncmp(line, "VmRSS:", 6) == 0) v = strtol(line + 6, NULL, 10);
  fclose(f);
  return v;
}

static double cpu_seconds(int pid) {
  if (pid <= 0) return -1;
  char path[64], buf[2048];
  snprintf(path, sizeof path, "/proc/%d/stat", pid);
  FILE *f = fopen(path, "r");
  if (!f) return -1;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = 0;
  char *p = strrchr(buf, ')');
  if (!p) return -1;
  unsigned long ut = 0, st = 0;
  /* fields after the name: state(3) … utime(14) stime(15) */
  if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2) return -1;
  return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static double self_cpu(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static void run_for(uint64_t until, void (*tick)(uint64_t)) {
  for (uint64_t t = now_us(); t < until; t = now_us()) {
    if (tick) tick(t);
    loop_once(1);
  }
}

static uint64_t next_pub_at;
static uint64_t pub_interval;
static uint64_t last_pub_at;

static void tick_fanout(uint64_t t) {
  /* one broadcast on the server at a time: publish n+1 once n has started arriving
     (or after a second without it, so a lost broadcast cannot stall the run) */
  if (seq_next == 1 || seq_max_seen >= seq_next - 1 || t - last_pub_at > 1000000) {
    conn *c = any_publisher();
    if (c) { publish_one(c, t); last_pub_at = t; }
  }
}

static void tick_overload(uint64_t t) {
  for (;;) {
    if (seq_next - 1 - seq_done >= lag_cap) return;
    conn *c = idle_publisher();
    if (!c) return;
    publish_one(c, t);
  }
}

static void tick_latency(uint64_t t) {
  while (t >= next_pub_at) {
    conn *c = any_publisher();
    if (!c) return;
    publish_one(c, now_us());
    next_pub_at += pub_interval;
  }
}

static const char *proto_name(void) {
  return (const char *[]){"tws", "stomp", "tsse", "tpoll", "ws", "sio", "sse"}[proto];
}

static void usage(void) {
  fprintf(stderr,
          "usage: loadgen --proto tws|stomp|tsse|tpoll|ws|sio|sse --port N [--conns C] [--idle]\n"
          "               [--phase fanout|overload|latency:SECONDS]... | --mode handshake\n"
          "  [--path P] [--sources K] [--pub-path P] [--pub-key K] [--pub-tidings] [--publishers P]\n"
          "  [--warmup S] [--rate R] [--lag-cap N] [--drain S] [--pid PID] [--gc-signal SIG]\n"
          "  [--settle S] [--hold S] [--rss-before KB] [--rss-settled-before KB] [--concurrency K] [--upgrade-only] [--connect-in-handshake] [--deflate] [--notification] [--connect-batch N] [--ready-timeout S] [--duration S]\n"
          "  [--sub-channel FMT] [--pub-users N] [--pub-batch B] [--listen S]\n");
  exit(2);
}

static void on_term(int sig) {
  (void)sig;
  stop_listening = 1;
}

static uint64_t last_progress;

static void listen_progress(uint64_t t) {
  fprintf(stderr, "progress %lld %llu %llu\n", (long long)seq_done, (unsigned long long)t, (unsigned long long)msgs_total);
  last_progress = now_us();
}

/* --listen: count what others publish until SIGTERM or `seconds`; prints its JSON member. */
static void listen_for(double seconds) {
  signal(SIGTERM, on_term);
  fprintf(stderr, "loadgen: listening\n");
  uint64_t t0 = now_us(), until = t0 + (uint64_t)(seconds * 1e6);
  double cpu0 = cpu_seconds(server_pid);
  while (!stop_listening && now_us() < until) {
    loop_once(5);
    if (now_us() - last_progress > 250000) listen_progress(t_last_copy);
  }
  double s = (double)(now_us() - t0) / 1e6, cpu1 = cpu_seconds(server_pid);
  printf(",\"listen\":{\"seconds\":%.3f,\"copies\":%llu,\"done\":%lld,\"serverCpu\":%.3f,\"p50Ms\":%.3f,\"p99Ms\":%.3f,\"maxMs\":%.3f}",
         s, (unsigned long long)msgs_total, (long long)seq_done, cpu0 >= 0 ? (cpu1 - cpu0) / s : -1,
         hist_quantile(0.5) / 1000, hist_quantile(0.99) / 1000, (double)lat_max / 1000);
}

/* One measured phase on the open connections; prints its JSON member. */
static void run_phase(enum mode m, double seconds) {
  mode = m;
  msgs_window = 0;
  sub_bytes_window = 0;
  pub_errors = 0;
  pubs_lost_measured = 0;
  memset(hist, 0, sizeof hist);
  lat_count = lat_max = 0;
  call_sum_us = call_count = call_max_us = 0;
  seq_measure_from = INT64_MAX;
  seq_measure_to = INT64_MAX;
  int closed_before = subs_closed_after_ready;
  uint64_t t0 = now_us();
  t_window_start = t0 + (uint64_t)(warmup * 1e6);
  t_window_end = t_window_start + (uint64_t)(seconds * 1e6);
  measuring = 1;
  void (*tick)(uint64_t) = m == M_FANOUT ? tick_fanout : m == M_OVERLOAD ? tick_overload : tick_latency;
  if (m == M_LATENCY) {
    pub_interval = (uint64_t)(1e6 / rate);
    next_pub_at = t0;
  }
  run_for(t_window_start, tick);
  int64_t seq_at_window = seq_next;
  uint64_t copies_at_window = copies_offered;
  seq_measure_from = seq_next;
  double cpu0 = cpu_seconds(server_pid), self0 = self_cpu();
  run_for(t_window_end, tick);
  double cpu1 = cpu_seconds(server_pid), self1 = self_cpu();
  long rss1 = server_pid ? rss_kb(server_pid) : -1;
  int64_t measured_pubs_sent = seq_next - seq_at_window;
  uint64_t measured_copies = copies_offered - copies_at_window;
  seq_measure_to = seq_next - 1;
  int live_at_end = live_subs();
  /* let what was published arrive: latency needs every copy; the others just start the next phase clean */
  uint64_t drain_until = now_us() + (uint64_t)((m == M_LATENCY ? drain_max : 3.0) * 1e6);
  while (now_us() < drain_until && seq_done < seq_next - 1 && live_subs() > 0) loop_once(5);
  uint64_t t_drained = now_us();
  int64_t measured_pubs = measured_pubs_sent - pubs_lost_measured;
  double drained_s = (double)(t_drained - t_window_end) / 1e6;
  measuring = 0;

  printf(",\"%s\":{\"seconds\":%.3f,\"published\":%lld,\"publishLost\":%lld,\"publishConnectionsLost\":%llu,\"messages\":%llu,\"msgsPerSec\":%.1f,"
         "\"serverCpu\":%.3f,\"clientCpu\":%.3f,\"rssEndKb\":%ld,\"closedByServer\":%d,\"drainSeconds\":%.2f,\"subBytesPerMsg\":%.1f",
         m == M_FANOUT ? "fanout" : m == M_OVERLOAD ? "overload" : "latency", seconds, (long long)measured_pubs,
         (long long)pubs_lost_measured, (unsigned long long)pub_errors, (unsigned long long)msgs_window, (double)msgs_window / seconds,
         cpu0 >= 0 ? (cpu1 - cpu0) / seconds : -1, (self1 - self0) / seconds, rss1,
         subs_closed_after_ready - closed_before, drained_s, msgs_window ? (double)sub_bytes_window / (double)msgs_window : 0.0);
  printf(",\"calls\":%llu,\"callMeanMs\":%.3f,\"callMaxMs\":%.3f", (unsigned long long)call_count,
         call_count ? (double)call_sum_us / (double)call_count / 1000 : -1, (double)call_max_us / 1000);
  if (pub_users > 0) printf(",\"copiesOffered\":%llu", (unsigned long long)measured_copies);
  if (m == M_LATENCY) {
    /* copies that never arrived count as slower than the drain allowed: quantiles there are lower bounds */
    uint64_t expected = pub_users > 0 ? measured_copies
                                      : (uint64_t)measured_pubs * (uint64_t)(live_at_end > 0 ? live_at_end : 0);
    uint64_t missing = expected > lat_count ? expected - lat_count : 0;
    uint64_t delivered = lat_count;
    double q[3] = {0.5, 0.99, 0.999};
    double v[3];
    int lower[3];
    for (int i = 0; i < 3; i++) {
      uint64_t rank = (uint64_t)(q[i] * (double)(delivered + missing));
      if (rank >= delivered && missing > 0) {
        v[i] = drain_max * 1e6; /* at least the drain time after the last publication */
        lower[i] = 1;
      } else {
        lat_count = delivered + missing; /* quantile over everything expected */
        v[i] = hist_quantile(q[i]);
        lat_count = delivered;
        lower[i] = 0;
      }
    }
    printf(",\"rate\":%.1f,\"expected\":%llu,\"samples\":%llu,\"delivered\":%.4f,\"p50Ms\":%.3f,\"p99Ms\":%.3f,\"p999Ms\":%.3f,"
           "\"maxMs\":%.3f,\"p50LowerBound\":%s,\"p99LowerBound\":%s,\"p999LowerBound\":%s",
           rate, (unsigned long long)expected, (unsigned long long)delivered, expected ? (double)delivered / (double)expected : 0,
           v[0] / 1000, v[1] / 1000, v[2] / 1000, (double)lat_max / 1000, lower[0] ? "true" : "false",
           lower[1] ? "true" : "false", lower[2] ? "true" : "false");
  }
  printf("}");
  fflush(stdout);
}

int main(int argc, char **argv) {
  enum mode phases[8];
  double phase_s[8];
  int nphases = 0, idle = 0, handshake_mode = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define OPT(name) (strcmp(a, name) == 0 && v && (i++, 1))
    if (OPT("--mode")) {
      if (!strcmp(v, "handshake")) handshake_mode = 1;
      else if (!strcmp(v, "idle")) idle = 1;
      else usage();
    } else if (OPT("--phase")) {
      if (nphases == 8) usage();
      const char *colon = strchr(v, ':');
      size_t k = colon ? (size_t)(colon - v) : strlen(v);
      if (!strncmp(v, "fanout", k) && k == 6) phases[nphases] = M_FANOUT;
      else if (!strncmp(v, "overload", k) && k == 8) phases[nphases] = M_OVERLOAD;
      else if (!strncmp(v, "latency", k) && k == 7) phases[nphases] = M_LATENCY;
      else usage();
      phase_s[nphases++] = colon ? atof(colon + 1) : 5;
    } else if (strcmp(a, "--idle") == 0) idle = 1;
    else if (strcmp(a, "--upgrade-only") == 0) upgrade_only = 1;
    else if (strcmp(a, "--connect-in-handshake") == 0) connect_in_handshake = 1;
    else if (strcmp(a, "--deflate") == 0) deflate_offer = 1;
    else if (strcmp(a, "--notification") == 0) notification_payload = 1;
    else if (OPT("--proto")) {
      if (!strcmp(v, "tws")) proto = P_TWS;
      else if (!strcmp(v, "stomp")) proto = P_STOMP;
      else if (!strcmp(v, "tsse")) proto = P_TSSE;
      else if (!strcmp(v, "tpoll")) proto = P_TPOLL;
      else if (!strcmp(v, "ws")) proto = P_WS;
      else if (!strcmp(v, "sio")) proto = P_SIO;
      else if (!strcmp(v, "sse")) proto = P_SSE;
      else usage();
    } else if (OPT("--port")) port = atoi(v);
    else if (OPT("--conns")) conns_wanted = atoi(v);
    else if (OPT("--path")) sub_path = v;
    else if (OPT("--sources")) sources = atoi(v);
    else if (OPT("--pub-path")) pub_path = v;
    else if (OPT("--pub-key")) pub_key = v;
    else if (strcmp(a, "--pub-tidings") == 0) pub_tidings = 1;
    else if (OPT("--publishers")) publishers = atoi(v);
    else if (OPT("--duration")) duration = atof(v);
    else if (OPT("--warmup")) warmup = atof(v);
    else if (OPT("--rate")) rate = atof(v);
    else if (OPT("--lag-cap")) lag_cap = atoi(v);
    else if (OPT("--drain")) drain_max = atof(v);
    else if (OPT("--pid")) server_pid = atoi(v);
    else if (OPT("--gc-signal")) gc_signal = atoi(v);
    else if (OPT("--settle")) settle = atof(v);
    else if (OPT("--hold")) hold = atof(v);
    else if (OPT("--rss-before")) rss_before_kb = atol(v);
    else if (OPT("--rss-settled-before")) rss_settled_before_kb = atol(v);
    else if (OPT("--concurrency")) concurrency = atoi(v);
    else if (OPT("--connect-batch")) connect_batch = atoi(v);
    else if (OPT("--ready-timeout")) ready_timeout = atof(v);
    else if (OPT("--sub-channel")) sub_channel = v;
    else if (OPT("--pub-users")) pub_users = atoi(v);
    else if (OPT("--pub-batch")) pub_batch = atoi(v);
    else if (OPT("--listen")) listen_s = atof(v);
    else usage();
#undef OPT
  }
  if (!sub_path) sub_path = default_path();
  if (sources < 1 || sources > 250 || lag_cap < 1 || lag_cap >= RING / 2) usage();
  if (proto == P_TPOLL && nphases > 0) die("tpoll supports idle only");
  if (pub_users < 0 || pub_batch < 1 || pub_batch > 4000 || (pub_users > 0 && pub_users < pub_batch)) usage();
  if (strlen(sub_channel) > 200) usage();
  if (pub_users > 0) user_live = calloc((size_t)conns_wanted, 1);
  signal(SIGPIPE, SIG_IGN);
  struct rlimit rl;
  getrlimit(RLIMIT_NOFILE, &rl);
  rl.rlim_cur = rl.rlim_max;
  setrlimit(RLIMIT_NOFILE, &rl);
  ep = epoll_create1(EPOLL_CLOEXEC);

  if (handshake_mode) {
    mode = M_HANDSHAKE;
    uint64_t t0 = now_us();
    measuring = 1;
    t_window_start = t0 + (uint64_t)(warmup * 1e6);
    t_window_end = t_window_start + (uint64_t)(duration * 1e6);
    double cpu0 = -1, self0 = 0;
    for (uint64_t t = t0; t < t_window_end; t = now_us()) {
      if (cpu0 < 0 && t >= t_window_start) { cpu0 = cpu_seconds(server_pid); self0 = self_cpu(); }
      /* keep `concurrency` handshakes going */
      while (hs_active < concurrency) {
        if (conn_open(K_SUB, sub_index++)) hs_active++;
        else { handshake_errors++; break; }
      }
      loop_once(1);
    }
    double cpu1 = cpu_seconds(server_pid), self1 = self_cpu();
    printf("{\"proto\":\"%s\",\"handshake\":{\"upgradeOnly\":%s,\"handshakes\":%llu,\"seconds\":%.3f,\"perSec\":%.1f,\"errors\":%llu,"
           "\"concurrency\":%d,\"serverCpu\":%.3f,\"clientCpu\":%.3f}}\n",
           proto_name(), upgrade_only ? "true" : "false", (unsigned long long)handshakes, duration, (double)handshakes / duration,
           (unsigned long long)handshake_errors, concurrency, cpu0 >= 0 ? (cpu1 - cpu0) / duration : -1,
           (self1 - self0) / duration);
    return 0;
  }

  mode = M_IDLE;
  long before = rss_before_kb;
  if (idle && server_pid && before < 0) {
    if (gc_signal) kill(server_pid, gc_signal);
    usleep(1000000);
    before = rss_kb(server_pid);
  }
  uint64_t tc = now_us();
  connect_all();
  double connect_s = (double)(now_us() - tc) / 1e6;
  fprintf(stderr, "loadgen: %s: %d of %d subscribers ready in %.2fs\n", proto_name(), subs_ready, conns_wanted, connect_s);
  printf("{\"proto\":\"%s\",\"conns\":%d,\"connected\":%d,\"failed\":%d,\"connectSeconds\":%.3f", proto_name(), conns_wanted,
         subs_ready, subs_failed, connect_s);
  if (idle && server_pid) {
    run_for(now_us() + (uint64_t)(settle * 1e6), NULL);
    if (gc_signal) {
      kill(server_pid, gc_signal);
      run_for(now_us() + 1000000, NULL);
    }
    long after = rss_kb(server_pid);
    int live = live_subs();
    printf(",\"idle\":{\"rssBeforeKb\":%ld,\"rssAfterKb\":%ld,\"live\":%d,\"bytesPerConn\":%.1f", before, after, live,
           live > 0 && before > 0 ? (double)(after - before) * 1024.0 / live : -1);
    fprintf(stderr, "loadgen: idle measured\n");
    if (hold > 0) {
      /* keep the connections idle while V8's memory reducer shrinks the heap, then measure again */
      run_for(now_us() + (uint64_t)(hold * 1e6), NULL);
      if (gc_signal) {
        kill(server_pid, gc_signal);
        run_for(now_us() + 1000000, NULL);
      }
      long settled = rss_kb(server_pid);
      long base = rss_settled_before_kb > 0 ? rss_settled_before_kb : before;
      live = live_subs();
      printf(",\"holdSeconds\":%.1f,\"settledRssBeforeKb\":%ld,\"settledRssKb\":%ld,\"settledBytesPerConn\":%.1f", hold, base,
             settled, live > 0 && base > 0 ? (double)(settled - base) * 1024.0 / live : -1);
    }
    printf("}");
  }
  if (listen_s > 0) {
    listen_for(listen_s);
  } else if (nphases > 0) {
    if (subs_ready == 0) {
      printf(",\"error\":\"no subscriber connected\"}\n");
      return 1;
    }
    open_publishers();
    run_for(now_us() + 200000, NULL);
    for (int i = 0; i < nphases; i++) run_phase(phases[i], phase_s[i]);
  }
  printf(",\"closedByServer\":%d}\n", subs_closed_after_ready);
  return 0;
}
