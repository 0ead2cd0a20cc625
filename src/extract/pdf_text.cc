// PDF text through poppler-utils' `pdftotext`, run as a separate process so that the GPL poppler
// library is never linked into kinship. The program is started with posix_spawnp and an argument
// vector (no shell, so no quoting or injection issues); the PDF is written to a private temporary
// file (mkstemp, mode 0600) because pdftotext needs a seekable input; text comes back on a pipe.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"
#include "extract/document_internal.h"
#include "kinship/limits.h"
#include "kinship/status.h"

extern char** environ;

namespace kinship::extract::internal {
namespace {

// A PDF that takes pdftotext longer than this is hostile (decompression bombs, pathological
// fonts); real reports convert in well under a second per page.
constexpr int kPdfTimeoutSeconds = 60;

struct TempFile {
  std::string path;
  ~TempFile() {
    if (!path.empty()) unlink(path.c_str());
  }
};

absl::Status WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return absl::InternalError(absl::StrCat("writing temporary PDF: ", std::strerror(errno)));
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> PdfToText(std::string_view pdf, std::string_view file_name) {
  const char* tmpdir = std::getenv("TMPDIR");
  TempFile tmp;
  tmp.path =
      absl::StrCat(tmpdir != nullptr && *tmpdir != '\0' ? tmpdir : "/tmp", "/kinship-pdf-XXXXXX");
  int fd = mkstemp(tmp.path.data());
  if (fd < 0) {
    tmp.path.clear();
    return absl::InternalError(absl::StrCat("mkstemp: ", std::strerror(errno)));
  }
  absl::Status w = WriteAll(fd, pdf);
  close(fd);
  if (!w.ok()) return w;

  int out_pipe[2], err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0) return absl::InternalError("pipe failed");
  if (pipe2(err_pipe, O_CLOEXEC) != 0) {
    close(out_pipe[0]);
    close(out_pipe[1]);
    return absl::InternalError("pipe failed");
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, err_pipe[1], STDERR_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  std::string a0 = "pdftotext", a1 = "-layout", a2 = "-enc", a3 = "UTF-8", a5 = "-";
  char* argv[] = {a0.data(), a1.data(), a2.data(), a3.data(), tmp.path.data(), a5.data(), nullptr};
  pid_t pid = -1;
  int rc = posix_spawnp(&pid, "pdftotext", &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  close(out_pipe[1]);
  close(err_pipe[1]);
  if (rc != 0) {
    close(out_pipe[0]);
    close(err_pipe[0]);
    return absl::FailedPreconditionError(absl::StrCat(
        AV(file_name), ": cannot run pdftotext (install poppler-utils): ", std::strerror(rc)));
  }

  std::string text, err;
  bool too_big = false, timed_out = false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(kPdfTimeoutSeconds);
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  int open_fds = 2;
  char buf[65536];
  while (open_fds > 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline - std::chrono::steady_clock::now())
                    .count();
    if (left <= 0) {
      timed_out = true;
      break;
    }
    int n = poll(fds, 2, static_cast<int>(left));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) continue;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
      ssize_t r = read(fds[i].fd, buf, sizeof buf);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
        continue;
      }
      std::string& into = i == 0 ? text : err;
      if (into.size() + static_cast<size_t>(r) > limits::kMaxInputFileBytes) {
        too_big = true;
      } else {
        into.append(buf, static_cast<size_t>(r));
      }
    }
    if (too_big) break;
  }
  for (pollfd& p : fds) {
    if (p.fd >= 0) close(p.fd);
  }
  if (timed_out || too_big) kill(pid, SIGKILL);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (timed_out) {
    return absl::DeadlineExceededError(
        absl::StrCat(AV(file_name), ": pdftotext ran longer than ", kPdfTimeoutSeconds, " s"));
  }
  if (too_big) {
    return absl::ResourceExhaustedError(
        absl::StrCat(AV(file_name), ": PDF text is larger than kMaxInputFileBytes"));
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
      return absl::FailedPreconditionError(
          absl::StrCat(AV(file_name), ": cannot run pdftotext (install poppler-utils)"));
    }
    std::string first = err.substr(0, err.find('\n'));
    return absl::InvalidArgumentError(absl::StrCat(
        AV(file_name), ": not a readable PDF (pdftotext: ", first.empty() ? "failed" : first, ")"));
  }
  return text;
}

}  // namespace kinship::extract::internal
