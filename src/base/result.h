#pragma once

#include <string>
#include <tl/expected.hpp>
#include <utility>

#include "base/exit_code.h"

namespace anyscan {

// An expected failure: what the process would exit with, and one line for the user that
// names the input or step and what is wrong ("bind af_packet on veth0: No such device").
struct Error {
  ExitCode code = ExitCode::kSoftware;
  std::string message;
};

// tl::expected until GCC >= 13 gives std::expected with its monadic members.
template <class T>
using Result = tl::expected<T, Error>;

inline tl::unexpected<Error> make_error(ExitCode code, std::string message) {
  return tl::unexpected<Error>(Error{code, std::move(message)});
}

// "context: strerror(err)" for a failed system call.
std::string errno_message(const std::string& context, int err);

// Same error with more context in front: "reading -I targets.txt: line 3: ...".
inline Error with_context(Error error, const std::string& context) {
  error.message = context + ": " + error.message;
  return error;
}

}  // namespace anyscan
