/*
 * net.c — the connection layer of the load generator: non-blocking sockets from several loopback
 * source addresses (so ephemeral ports never run out), per-connection input/output buffers, the
 * one epoll loop that hands what arrives to the subscriber protocols (client.c) or the publishers
 * (publish.c), and opening the --conns subscribers --connect-batch at a time.
 */
#include "loadgen.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

int ep;
static conn **by_fd;
static int by_fd_cap;
int hs_active, subs_ready, subs_failed, subs_closed_after_ready, subs_connecting;
int sub_index;
uint64_t bytes_total;
uint64_t sub_bytes_window = 0;
uint64_t handshakes, handshake_errors;
static char rbuf[1 << 18];

uint64_t now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

void die(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "loadgen: ");
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\n");
  va_end(ap);
  exit(2);
}

/* ---------- buffers ---------- */
void buf_append(char **b, uint32_t *len, uint32_t *cap, const char *p, uint32_t n) {
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

void buf_consume(char *b, uint32_t *len, uint32_t n) {
  memmove(b, b + n, *len - n);
  *len -= n;
}

static void buf_free(char **b, uint32_t *len, uint32_t *cap) {
  free(*b);
  *b = NULL;
  *len = *cap = 0;
}

/* `fmt` with its first %d replaced by n, into out (always NUL-terminated). */
int subst(char *out, size_t size, const char *fmt, int n) {
  const char *d = strstr(fmt, "%d");
  if (!d) return snprintf(out, size, "%s", fmt);
  return snprintf(out, size, "%.*s%d%s", (int)(d - fmt), fmt, n, d + 2);
}


/* ---------- connections ---------- */
static void set_events(conn *c, uint32_t ev) {
  struct epoll_event e = {.events = ev, .data.ptr = c};
  epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &e);
}

void conn_send(conn *c, const char *p, uint32_t n) {
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


static uint32_t src_addr(int i) {
  return htonl(0x7f000001u + (uint32_t)(i % sources));
}

conn *conn_open(int kind, int index) {
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


void conn_close(conn *c) {
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

void loop_once(int timeout_ms) {
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

int connect_all(void) {
  uint64_t deadline = now_us() + (uint64_t)(ready_timeout * 1e6);
  while (subs_ready + subs_failed < conns_wanted && now_us() < deadline) {
    open_subscribers(conns_wanted);
    loop_once(5);
  }
  return subs_ready;
}
