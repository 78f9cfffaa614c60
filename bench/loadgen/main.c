/*
 * loadgen — the Tidings benchmark load generator. This file: what the program does, its options,
 * and main (connect the subscribers, idle memory, handshake mode, then the phases in order).
 * loadgen.h lists the other files of bench/loadgen and what each one does.
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
#include "loadgen.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <unistd.h>

/* ---------- options ---------- */
enum proto proto = P_TWS;
enum mode mode = M_FANOUT;
int port = 8080;
const char *sub_path = NULL;
const char *pub_path = "/api/publish";
const char *pub_key = "";
int pub_tidings = 0; /* wrap in {"channel":"bench","data":…} */
int conns_wanted = 1000;
int sources = 16;
int publishers = 4;
double duration = 5, warmup = 1, rate = 10, settle = 3, drain_max = 10, ready_timeout = 60, hold = 0;
int lag_cap = 200;
int concurrency = 64;
int connect_batch = 256;
int server_pid = 0;
int gc_signal = 0;
long rss_before_kb = -1, rss_settled_before_kb = -1; /* baselines taken by the caller */
int upgrade_only = 0; /* handshake mode: done at 101 whatever the protocol */
int connect_in_handshake = 0; /* tws: /ws?connect=1, usable at `connected` */
int deflate_offer = 0; /* --deflate: offer permessage-deflate, inflate RSV1 messages */
int notification_payload = 0; /* --notification: publish a ~1 KB notification object instead of the 100-byte message */
const char *sub_channel = "bench"; /* tws: the channel subscribed to, %d = subscriber number */
int pub_users = 0;  /* per-user publishing: users 0..pub_users-1 (0: every publication to every subscriber) */
int pub_batch = 1;  /* users per publish call */
double listen_s = 0; /* --listen: subscribe and count only */

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
