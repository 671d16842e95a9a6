#include "ratchet/client/trace_context.h"

#include <utility>

#include "ratchet/base/traceparent.h"

namespace ratchet {

namespace {
thread_local std::string current_traceparent;
}  // namespace

const std::string& CurrentTraceparent() { return current_traceparent; }

TraceScope::TraceScope(std::string traceparent) : previous_(std::move(current_traceparent)) {
  current_traceparent = IsTraceparent(traceparent) ? std::move(traceparent) : std::string();
}

TraceScope::~TraceScope() { current_traceparent = std::move(previous_); }

}  // namespace ratchet
