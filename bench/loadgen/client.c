/*
 * client.c — the subscriber side of each protocol (--proto): the request that opens the connection
 * (a WebSocket upgrade, or a GET for SSE and long polling), what subscribes once it is open (Tidings
 * JSON connect + subscribe, STOMP CONNECT + SUBSCRIBE, the Socket.IO namespace connect), the marker
 * that says the subscriber is ready, and the parsing of what arrives: WebSocket frames (inflating
 * permessage-deflate messages), chunked transfer coding, SSE lines and long-poll answers. Every
 * payload goes to scan() (stats.c), which counts the published messages in it.
 */
#include "loadgen.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

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

/* ---------- subscription requests per protocol ---------- */
const char *default_path(void) {
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

void send_request(conn *c) {
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

uint32_t content_length(const char *h, size_t n) {
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

void on_sub_input(conn *c, const char *p, uint32_t n, uint64_t t) {
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
