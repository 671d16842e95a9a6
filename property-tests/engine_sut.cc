#include "engine_sut.h"

#include <algorithm>
#include <sstream>

namespace ratchet::proptest {

Sut::Sut()
    : h(/*in_memory=*/true, kSeed, [](EngineOptions& o) {
        o.idempotency_window = Millis(3650LL * 24 * 3600000);
        o.default_queue_settings = Settings(0, false);
      }) {}

QueueSettings Sut::Settings(int limit, bool paused) {
  QueueSettings s;
  s.concurrency_limit = limit;
  s.paused = paused;
  s.completed_retention = s.dead_retention = Millis(3650LL * 24 * 3600000);
  return s;
}

void CheckExpect(Expect want, const absl::Status& got) {
  switch (want) {
    case Expect::kOk:
    case Expect::kDuplicate:
      RC_ASSERT(got.ok());
      break;
    case Expect::kConflict:
      RC_ASSERT(got.code() == absl::StatusCode::kAlreadyExists);
      break;
    case Expect::kLeaseLost:
      RC_ASSERT(ReasonOf(got) == std::string(kReasonLeaseLost));
      break;
    case Expect::kInvalidState:
      RC_ASSERT(ReasonOf(got) == std::string(kReasonInvalidState));
      break;
    case Expect::kNotFound:
      RC_ASSERT(got.code() == absl::StatusCode::kNotFound);
      break;
    case Expect::kInvalidArgument:
      RC_ASSERT(got.code() == absl::StatusCode::kInvalidArgument);
      break;
  }
}

void CheckAllJobs(const Model& m, Sut& sut, bool mass) {
  const int max_errors = sut.h.options().max_errors_kept;
  for (const auto& [id, j] : m.jobs) {
    if (!mass && j.queue == kMassQueue) continue;
    auto job = sut.h->Get(id);
    RC_ASSERT(job.ok());
    RC_ASSERT(job->state == m.Visible(j));
    RC_ASSERT(job->attempts == j.attempts);
    RC_ASSERT(job->attempts <= job->max_attempts);
    RC_ASSERT(job->token == j.token);
    RC_ASSERT(job->progress == j.progress);  // also across reopen
    // The payload lives in its own record (schema 3), written once at
    // enqueue; every later write and every reopen leaves it whole.
    RC_ASSERT(job->payload == j.payload);
    // Each Fail or expiry records one error, never twice.
    RC_ASSERT(static_cast<int>(job->errors.size()) == std::min(j.errors, max_errors));
  }
  for (JobId id : m.purged)
    RC_ASSERT(sut.h->Get(id).status().code() == absl::StatusCode::kNotFound);
  for (const auto& key : kAppKeys) {
    auto v = sut.h->ReadApp(key);
    RC_ASSERT(v.ok());
    auto it = m.app.find(key);
    RC_ASSERT(v->has_value() == (it != m.app.end()));
    if (v->has_value()) RC_ASSERT(**v == it->second);
  }
  for (const auto& d : m.delays) RC_ASSERT(d.lo <= d.value && d.value <= d.hi);
}

model::EnqueueSpec GenSpec() {
  model::EnqueueSpec s;
  s.queue = *rc::gen::elementOf(kQueues);
  s.key = *rc::gen::elementOf(std::vector<std::string>{"", "", "k1", "k2", "k3"});
  // "" has no payload record; the long one is more than a state record.
  s.payload = *rc::gen::elementOf(std::vector<std::string>{"x", "y", "", std::string(300, 'z')});
  s.job_type = *rc::gen::weightedElement<std::string>({{3, "t"}, {1, "u"}});
  s.delay = *rc::gen::elementOf(std::vector<int64_t>{0, 0, 0, 700, 3000});
  s.priority = *rc::gen::inRange(0, 3);
  s.max_attempts = *rc::gen::inRange(1, 4);
  s.jitter = *rc::gen::elementOf(std::vector<JitterMode>{
      JitterMode::kNone, JitterMode::kFull, JitterMode::kEqual, JitterMode::kDecorrelated});
  return s;
}

EnqueueRequest ToRequest(const model::EnqueueSpec& s) {
  EnqueueRequest r{s.queue, s.job_type, s.payload, s.key};
  r.delay = Millis(s.delay);
  r.priority = s.priority;
  r.max_attempts = s.max_attempts;
  r.retry_policy = model::PolicyFor(s.jitter);
  return r;
}

std::vector<AppWrite> GenWrites(bool may_be_bad) {
  std::vector<AppWrite> out;
  int n = *rc::gen::inRange(0, 3);
  for (int i = 0; i < n; ++i) {
    AppWrite w;
    w.key = *rc::gen::elementOf(kAppKeys);
    if (*rc::gen::weightedElement<bool>({{3, true}, {1, false}})) {
      w.value = std::to_string(*rc::gen::inRange(0, 1 << 30));
    }
    out.push_back(std::move(w));
  }
  if (may_be_bad && *rc::gen::weightedElement<bool>({{1, true}, {15, false}})) {
    out.push_back({"", std::string("bad")});
  }
  return out;
}

std::string Show(const std::vector<AppWrite>& writes) {
  std::ostringstream os;
  os << "{";
  for (const AppWrite& w : writes) {
    os << " " << (w.key.empty() ? "<empty>" : w.key) << "=" << w.value.value_or("<delete>");
  }
  os << " }";
  return os.str();
}

JobAndToken::JobAndToken(const Model& m) {
  std::vector<JobId> ids;
  for (const auto& [jid, j] : m.jobs) {
    if (j.queue != kMassQueue) ids.push_back(jid);
  }
  RC_PRE(!ids.empty());
  if (!m.purged.empty() && *rc::gen::weightedElement<bool>({{1, true}, {10, false}})) {
    id = *rc::gen::elementOf(m.purged);
    token = *rc::gen::inRange<FencingToken>(0, m.next_token);
    return;
  }
  id = *rc::gen::elementOf(ids);
  const auto& j = m.jobs.at(id);
  int kind = *rc::gen::inRange(0, 4);
  token = kind <= 1 ? j.token : kind == 2 ? j.token + 1 : (j.token > 0 ? j.token - 1 : 0);
}

}  // namespace ratchet::proptest
