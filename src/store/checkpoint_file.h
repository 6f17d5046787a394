#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"
#include "base/unique_fd.h"
#include "store/checkpoint.h"

namespace anyscan {

// The checkpoint file holds two slots of kCheckpointSlotBytes; the record with sequence S
// sits in slot S % 2, ended by a NUL. A write overwrites the older slot in place (pwrite,
// then fdatasync), so a crash or power loss at any moment leaves the newer record intact,
// and writing needs no access to the directory: the file is opened during setup, before
// the scan gives up its privileges and its user (anyscan(8), SECURITY).
inline constexpr size_t kCheckpointSlotBytes = 64 * 1024;

// The newest slot holding a valid record. A version-1 file (one record, no slots, written
// by anyscan 0.1) is sequence 0. kDataErr when no slot holds one: the newest slot's error.
Result<Checkpoint> parse_checkpoint_file(std::string_view bytes);

// The checkpoint at `path`, or nullopt when there is no such file. Errors: kDataErr
// "checkpoint PATH is damaged: why", or the file's own error (unreadable, too large).
Result<std::optional<Checkpoint>> read_checkpoint(const std::string& path);

// The open checkpoint a run writes, locked against a second writer for as long as it lives.
class CheckpointFile {
 public:
  // A new scan (`saved` empty): PATH is replaced atomically by a file holding `first` as
  // sequence 0. A resume: PATH (whose newest record is `saved`) is opened and `first` written
  // as the next record. kTempFail when another scan holds PATH.
  static Result<CheckpointFile> open(const std::string& path, Checkpoint& first,
                                     const std::optional<Checkpoint>& saved);

  // Writes `record` as the next sequence number into the older slot and syncs it (kIoErr).
  Result<void> write(Checkpoint& record);

  const std::string& path() const { return path_; }

 private:
  CheckpointFile(std::string path, UniqueFd fd) : path_(std::move(path)), fd_(std::move(fd)) {}

  std::string path_;
  UniqueFd fd_;
  uint64_t next_sequence_ = 0;
};

}  // namespace anyscan
