// The acknowledged operations of a crash test, and the check that an engine
// reopened after the crash still shows every one of them. Shared by the
// SIGKILL test (crash_test.cc, which reads the child's log file) and the
// power-loss test (power_loss_test.cc, which records in memory).
//
// Conventions the check relies on: jobs are enqueued on queue "q" with job
// type "crash", idempotency key K and payload "payload-K"; the probe queue
// "probe" is free for VerifyTokensNotReissued.
//
// Thread safety: AckLog is a plain value; callers serialise its use.
#ifndef RATCHET_TESTS_CRASH_ACK_LOG_H_
#define RATCHET_TESTS_CRASH_ACK_LOG_H_

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "ratchet/engine/engine.h"

namespace ratchet::testing {

struct AckLog {
  std::map<JobId, std::string> enqueued;              // id -> idempotency key
  std::map<JobId, FencingToken> leased;               // id -> highest leased token
  std::map<JobId, FencingToken> completed;            // id -> completing token
  std::map<JobId, std::vector<FencingToken>> failed;  // id -> tokens whose attempt failed
  // (id, token) -> latest acknowledged lease deadline, unix ms.
  std::map<std::pair<JobId, FencingToken>, int64_t> heartbeats;
  std::set<JobId> cancelled;  // Cancel answered kCancelled
  // Application keys written by acknowledged completions (effects) -> value.
  std::map<std::string, std::string> effects;
  FencingToken max_token = 0;
  uint64_t operations = 0;  // acknowledgements recorded

  void Enqueued(JobId id, const std::string& key);
  void Leased(JobId id, FencingToken token);
  void Completed(JobId id, FencingToken token);
  void Failed(JobId id, FencingToken token);
  void Heartbeat(JobId id, FencingToken token, int64_t deadline_ms);
  void Cancelled(JobId id);
  void Effect(const std::string& key, const std::string& value);

  // Adds one line of a log file: "E id key", "L id token", "C id token",
  // "F id token", "H id token deadline_ms" or "X id". Ignores a torn line.
  void AddLine(const std::string& line);
};

// Reads a log file of AddLine lines; a missing file is an empty log.
AckLog ReadAckLog(const std::string& path);

// Checks with gtest assertions that `engine` shows every acknowledged
// operation: each enqueued job and its idempotency key exist; no token went
// back; a failed attempt's lease is over and its error kept; a completion or
// cancellation stands; a heartbeat's deadline holds while that lease does; a
// completion's effects are in the application keyspace.
// Every failure message starts with `context` (the seed and cycle). Callers
// check ::testing::Test::HasFatalFailure() afterwards.
void VerifyAcknowledged(Engine& engine, const AckLog& log, const std::string& context);

// Enqueues, leases and completes a job on queue "probe" and checks that its
// token is above every acknowledged one: tokens are never reissued.
void VerifyTokensNotReissued(Engine& engine, const AckLog& log, const std::string& context);

}  // namespace ratchet::testing

#endif  // RATCHET_TESTS_CRASH_ACK_LOG_H_
