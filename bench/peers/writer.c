/*
 * writer — the physical-limit peer of the benchmarks: what fan-out costs when nothing but the
 * system calls is left.
 *
 * One single-threaded epoll process on 127.0.0.1:--port. It accepts WebSocket upgrades on any
 * path (RFC 6455 handshake: Sec-WebSocket-Accept = base64(SHA-1(key + GUID)), SHA-1 below), keeps
 * the connections in an array and discards whatever they send. `POST /publish` with the message
 * as its body (the interface of the other peers, HTTP/1.1 keep-alive, pipelining allowed) frames
 * the body once as an unmasked text frame and makes one write(2) of those bytes per connection,
 * then answers `200 ok`. A connection whose socket buffer is full keeps the rest in its own buffer
 * (sent on EPOLLOUT, later frames behind it); past 1 MiB it is closed as a slow consumer. Any
 * other request gets `200 ok` (the harness's start-up probe).
 *
 * Usage: writer --port N. Build: gcc -O2 -o writer writer.c (bench/lib/cbuild.ts does it).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define HEAD_MAX 8192            /* largest request head + body a connection may buffer */
#define BODY_MAX 65536           /* largest published message */
#define PENDING_MAX (1u << 20)   /* a subscriber's unsent bytes before it is closed */

enum { C_HTTP, C_WS };

typedef struct conn {
  int fd;
  uint8_t kind;
  int32_t sub;        /* index in subs, or -1 */
  char *in;           /* HTTP: unparsed input */
  uint32_t in_len, in_cap;
  char *out;          /* bytes a full socket buffer did not take */
  uint32_t out_len, out_cap;
} conn;

static conn **by_fd;
static int by_fd_cap;
static conn **subs;
static int nsubs, subs_cap;
static int ep;
static uint8_t frame[BODY_MAX + 10];

/* ---------- SHA-1 (FIPS 180-4) and base64, for Sec-WebSocket-Accept ---------- */
static uint32_t rol(uint32_t x, int n) { return (x << n) | (x >> (32 - n)); }

static void sha1(const uint8_t *msg, size_t len, uint8_t out[20]) {
  uint32_t h[5] = {0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0};
  size_t total = ((len + 8) / 64 + 1) * 64;
  uint8_t *m = calloc(total, 1);
  if (!m) abort();
  memcpy(m, msg, len);
  m[len] = 0x80;
  uint64_t bits = (uint64_t)len * 8;
  for (int i = 0; i < 8; i++) m[total - 1 - i] = (uint8_t)(bits >> (8 * i));
  for (size_t off = 0; off < total; off += 64) {
    uint32_t w[80];
    for (int i = 0; i < 16; i++)
      w[i] = (uint32_t)m[off + 4 * i] << 24 | (uint32_t)m[off + 4 * i + 1] << 16 | (uint32_t)m[off + 4 * i + 2] << 8 | m[off + 4 * i + 3];
    for (int i = 16; i < 80; i++) w[i] = rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
    for (int i = 0; i < 80; i++) {
      uint32_t f, k;
      if (i < 20) f = (b & c) | (~b & d), k = 0x5A827999;
      else if (i < 40) f = b ^ c ^ d, k = 0x6ED9EBA1;
      else if (i < 60) f = (b & c) | (b & d) | (c & d), k = 0x8F1BBCDC;
      else f = b ^ c ^ d, k = 0xCA62C1D6;
      uint32_t t = rol(a, 5) + f + e + k + w[i];
      e = d, d = c, c = rol(b, 30), b = a, a = t;
    }
    h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e;
  }
  free(m);
  for (int i = 0; i < 20; i++) out[i] = (uint8_t)(h[i / 4] >> (24 - 8 * (i % 4)));
}

static void base64(const uint8_t *in, size_t n, char *out) {
  static const char A[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t o = 0;
  for (size_t i = 0; i < n; i += 3) {
    uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0) | (i + 2 < n ? in[i + 2] : 0);
    out[o++] = A[v >> 18 & 63];
    out[o++] = A[v >> 12 & 63];
    out[o++] = i + 1 < n ? A[v >> 6 & 63] : '=';
    out[o++] = i + 2 < n ? A[v & 63] : '=';
  }
  out[o] = 0;
}

/* ---------- connections ---------- */
static void append(char **b, uint32_t *len, uint32_t *cap, const char *p, uint32_t n) {
  if (*len + n > *cap) {
    uint32_t c = *cap ? *cap : 256;
    while (c < *len + n) c *= 2;
    char *nb = realloc(*b, c);
    if (!nb) abort();
    *b = nb;
    *cap = c;
  }
  memcpy(*b + *len, p, n);
  *len += n;
}

static void conn_close(conn *c) {
  if (c->sub >= 0) {
    conn *last = subs[--nsubs];
    subs[c->sub] = last;
    last->sub = c->sub;
  }
  by_fd[c->fd] = NULL;
  close(c->fd);
  free(c->in);
  free(c->out);
  free(c);
}

static void want_out(conn *c, int on) {
  struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP | (on ? EPOLLOUT : 0), .data.fd = c->fd};
  epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Sends what is buffered, then `p`; keeps what the socket does not take. 0, or -1 when closed. */
static int send_bytes(conn *c, const char *p, uint32_t n) {
  if (c->out_len == 0) {
    ssize_t k = write(c->fd, p, n);
    if (k == (ssize_t)n) return 0;
    if (k < 0 && errno != EAGAIN) {
      conn_close(c);
      return -1;
    }
    if (k < 0) k = 0;
    append(&c->out, &c->out_len, &c->out_cap, p + k, n - (uint32_t)k);
    want_out(c, 1);
    return 0;
  }
  if (c->out_len + n > PENDING_MAX) {
    conn_close(c);
    return -1;
  }
  append(&c->out, &c->out_len, &c->out_cap, p, n);
  return 0;
}

static void flush_out(conn *c) {
  ssize_t k = write(c->fd, c->out, c->out_len);
  if (k < 0) {
    if (errno != EAGAIN) conn_close(c);
    return;
  }
  memmove(c->out, c->out + k, c->out_len - (size_t)k);
  c->out_len -= (uint32_t)k;
  if (c->out_len == 0) want_out(c, 0);
}

/* One frame built once, one write(2) per subscriber. */
static void broadcast(const char *body, uint32_t n) {
  uint32_t h = 0;
  frame[h++] = 0x81;
  if (n < 126) frame[h++] = (uint8_t)n;
  else {
    frame[h++] = 126;
    frame[h++] = (uint8_t)(n >> 8);
    frame[h++] = (uint8_t)n;
  }
  memcpy(frame + h, body, n);
  for (int i = 0; i < nsubs;)
    if (send_bytes(subs[i], (const char *)frame, h + n) == 0) i++; /* else the last one moved into i */
}

/* The value of header `name` in `head` (length into *len), or NULL. */
static const char *header(const char *head, uint32_t hl, const char *name, uint32_t *len) {
  size_t nl = strlen(name);
  for (const char *p = memchr(head, '\n', hl); p && p + 1 < head + hl; p = memchr(p + 1, '\n', (size_t)(head + hl - p - 1))) {
    const char *line = p + 1;
    if ((size_t)(head + hl - line) > nl && strncasecmp(line, name, nl) == 0 && line[nl] == ':') {
      const char *v = line + nl + 1;
      while (*v == ' ') v++;
      const char *e = v;
      while (e < head + hl && *e != '\r' && *e != '\n') e++;
      *len = (uint32_t)(e - v);
      return v;
    }
  }
  return NULL;
}

static const char OK[] = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok";

/* Handles every complete request in c->in; 0, or -1 when the connection is gone. */
static int on_http(conn *c) {
  uint32_t off = 0;
  for (;;) {
    char *head = c->in + off;
    uint32_t avail = c->in_len - off;
    char *end = memmem(head, avail, "\r\n\r\n", 4);
    if (!end) break;
    uint32_t hl = (uint32_t)(end - head) + 4;
    uint32_t vl = 0;
    const char *v = header(head, hl, "Content-Length", &vl);
    uint32_t body = v ? (uint32_t)strtoul(v, NULL, 10) : 0;
    if (body > BODY_MAX) {
      conn_close(c);
      return -1;
    }
    if (avail < hl + body) break;
    const char *key = header(head, hl, "Sec-WebSocket-Key", &vl);
    if (key && strncmp(head, "GET ", 4) == 0 && vl < 64) {
      static const char GUID[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
      uint8_t buf[128], digest[20];
      char accept[32], res[256];
      memcpy(buf, key, vl);
      memcpy(buf + vl, GUID, sizeof GUID - 1);
      sha1(buf, vl + sizeof GUID - 1, digest);
      base64(digest, 20, accept);
      int n = snprintf(res, sizeof res, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n", accept);
      c->kind = C_WS;
      free(c->in);
      c->in = NULL;
      c->in_len = c->in_cap = 0;
      if (send_bytes(c, res, (uint32_t)n) < 0) return -1;
      if (nsubs == subs_cap) {
        subs_cap = subs_cap ? subs_cap * 2 : 1024;
        subs = realloc(subs, (size_t)subs_cap * sizeof *subs);
        if (!subs) abort();
      }
      c->sub = nsubs;
      subs[nsubs++] = c;
      return 0;
    }
    if (strncmp(head, "POST /publish ", 14) == 0) broadcast(head + hl, body);
    if (send_bytes(c, OK, sizeof OK - 1) < 0) return -1;
    off += hl + body;
  }
  if (off) {
    memmove(c->in, c->in + off, c->in_len - off);
    c->in_len -= off;
  }
  if (c->in_len > HEAD_MAX + BODY_MAX) {
    conn_close(c);
    return -1;
  }
  return 0;
}

static void on_readable(conn *c) {
  static char rbuf[1 << 16];
  for (;;) {
    ssize_t n = read(c->fd, rbuf, sizeof rbuf);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
      conn_close(c);
      return;
    }
    if (n < 0) return;
    if (c->kind == C_WS) continue; /* what subscribers send is not read: the peer only writes */
    append(&c->in, &c->in_len, &c->in_cap, rbuf, (uint32_t)n);
    if (on_http(c) < 0) return;
    if (c->kind == C_WS) continue;
  }
}

static void on_accept(int lfd) {
  for (;;) {
    int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (fd >= by_fd_cap) {
      int cap = by_fd_cap ? by_fd_cap : 1024;
      while (cap <= fd) cap *= 2;
      by_fd = realloc(by_fd, (size_t)cap * sizeof *by_fd);
      if (!by_fd) abort();
      memset(by_fd + by_fd_cap, 0, (size_t)(cap - by_fd_cap) * sizeof *by_fd);
      by_fd_cap = cap;
    }
    conn *c = calloc(1, sizeof *c);
    if (!c) abort();
    c->fd = fd;
    c->sub = -1;
    by_fd[fd] = c;
    struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.fd = fd};
    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
  }
}

int main(int argc, char **argv) {
  int port = 8084;
  for (int i = 1; i + 1 < argc; i++)
    if (strcmp(argv[i], "--port") == 0) port = atoi(argv[i + 1]);
  signal(SIGPIPE, SIG_IGN);
  signal(SIGUSR2, SIG_IGN); /* the harness's "collect garbage now" */
  int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port), .sin_addr.s_addr = htonl(0x7f000001)};
  if (bind(lfd, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(lfd, 4096) < 0) {
    perror("writer: listen");
    return 1;
  }
  ep = epoll_create1(EPOLL_CLOEXEC);
  struct epoll_event lev = {.events = EPOLLIN, .data.fd = lfd};
  epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &lev);
  printf("listening %d\n", port);
  fflush(stdout);
  struct epoll_event evs[256];
  for (;;) {
    int n = epoll_wait(ep, evs, 256, -1);
    for (int i = 0; i < n; i++) {
      int fd = evs[i].data.fd;
      if (fd == lfd) {
        on_accept(lfd);
        continue;
      }
      conn *c = fd < by_fd_cap ? by_fd[fd] : NULL;
      if (!c) continue;
      if (evs[i].events & EPOLLOUT) {
        flush_out(c);
        c = by_fd[fd];
        if (!c) continue;
      }
      if (evs[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) on_readable(c);
    }
  }
}
