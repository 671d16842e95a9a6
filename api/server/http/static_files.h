// StaticFiles: the dashboard's assets (api/server/dashboard/assets),
// compiled into ratchetd by cmake/EmbedFiles.cmake so that it serves them
// with no file system access and no CDN. For front-end development only,
// the environment variable RATCHET_DASHBOARD_DIR makes ratchetd read them
// from that directory instead, at every request.
//
// Thread safety: immutable after construction; safe from any thread.
#ifndef RATCHET_API_SERVER_HTTP_STATIC_FILES_H_
#define RATCHET_API_SERVER_HTTP_STATIC_FILES_H_

#include <cstddef>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace ratchet::server::http {

struct EmbeddedFile {
  const char* path;  // relative to the assets directory; null ends the table
  const unsigned char* data;
  size_t size;
};
// The generated table (dashboard_assets.cc).
extern const EmbeddedFile kEmbeddedFiles[];

struct StaticFile {
  std::string body;
  std::string content_type;
};

class StaticFiles {
 public:
  // `dev_dir` "": the embedded files; else that directory's.
  explicit StaticFiles(std::string dev_dir) : dev_dir_(std::move(dev_dir)) {}

  // The file at `path` (relative, e.g. "index.html", "pages/job.js"), or
  // nullopt: none, or a path outside the assets ("..", absolute, or bytes
  // other than [A-Za-z0-9._/-]).
  std::optional<StaticFile> Get(absl::string_view path) const;

  // The content type served for a file name (by its extension).
  static std::string ContentTypeOf(absl::string_view path);

 private:
  const std::string dev_dir_;
};

}  // namespace ratchet::server::http

#endif  // RATCHET_API_SERVER_HTTP_STATIC_FILES_H_
