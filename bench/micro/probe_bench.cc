// The sender's per-probe user-space work, in ns per probe (Google Benchmark): the
// permutation step, the target lookup, the validation cookie, building the frame (patch and
// checksum) for each probe module, and the rate limiter's claim. bench/README.md, "Where
// the time goes", sets these beside the whole-process profiles.
#include <benchmark/benchmark.h>

#include <memory>
#include <vector>

#include "probe/tcp_syn_probe.h"
#include "probe/udp_payloads.h"
#include "probe/udp_probe.h"
#include "probe/validation_cookie.h"
#include "scan/rate_limiter.h"
#include "target/address_set.h"
#include "target/index_permutation.h"

namespace anyscan {
namespace {

constexpr size_t kBatch = 64;

ProbeParams params() {
  ProbeParams p;
  p.source_ips = {IpAddress::v4(0xc6120001u)};
  p.key = cookie_key_from_seed(1);
  return p;
}

void BM_PermutationStep(benchmark::State& state) {
  const IndexPermutation permutation(uint64_t{65536} * 20, 7);
  uint64_t position = 0, sum = 0;
  for (auto _ : state) {
    sum += permutation.at(position);
    if (++position == permutation.size()) position = 0;
  }
  benchmark::DoNotOptimize(sum);
}
BENCHMARK(BM_PermutationStep);

// 64 consecutive positions per call, as the sender asks: at_many (AVX-512 where the CPU has
// it) or its scalar path.
void permutation_many(benchmark::State& state, bool scalar) {
  const IndexPermutation permutation(uint64_t{65536} * 20, 7);
  uint64_t positions[IndexPermutation::kManyAtOnce], out[IndexPermutation::kManyAtOnce];
  uint64_t next = 0;
  for (auto _ : state) {
    for (auto& p : positions) {
      p = next;
      if (++next == permutation.size()) next = 0;
    }
    if (scalar) {
      permutation.at_many_scalar(positions, out, IndexPermutation::kManyAtOnce);
    } else {
      permutation.at_many(positions, out, IndexPermutation::kManyAtOnce);
    }
    benchmark::DoNotOptimize(out);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * IndexPermutation::kManyAtOnce));
}
void BM_PermutationManyAtOnce(benchmark::State& state) { permutation_many(state, false); }
BENCHMARK(BM_PermutationManyAtOnce);
void BM_PermutationManyAtOnceScalar(benchmark::State& state) { permutation_many(state, true); }
BENCHMARK(BM_PermutationManyAtOnceScalar);

void BM_AddressLookup(benchmark::State& state) {
  // 198.18.0.0/16 less a few holes: a target space of several ranges.
  AddressSet set({AddressRange::v4(0xc6120000u, 0xc612ffffu)});
  set = set.minus(AddressSet(
      {AddressRange::v4(0xc6121000u, 0xc61210ffu), AddressRange::v4(0xc6128000u, 0xc61280ffu)}));
  uint64_t index = 0, sum = 0;
  for (auto _ : state) {
    sum += set.at(index).ipv4();
    index = (index + 40503) % set.size();
  }
  benchmark::DoNotOptimize(sum);
}
BENCHMARK(BM_AddressLookup);

void BM_ValidationCookie(benchmark::State& state) {
  const CookieKey key = cookie_key_from_seed(1);
  uint32_t daddr = 0xc6120000u;
  uint64_t sum = 0;
  for (auto _ : state) sum += validation_cookie(key, 0xc6120001u, ++daddr, 443);
  benchmark::DoNotOptimize(sum);
}
BENCHMARK(BM_ValidationCookie);

// Frames built per probe, in batches of 64 as the sender does.
void build_frames(benchmark::State& state, const ProbeModule& module) {
  std::vector<uint8_t> buffers(kBatch * 2048);
  std::vector<FrameSlot> slots(kBatch);
  for (size_t i = 0; i < kBatch; ++i) slots[i] = FrameSlot{buffers.data() + i * 2048, 0};
  std::vector<ProbeTarget> targets(kBatch);
  uint32_t daddr = 0xc6120000u;
  for (auto _ : state) {
    for (size_t i = 0; i < kBatch; ++i)
      targets[i] = ProbeTarget{IpAddress::v4(++daddr), static_cast<uint16_t>(1000 + i % 20), 0};
    module.build(targets.data(), kBatch, slots.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kBatch));
}

void BM_BuildTcpSyn(benchmark::State& state) { build_frames(state, TcpSynProbe(params())); }
BENCHMARK(BM_BuildTcpSyn);

void BM_BuildUdp16ByteProbeArgs(benchmark::State& state) {
  auto table = load_udp_payloads("hex:00112233445566778899aabbccddeeff", "", nullptr);
  build_frames(state, UdpProbe(params(), std::make_shared<const UdpPayloadTable>(*table)));
}
BENCHMARK(BM_BuildUdp16ByteProbeArgs);

void BM_BuildUdpBuiltinDns(benchmark::State& state) {
  auto table = std::make_shared<UdpPayloadTable>(UdpPayloadTable::builtin());
  table->assign(1000, 1019, *UdpPayloadTable::builtin_named("dns"));
  build_frames(state, UdpProbe(params(), table));
}
BENCHMARK(BM_BuildUdpBuiltinDns);

void BM_RateLimiterClaim(benchmark::State& state) {
  RateLimiter limiter(1000000000, 0);  // 1 Gpps: claims never wait here
  uint64_t sum = 0;
  for (auto _ : state) sum += limiter.claim(kBatch);
  benchmark::DoNotOptimize(sum);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kBatch));
}
BENCHMARK(BM_RateLimiterClaim);

}  // namespace
}  // namespace anyscan

BENCHMARK_MAIN();
