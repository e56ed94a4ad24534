#pragma once
// Where a file output (--report, --textfile, anything a sink writes by path) really goes. The
// destination is decided by one function, so every output treats `-`, symlinks and devices the
// same way, and the same function checks the outputs before an audit starts:
//
//  - "-", or a path that names this process's stdout or stderr (/dev/stdout, /proc/self/fd/1, a
//    symlink to the terminal or pipe stdout is): written to the stream; the path is never
//    replaced, so /dev/stdout stays a symlink.
//  - a symlink: the file it points to, replaced atomically in that file's directory; the link
//    itself is kept.
//  - a regular file or a new name: that file, replaced atomically (sinks/atomic_file.h).
//  - a directory, device, FIFO or socket that is not one of the streams: refused.
#include <optional>
#include <string>

namespace ttla {

struct OutputDestination {
  int stream_fd = -1;  // 1 or 2 when the output goes to that stream; -1 for a file
  std::string path;    // the file to replace (symlinks followed); empty for a stream
  bool is_stream() const { return stream_fd >= 0; }
  // "stdout", "stderr" or the file path: what "written to ..." lines show.
  std::string describe() const;
};

// Throws ttla::Error(kConfig) naming `path` when it can never be an output (directory, device,
// FIFO, socket, symlink loop).
OutputDestination resolve_output(const std::string& path);

// Why `path` cannot be written, or nullopt when it can: it resolves (above), and the directory it
// lands in is writable (or, when missing, its nearest existing ancestor is: write_output creates it). Cheap and side-effect free: called before the audit starts.
std::optional<std::string> output_problem(const std::string& path);

// The same for an output directory that is created when missing (--report-dir): it is a directory
// we can write into, or its nearest existing ancestor is.
std::optional<std::string> output_dir_problem(const std::string& dir);

// Writes `content` where `path` resolves to, creating a missing parent directory. Returns the
// destination written. Throws
// ttla::Error(kConfig) for a refused destination and ttla::Error(kIo) for a failed write.
OutputDestination write_output(const std::string& path, const std::string& content);

}  // namespace ttla
