#include "tls_stager.h"

#include <spdlog/spdlog.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"

namespace ratchet::server {

namespace fs = std::filesystem;

namespace {

absl::Status WriteFile(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
  out.close();
  if (!out) return absl::InternalError(absl::StrCat("cannot write '", path, "'"));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<TlsStager>> TlsStager::Create(const ServerOptions& options) {
  RATCHET_ASSIGN_OR_RETURN(TlsFiles files, ReadTlsFiles(options));
  RATCHET_RETURN_IF_ERROR(CheckTlsFiles(options, files).status());
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern =
      absl::StrCat(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp", "/ratchetd-tls-XXXXXX");
  if (mkdtemp(pattern.data()) == nullptr) {  // mode 0700
    return absl::InternalError(absl::StrCat("cannot make a directory like '", pattern, "'"));
  }
  std::unique_ptr<TlsStager> stager(new TlsStager(options, pattern));
  absl::MutexLock lock(&stager->mu_);
  RATCHET_RETURN_IF_ERROR(stager->Publish(files));
  return stager;
}

TlsStager::TlsStager(ServerOptions options, std::string dir)
    : options_(std::move(options)), dir_(std::move(dir)) {}

TlsStager::~TlsStager() {
  std::error_code ignored;
  fs::remove_all(dir_, ignored);
}

std::string TlsStager::cert_path() const { return dir_ + "/current/cert.pem"; }
std::string TlsStager::key_path() const { return dir_ + "/current/key.pem"; }
std::string TlsStager::client_ca_path() const {
  return options_.tls_client_ca_file.empty() ? "" : dir_ + "/current/ca.pem";
}

absl::Status TlsStager::Publish(const TlsFiles& files) {
  const std::string gen = absl::StrCat("gen-", generation_ + 1);
  const std::string gen_dir = absl::StrCat(dir_, "/", gen);
  std::error_code ec;
  fs::remove_all(gen_dir, ec);
  if (!fs::create_directory(gen_dir, ec)) {
    return absl::InternalError(absl::StrCat("cannot make '", gen_dir, "'"));
  }
  const mode_t old_mask = umask(077);
  absl::Status written = WriteFile(gen_dir + "/key.pem", files.key_pem);
  if (written.ok()) written = WriteFile(gen_dir + "/cert.pem", files.cert_pem);
  if (written.ok() && !files.client_ca_pem.empty()) {
    written = WriteFile(gen_dir + "/ca.pem", files.client_ca_pem);
  }
  umask(old_mask);
  RATCHET_RETURN_IF_ERROR(written);
  // Both files change at once: `current` is a symlink renamed over.
  const std::string next = dir_ + "/next";
  fs::remove(next, ec);
  fs::create_directory_symlink(gen, next, ec);
  if (ec || std::rename(next.c_str(), (dir_ + "/current").c_str()) != 0) {
    return absl::InternalError(absl::StrCat("cannot publish '", gen_dir, "'"));
  }
  // The generation before the previous one: gRPC's watcher, which may be
  // reading the previous one, is done with it.
  if (generation_ >= 1) fs::remove_all(absl::StrCat(dir_, "/gen-", generation_ - 1), ec);
  ++generation_;
  published_ = files;
  return absl::OkStatus();
}

absl::StatusOr<TlsStager::Refreshed> TlsStager::Refresh() {
  RATCHET_ASSIGN_OR_RETURN(TlsFiles files, ReadTlsFiles(options_));
  RATCHET_ASSIGN_OR_RETURN(TlsCertificateInfo info, CheckTlsFiles(options_, files));
  absl::MutexLock lock(&mu_);
  if (files == published_) return Refreshed{.changed = false, .info = std::move(info)};
  RATCHET_RETURN_IF_ERROR(Publish(files));
  return Refreshed{.changed = true, .info = std::move(info)};
}

void LogTlsRefresh(const char* event, const absl::StatusOr<TlsStager::Refreshed>& r) {
  if (!r.ok()) {
    spdlog::error("event={}_failed error={:?} message=\"the certificate in use stays\"", event,
                  std::string(r.status().message()));
    return;
  }
  const TlsCertificateInfo& info = r->info;
  const int64_t left_s = info.not_after_unix - static_cast<int64_t>(std::time(nullptr));
  const std::string not_after = absl::FormatTime(
      absl::RFC3339_sec, absl::FromUnixSeconds(info.not_after_unix), absl::UTCTimeZone());
  if (left_s <= 0) {
    spdlog::error(
        "event={} subject={:?} not_after={} changed={} message=\"the certificate has expired\"",
        event, info.subject, not_after, r->changed);
  } else if (left_s < 14 * 24 * 3600) {
    spdlog::warn(
        "event={} subject={:?} not_after={} changed={} message=\"the certificate expires in {} "
        "days\"",
        event, info.subject, not_after, r->changed, left_s / (24 * 3600));
  } else {
    spdlog::info("event={} subject={:?} not_after={} changed={}", event, info.subject, not_after,
                 r->changed);
  }
}

}  // namespace ratchet::server
