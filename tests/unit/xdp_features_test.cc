// The NIC's word on XDP (base/xdp_features.h) on replies recorded from kernel 6.18 with
// `anyscan-probe --xdp-features --raw` in a test namespace: a veth alone, and the same veth
// once its peer had a native XDP program (the veth driver then adds ndo-xmit); the family
// lookup; a kernel without the family; damaged replies. And the launcher's decision on
// what the driver says.
#include "base/xdp_features.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>

#include "launcher/engine_plan.h"

namespace anyscan {
namespace {

std::vector<uint8_t> hex(const std::string& text) {
  std::vector<uint8_t> out;
  for (size_t i = 0; i + 1 < text.size(); i += 2)
    out.push_back(static_cast<uint8_t>(std::stoi(text.substr(i, 2), nullptr, 16)));
  return out;
}

// dev-get dump of lo and veth "xfa" (peer without a program): two devices and the DONE.
const char* kVethAlone =
    "400000001400000002000000317800000101000008000100010000000c00030000000000000000000c000500"
    "00000000000000000c0006000000000000000000400000001400000002000000317800000101000008000100"
    "020000000c00030023000000000000000c00050007000000000000000c000600000000000000000014000000"
    "03000200020000003178000000000000";
// The same after `ip link set dev PEER xdpdrv obj pass.o`: 0x67 = + ndo-xmit, ndo-xmit-sg.
const char* kVethPeerProgram =
    "400000001400000002000000337800000101000008000100010000000c00030000000000000000000c000500"
    "00000000000000000c0006000000000000000000400000001400000002000000337800000101000008000100"
    "020000000c00030067000000000000000c00050007000000000000000c000600000000000000000014000000"
    "03000200020000003378000000000000";
// The controller's answer for "netdev": family id 0x14 (then ops and groups).
const char* kFamily =
    "1c0100001000000001000000be780000010200000b0002006e657464657600000600010014000000080003000"
    "100000008000400000000000800050000000000a4000600140001000800010001000000080002000e00000014"
    "0002000800010005000000080002000e00000014000300080001000a000000080002000e0000001400040008"
    "0001000b000000080002000e00000014000500080001000c000000080002000c000000140006000800010"
    "00d000000080002000b00000014000700080001000e000000080002000b00000014000800080001000f0000"
    "00080002000a00000038000700180001000800020004000000090001006d676d74000000001c00020008000"
    "200050000000e000100706167652d706f6f6c000000";

TEST(XdpFeatures, RecordedVethRepliesSayWhatTheDriverSays) {
  bool done = false;
  auto alone = parse_dev_replies(hex(kVethAlone), 0x14, &done);
  ASSERT_TRUE(alone) << alone.error().message;
  EXPECT_TRUE(done);
  ASSERT_EQ(alone->size(), 2u);
  EXPECT_EQ((*alone)[0].ifindex, 1);
  EXPECT_EQ(xdp_feature_names((*alone)[0].features), "none");
  EXPECT_EQ((*alone)[1].ifindex, 2);
  EXPECT_EQ(xdp_feature_names((*alone)[1].features), "basic,redirect,rx-sg");
  EXPECT_EQ((*alone)[1].features & kXdpXskZerocopy, 0u);
  auto with_peer = parse_dev_replies(hex(kVethPeerProgram), 0x14, nullptr);
  ASSERT_TRUE(with_peer);
  EXPECT_EQ(xdp_feature_names((*with_peer)[1].features),
            "basic,redirect,ndo-xmit,rx-sg,ndo-xmit-sg");
  // Messages of another family in the reply are not devices.
  auto other = parse_dev_replies(hex(kVethAlone), 0x15, nullptr);
  ASSERT_TRUE(other);
  EXPECT_TRUE(other->empty());
}

TEST(XdpFeatures, FamilyLookupAndAKernelWithoutTheFamily) {
  auto family = parse_family_reply(hex(kFamily));
  ASSERT_TRUE(family) << family.error().message;
  ASSERT_TRUE(family->has_value());
  EXPECT_EQ(**family, 0x14);
  // Before 6.3: the controller says ENOENT (an NLMSG_ERROR carrying -2 and the request).
  std::vector<uint8_t> enoent(36, 0);
  const uint32_t length = 36;
  const uint16_t type = 2;  // NLMSG_ERROR
  const int32_t error = -ENOENT;
  std::memcpy(enoent.data(), &length, 4);
  std::memcpy(enoent.data() + 4, &type, 2);
  std::memcpy(enoent.data() + 16, &error, 4);
  auto none = parse_family_reply(enoent);
  ASSERT_TRUE(none) << none.error().message;
  EXPECT_FALSE(none->has_value());
  const int32_t eperm = -EPERM;
  std::memcpy(enoent.data() + 16, &eperm, 4);
  EXPECT_FALSE(parse_family_reply(enoent));
}

TEST(XdpFeatures, DamagedRepliesAreErrorsNeverReadsPastTheEnd) {
  const std::vector<uint8_t> whole = hex(kVethAlone);
  for (size_t cut = 1; cut < whole.size(); ++cut) {
    bool done = false;
    auto parsed = parse_dev_replies(std::span(whole).first(cut), 0x14, &done);
    // A cut at a message boundary is a shorter, valid reply; anything else an error.
    if (parsed) {
      EXPECT_TRUE(cut == 0x40 || cut == 0x80) << cut;
    }
  }
  std::vector<uint8_t> long_attribute = whole;
  long_attribute[0x14] = 0xff;  // the ifindex attribute's length past its message
  EXPECT_FALSE(parse_dev_replies(long_attribute, 0x14, nullptr));
  EXPECT_FALSE(parse_family_reply({}));
}

TEST(XdpFeatures, NamesInYnlsWordsAndUnknownBits) {
  EXPECT_EQ(xdp_feature_names(0), "none");
  EXPECT_EQ(xdp_feature_names(kXdpBasic | kXdpXskZerocopy), "basic,xsk-zerocopy");
  EXPECT_EQ(xdp_feature_names(uint64_t{1} << 9), "bit9");
}

// The launcher: what the job forces that the driver says it cannot do is not tried; the
// reason names the feature. Auto mode keeps AF_XDP and says what the driver offers.
TEST(XdpFeatures, LauncherDowngradesNamingTheMissingFeature) {
  EnginePlanInput in;
  in.requested = "auto";
  in.verdict = {VerdictInput::Source::kRuntimeEnv, true, "ok"};
  in.held = {true, true, true, true, false};
  in.memlock_bytes = UINT64_MAX;
  in.nic.interface = "eth1";
  in.nic.known = true;
  in.nic.features = kXdpBasic | kXdpRedirect | kXdpRxSg;  // a veth
  EnginePlan plan = plan_engine(in);
  EXPECT_EQ(plan.engine, "af_xdp");
  EXPECT_NE(plan.reason.find("eth1 offers XDP basic,redirect,rx-sg"), std::string::npos)
      << plan.reason;
  EXPECT_NE(plan.reason.find("no zero-copy"), std::string::npos) << plan.reason;

  in.nic.zerocopy = "force";
  plan = plan_engine(in);
  EXPECT_EQ(plan.engine, "af_packet");
  EXPECT_NE(plan.reason.find("eth1 lacks the XDP feature xsk-zerocopy"), std::string::npos)
      << plan.reason;
  in.nic.features |= kXdpXskZerocopy;
  EXPECT_EQ(plan_engine(in).engine, "af_xdp");

  in.nic.zerocopy = "auto";
  in.nic.xdp_mode = "native";
  in.nic.features = kXdpBasic;  // no redirect: native AF_XDP cannot work
  plan = plan_engine(in);
  EXPECT_EQ(plan.engine, "af_packet");
  EXPECT_NE(plan.reason.find("lacks the XDP feature redirect"), std::string::npos) << plan.reason;
  in.nic.xdp_mode = "auto";
  plan = plan_engine(in);
  EXPECT_EQ(plan.engine, "af_xdp");
  EXPECT_NE(plan.reason.find("skb mode"), std::string::npos) << plan.reason;

  in.nic = NicInput{};
  in.nic.problem = "no netdev netlink family (kernel before 6.3): eth1's XDP features unknown";
  plan = plan_engine(in);
  EXPECT_EQ(plan.engine, "af_xdp");  // older kernels keep today's path
  EXPECT_NE(plan.reason.find("before 6.3"), std::string::npos);
}

}  // namespace
}  // namespace anyscan
