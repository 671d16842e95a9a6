#include "ack_log.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <sstream>

namespace ratchet::testing {

void AckLog::Enqueued(JobId id, const std::string& key) {
  enqueued[id] = key;
  ++operations;
}

void AckLog::Leased(JobId id, FencingToken token) {
  leased[id] = std::max(leased[id], token);
  max_token = std::max(max_token, token);
  ++operations;
}

void AckLog::Completed(JobId id, FencingToken token) {
  Leased(id, token);
  completed[id] = token;
}

void AckLog::Failed(JobId id, FencingToken token) {
  Leased(id, token);
  failed[id].push_back(token);
}

void AckLog::Heartbeat(JobId id, FencingToken token, int64_t deadline_ms) {
  Leased(id, token);
  int64_t& deadline = heartbeats[{id, token}];
  deadline = std::max(deadline, deadline_ms);
}

void AckLog::Cancelled(JobId id) {
  cancelled.insert(id);
  ++operations;
}

void AckLog::Effect(const std::string& key, const std::string& value) { effects[key] = value; }

void AckLog::AddLine(const std::string& line) {
  std::istringstream fields(line);
  std::string kind, key;
  uint64_t id = 0, token = 0;
  int64_t deadline_ms = 0;
  if (!(fields >> kind >> id)) return;
  if (kind == "X") {
    Cancelled(id);
  } else if (kind == "E" && (fields >> key)) {
    Enqueued(id, key);
  } else if (!(fields >> token)) {
    return;
  } else if (kind == "L") {
    Leased(id, token);
  } else if (kind == "C") {
    Completed(id, token);
  } else if (kind == "F") {
    Failed(id, token);
  } else if (kind == "H" && (fields >> deadline_ms)) {
    Heartbeat(id, token, deadline_ms);
  }
}

AckLog ReadAckLog(const std::string& path) {
  AckLog log;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) log.AddLine(line);
  return log;
}

namespace {

void VerifyEnqueued(Engine& engine, const AckLog& log, const std::string& context) {
  for (const auto& [id, key] : log.enqueued) {
    auto job = engine.Get(id);
    ASSERT_TRUE(job.ok()) << context << ": acknowledged job " << id << " lost";
    auto dup = engine.Enqueue(EnqueueRequest{"q", "crash", "payload-" + key, key});
    ASSERT_TRUE(dup.ok()) << context << ": " << dup.status();
    ASSERT_TRUE(dup->duplicate && dup->id == id)
        << context << ": idempotency key " << key << " lost for job " << id;
  }
}

void VerifyAttempts(Engine& engine, const AckLog& log, const std::string& context) {
  for (const auto& [id, token] : log.leased) {
    auto job = engine.Get(id);
    ASSERT_TRUE(job.ok()) << context << ": leased job " << id << " lost";
    ASSERT_GE(job->token, token) << context << ": job " << id << " token went back";
  }
  for (const auto& [id, tokens] : log.failed) {
    auto job = engine.Get(id);
    ASSERT_TRUE(job.ok()) << context << ": failed job " << id << " lost";
    for (FencingToken token : tokens) {
      // The failed attempt ended: that lease is gone for good.
      ASSERT_FALSE(job->state == JobState::kRunning && job->token == token)
          << context << ": acknowledged Fail of job " << id << " token " << token << " lost";
    }
    ASSERT_GE(job->errors.size(), 1u) << context << ": job " << id << " lost its errors";
  }
  for (const auto& [key, deadline_ms] : log.heartbeats) {
    auto job = engine.Get(key.first);
    ASSERT_TRUE(job.ok()) << context << ": heartbeaten job " << key.first << " lost";
    if (job->state != JobState::kRunning || job->token != key.second) continue;
    ASSERT_GE(ToUnixMs(job->lease_deadline), deadline_ms)
        << context << ": acknowledged heartbeat of job " << key.first << " token " << key.second
        << " lost";
  }
}

void VerifyFinished(Engine& engine, const AckLog& log, const std::string& context) {
  for (const auto& [id, token] : log.completed) {
    auto job = engine.Get(id);
    ASSERT_TRUE(job.ok()) << context << ": completed job " << id << " lost";
    ASSERT_EQ(job->state, JobState::kCompleted) << context << ": completion of " << id << " lost";
    ASSERT_EQ(job->token, token) << context << ": completed job " << id << " changed token";
  }
  for (JobId id : log.cancelled) {
    auto job = engine.Get(id);
    ASSERT_TRUE(job.ok()) << context << ": cancelled job " << id << " lost";
    ASSERT_EQ(job->state, JobState::kCancelled) << context << ": cancellation of " << id << " lost";
  }
  for (const auto& [key, value] : log.effects) {
    auto stored = engine.ReadApp(key);
    ASSERT_TRUE(stored.ok()) << context << ": " << stored.status();
    ASSERT_EQ(stored->value_or("<missing>"), value)
        << context << ": effect " << key << " of an acknowledged completion lost";
  }
}

}  // namespace

void VerifyAcknowledged(Engine& engine, const AckLog& log, const std::string& context) {
  VerifyEnqueued(engine, log, context);
  if (::testing::Test::HasFatalFailure()) return;
  VerifyAttempts(engine, log, context);
  if (::testing::Test::HasFatalFailure()) return;
  VerifyFinished(engine, log, context);
}

void VerifyTokensNotReissued(Engine& engine, const AckLog& log, const std::string& context) {
  ASSERT_TRUE(engine.Enqueue({"probe", "t", "", ""}).ok()) << context;
  auto probe = engine.Lease({"probe", 1, Millis(1000), "probe"});
  ASSERT_TRUE(probe.ok() && !probe->empty()) << context;
  ASSERT_GT(probe->front().token, log.max_token) << context << ": token reissued";
  ASSERT_TRUE(engine.Complete({probe->front().id, probe->front().token, "", {}}).ok()) << context;
}

}  // namespace ratchet::testing
