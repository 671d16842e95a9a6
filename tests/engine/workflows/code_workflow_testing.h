// Shared by the code-first workflow tests: a workflow start request with a
// short fixed retry, and leasing its main job.
#ifndef RATCHET_TESTS_ENGINE_WORKFLOWS_CODE_WORKFLOW_TESTING_H_
#define RATCHET_TESTS_ENGINE_WORKFLOWS_CODE_WORKFLOW_TESTING_H_

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engine_harness.h"
#include "ratchet/engine/engine.h"

namespace ratchet::testing {

// "order" in queue "wf", 5 attempts, retries 100 ms apart without jitter.
inline StartWorkflowRequest Start(std::vector<std::string> events = {}) {
  StartWorkflowRequest r;
  r.name = "order";
  r.queue = "wf";
  r.job_type = "order";
  r.payload = "order-1";
  r.events = std::move(events);
  r.options.max_attempts = 5;
  r.options.retry_policy = RetryPolicy{Millis(100), Millis(100), 1.0, JitterMode::kNone};
  return r;
}

// The next job in "wf" (the main job), or nullopt if none is available.
inline std::optional<LeasedJob> LeaseMain(EngineHarness& h) {
  auto jobs = h->Lease({.queue = "wf"});
  EXPECT_TRUE(jobs.ok()) << jobs.status();
  if (!jobs.ok() || jobs->empty()) return std::nullopt;
  return jobs->front();
}

}  // namespace ratchet::testing

#endif  // RATCHET_TESTS_ENGINE_WORKFLOWS_CODE_WORKFLOW_TESTING_H_
