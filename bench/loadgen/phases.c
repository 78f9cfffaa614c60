/*
 * phases.c — the measured phases, run in order on the open connections (--phase NAME:SECONDS):
 * fanout (publish broadcast n+1 as soon as n starts arriving), overload (publish back to back,
 * bounded by --lag-cap), latency (open loop at --rate); each warms up, measures a window, drains,
 * and prints its JSON member. And --listen: count what others publish, reporting progress on stderr.
 */
#include "loadgen.h"

#include <stdio.h>
#include <string.h>

static volatile sig_atomic_t stop_listening;

void run_for(uint64_t until, void (*tick)(uint64_t)) {
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

static void on_term(int sig) {
  (void)sig;
  stop_listening = 1;
}

static uint64_t last_progress;

void listen_progress(uint64_t t) {
  fprintf(stderr, "progress %lld %llu %llu\n", (long long)seq_done, (unsigned long long)t, (unsigned long long)msgs_total);
  last_progress = now_us();
}

/* --listen: count what others publish until SIGTERM or `seconds`; prints its JSON member. */
void listen_for(double seconds) {
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
void run_phase(enum mode m, double seconds) {
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
