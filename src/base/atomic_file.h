#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

#include "base/result.h"
#include "base/unique_fd.h"

namespace anyscan {

// Replaces a file so that a crash at any moment leaves either the old or the new file:
// PATH.tmp is created and locked (one writer at a time: a reader-modify-writer holds the
// lock across its read), written, fsynced, renamed over PATH, and the directory fsynced.
class AtomicFileWriter {
 public:
  // Creates and locks PATH.tmp (kCantCreate / kIoErr).
  static Result<AtomicFileWriter> lock(const std::string& path);

  // Writes contents as the new PATH with the given mode (kIoErr on failure).
  Result<void> commit(std::string_view contents, mode_t mode);

 private:
  AtomicFileWriter(std::string path, UniqueFd temp)
      : path_(std::move(path)), temp_(std::move(temp)) {}

  std::string path_;
  UniqueFd temp_;  // PATH.tmp, locked: the lock and the new contents are the same file
};

// lock() + commit() for a writer that does not read the old contents first.
Result<void> write_file_atomically(const std::string& path, std::string_view contents,
                                   mode_t mode = 0644);

}  // namespace anyscan
