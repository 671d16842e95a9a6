// Trace context propagation for the C++ client (docs/api.md, "Trace
// context"): every call the Client makes on a thread sends that thread's
// current W3C traceparent as `traceparent` metadata, and Enqueue stores it
// on the jobs that do not name their own (JobSpec.traceparent). The Worker
// makes each job's traceparent current while its handler runs, so jobs a
// handler enqueues join the trace of the job that enqueued them.
//
// Ratchet forwards the context; it does not start spans (Debian has no
// OpenTelemetry C++ SDK). To join a trace of your own, make its
// traceparent current with a TraceScope.
//
// Thread safety: the current traceparent is per thread.
#ifndef RATCHET_CLIENT_TRACE_CONTEXT_H_
#define RATCHET_CLIENT_TRACE_CONTEXT_H_

#include <string>

namespace ratchet {

// The calling thread's current traceparent ("" if none).
const std::string& CurrentTraceparent();

// Makes `traceparent` the calling thread's current one until destroyed,
// then restores the previous one. A `traceparent` that is not a valid W3C
// traceparent (ratchet/base/traceparent.h) makes none current: W3C asks
// that an invalid one be dropped, not forwarded. Scopes nest; destroy them
// on the thread that made them, in reverse order.
class TraceScope {
 public:
  explicit TraceScope(std::string traceparent);
  ~TraceScope();
  TraceScope(const TraceScope&) = delete;
  TraceScope& operator=(const TraceScope&) = delete;

 private:
  std::string previous_;
};

}  // namespace ratchet

#endif  // RATCHET_CLIENT_TRACE_CONTEXT_H_
