// ratchet::WorkStream: the client's end of WorkerService.WorkStream, the
// streaming worker protocol (docs/api.md, "WorkStream"). ratchet::Worker
// uses it; use it directly to build a worker of your own.
//
// Open it with Client::OpenWorkStream, send a WorkStreamRequest with `open`
// and credits, then Read pushed jobs and acknowledgements while writing
// outcomes, heartbeats and more credits. The stream has no deadline; it
// ends when the worker half-closes (WritesDone: the server answers what is
// in flight, then finishes OK), on Cancel, or on an error the server names
// (Finish returns it).
//
// Thread safety: one thread may Write (and WritesDone) while another Reads
// (and then Finish); Cancel is safe from any thread.
#ifndef RATCHET_CLIENT_WORK_STREAM_H_
#define RATCHET_CLIENT_WORK_STREAM_H_

#include <memory>

#include "absl/status/status.h"
#include "grpcpp/client_context.h"
#include "grpcpp/support/sync_stream.h"
#include "ratchet/v1/worker_service.grpc.pb.h"

namespace ratchet {

class WorkStream {
 public:
  // Blocks until the message is handed to the transport (the server's flow
  // control can hold it). False: the stream is broken; Read then returns
  // false and Finish says why.
  bool Write(const v1::WorkStreamRequest& msg);
  // Blocks for the next server message. False: the stream ended; call
  // Finish.
  bool Read(v1::WorkStreamResponse* msg);
  // Half-closes: no more writes. False if the stream is already broken.
  bool WritesDone();
  // Once Read has returned false: how the stream ended (OK after a
  // half-close the server finished; UNAVAILABLE when the server was
  // unreachable or went away; the server's error otherwise).
  absl::Status Finish();
  // Ends the stream now (Read and Write fail; Finish returns CANCELLED).
  void Cancel();

 private:
  friend class Client;
  WorkStream() = default;

  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReaderWriter<v1::WorkStreamRequest, v1::WorkStreamResponse>> stream_;
};

}  // namespace ratchet

#endif  // RATCHET_CLIENT_WORK_STREAM_H_
