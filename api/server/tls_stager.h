// TlsStager: the copies of ratchetd's TLS files that gRPC serves from
// (docs/operations.md, "TLS").
//
// gRPC 1.51's FileWatcherCertificateProvider takes whatever the files hold
// when it polls: a key that does not belong to the certificate, or a new
// key read before its new certificate, and every handshake fails until a
// later poll. So gRPC never watches the operator's files. The stager reads
// them, checks them with OpenSSL (tls_files.h) and only then publishes all
// of them at once into a private directory: `gen-N/` is written, and the
// symlink `current` is renamed over to point at it. gRPC watches
// `current/*` every second. A bad replacement is refused (and logged) and
// the published files keep serving.
//
// The operator's files are re-read on Refresh: on SIGHUP and every
// tls_reload_interval (Server runs both).
//
// Thread safety: all methods are thread-safe.
#ifndef RATCHET_API_SERVER_TLS_STAGER_H_
#define RATCHET_API_SERVER_TLS_STAGER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "server.h"
#include "tls_files.h"

namespace ratchet::server {

class TlsStager {
 public:
  // Makes a private directory (mode 0700) under $TMPDIR, else /tmp, and
  // publishes the options' TLS files (options.tls_cert_file must be set).
  // Errors: those of ReadTlsFiles and CheckTlsFiles; INTERNAL if the
  // directory or a file cannot be written.
  static absl::StatusOr<std::unique_ptr<TlsStager>> Create(const ServerOptions& options);
  // Removes the directory.
  ~TlsStager();
  TlsStager(const TlsStager&) = delete;
  TlsStager& operator=(const TlsStager&) = delete;

  // The published files, for gRPC's watcher ("" for an unset CA).
  std::string cert_path() const;
  std::string key_path() const;
  std::string client_ca_path() const;

  struct Refreshed {
    bool changed = false;  // new files were published
    TlsCertificateInfo info;
  };
  // Re-reads the operator's files; publishes them if they changed and are
  // valid. Errors: those of ReadTlsFiles and CheckTlsFiles (nothing is
  // published), INTERNAL for a failed write (the previous files stay).
  absl::StatusOr<Refreshed> Refresh();

 private:
  TlsStager(ServerOptions options, std::string dir);
  absl::Status Publish(const TlsFiles& files) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const ServerOptions options_;
  const std::string dir_;
  absl::Mutex mu_;
  TlsFiles published_ ABSL_GUARDED_BY(mu_);
  int generation_ ABSL_GUARDED_BY(mu_) = 0;
};

// Logs a Refresh: `event` (tls_loaded, tls_checked, tls_reloaded) with the
// certificate's subject and expiry (a warning within 14 days of it, an
// error past it), or `event`_failed with the error.
void LogTlsRefresh(const char* event, const absl::StatusOr<TlsStager::Refreshed>& r);

}  // namespace ratchet::server

#endif  // RATCHET_API_SERVER_TLS_STAGER_H_
