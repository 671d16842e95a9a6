#include "server.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "absl/strings/str_cat.h"
#include "admin_service.h"
#include "auth/authenticator.h"
#include "grpc_metrics.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/security/tls_certificate_provider.h"
#include "grpcpp/security/tls_credentials_options.h"
#include "job_service.h"
#include "queue_service.h"
#include "ratchet/base/status.h"
#include "schedule_service.h"
#include "service_context.h"
#include "tls_stager.h"
#include "worker_service.h"
#include "workflow_service.h"

namespace ratchet::server {

namespace {
// The leased jobs' share of a message of `max_message_bytes`: all but 64 KiB
// (or a quarter of small limits) for the response's own framing.
size_t LeaseBytesFor(int max_message_bytes) {
  const size_t limit = static_cast<size_t>(max_message_bytes);
  return limit - std::min<size_t>(64 << 10, limit / 4);
}

// Plaintext, or TLS from the stager's published files (watched every
// second), with client certificates required and verified when a client CA
// is given.
std::shared_ptr<grpc::ServerCredentials> Credentials(const ServerOptions& o,
                                                     const TlsStager* stager) {
  if (stager == nullptr) return grpc::InsecureServerCredentials();
  auto provider = std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
      stager->key_path(), stager->cert_path(), stager->client_ca_path(), 1);
  grpc::experimental::TlsServerCredentialsOptions tls(provider);
  tls.watch_identity_key_cert_pairs();
  if (!o.tls_client_ca_file.empty()) {
    tls.watch_root_certs();
    tls.set_cert_request_type(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  } else {
    tls.set_cert_request_type(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  }
  return grpc::experimental::TlsServerCredentials(tls);
}

}  // namespace

class Server::Impl {
 public:
  Impl(const ServerOptions& options, Engine* engine,
       std::shared_ptr<auth::Authenticator> authenticator)
      : authenticator_(authenticator),
        context_(engine,
                 ServiceLimits{.call_timeout = options.call_timeout,
                               .max_lease_wait = options.max_lease_wait,
                               .max_lease_bytes = LeaseBytesFor(options.max_message_bytes),
                               .max_batch_items = engine->options().max_lease_jobs},
                 options.blocking_threads, std::move(authenticator)),
        jobs_(&context_),
        workers_(&context_),
        queues_(&context_),
        workflows_(&context_),
        schedules_(&context_),
        admin_(&context_) {}

  absl::Status Start(const ServerOptions& options) {
    if (!options.tls_cert_file.empty()) {
      RATCHET_ASSIGN_OR_RETURN(tls_, TlsStager::Create(options));
      LogTlsRefresh("tls_loaded", tls_->Refresh());
      tls_poller_ = std::thread([this, every = options.tls_reload_interval] { PollTls(every); });
    }
    grpc::EnableDefaultHealthCheckService(true);
    grpc::reflection::InitProtoReflectionServerBuilderPlugin();
    grpc::ServerBuilder builder;
    // gRPC sets SO_REUSEPORT by default: a second ratchetd on the same port
    // would start and share its connections. Refuse it instead.
    builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
    builder.AddListeningPort(options.listen, Credentials(options, tls_.get()), &port_);
    builder.SetMaxReceiveMessageSize(options.max_message_bytes);
    builder.SetMaxSendMessageSize(options.max_message_bytes);
    builder.RegisterService(&jobs_);
    builder.RegisterService(&workers_);
    builder.RegisterService(&queues_);
    builder.RegisterService(&workflows_);
    builder.RegisterService(&schedules_);
    builder.RegisterService(&admin_);
    if (options.metrics_registry) {
      std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> creators;
      creators.push_back(NewGrpcMetricsInterceptor(*options.metrics_registry));
      builder.experimental().SetInterceptorCreators(std::move(creators));
    }
    server_ = builder.BuildAndStart();
    if (server_ == nullptr || port_ == 0) {
      return absl::UnavailableError(absl::StrCat("listen: cannot bind ", options.listen));
    }
    server_->GetHealthCheckService()->SetServingStatus(true);
    return absl::OkStatus();
  }

  int port() const { return port_; }
  auth::Authenticator& authenticator() { return *authenticator_; }
  ServiceContext& context() { return context_; }

  // Re-reads the TLS files now (SIGHUP).
  void ReloadTls() {
    if (tls_ != nullptr) LogTlsRefresh("tls_checked", tls_->Refresh());
  }

  // Stops the TLS poller, also when Start failed after starting it (a
  // joinable std::thread must not be destroyed).
  ~Impl() { StopTlsPoller(); }

  void Shutdown(Millis grace) {
    StopTlsPoller();
    if (server_ == nullptr) return;
    server_->GetHealthCheckService()->SetServingStatus(false);
    context_.DrainStreams();  // workers' streams end once their acks are out
    server_->Shutdown(std::chrono::system_clock::now() + grace);
    server_->Wait();
    server_.reset();
  }

 private:
  // Every `every`: publishes changed, valid TLS files; logs a change, and
  // each new error once.
  void PollTls(Millis every) {
    std::string last_error;
    while (!AwaitStopping(every)) {
      auto r = tls_->Refresh();
      if (r.ok() && r->changed) LogTlsRefresh("tls_reloaded", r);
      std::string error = r.ok() ? "" : std::string(r.status().message());
      if (!r.ok() && error != last_error) LogTlsRefresh("tls_reload", r);
      last_error = std::move(error);
    }
  }
  void StopTlsPoller() {
    {
      absl::MutexLock lock(&tls_mu_);
      stopping_ = true;
    }
    if (tls_poller_.joinable()) tls_poller_.join();
  }

  // Waits up to `every`; true once Shutdown has begun.
  bool AwaitStopping(Millis every) {
    absl::MutexLock lock(&tls_mu_);
    return tls_mu_.AwaitWithTimeout(absl::Condition(&stopping_), absl::Milliseconds(every.count()));
  }

  const std::shared_ptr<auth::Authenticator> authenticator_;
  ServiceContext context_;
  JobService jobs_;
  WorkerService workers_;
  QueueService queues_;
  WorkflowService workflows_;
  ScheduleService schedules_;
  AdminService admin_;
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<TlsStager> tls_;
  absl::Mutex tls_mu_;
  bool stopping_ ABSL_GUARDED_BY(tls_mu_) = false;
  std::thread tls_poller_;
};

absl::StatusOr<std::unique_ptr<Server>> Server::Start(const ServerOptions& options,
                                                      Engine* engine) {
  if (options.max_message_bytes < 1024) {
    return InvalidArgument("max_message_bytes", "must be at least 1024");
  }
  if (options.blocking_threads < 1) {
    return InvalidArgument("blocking_threads", "must be at least 1");
  }
  std::shared_ptr<auth::Authenticator> authenticator;
  if (options.auth_file.empty()) {
    authenticator = std::make_shared<auth::Authenticator>();
  } else {
    RATCHET_ASSIGN_OR_RETURN(authenticator, auth::Authenticator::FromFile(options.auth_file));
  }
  auto impl = std::make_unique<Impl>(options, engine, std::move(authenticator));
  RATCHET_RETURN_IF_ERROR(impl->Start(options));
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Server::~Server() { impl_->Shutdown(Millis(0)); }

int Server::port() const { return impl_->port(); }

void Server::Shutdown(Millis grace) { impl_->Shutdown(grace); }

absl::Status Server::ReloadAuth() {
  RATCHET_RETURN_IF_ERROR(impl_->authenticator().Reload());
  // A WorkStream is authorized when it opens: end the open ones so that
  // each authenticates again under the new file (a revoked token stops).
  impl_->context().RestartStreams();
  return absl::OkStatus();
}

void Server::ReloadTls() { impl_->ReloadTls(); }

size_t Server::principal_count() const { return impl_->authenticator().principal_count(); }

ServiceContext* Server::service_context() { return &impl_->context(); }

}  // namespace ratchet::server
