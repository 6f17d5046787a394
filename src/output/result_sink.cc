#include "output/result_sink.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>

#include "base/unique_fd.h"

namespace anyscan {
namespace {

constexpr size_t kBufferBytes = size_t{1} << 20;
constexpr size_t kBuffers = 8;

struct Buffer {
  std::unique_ptr<char[]> bytes{new char[kBufferBytes]};
  size_t used = 0;
};

// Formatting happens on the caller's thread into the current buffer; full (or submitted)
// buffers queue for the writer thread, which writes them in order and returns them to the
// free list. Offsets count bytes handed over (`submitted_`) and bytes in the file
// (`written_`); a record never straddles two buffers, so every buffer boundary is a record
// boundary.
class FileResultSink final : public ResultSink {
 public:
  // `offset`: bytes already in the file (a resume), else 0 and the header is written first.
  FileResultSink(UniqueFd fd, std::string path, bool json, std::vector<OutputField> fields,
                 uint64_t offset, bool csv_header)
      : fd_(std::move(fd)),
        path_(std::move(path)),
        formatter_(json, std::move(fields), csv_header),
        submitted_(offset),
        written_(offset) {
    for (size_t i = 1; i < kBuffers; ++i) free_.push_back(std::make_unique<Buffer>());
    current_ = std::make_unique<Buffer>();
    if (offset == 0) {
      const std::string header = formatter_.header();
      std::memcpy(current_->bytes.get(), header.data(), header.size());
      current_->used = header.size();
    }
  }

  ~FileResultSink() override {
    (void)flush();
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    wake_writer_.notify_one();
    if (writer_.joinable()) writer_.join();
  }

  Result<void> write(const ResultRecord& record) override {
    if (kBufferBytes - current_->used < RecordFormatter::kMaxRecordBytes) {
      if (auto handed = hand_over(); !handed) return handed;
    }
    current_->used += formatter_.format(record, current_->bytes.get() + current_->used);
    return {};
  }

  uint64_t submit() override {
    if (current_->used != 0) (void)hand_over();  // an error shows in wait_written()
    std::lock_guard<std::mutex> lock(mutex_);
    return submitted_;
  }

  Result<void> wait_written(uint64_t offset, bool durable) override {
    std::unique_lock<std::mutex> lock(mutex_);
    progress_.wait(lock, [&] { return written_ >= offset || !error_.empty(); });
    if (!error_.empty()) return make_error(ExitCode::kIoErr, error_);
    lock.unlock();
    if (durable && ::fdatasync(fd_.get()) != 0 && errno != EINVAL)  // EINVAL: a pipe
      return fail(errno_message("syncing results to " + path_, errno));
    return {};
  }

  Result<void> health() const override {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!error_.empty()) return make_error(ExitCode::kIoErr, error_);
    return {};
  }

  uint64_t stalls() const override {
    std::lock_guard<std::mutex> lock(mutex_);
    return stalls_;
  }

 private:
  // Queues the current buffer and takes a free one (waiting for the writer if none is).
  Result<void> hand_over() {
    // The writer thread starts with the first hand-over, not at open: a scan opens its
    // files during setup and gives up its privileges after, and the kernel keeps
    // capabilities and ids per thread, so no thread may exist before then.
    std::call_once(writer_started_, [this] { start_writer(); });
    std::unique_lock<std::mutex> lock(mutex_);
    if (!error_.empty()) return make_error(ExitCode::kIoErr, error_);
    submitted_ += current_->used;
    queue_.push_back(std::move(current_));
    wake_writer_.notify_one();
    if (free_.empty()) {
      ++stalls_;
      progress_.wait(lock, [&] { return !free_.empty() || !error_.empty(); });
      if (!error_.empty()) return make_error(ExitCode::kIoErr, error_);
    }
    current_ = std::move(free_.back());
    free_.pop_back();
    current_->used = 0;
    return {};
  }

  Result<void> fail(std::string message) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (error_.empty()) error_ = std::move(message);
    progress_.notify_all();
    return make_error(ExitCode::kIoErr, error_);
  }

  // The writer blocks every signal: SIGINT/SIGTERM belong to the thread that waits for them.
  void start_writer() {
    sigset_t all, previous;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &previous);
    writer_ = std::thread([this] {
      ::pthread_setname_np(::pthread_self(), "anyscan-write");
      write_loop();
    });
    pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  }

  void write_loop() {
    std::unique_lock<std::mutex> lock(mutex_);
    while (true) {
      wake_writer_.wait(lock, [&] { return !queue_.empty() || stopping_; });
      if (queue_.empty()) return;
      std::unique_ptr<Buffer> buffer = std::move(queue_.front());
      queue_.pop_front();
      const bool failed = !error_.empty();
      lock.unlock();
      std::string error = failed ? std::string() : write_out(*buffer);
      lock.lock();
      if (!error.empty() && error_.empty()) error_ = std::move(error);
      if (error_.empty()) written_ += buffer->used;
      free_.push_back(std::move(buffer));
      progress_.notify_all();
    }
  }

  // Empty on success, else what failed.
  std::string write_out(const Buffer& buffer) {
    size_t done = 0;
    while (done < buffer.used) {
      const ssize_t n = ::write(fd_.get(), buffer.bytes.get() + done, buffer.used - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return errno_message("writing results to " + path_, errno);
      done += static_cast<size_t>(n);
    }
    return {};
  }

  UniqueFd fd_;  // for stdout, a duplicate: closing it leaves stdout open
  std::string path_;
  RecordFormatter formatter_;        // caller's thread only
  std::unique_ptr<Buffer> current_;  // caller's thread only
  mutable std::mutex mutex_;         // guards everything below
  std::condition_variable wake_writer_, progress_;
  std::deque<std::unique_ptr<Buffer>> queue_;
  std::vector<std::unique_ptr<Buffer>> free_;
  uint64_t submitted_ = 0, written_ = 0, stalls_ = 0;
  std::string error_;  // the first failure; nothing is written after it
  bool stopping_ = false;
  std::once_flag writer_started_;
  std::thread writer_;  // last: started once everything above exists
};

}  // namespace

Result<std::unique_ptr<ResultSink>> open_result_sink(const std::string& path, bool json,
                                                     const std::vector<OutputField>& fields,
                                                     std::optional<uint64_t> resume_offset,
                                                     bool csv_header) {
  if (path == "-") {
    UniqueFd fd(::fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 0));
    if (!fd.valid()) return make_error(ExitCode::kCantCreate, errno_message("stdout", errno));
    return std::unique_ptr<ResultSink>(
        new FileResultSink(std::move(fd), "stdout", json, fields, 0, csv_header));
  }
  // Not O_TRUNC: the file is cut only once it is open, to 0 or to the resume offset.
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
  if (!fd.valid())
    return make_error(ExitCode::kCantCreate,
                      errno_message("cannot create output file " + path, errno));
  const uint64_t offset = resume_offset.value_or(0);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0)
    return make_error(ExitCode::kIoErr, errno_message("stat " + path, errno));
  if (S_ISREG(st.st_mode)) {
    // One run per results file: a second (a unit restarted while the first still runs, a
    // resume racing a scan) would interleave records and cut what the first wrote.
    if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0)
      return make_error(
          errno == EWOULDBLOCK ? ExitCode::kTempFail : ExitCode::kIoErr,
          errno_message("results file " + path + " is in use by another anyscan run", errno));
    if (static_cast<uint64_t>(st.st_size) < offset)
      return make_error(ExitCode::kDataErr,
                        "results file " + path + " has " + std::to_string(st.st_size) +
                            " bytes, fewer than the checkpoint records (" + std::to_string(offset) +
                            "): it was cut or replaced");
    if (::ftruncate(fd.get(), static_cast<off_t>(offset)) != 0 ||
        ::lseek(fd.get(), static_cast<off_t>(offset), SEEK_SET) < 0)
      return make_error(ExitCode::kIoErr, errno_message("cutting " + path, errno));
  } else if (offset != 0) {
    return make_error(ExitCode::kDataErr, "results file " + path + " is not a regular file");
  }
  return std::unique_ptr<ResultSink>(
      new FileResultSink(std::move(fd), path, json, fields, offset, csv_header));
}

}  // namespace anyscan
