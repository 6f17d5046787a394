#include "store/checkpoint_file.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "base/atomic_file.h"
#include "base/env_file.h"

namespace anyscan {
namespace {

// A slot's record: its bytes up to the NUL that ends it (a slot never written is empty).
std::string_view slot_text(std::string_view bytes, size_t slot) {
  if (bytes.size() <= slot * kCheckpointSlotBytes) return {};
  std::string_view text = bytes.substr(slot * kCheckpointSlotBytes, kCheckpointSlotBytes);
  return text.substr(0, text.find('\0'));
}

std::string slot_bytes(const Checkpoint& record) {
  std::string bytes = format_checkpoint(record);
  bytes.push_back('\0');
  return bytes;
}

Result<UniqueFd> open_locked(const std::string& path, int flags) {
  UniqueFd fd(::open(path.c_str(), flags | O_CLOEXEC | O_NOFOLLOW));
  if (!fd.valid())
    return make_error(ExitCode::kCantCreate,
                      errno_message("--checkpoint-file: opening " + path, errno));
  if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0)
    return make_error(errno == EWOULDBLOCK ? ExitCode::kTempFail : ExitCode::kIoErr,
                      errno == EWOULDBLOCK
                          ? "checkpoint " + path + " is in use by another running scan"
                          : errno_message("locking checkpoint " + path, errno));
  return fd;
}

}  // namespace

Result<Checkpoint> parse_checkpoint_file(std::string_view bytes) {
  if (bytes.size() > 2 * kCheckpointSlotBytes)
    return make_error(ExitCode::kDataErr, "larger than two slots of " +
                                              std::to_string(kCheckpointSlotBytes) + " bytes");
  std::optional<Checkpoint> newest;
  std::optional<Error> newest_error;
  for (size_t slot = 0; slot < 2; ++slot) {
    const std::string_view text = slot_text(bytes, slot);
    if (text.empty()) continue;
    auto record = parse_checkpoint(text);
    if (record && record->sequence % 2 != slot)
      record = make_error(ExitCode::kDataErr, "sequence " + std::to_string(record->sequence) +
                                                  " in slot " + std::to_string(slot));
    if (!record) {
      newest_error = record.error();
      continue;
    }
    if (!newest || record->sequence > newest->sequence) newest = std::move(*record);
  }
  if (newest) return std::move(*newest);
  if (newest_error) return tl::unexpected(*newest_error);
  return make_error(ExitCode::kDataErr, "empty (no record in either slot)");
}

Result<std::optional<Checkpoint>> read_checkpoint(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 && errno == ENOENT) return std::optional<Checkpoint>();
  auto bytes = read_small_file(path, 2 * kCheckpointSlotBytes);
  if (!bytes) return tl::unexpected(with_context(bytes.error(), "--checkpoint-file"));
  auto parsed = parse_checkpoint_file(*bytes);
  if (!parsed)
    return make_error(ExitCode::kDataErr,
                      "checkpoint " + path + " is damaged: " + parsed.error().message);
  return std::optional<Checkpoint>(std::move(*parsed));
}

Result<CheckpointFile> CheckpointFile::open(const std::string& path, Checkpoint& first,
                                            const std::optional<Checkpoint>& saved) {
  if (saved) {
    auto fd = open_locked(path, O_RDWR);
    if (!fd) return tl::unexpected(fd.error());
    CheckpointFile file(path, std::move(*fd));
    file.next_sequence_ = saved->sequence + 1;
    if (auto written = file.write(first); !written) return tl::unexpected(written.error());
    return file;
  }
  // A scan still holding the old file keeps it: refuse before replacing it under that scan.
  std::optional<UniqueFd> old;
  if (::access(path.c_str(), F_OK) == 0) {
    auto held = open_locked(path, O_RDONLY);
    if (!held) return tl::unexpected(held.error());
    old = std::move(*held);
  }
  first.sequence = 0;
  if (auto created = write_file_atomically(path, slot_bytes(first), 0600); !created)
    return tl::unexpected(with_context(created.error(), "--checkpoint-file"));
  auto fd = open_locked(path, O_RDWR);
  if (!fd) return tl::unexpected(fd.error());
  CheckpointFile file(path, std::move(*fd));
  file.next_sequence_ = 1;
  return file;
}

Result<void> CheckpointFile::write(Checkpoint& record) {
  record.sequence = next_sequence_;
  const std::string bytes = slot_bytes(record);
  if (bytes.size() > kCheckpointSlotBytes)
    return make_error(ExitCode::kSoftware, "checkpoint record of " + std::to_string(bytes.size()) +
                                               " bytes does not fit a slot");
  const off_t at = static_cast<off_t>((record.sequence % 2) * kCheckpointSlotBytes);
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::pwrite(fd_.get(), bytes.data() + done, bytes.size() - done,
                               at + static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return make_error(ExitCode::kIoErr, errno_message("writing " + path_, errno));
    done += static_cast<size_t>(n);
  }
  if (::fdatasync(fd_.get()) != 0)
    return make_error(ExitCode::kIoErr, errno_message("fdatasync " + path_, errno));
  ++next_sequence_;
  return {};
}

}  // namespace anyscan
