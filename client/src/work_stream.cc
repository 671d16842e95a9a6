#include "ratchet/client/work_stream.h"

#include "ratchet/api/status_codec.h"
#include "ratchet/client/client.h"
#include "ratchet/client/trace_context.h"

namespace ratchet {

bool WorkStream::Write(const v1::WorkStreamRequest& msg) { return stream_->Write(msg); }

bool WorkStream::Read(v1::WorkStreamResponse* msg) { return stream_->Read(msg); }

bool WorkStream::WritesDone() { return stream_->WritesDone(); }

absl::Status WorkStream::Finish() { return FromGrpcStatus(stream_->Finish()); }

void WorkStream::Cancel() { context_.TryCancel(); }

std::unique_ptr<WorkStream> Client::OpenWorkStream() {
  std::unique_ptr<WorkStream> stream(new WorkStream());
  // Fails fast while the server is unreachable (the first Read returns
  // false, Finish UNAVAILABLE): the caller decides when to try again.
  stream->context_.set_wait_for_ready(false);
  if (!options_.token.empty()) {
    stream->context_.AddMetadata("authorization", "Bearer " + options_.token);
  }
  if (!CurrentTraceparent().empty()) {
    stream->context_.AddMetadata("traceparent", CurrentTraceparent());
  }
  stream->stream_ = workers_->WorkStream(&stream->context_);
  return stream;
}

}  // namespace ratchet
