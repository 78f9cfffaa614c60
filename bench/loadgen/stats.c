/*
 * stats.c — what the load generator counts: every published message found in what a subscriber
 * receives (scan) is a copy of broadcast `seq`; a broadcast is done when every live subscriber (or,
 * per user, every user it went to) has its copy, and publish time -> receive time goes into the
 * latency histogram. Also the server's RSS and CPU time, read from /proc, and our own CPU time.
 */
#include "loadgen.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <unistd.h>

uint64_t msgs_total, msgs_window;
int measuring;
uint64_t t_window_start, t_window_end;
int64_t seq_measure_from = 1; /* broadcasts from here on are measured (latency) */
int64_t seq_measure_to = INT64_MAX;
uint32_t seq_count[RING];   /* copies received of broadcast seq (mod RING) */
int64_t seq_done = 0;       /* every broadcast <= seq_done reached every live subscriber */
int64_t seq_max_seen = 0;
uint32_t seq_expected[RING]; /* per-user: copies broadcast seq goes to */
uint8_t *user_live;           /* per-user: whether subscriber (user) i is ready and open */
uint64_t t_last_copy;

/* latency histogram: 10 µs buckets below 1 s, 1 ms buckets up to 200 s */
uint64_t hist[H_FINE + H_COARSE + 1];
uint64_t lat_count, lat_max;

static void hist_add(uint64_t v) {
  size_t i = v < 1000000 ? v / 10 : H_FINE + (v / 1000 - 1000);
  if (i > H_FINE + H_COARSE) i = H_FINE + H_COARSE;
  hist[i]++;
  lat_count++;
  if (v > lat_max) lat_max = v;
}

double hist_quantile(double q) {
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

/* ---------- message accounting ---------- */
int live_subs(void) {
  return subs_ready - subs_closed_after_ready;
}

void advance_done(void) {
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

void sub_lost(conn *c) {
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
void scan(const char *p, size_t n, uint64_t t) {
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

long rss_kb(int pid) {
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

double cpu_seconds(int pid) {
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

double self_cpu(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}
