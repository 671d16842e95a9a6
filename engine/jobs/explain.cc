#include "explain.h"

#include "absl/strings/str_cat.h"
#include "ratchet/base/status.h"

namespace ratchet::internal {
namespace {

constexpr size_t kMaxHolders = 10;

std::string Time(int64_t ms) { return absl::StrCat(ms, " ms (Unix)"); }

std::vector<JobId> Holders(const absl::btree_set<TimedKey>& running) {
  std::vector<JobId> out;
  for (auto it = running.begin(); it != running.end() && out.size() < kMaxHolders; ++it) {
    out.push_back(it->id);
  }
  return out;
}

WaitCause Cause(WaitReason reason, std::string message) {
  WaitCause c;
  c.reason = reason;
  c.message = std::move(message);
  return c;
}

// A job whose expires_at passed before it started: cancelled at
// `cancelled_ms`, or (none) about to be by the next Lease or expiry pass.
WaitCause Expired(int64_t expires_ms, std::optional<int64_t> cancelled_ms) {
  WaitCause c = Cause(
      WaitReason::kExpired,
      absl::StrCat("expired: not started by its expires_at ", Time(expires_ms),
                   cancelled_ms ? absl::StrCat("; cancelled at ", Time(*cancelled_ms))
                                : std::string("; the next Lease or the expiry pass cancels it")));
  c.until = FromUnixMs(expires_ms);
  c.detail = kCancelReasonExpired;
  return c;
}

// A finished or running job: one cause.
WaitCause EndedOrRunning(const JobRecord& r, JobState state) {
  switch (state) {
    case JobState::kRunning: {
      WaitCause c = Cause(WaitReason::kRunning,
                          absl::StrCat("running attempt ", r.attempts(), " for worker '",
                                       r.worker_id(), "' until ", Time(r.lease_deadline_ms()),
                                       r.cancel_requested() ? " (cancel requested)" : ""));
      c.until = FromUnixMs(r.lease_deadline_ms());
      c.detail = r.worker_id();
      c.attempt = r.attempts();
      return c;
    }
    case JobState::kCompleted:
      return Cause(WaitReason::kCompleted, absl::StrCat("completed at ", Time(r.finished_at_ms())));
    case JobState::kDead: {
      WaitCause c = Cause(WaitReason::kDead, absl::StrCat("dead (in the dead-letter queue) after ",
                                                          r.attempts(), " of ", r.max_attempts(),
                                                          " attempts; redrive it to run it again"));
      if (r.errors_size() > 0) c.detail = r.errors(r.errors_size() - 1).message();
      return c;
    }
    default: {
      if (r.cancel_reason() == kCancelReasonExpired) {
        WaitCause c =
            Cause(WaitReason::kExpired,
                  absl::StrCat("expired: not started by its expires_at ", Time(r.expires_at_ms()),
                               "; cancelled at ", Time(r.finished_at_ms())));
        c.until = FromUnixMs(r.expires_at_ms());
        c.detail = kCancelReasonExpired;
        return c;
      }
      WaitCause c =
          Cause(WaitReason::kCancelled, absl::StrCat("cancelled at ", Time(r.finished_at_ms())));
      c.detail = "cancelled";
      return c;
    }
  }
}

}  // namespace

absl::StatusOr<JobExplanation> ExplainJob(JobStore& jobs, storage::Batch& batch, TimePoint now,
                                          JobId id) {
  RATCHET_ASSIGN_OR_RETURN(JobRecord r, jobs.Load(batch, id));
  JobExplanation e;
  e.id = id;
  e.queue = r.queue();
  e.concurrency_key = r.concurrency_key();
  Indexes& indexes = jobs.indexes();
  JobMeta* m = indexes.Find(id);
  if (!m || m->running) {
    e.state = m ? JobState::kRunning : StateOf(r);
    e.causes.push_back(EndedOrRunning(r, e.state));
    return e;
  }
  const int64_t now_ms = ToUnixMs(now);
  QueueState* q = m->queue;
  KeyGroup* g = m->group;
  indexes.PromoteDue(q, now_ms);  // what a Lease does first
  const ReadyKey ready_key{m->priority, m->time_ms, id};
  const bool ready = g->ready.contains(ready_key);
  e.state = ready ? JobState::kAvailable : JobState::kScheduled;
  if (m->expires_ms != 0) e.expires_at = FromUnixMs(m->expires_ms);
  // On the expiry clock (the rate-limit clock PromoteDue advanced), which
  // never goes back: JobMachine::ExpiryNowMs.
  if (m->expires_ms != 0 && m->expires_ms <= indexes.rate_now_ms()) {
    e.causes.push_back(Expired(m->expires_ms, std::nullopt));
    return e;
  }
  if (!ready) {
    WaitCause c;
    c.until = FromUnixMs(m->time_ms);
    if (!r.awaiting_event().empty()) {
      c = Cause(WaitReason::kAwaitingEvent,
                absl::StrCat("its workflow waits for event '", r.awaiting_event(),
                             "' (or its timeout at ", Time(m->time_ms), ")"));
      c.detail = r.awaiting_event();
    } else if (r.attempts() > 0) {
      c = Cause(WaitReason::kBackoff, absl::StrCat("backing off after failed attempt ",
                                                   r.attempts(), " until ", Time(m->time_ms)));
      c.attempt = r.attempts();
    } else {
      c = Cause(WaitReason::kScheduled, absl::StrCat("scheduled until ", Time(m->time_ms)));
    }
    c.until = FromUnixMs(m->time_ms);
    e.causes.push_back(std::move(c));
  }
  const QueueSettings& s = q->settings;
  if (s.paused) {
    e.causes.push_back(
        Cause(WaitReason::kQueuePaused, absl::StrCat("queue '", q->name, "' is paused")));
  }
  if (s.concurrency_limit > 0 && static_cast<int64_t>(q->running.size()) >= s.concurrency_limit) {
    WaitCause c = Cause(WaitReason::kQueueConcurrency,
                        absl::StrCat("queue '", q->name, "' runs ", q->running.size(),
                                     " jobs, its concurrency limit is ", s.concurrency_limit));
    c.limit = s.concurrency_limit;
    c.holders = Holders(q->running);
    e.causes.push_back(std::move(c));
  }
  const int key_limit = q->KeyLimit(g->key);
  if (key_limit > 0 && static_cast<int64_t>(g->running.size()) >= key_limit) {
    WaitCause c = Cause(WaitReason::kKeyConcurrency,
                        absl::StrCat("concurrency key '", g->key, "' runs ", g->running.size(),
                                     " jobs, its limit is ", key_limit));
    c.limit = key_limit;
    c.holders = Holders(g->running);
    e.causes.push_back(std::move(c));
  }
  const int64_t rate_now = indexes.rate_now_ms();
  if (s.rate_limit) {
    const StartLog* log = indexes.start_logs().Find(q->name, /*queue_wide=*/true, "");
    if (log && log->Allowance(*s.rate_limit, rate_now) == 0) {
      const int64_t opens = log->OpensAt(*s.rate_limit);
      WaitCause c = Cause(WaitReason::kQueueRateLimited,
                          absl::StrCat("queue '", q->name, "' started ", s.rate_limit->limit,
                                       " jobs in the last ", s.rate_limit->period.count(),
                                       " ms (its rate limit); the next start at ", Time(opens)));
      c.limit = s.rate_limit->limit;
      c.until = FromUnixMs(opens);
      e.causes.push_back(std::move(c));
    }
  }
  if (s.key_rate_limit && !g->key.empty()) {
    const StartLog* log = indexes.start_logs().Find(q->name, /*queue_wide=*/false, g->key);
    const int64_t opens = log ? log->OpensAt(*s.key_rate_limit) : kOpenNow;
    if (opens > rate_now) {
      WaitCause c =
          Cause(WaitReason::kKeyRateLimited,
                absl::StrCat("concurrency key '", g->key, "' started ", s.key_rate_limit->limit,
                             " jobs in the last ", s.key_rate_limit->period.count(),
                             " ms (its rate limit); the next start at ", Time(opens)));
      c.limit = s.key_rate_limit->limit;
      c.until = FromUnixMs(opens);
      e.causes.push_back(std::move(c));
    }
  }
  if (ready) {
    for (auto it = g->ready.begin();
         it != g->ready.end() && *it != ready_key && e.ahead_in_key < kMaxAheadCounted; ++it) {
      ++e.ahead_in_key;
    }
  }
  if (e.causes.empty()) {
    e.causes.push_back(
        Cause(WaitReason::kRunnable,
              e.ahead_in_key == 0
                  ? std::string("available: the next Lease of its queue can take it")
                  : absl::StrCat("available: ", e.ahead_in_key,
                                 " jobs of its key go first; the next Lease may take it")));
  }
  const bool idle = !q->last_lease_ms || now_ms - *q->last_lease_ms >= kNoRecentLeaseAfter.count();
  if (idle) {
    WaitCause c =
        Cause(WaitReason::kNoRecentLease,
              q->last_lease_ms ? absl::StrCat("no worker has leased from queue '", q->name,
                                              "' for ", (now_ms - *q->last_lease_ms) / 1000, " s")
                               : absl::StrCat("no worker has leased from queue '", q->name,
                                              "' since the engine opened"));
    if (q->last_lease_ms) c.idle = Millis(now_ms - *q->last_lease_ms);
    e.causes.push_back(std::move(c));
  }
  return e;
}

}  // namespace ratchet::internal
