#include "queue_admin.h"

#include "absl/strings/str_cat.h"
#include "listing.h"
#include "ratchet/base/saturating.h"
#include "ratchet/base/status.h"
#include "validation.h"

namespace ratchet::internal {

using storage::Cf;

absl::Status QueueAdmin::UpdateQueue(storage::Batch& batch, const std::string& name,
                                     const QueueSettings& settings) {
  RATCHET_RETURN_IF_ERROR(ValidateName("queue", name));
  RATCHET_RETURN_IF_ERROR(ValidateQueueSettings(settings, jobs_.options()));
  QueueState* q = jobs_.EnsureQueue(batch, name);
  const bool paused = q->settings.paused;  // only PauseQueue / ResumeQueue change it
  const QueueSettings before = q->settings;
  q->settings = settings;
  q->settings.paused = paused;
  // A changed retention moves the queue's due time: the sweeper visits it
  // at its next pass and reschedules it from its oldest finished job.
  if (before.completed_retention != settings.completed_retention &&
      (q->completed > 0 || q->cancelled > 0)) {
    jobs_.indexes().SetRetentionDue(q, RetentionClass::kFinished, 0);
  }
  if (before.dead_retention != settings.dead_retention && q->dead > 0) {
    jobs_.indexes().SetRetentionDue(q, RetentionClass::kDead, 0);
  }
  // Groups blocked under the old key settings are placed anew, in slices.
  if (before.key_concurrency_limit != settings.key_concurrency_limit ||
      before.key_limits != settings.key_limits ||
      before.key_rate_limit != settings.key_rate_limit) {
    jobs_.indexes().KeySettingsChanged(q);
  }
  batch.Put(Cf::kQueues, name, ToRecord(q->settings).SerializeAsString());
  jobs_.indexes().MarkChanged(q);  // a raised limit wakes its long polls
  return absl::OkStatus();
}

absl::Status QueueAdmin::UpdateQueue(storage::Batch& batch, const std::string& name,
                                     const QueueSettingsUpdate& update) {
  RATCHET_RETURN_IF_ERROR(ValidateName("queue", name));
  QueueSettings s = jobs_.SettingsOf(name);
  if (update.concurrency_limit) s.concurrency_limit = *update.concurrency_limit;
  if (update.retry_policy) s.retry_policy = *update.retry_policy;
  if (update.max_attempts) s.max_attempts = *update.max_attempts;
  if (update.visibility_timeout) s.visibility_timeout = *update.visibility_timeout;
  if (update.completed_retention) s.completed_retention = *update.completed_retention;
  if (update.dead_retention) s.dead_retention = *update.dead_retention;
  if (update.key_concurrency_limit) s.key_concurrency_limit = *update.key_concurrency_limit;
  if (update.key_limits) s.key_limits = *update.key_limits;
  if (update.rate_limit) {
    s.rate_limit = update.rate_limit->limit == 0 ? std::nullopt : update.rate_limit;
  }
  if (update.key_rate_limit) {
    s.key_rate_limit = update.key_rate_limit->limit == 0 ? std::nullopt : update.key_rate_limit;
  }
  return UpdateQueue(batch, name, s);
}

absl::Status QueueAdmin::SetPaused(storage::Batch& batch, const std::string& name, bool paused) {
  RATCHET_RETURN_IF_ERROR(ValidateName("queue", name));
  QueueState* q = jobs_.EnsureQueue(batch, name);
  q->settings.paused = paused;
  batch.Put(Cf::kQueues, name, ToRecord(q->settings).SerializeAsString());
  jobs_.indexes().MarkChanged(q);  // a resume wakes its long polls
  return absl::OkStatus();
}

namespace {

QueueInfo InfoOf(QueueState* q, int64_t now_ms) {
  QueueInfo info;
  info.name = q->name;
  info.settings = q->settings;
  info.scheduled = static_cast<int64_t>(q->scheduled.size());
  info.available = static_cast<int64_t>(q->ready.size());
  info.running = static_cast<int64_t>(q->running.size());
  info.completed = q->completed;
  info.cancelled = q->cancelled;
  info.dead = q->dead;
  return info;
}

QueueStats StatsOf(const QueueState& q, std::optional<int64_t> oldest_ms, int64_t now_ms) {
  QueueStats out;
  out.name = q.name;
  out.live = static_cast<int64_t>(q.scheduled.size() + q.ready.size() + q.running.size());
  out.running = static_cast<int64_t>(q.running.size());
  out.completed = q.completed;
  out.cancelled = q.cancelled;
  out.dead = q.dead;
  if (oldest_ms) {
    out.oldest_available = FromUnixMs(*oldest_ms);
    out.oldest_available_age = Millis(std::max<int64_t>(0, SubtractSaturating(now_ms, *oldest_ms)));
  }
  return out;
}

// The queue name a page of queues resumes after ("" for the first page).
absl::StatusOr<std::string> QueueCursor(int limit, int max_limit, const std::string& cursor) {
  if (limit < 1 || limit > max_limit) {
    return InvalidArgument("limit", absl::StrCat(limit, " is outside [1, ", max_limit, "]"));
  }
  RATCHET_ASSIGN_OR_RETURN(std::string after, DecodeCursor(cursor));
  if (!cursor.empty() && !ValidateName("cursor", after).ok()) {
    return InvalidArgument("cursor", "does not belong to this listing");
  }
  return after;
}

}  // namespace

absl::StatusOr<StatsResult> QueueAdmin::Stats(TimePoint now, const StatsRequest& req) const {
  RATCHET_ASSIGN_OR_RETURN(std::string after, QueueCursor(req.limit, kMaxStatsQueues, req.cursor));
  const Indexes& indexes = jobs_.indexes();
  const int64_t now_ms = ToUnixMs(now);
  StatsResult out;
  out.at = now;
  out.queue_count = static_cast<int64_t>(indexes.queue_count());
  out.live_jobs = static_cast<int64_t>(indexes.live_jobs());
  out.completed = indexes.finished_totals().completed;
  out.cancelled = indexes.finished_totals().cancelled;
  out.dead = indexes.finished_totals().dead;
  // One more than the page: whether a next page exists.
  std::vector<QueueState*> queues = indexes.QueuesAfter(after, static_cast<size_t>(req.limit) + 1);
  int probes = 0;
  for (const QueueState* q : queues) {
    if (static_cast<int>(out.queues.size()) == req.limit || probes >= kMaxStatsProbes) {
      out.next_cursor = EncodeCursor(out.queues.back().name);
      break;
    }
    out.queues.push_back(StatsOf(*q, indexes.OldestAvailable(q, now_ms, &probes), now_ms));
  }
  return out;
}

absl::StatusOr<QueueInfo> QueueAdmin::GetQueue(TimePoint now, const std::string& name) {
  RATCHET_RETURN_IF_ERROR(ValidateName("queue", name));
  QueueState* q = jobs_.indexes().FindQueue(name);
  if (!q) return NotFound(absl::StrCat("queue '", name, "' not found"));
  jobs_.indexes().PromoteDue(q, ToUnixMs(now));
  return InfoOf(q, ToUnixMs(now));
}

absl::StatusOr<QueueListResult> QueueAdmin::ListQueues(TimePoint now, const QueueListRequest& req) {
  RATCHET_ASSIGN_OR_RETURN(std::string after, QueueCursor(req.limit, kMaxListLimit, req.cursor));
  // One more than the page: whether a next page exists.
  std::vector<QueueState*> queues =
      jobs_.indexes().QueuesAfter(after, static_cast<size_t>(req.limit) + 1);
  QueueListResult out;
  for (QueueState* q : queues) {
    if (static_cast<int>(out.queues.size()) == req.limit) {
      out.next_cursor = EncodeCursor(out.queues.back().name);
      break;
    }
    jobs_.indexes().PromoteDue(q, ToUnixMs(now));
    out.queues.push_back(InfoOf(q, ToUnixMs(now)));
  }
  return out;
}

}  // namespace ratchet::internal
