#pragma once

#include <cstdint>

namespace anyscan {

// The scan's counters summed over threads at one moment.
struct Totals {
  uint64_t sent = 0, failed = 0, targets_done = 0, targets_total = 0;
  uint64_t received = 0, validation_failed = 0, unrelated = 0, results = 0, duplicates = 0,
           success = 0;
  uint64_t filtered = 0;        // valid, new, but not written: --output-filter said no
  uint64_t other_shard = 0;     // valid, but for another shard's target (same host)
  uint64_t dropped = 0;         // by the kernel for want of ring space
  uint64_t not_redirected = 0;  // AF_XDP: replies on a queue without a socket
  // Frames the interface itself dropped during the scan (NIC ring overflow, missed, FIFO),
  // before any socket: an upper bound on replies lost there (other traffic counts too).
  uint64_t interface_dropped = 0;
  // Of validation_failed: IPv6 later fragments to us, and chains that could not be walked.
  uint64_t invalid_fragment = 0;
  uint64_t invalid_header_chain = 0;
  uint64_t results_ipv6 = 0;  // of results: IPv6 targets'
  // Live opt-out (SIGHUP): targets a reloaded blocklist took out before they were probed,
  // and valid replies from its addresses not written (or removed from the file at the end).
  uint64_t opted_out = 0, withdrawn = 0;
  // Of results, by classification (net/reply.h's order: synack, rst, echoreply, unreach,
  // udp, icmp-unreach).
  static constexpr int kClasses = 6;
  uint64_t results_synack = 0, results_rst = 0, results_echoreply = 0, results_unreach = 0,
           results_udp = 0, results_icmp_unreach = 0;
};
// The per-classification result counts of Totals, in Classification's order.
inline constexpr uint64_t Totals::*kResultsByClass[Totals::kClasses] = {
    &Totals::results_synack,  &Totals::results_rst, &Totals::results_echoreply,
    &Totals::results_unreach, &Totals::results_udp, &Totals::results_icmp_unreach};

// The counts of Totals that add up over the runs of a resumed scan (all but targets_total),
// with the names a checkpoint stores them under.
struct TotalsCount {
  const char* name;
  uint64_t Totals::*member;
};
inline constexpr TotalsCount kTotalsCounts[] = {
    {"sent", &Totals::sent},
    {"send_failed", &Totals::failed},
    {"targets_probed", &Totals::targets_done},
    {"received", &Totals::received},
    {"validation_failed", &Totals::validation_failed},
    {"unrelated", &Totals::unrelated},
    {"results", &Totals::results},
    {"duplicates", &Totals::duplicates},
    {"success", &Totals::success},
    {"dropped", &Totals::dropped},
    {"not_redirected", &Totals::not_redirected},
    {"interface_dropped", &Totals::interface_dropped},
    {"filtered", &Totals::filtered},
    {"other_shards", &Totals::other_shard},
    {"ipv6_non_first_fragment", &Totals::invalid_fragment},
    {"ipv6_header_chain", &Totals::invalid_header_chain},
    {"results_ipv6", &Totals::results_ipv6},
    {"results_synack", &Totals::results_synack},
    {"results_rst", &Totals::results_rst},
    {"results_echoreply", &Totals::results_echoreply},
    {"results_unreach", &Totals::results_unreach},
    {"results_udp", &Totals::results_udp},
    {"results_icmp_unreach", &Totals::results_icmp_unreach},
    {"opted_out", &Totals::opted_out},
    {"withdrawn", &Totals::withdrawn},
};
// to += from, count by count.
void add_counts(Totals& to, const Totals& from);

}  // namespace anyscan
