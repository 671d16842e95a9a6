#include "static_files.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace ratchet::server::http {

namespace {

bool SafePath(absl::string_view path) {
  if (path.empty() || path.size() > 256 || path.front() == '/' || path.front() == '.') {
    return false;
  }
  if (absl::StrContains(path, "..") || absl::StrContains(path, "//")) return false;
  for (char c : path) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-' || c == '/';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

std::string StaticFiles::ContentTypeOf(absl::string_view path) {
  struct Type {
    const char* ext;
    const char* type;
  };
  static constexpr Type kTypes[] = {
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".json", "application/json"},
      {".txt", "text/plain; charset=utf-8"},
      {".ico", "image/x-icon"},
  };
  for (const Type& t : kTypes) {
    if (absl::EndsWith(path, t.ext)) return t.type;
  }
  return "application/octet-stream";
}

std::optional<StaticFile> StaticFiles::Get(absl::string_view path) const {
  if (!SafePath(path)) return std::nullopt;
  if (!dev_dir_.empty()) {
    // Only regular files inside the directory: no symlink out of it, no
    // directory, FIFO or device.
    std::error_code ec;
    const std::filesystem::path root = std::filesystem::canonical(dev_dir_, ec);
    if (ec) return std::nullopt;
    const std::filesystem::path file = std::filesystem::canonical(root / std::string(path), ec);
    if (ec || !std::filesystem::is_regular_file(file, ec) ||
        !absl::StartsWith(file.string(), root.string() + "/")) {
      return std::nullopt;
    }
    std::ifstream in(file, std::ios::binary);
    if (!in) return std::nullopt;
    std::ostringstream body;
    body << in.rdbuf();
    return StaticFile{body.str(), ContentTypeOf(path)};
  }
  for (const EmbeddedFile* f = kEmbeddedFiles; f->path != nullptr; ++f) {
    if (path == f->path) {
      return StaticFile{std::string(reinterpret_cast<const char*>(f->data), f->size),
                        ContentTypeOf(path)};
    }
  }
  return std::nullopt;
}

}  // namespace ratchet::server::http
