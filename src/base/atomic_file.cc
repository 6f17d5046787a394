#include "base/atomic_file.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include "base/write_all.h"

namespace anyscan {

Result<AtomicFileWriter> AtomicFileWriter::lock(const std::string& path) {
  const std::string temp = path + ".tmp";
  UniqueFd fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644));
  if (!fd.valid())
    return make_error(ExitCode::kCantCreate, errno_message("cannot create " + temp, errno));
  if (::flock(fd.get(), LOCK_EX) != 0)
    return make_error(ExitCode::kIoErr, errno_message("locking " + temp, errno));
  return AtomicFileWriter(path, std::move(fd));
}

Result<void> AtomicFileWriter::commit(std::string_view contents, mode_t mode) {
  const std::string temp = path_ + ".tmp";
  if (::ftruncate(temp_.get(), 0) != 0)
    return make_error(ExitCode::kIoErr, errno_message("truncating " + temp, errno));
  if (auto written = write_all(temp_.get(), contents, temp); !written) return written;
  if (::fchmod(temp_.get(), mode) != 0)
    return make_error(ExitCode::kIoErr, errno_message("chmod " + temp, errno));
  if (::fsync(temp_.get()) != 0)
    return make_error(ExitCode::kIoErr, errno_message("fsync " + temp, errno));
  // Tests kill the writer here to show that the old file survives.
  if (const char* pause = std::getenv("ANYSCAN_PROBE_TEST_PAUSE_BEFORE_RENAME_MS"))
    ::usleep(static_cast<useconds_t>(std::atoi(pause)) * 1000);
  if (::rename(temp.c_str(), path_.c_str()) != 0)
    return make_error(ExitCode::kIoErr, errno_message("replacing " + path_, errno));
  const size_t slash = path_.rfind('/');
  const std::string dir =
      slash == std::string::npos ? "." : (slash == 0 ? "/" : path_.substr(0, slash));
  UniqueFd directory(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!directory.valid() || ::fsync(directory.get()) != 0)
    return make_error(ExitCode::kIoErr, errno_message("fsync of directory " + dir, errno));
  return {};
}

Result<void> write_file_atomically(const std::string& path, std::string_view contents,
                                   mode_t mode) {
  auto writer = AtomicFileWriter::lock(path);
  if (!writer) return tl::unexpected(writer.error());
  return writer->commit(contents, mode);
}

}  // namespace anyscan
