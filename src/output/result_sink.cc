#include "output/result_sink.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>

#include "base/unique_fd.h"
#include "net/ipv4_address.h"

namespace anyscan {
namespace {

void append_field(std::string& out, const ResultRecord& r, OutputField field, bool json) {
  char buffer[40];
  auto quoted = [&](const std::string& s) { out += json ? "\"" + s + "\"" : s; };
  switch (field) {
    case OutputField::kSaddr:
      format_ipv4(Ipv4Address{r.reply.saddr}, buffer);
      quoted(buffer);
      break;
    case OutputField::kDaddr:
      format_ipv4(Ipv4Address{r.reply.daddr}, buffer);
      quoted(buffer);
      break;
    case OutputField::kSport:
      out += std::to_string(r.reply.sport);
      break;
    case OutputField::kDport:
      out += std::to_string(r.reply.dport);
      break;
    case OutputField::kSeqnum:
      out += std::to_string(r.reply.seq);
      break;
    case OutputField::kAcknum:
      out += std::to_string(r.reply.ack);
      break;
    case OutputField::kWindow:
      out += std::to_string(r.reply.window);
      break;
    case OutputField::kClassification:
      quoted(std::string(classification_name(r.reply.classification)));
      break;
    case OutputField::kSuccess:
      out += json ? (classification_success(r.reply.classification) ? "true" : "false")
                  : (classification_success(r.reply.classification) ? "1" : "0");
      break;
    case OutputField::kTtl:
      out += std::to_string(r.reply.ttl);
      break;
    case OutputField::kTimestamp:
      quoted(format_timestamp(r.time_s, r.time_us));
      break;
    case OutputField::kTimestampTs:
      out += std::to_string(r.time_s);
      break;
    case OutputField::kTimestampUs:
      out += std::to_string(r.time_us);
      break;
  }
}

class FileResultSink final : public ResultSink {
 public:
  FileResultSink(UniqueFd fd, bool json, std::vector<OutputField> fields)
      : fd_(std::move(fd)), json_(json), fields_(std::move(fields)) {
    buffer_.reserve(kFlushBytes * 2);
    if (!json_) buffer_ = csv_header(fields_) + "\n";
  }
  ~FileResultSink() override { (void)flush(); }
  Result<void> write(const ResultRecord& record) override {
    buffer_ += format_record(record, json_, fields_);
    buffer_ += '\n';
    if (buffer_.size() >= kFlushBytes) return flush();
    return {};
  }
  Result<void> flush() override {
    size_t done = 0;
    while (done < buffer_.size()) {
      const ssize_t n = ::write(fd_.get(), buffer_.data() + done, buffer_.size() - done);
      if (n < 0) {
        if (errno == EINTR) continue;
        const int err = errno;
        buffer_.erase(0, done);
        return make_error(ExitCode::kIoErr, errno_message("writing results", err));
      }
      done += static_cast<size_t>(n);
    }
    buffer_.clear();
    return {};
  }

 private:
  static constexpr size_t kFlushBytes = 1 << 16;
  UniqueFd fd_;  // for stdout, a duplicate: closing it leaves stdout open
  bool json_;
  std::vector<OutputField> fields_;
  std::string buffer_;
};

}  // namespace

std::string format_timestamp(int64_t time_s, int32_t time_us) {
  const time_t t = static_cast<time_t>(time_s);
  tm utc{};
  ::gmtime_r(&t, &utc);
  char buffer[96];
  std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", utc.tm_year + 1900,
                utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, time_us);
  return buffer;
}

std::string csv_header(const std::vector<OutputField>& fields) {
  std::string header;
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i) header += ',';
    header += output_field_name(fields[i]);
  }
  return header;
}

std::string format_record(const ResultRecord& record, bool json,
                          const std::vector<OutputField>& fields) {
  std::string out;
  if (json) out += '{';
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i) out += ',';
    if (json) out += "\"" + std::string(output_field_name(fields[i])) + "\":";
    append_field(out, record, fields[i], json);
  }
  if (json) out += '}';
  return out;
}

std::string json_escape(const std::string& text) {
  std::string out;
  for (unsigned char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (c < 0x20) {
          char buffer[8];
          std::snprintf(buffer, sizeof buffer, "\\u%04x", c);
          out += buffer;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out;
}

Result<std::unique_ptr<ResultSink>> open_result_sink(const std::string& path, bool json,
                                                     const std::vector<OutputField>& fields) {
  UniqueFd fd(path == "-" ? ::fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 0)
                          : ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!fd.valid())
    return make_error(ExitCode::kCantCreate,
                      errno_message("cannot create output file " + path, errno));
  return std::unique_ptr<ResultSink>(new FileResultSink(std::move(fd), json, fields));
}

}  // namespace anyscan
