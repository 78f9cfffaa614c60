/*
 * publish.c — the publishers: --publishers HTTP keep-alive connections that POST each broadcast to
 * --pub-path (a 100-byte JSON message {"bt":<µs>,"seq":<n>,"p":"…"}, optionally with a ~1 KB
 * notification, wrapped for Tidings with --pub-tidings, or addressed to one or --pub-batch users in
 * per-user runs), read the answers and time them, and replace a connection the server closed.
 */
#include "loadgen.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char NOTIFICATION[] = "{\"type\":\"comment.created\",\"userId\":\"u-7001\",\"title\":\"New comment on your post\",\"body\":\"Alice Johnson commented on \\\"Quarterly planning notes\\\": Looks good to me, but can we move the review to Thursday afternoon? I have a conflict with the design sync and would rather not rush it.\",\"actor\":{\"id\":\"u-42\",\"name\":\"Alice Johnson\",\"avatar\":\"https://cdn.example.com/avatars/u-42.png\",\"url\":\"https://app.example.com/users/u-42\"},\"target\":{\"type\":\"post\",\"id\":\"p-9876\",\"title\":\"Quarterly planning notes\",\"url\":\"https://app.example.com/posts/9876\"},\"link\":\"https://app.example.com/posts/9876#comment-5001\",\"createdAt\":\"2023-11-14T22:13:21.000Z\",\"read\":false,\"seen\":false,\"priority\":\"normal\",\"tags\":[\"comment\",\"mention\",\"project:alpha\"],\"channels\":[\"inbox\",\"push\",\"email\"],\"meta\":{\"source\":\"comments-service\",\"version\":3,\"locale\":\"en-US\",\"timezone\":\"Europe/Berlin\",\"template\":\"comment.created\",\"traceId\":\"4bf92f3577b34da6a3ce929d0e0e4736\"}}";
static conn **pubs;
static int pub_rr;
uint64_t pub_sent, pub_answered, pub_errors, pub_reconnects;
int64_t pubs_lost, pubs_lost_measured; /* broadcasts whose request died with its connection */
int64_t seq_next = 1;      /* next broadcast to publish */
uint64_t copies_offered;      /* per-user: copies published so far */
static int64_t pub_user_next;        /* per-user: next user to publish to */
uint64_t call_sum_us, call_count, call_max_us; /* publish answer times in the window */
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

void publish_one(conn *c, uint64_t t) {
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

void on_pub_input(conn *c, const char *p, uint32_t n) {
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

conn *idle_publisher(void) {
  for (int i = 0; i < publishers; i++) {
    conn *c = pubs[(pub_rr + i) % publishers];
    if (c->state == S_OPEN && c->outstanding == 0) {
      pub_rr = (pub_rr + i + 1) % publishers;
      return c;
    }
  }
  return NULL;
}

conn *any_publisher(void) {
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

/*
 * A publisher connection closed (an HTTP server closes keep-alive connections idle for a few
 * seconds, and may do so just as a request arrives): the broadcasts of its unanswered requests
 * count as never published, and a new connection takes its place.
 */
void pub_lost(conn *c) {
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

void open_publishers(void) {
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
