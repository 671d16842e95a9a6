// ScheduleMachine: schedule definitions (create, update, delete, pause, resume,
// get, list). Firing lives in schedule_fire.cc.
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "listing.h"
#include "ratchet/base/saturating.h"
#include "ratchet/base/status.h"
#include "record_io.h"
#include "schedule_machine.h"
#include "spdlog/spdlog.h"
#include "validation.h"

namespace ratchet::internal {

using storage::Cf;

namespace {

constexpr Millis kMaxJitter{3600000};
constexpr Millis kMaxCatchupWindow{366LL * 24 * 3600000};

ScheduleRecord ToRecord(const ScheduleSpec& s) {
  ScheduleRecord r;
  r.set_id(s.id);
  r.set_spec(s.spec);
  r.set_time_zone(s.time_zone);
  r.set_start_at_ms(s.start_at ? ToUnixMs(*s.start_at) : 0);
  r.set_end_at_ms(s.end_at ? ToUnixMs(*s.end_at) : 0);
  r.set_jitter_ms(s.jitter.count());
  r.set_missed(static_cast<int>(s.missed));
  r.set_catchup_window_ms(s.catchup_window.count());
  r.set_overlap(static_cast<int>(s.overlap));
  r.set_queue(s.queue);
  r.set_job_type(s.job_type);
  r.set_payload(s.payload);
  r.set_priority(s.priority);
  r.set_max_attempts(s.max_attempts.value_or(0));
  r.set_visibility_timeout_ms(s.visibility_timeout ? s.visibility_timeout->count() : 0);
  r.set_paused(s.paused);
  return r;
}

}  // namespace

ScheduleSpec SpecOf(const ScheduleRecord& r) {
  ScheduleSpec s;
  s.id = r.id();
  s.spec = r.spec();
  s.time_zone = r.time_zone();
  if (r.start_at_ms() != 0) s.start_at = FromUnixMs(r.start_at_ms());
  if (r.end_at_ms() != 0) s.end_at = FromUnixMs(r.end_at_ms());
  s.jitter = Millis(r.jitter_ms());
  s.missed = static_cast<MissedRunPolicy>(r.missed());
  s.catchup_window = Millis(r.catchup_window_ms());
  s.overlap = static_cast<OverlapPolicy>(r.overlap());
  s.queue = r.queue();
  s.job_type = r.job_type();
  s.payload = r.payload();
  s.priority = r.priority();
  if (r.max_attempts() > 0) s.max_attempts = r.max_attempts();
  if (r.visibility_timeout_ms() > 0) s.visibility_timeout = Millis(r.visibility_timeout_ms());
  s.paused = r.paused();
  return s;
}

EnqueueRequest JobOf(ScheduleSpec s) {
  EnqueueRequest job;
  job.queue = std::move(s.queue);
  job.job_type = std::move(s.job_type);
  job.payload = std::move(s.payload);
  job.priority = s.priority;
  job.max_attempts = s.max_attempts;
  job.visibility_timeout = s.visibility_timeout;
  return job;
}

namespace {

// The definition fields only (not cursor, counters or timestamps).
bool SameDefinition(const ScheduleRecord& a, const ScheduleRecord& b) {
  ScheduleRecord x = ToRecord(SpecOf(a)), y = ToRecord(SpecOf(b));
  return x.SerializeAsString() == y.SerializeAsString();
}

absl::StatusOr<TickSpec> Validate(const ScheduleSpec& s, const EngineOptions& o, TimePoint now) {
  RATCHET_RETURN_IF_ERROR(ValidateName("id", s.id));
  RATCHET_ASSIGN_OR_RETURN(TickSpec spec, TickSpec::Parse(s.spec, s.time_zone));
  if (s.start_at && s.end_at && *s.end_at <= *s.start_at) {
    return InvalidArgument("end_at", "must be after start_at");
  }
  if (s.jitter.count() < 0 || s.jitter > kMaxJitter) {
    return InvalidArgument("jitter", absl::StrCat(s.jitter.count(), " ms is outside [0, ",
                                                  kMaxJitter.count(), "] ms"));
  }
  RATCHET_RETURN_IF_ERROR(ValidateDuration("catchup_window", s.catchup_window, kMaxCatchupWindow));
  if (static_cast<int>(s.missed) > static_cast<int>(MissedRunPolicy::kRunAll)) {
    return InvalidArgument("missed", "unknown missed-run policy");
  }
  if (static_cast<int>(s.overlap) > static_cast<int>(OverlapPolicy::kBufferOne)) {
    return InvalidArgument("overlap", "unknown overlap policy");
  }
  RATCHET_RETURN_IF_ERROR(ValidateEnqueue("", JobOf(s), o, now));
  return spec;
}

}  // namespace

absl::StatusOr<ScheduleRecord> ScheduleMachine::LoadSchedule(storage::Batch& batch,
                                                             const std::string& id) {
  RATCHET_RETURN_IF_ERROR(ValidateName("id", id));
  return ReadRecord<ScheduleRecord>(batch, Cf::kSchedules, id, absl::StrCat("schedule '", id, "'"));
}

void ScheduleMachine::SaveSchedule(storage::Batch& batch, const ScheduleRecord& rec) {
  batch.Put(Cf::kSchedules, rec.id(), rec.SerializeAsString());
}

std::optional<int64_t> ScheduleMachine::NextTick(const ScheduleRecord& rec) const {
  return NextTickAfter(rec, rec.cursor_ms());
}

std::optional<int64_t> ScheduleMachine::NextTickAfter(const ScheduleRecord& rec,
                                                      int64_t after_ms) const {
  auto it = tick_specs_.find(rec.id());
  if (it == tick_specs_.end()) return std::nullopt;
  int64_t after = after_ms;
  if (rec.start_at_ms() != 0) after = std::max(after, SubtractSaturating(rec.start_at_ms(), 1));
  std::optional<int64_t> next = it->second.Next(after, rec.anchor_ms());
  if (next && rec.end_at_ms() != 0 && *next > rec.end_at_ms()) return std::nullopt;
  return next;
}

std::optional<int64_t> ScheduleMachine::LastTick(const ScheduleRecord& rec,
                                                 int64_t until_ms) const {
  auto it = tick_specs_.find(rec.id());
  if (it == tick_specs_.end()) return std::nullopt;
  int64_t until = until_ms;
  if (rec.end_at_ms() != 0) until = std::min(until, rec.end_at_ms());
  std::optional<int64_t> last = it->second.Last(until, rec.anchor_ms());
  if (!last || *last <= rec.cursor_ms() || *last < rec.start_at_ms()) return std::nullopt;
  return last;
}

int64_t ScheduleMachine::CountTicks(const ScheduleRecord& rec, int64_t after_ms,
                                    int64_t until_ms) const {
  auto it = tick_specs_.find(rec.id());
  if (it == tick_specs_.end()) return 0;
  int64_t after = after_ms, until = until_ms;
  if (rec.start_at_ms() != 0) after = std::max(after, SubtractSaturating(rec.start_at_ms(), 1));
  if (rec.end_at_ms() != 0) until = std::min(until, rec.end_at_ms());
  return it->second.Count(after, until, rec.anchor_ms());
}

void ScheduleMachine::IndexSchedule(const ScheduleRecord& rec) {
  if (auto it = next_.find(rec.id()); it != next_.end()) {
    due_.erase({it->second, rec.id()});
    next_.erase(it);
  }
  if (rec.paused()) return;
  if (std::optional<int64_t> next = NextTick(rec)) {
    due_.insert({*next, rec.id()});
    next_[rec.id()] = *next;
  }
}

absl::Status ScheduleMachine::Define(storage::Batch& batch, TimePoint now, const ScheduleSpec& spec,
                                     Write write) {
  const bool update = write == Write::kUpdate;
  RATCHET_ASSIGN_OR_RETURN(TickSpec ticks, Validate(spec, store_.options(), now));
  RATCHET_ASSIGN_OR_RETURN(std::optional<ScheduleRecord> stored,
                           FindRecord<ScheduleRecord>(batch, Cf::kSchedules, spec.id,
                                                      absl::StrCat("schedule '", spec.id, "'")));
  ScheduleRecord rec = ToRecord(spec);
  const int64_t now_ms = ToUnixMs(now);
  if (stored) {
    const ScheduleRecord& old = *stored;
    if (!update) {
      if (SameDefinition(old, rec)) return absl::OkStatus();  // a retried create
      return absl::AlreadyExistsError(absl::StrCat(
          "schedule '", spec.id, "' already exists with a different definition; use update"));
    }
    // Keep history. Ticks of the old definition between its cursor and now
    // are not replayed under the new one: they are counted as missed, since
    // nothing is skipped silently (usually none; after a pass capped by
    // max_fires_per_pass, or while paused, there may be many).
    const int64_t dropped = old.cursor_ms() < now_ms ? CountTicks(old, old.cursor_ms(), now_ms) : 0;
    rec.set_created_at_ms(old.created_at_ms());
    rec.set_cursor_ms(std::max(old.cursor_ms(), now_ms));
    rec.set_last_job_id(old.last_job_id());
    rec.set_last_tick_ms(old.last_tick_ms());
    // A tick buffered under buffer_one is kept only while the policy still
    // buffers; otherwise it is skipped for overlap, and counted.
    const bool keep_buffered = spec.overlap == OverlapPolicy::kBufferOne;
    const bool drop_buffered = !keep_buffered && old.buffered_tick_ms() != 0;
    rec.set_buffered_tick_ms(keep_buffered ? old.buffered_tick_ms() : 0);
    rec.set_fired(old.fired());
    rec.set_skipped_missed(AddSaturating(old.skipped_missed(), dropped));
    rec.set_skipped_overlap(drop_buffered ? IncrementSaturating(old.skipped_overlap())
                                          : old.skipped_overlap());
    rec.set_anchor_ms(spec.start_at ? ToUnixMs(*spec.start_at) : old.anchor_ms());
  } else {
    if (update) return NotFound(absl::StrCat("schedule '", spec.id, "' not found"));
    rec.set_created_at_ms(now_ms);
    rec.set_cursor_ms(now_ms);
    rec.set_anchor_ms(spec.start_at ? ToUnixMs(*spec.start_at) : now_ms);
  }
  rec.set_updated_at_ms(now_ms);
  SaveSchedule(batch, rec);
  ids_.insert(spec.id);
  tick_specs_.insert_or_assign(spec.id, std::move(ticks));
  failures_.erase(spec.id);  // a new definition gets a fresh start
  IndexSchedule(rec);
  return absl::OkStatus();
}

absl::Status ScheduleMachine::DeleteSchedule(storage::Batch& batch, const std::string& id) {
  RATCHET_ASSIGN_OR_RETURN(ScheduleRecord rec, LoadSchedule(batch, id));
  rec.set_paused(true);
  IndexSchedule(rec);  // drops it from the due index
  ids_.erase(id);
  tick_specs_.erase(id);
  failures_.erase(id);
  batch.Delete(Cf::kSchedules, id);
  return absl::OkStatus();
}

absl::Status ScheduleMachine::SetPaused(storage::Batch& batch, TimePoint now, const std::string& id,
                                        bool paused) {
  RATCHET_ASSIGN_OR_RETURN(ScheduleRecord rec, LoadSchedule(batch, id));
  if (rec.paused() == paused) return absl::OkStatus();
  rec.set_paused(paused);
  rec.set_updated_at_ms(ToUnixMs(now));
  SaveSchedule(batch, rec);
  IndexSchedule(rec);  // on resume, ticks missed while paused are due now
  return absl::OkStatus();
}

absl::StatusOr<ScheduleInfo> ScheduleMachine::GetSchedule(storage::Batch& batch,
                                                          const std::string& id) {
  RATCHET_ASSIGN_OR_RETURN(ScheduleRecord rec, LoadSchedule(batch, id));
  ScheduleInfo info;
  info.spec = SpecOf(rec);
  info.created_at = FromUnixMs(rec.created_at_ms());
  info.updated_at = FromUnixMs(rec.updated_at_ms());
  if (!rec.paused()) {
    if (auto next = NextTick(rec)) info.next_tick = FromUnixMs(*next);
  }
  if (rec.last_tick_ms() != 0) info.last_tick = FromUnixMs(rec.last_tick_ms());
  info.last_job_id = rec.last_job_id();
  if (rec.buffered_tick_ms() != 0) info.buffered_tick = FromUnixMs(rec.buffered_tick_ms());
  info.fired = rec.fired();
  info.skipped_missed = rec.skipped_missed();
  info.skipped_overlap = rec.skipped_overlap();
  return info;
}

namespace {

// A listed schedule's share of the answer: its strings plus a fixed
// overhead for the numbers, times and framing.
size_t ScheduleBytes(const ScheduleInfo& s) {
  return 256 + s.spec.id.size() + s.spec.spec.size() + s.spec.time_zone.size() +
         s.spec.queue.size() + s.spec.job_type.size() + s.spec.payload.size();
}

}  // namespace

absl::StatusOr<ScheduleListResult> ScheduleMachine::ListSchedules(storage::Batch& batch,
                                                                  const ScheduleListRequest& req) {
  if (req.limit < 1 || req.limit > kMaxListLimit) {
    return InvalidArgument("limit",
                           absl::StrCat(req.limit, " is outside [1, ", kMaxListLimit, "]"));
  }
  RATCHET_ASSIGN_OR_RETURN(std::string after, DecodeCursor(req.cursor));
  if (!req.cursor.empty() && !ValidateName("cursor", after).ok()) {
    return InvalidArgument("cursor", "does not belong to this listing");
  }
  ScheduleListResult out;
  size_t bytes = 0;
  // Cursors name stored keys (ids_), whatever a record holds.
  for (auto it = ids_.upper_bound(after); it != ids_.end(); ++it) {
    if (static_cast<int>(out.schedules.size()) == req.limit) {
      out.next_cursor = EncodeCursor(*std::prev(it));
      break;
    }
    RATCHET_ASSIGN_OR_RETURN(ScheduleInfo info, GetSchedule(batch, *it));
    const size_t n = ScheduleBytes(info);
    if (!out.schedules.empty() && bytes + n > req.max_bytes) {
      out.next_cursor = EncodeCursor(*std::prev(it));
      break;
    }
    bytes += n;
    out.schedules.push_back(std::move(info));
  }
  return out;
}

absl::Status ScheduleMachine::Recover() {
  absl::Status parse_status;
  RATCHET_RETURN_IF_ERROR(store_.store().ForEach(
      Cf::kSchedules, "", "", [&](std::string_view key, std::string_view value) {
        ScheduleRecord rec;
        parse_status = ParseStored(Cf::kSchedules, key, value, &rec);
        if (!parse_status.ok()) return false;
        ids_.insert(std::string(key));
        auto spec = TickSpec::Parse(rec.spec(), rec.time_zone());
        if (!spec.ok()) {
          // E.g. a zone removed from the system tz database: keep the
          // record, fire nothing, and say so; an update can repair it. Not
          // corruption (the record is intact), so neither a failed open nor
          // a case for salvage.
          spdlog::error("event=schedule_unparsable schedule_id={} error={:?}", rec.id(),
                        std::string(spec.status().message()));
          return true;
        }
        tick_specs_.insert_or_assign(rec.id(), *std::move(spec));
        IndexSchedule(rec);
        return true;
      }));
  return parse_status;
}

}  // namespace ratchet::internal
