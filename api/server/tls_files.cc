#include "tls_files.h"

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <ctime>
#include <fstream>
#include <memory>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "ratchet/base/status.h"

namespace ratchet::server {

namespace {

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct KeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using Bio = std::unique_ptr<BIO, BioFree>;
using Cert = std::unique_ptr<X509, X509Free>;
using Key = std::unique_ptr<EVP_PKEY, KeyFree>;

Bio MemoryBio(const std::string& pem) {
  return Bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

absl::StatusOr<Cert> FirstCertificate(const char* option, const std::string& path,
                                      const std::string& pem) {
  Bio bio = MemoryBio(pem);
  Cert cert(bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!cert) {
    return InvalidArgument(option, absl::StrCat("'", path, "' holds no PEM certificate"));
  }
  return cert;
}

std::string Subject(X509* cert) {
  Bio out(BIO_new(BIO_s_mem()));
  X509_NAME_print_ex(out.get(), X509_get_subject_name(cert), 0, XN_FLAG_ONELINE);
  char* data = nullptr;
  const long n = BIO_get_mem_data(out.get(), &data);
  return n > 0 ? std::string(data, static_cast<size_t>(n)) : std::string();
}

int64_t NotAfter(X509* cert) {
  std::tm tm{};
  if (ASN1_TIME_to_tm(X509_get0_notAfter(cert), &tm) != 1) return 0;
  return static_cast<int64_t>(timegm(&tm));
}

}  // namespace

absl::StatusOr<TlsFiles> ReadTlsFiles(const ServerOptions& o) {
  if (o.tls_cert_file.empty() != o.tls_key_file.empty()) {
    return InvalidArgument("tls_cert_file", "tls_cert_file and tls_key_file go together");
  }
  if (!o.tls_client_ca_file.empty() && o.tls_cert_file.empty()) {
    return InvalidArgument("tls_client_ca_file", "needs tls_cert_file and tls_key_file");
  }
  TlsFiles files;
  for (auto [option, path, out] :
       {std::tuple{"tls_cert_file", &o.tls_cert_file, &files.cert_pem},
        std::tuple{"tls_key_file", &o.tls_key_file, &files.key_pem},
        std::tuple{"tls_client_ca_file", &o.tls_client_ca_file, &files.client_ca_pem}}) {
    if (path->empty()) continue;
    std::ifstream in(*path, std::ios::binary);
    if (!in) return InvalidArgument(option, absl::StrCat("cannot read '", *path, "'"));
    out->resize(kMaxTlsFileBytes + 1);
    in.read(out->data(), static_cast<std::streamsize>(out->size()));
    out->resize(static_cast<size_t>(in.gcount()));
    if (out->size() > kMaxTlsFileBytes) {
      return InvalidArgument(option,
                             absl::StrCat("'", *path, "' is over ", kMaxTlsFileBytes, " bytes"));
    }
  }
  return files;
}

absl::StatusOr<TlsCertificateInfo> CheckTlsFiles(const ServerOptions& o, const TlsFiles& f) {
  if (o.tls_cert_file.empty()) return TlsCertificateInfo{};
  RATCHET_ASSIGN_OR_RETURN(Cert cert,
                           FirstCertificate("tls_cert_file", o.tls_cert_file, f.cert_pem));
  Bio key_bio = MemoryBio(f.key_pem);
  Key key(key_bio ? PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!key) {
    return InvalidArgument("tls_key_file", absl::StrCat("'", o.tls_key_file,
                                                        "' holds no unencrypted PEM private key"));
  }
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    return InvalidArgument("tls_key_file", absl::StrCat("'", o.tls_key_file,
                                                        "' is not the key of the certificate in '",
                                                        o.tls_cert_file, "'"));
  }
  if (!o.tls_client_ca_file.empty()) {
    RATCHET_RETURN_IF_ERROR(
        FirstCertificate("tls_client_ca_file", o.tls_client_ca_file, f.client_ca_pem).status());
  }
  return TlsCertificateInfo{.subject = Subject(cert.get()), .not_after_unix = NotAfter(cert.get())};
}

}  // namespace ratchet::server
