#pragma once

#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "engine/io_engine.h"

namespace anyscan {

// text: a summary and the hex of each frame; pcap: the frames for tcpdump; targets: one
// "ADDRESS,PORT" line per frame (what would be probed; PORT 0 for ICMP), compact enough for
// millions of probes.
// kZmap (default): zmap 4.x's block per probe ("tcp { source: .. }", "ip { .. }",
// "eth { .. }", 54 dashes); kText: anyscan's summary + hex line; kPcap; kTargets.
enum class DryrunFormat { kZmap, kText, kPcap, kTargets };

// Writes every frame a scan would send, instead of sending it: one readable line per
// frame (summary + full hex), or a pcap stream (LINKTYPE_ETHERNET) that tcpdump and
// Wireshark read. Receives nothing. Needs no privileges: the basis of root-free tests.
class DryrunEngine final : public IoEngine {
 public:
  // ip_layer (-X/--iplayer): the frames as their IP packets, as zmap prints them then: no
  // eth line, pcap as LINKTYPE_RAW, text hex from the IP header.
  DryrunEngine(std::FILE* out, DryrunFormat format, uint32_t sender_threads, bool ip_layer = false);

  std::string_view name() const override { return "dryrun"; }
  size_t sink_count() const override { return sinks_.size(); }
  size_t source_count() const override { return 1; }
  PacketSink& sink(size_t queue) override { return *sinks_[queue]; }
  PacketSource& source(size_t) override { return source_; }

  // Readable one-line rendering of a frame; exposed for tests.
  static std::string describe(const uint8_t* frame, size_t length, bool ip_layer = false);
  // zmap 4.x's block for one frame (its probe modules' print_packet), newline-terminated.
  static std::string zmap_block(const uint8_t* frame, size_t length, bool ip_layer = false);

 private:
  class Writer {
   public:
    Writer(std::FILE* out, DryrunFormat format, bool ip_layer);
    Result<void> write(const FrameSlot* slots, size_t count);

   private:
    std::mutex mutex_;
    std::FILE* out_;
    DryrunFormat format_;
    bool ip_layer_;
  };
  class Sink final : public PacketSink {
   public:
    explicit Sink(Writer& writer);
    std::span<FrameSlot> reserve(size_t max_frames) override;
    Result<SendReport> submit(size_t count) override;
    size_t frame_capacity() const override { return kFrameCapacity; }

   private:
    static constexpr size_t kBatch = 64;
    static constexpr size_t kFrameCapacity = 2048;  // a 1500-byte MTU frame and more
    Writer& writer_;
    std::vector<uint8_t> buffers_;
    std::vector<FrameSlot> slots_;
  };
  class Source final : public PacketSource {
   public:
    Result<size_t> receive(std::span<FrameView> out, int timeout_ms) override;
    void release() override {}
    SourceStats stats() override { return {}; }
  };

  Writer writer_;
  std::vector<std::unique_ptr<Sink>> sinks_;
  Source source_;
};

}  // namespace anyscan
