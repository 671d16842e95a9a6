#include "auth_file.h"

#include <openssl/evp.h>
#include <toml++/toml.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "ratchet/base/status.h"

namespace ratchet::server::auth {
namespace {

constexpr size_t kMaxNameBytes = 128;

bool IsSha256Hex(std::string_view s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

absl::StatusOr<double> Rate(const toml::table& t, std::string_view key, std::string_view field,
                            double fallback) {
  const toml::node* n = t.get(key);
  if (n == nullptr) return fallback;
  std::optional<double> v;
  if (const auto* i = n->as_integer()) v = static_cast<double>(i->get());
  if (const auto* f = n->as_floating_point()) v = f->get();
  if (!v || !(*v == 0 || *v >= 0.001) || *v > 1e9) {
    return InvalidArgument(std::string(field), "must be 0 or a number in [0.001, 1e9]");
  }
  return *v;
}

absl::StatusOr<std::vector<Grant>> ParseGrants(const toml::table& t, const std::string& at) {
  std::vector<Grant> grants;
  const toml::array* list = t.get_as<toml::array>("grants");
  if (list == nullptr) return grants;  // a principal with no grants may do nothing
  if (list->size() > kMaxGrantsPerPrincipal) {
    return InvalidArgument(at + "grants", absl::StrCat("at most ", kMaxGrantsPerPrincipal));
  }
  for (size_t i = 0; i < list->size(); ++i) {
    const std::string field = absl::StrCat(at, "grants[", i, "].");
    const toml::table* g = (*list)[i].as_table();
    if (g == nullptr) return InvalidArgument(field, "must be a table {role, queues}");
    for (const auto& [key, node] : *g) {
      if (key.str() != "role" && key.str() != "queues") {
        return InvalidArgument(field + std::string(key.str()), "unknown key");
      }
    }
    std::optional<std::string> role_name =
        g->get_as<std::string>("role") ? std::optional(g->get_as<std::string>("role")->get())
                                       : std::nullopt;
    std::optional<Role> role = role_name ? RoleFromName(*role_name) : std::nullopt;
    if (!role) {
      return InvalidArgument(field + "role", "must be producer, worker, operator or admin");
    }
    const auto* queues = g->get_as<std::string>("queues");
    if (queues == nullptr) return InvalidArgument(field + "queues", "is required (a pattern)");
    RATCHET_RETURN_IF_ERROR(ValidatePattern(field + "queues", queues->get()));
    grants.push_back(Grant{*role, queues->get()});
  }
  return grants;
}

absl::StatusOr<PrincipalEntry> ParsePrincipal(const toml::table& t, const std::string& at) {
  static const std::set<std::string_view> kKeys = {
      "name", "token_sha256", "tls_identity", "requests_per_second", "burst", "grants"};
  for (const auto& [key, node] : t) {
    if (kKeys.count(key.str()) == 0) {
      return InvalidArgument(at + std::string(key.str()), "unknown key");
    }
  }
  PrincipalEntry e;
  const auto* name = t.get_as<std::string>("name");
  if (name == nullptr || name->get().empty() || name->get().size() > kMaxNameBytes) {
    return InvalidArgument(at + "name", absl::StrCat("is required, 1..", kMaxNameBytes, " bytes"));
  }
  e.principal.name = name->get();
  if (const toml::node* tokens = t.get("token_sha256")) {
    const toml::array* list = tokens->as_array();
    if (list == nullptr || list->size() > kMaxTokensPerPrincipal) {
      return InvalidArgument(at + "token_sha256", absl::StrCat("must be a list of at most ",
                                                               kMaxTokensPerPrincipal, " hashes"));
    }
    for (size_t i = 0; i < list->size(); ++i) {
      const auto* h = (*list)[i].as_string();
      if (h == nullptr || !IsSha256Hex(h->get())) {
        return InvalidArgument(absl::StrCat(at, "token_sha256[", i, "]"),
                               "must be a SHA-256 as 64 lower-case hex digits (the hash of the "
                               "token, never the token: printf %s TOKEN | sha256sum)");
      }
      e.token_sha256.push_back(h->get());
    }
  }
  if (const toml::node* id = t.get("tls_identity")) {
    if (!id->is_string() || id->as_string()->get().empty() ||
        id->as_string()->get().size() > 1024) {
      return InvalidArgument(at + "tls_identity", "must be 1..1024 bytes");
    }
    e.tls_identity = id->as_string()->get();
  }
  if (e.token_sha256.empty() && e.tls_identity.empty()) {
    return InvalidArgument(at + "token_sha256", "a principal needs a token_sha256 or tls_identity");
  }
  RATCHET_ASSIGN_OR_RETURN(e.principal.requests_per_second,
                           Rate(t, "requests_per_second", at + "requests_per_second", 1000));
  RATCHET_ASSIGN_OR_RETURN(e.principal.burst,
                           Rate(t, "burst", at + "burst", 2 * e.principal.requests_per_second));
  if (e.principal.requests_per_second > 0 && e.principal.burst < 1) {
    return InvalidArgument(at + "burst", "must be at least 1 when requests_per_second > 0");
  }
  RATCHET_ASSIGN_OR_RETURN(e.principal.grants, ParseGrants(t, at));
  return e;
}

}  // namespace

std::string Sha256Hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (EVP_Digest(data.data(), data.size(), digest, &size, EVP_sha256(), nullptr) != 1) {
    return "";  // never equal to a stored hash
  }
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), static_cast<size_t>(size)));
}

absl::StatusOr<std::vector<PrincipalEntry>> ParseAuthFile(std::string_view text,
                                                          std::string_view source) {
  const std::string src(source);
  toml::table table;
  try {
    table = toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    return InvalidArgument("auth_file", absl::StrCat(src, " is not valid TOML: ", e.what()));
  }
  for (const auto& [key, node] : table) {
    if (key.str() != "principal") {
      return InvalidArgument(std::string(key.str()),
                             absl::StrCat("unknown key in ", src, " (expected [[principal]])"));
    }
  }
  std::vector<PrincipalEntry> out;
  const toml::array* list = table.get_as<toml::array>("principal");
  if (list == nullptr) return out;
  if (list->size() > kMaxPrincipals) {
    return InvalidArgument("principal", absl::StrCat("at most ", kMaxPrincipals, " in ", src));
  }
  std::set<std::string> names, hashes, identities;
  for (size_t i = 0; i < list->size(); ++i) {
    const std::string at = absl::StrCat("principal[", i, "].");
    const toml::table* t = (*list)[i].as_table();
    if (t == nullptr) return InvalidArgument(at, "must be a table ([[principal]])");
    RATCHET_ASSIGN_OR_RETURN(PrincipalEntry e, ParsePrincipal(*t, at));
    if (!names.insert(e.principal.name).second) {
      return InvalidArgument(at + "name", absl::StrCat("'", e.principal.name, "' is not unique"));
    }
    for (const std::string& h : e.token_sha256) {
      if (!hashes.insert(h).second) {
        return InvalidArgument(at + "token_sha256", "a hash belongs to another entry too");
      }
    }
    if (!e.tls_identity.empty() && !identities.insert(e.tls_identity).second) {
      return InvalidArgument(at + "tls_identity", "belongs to another principal too");
    }
    out.push_back(std::move(e));
  }
  return out;
}

absl::StatusOr<std::vector<PrincipalEntry>> LoadAuthFile(const std::string& path) {
  if (!std::filesystem::exists(path)) {
    return NotFound(absl::StrCat("auth_file: ", path, " does not exist"));
  }
  std::ifstream in(path, std::ios::binary);
  if (std::filesystem::is_directory(path) || !in) {
    return InvalidArgument("auth_file", absl::StrCat(path, " could not be opened for reading"));
  }
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return InvalidArgument("auth_file", absl::StrCat(path, " could not be read"));
  return ParseAuthFile(text, path);
}

}  // namespace ratchet::server::auth
