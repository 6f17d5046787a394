#include "net/reply.h"

namespace anyscan {

std::string_view classification_name(Classification c) {
  switch (c) {
    case Classification::kSynAck:
      return "synack";
    case Classification::kRst:
      return "rst";
    case Classification::kEchoReply:
      return "echoreply";
    case Classification::kUnreachable:
      return "unreach";
  }
  return "unknown";
}

}  // namespace anyscan
