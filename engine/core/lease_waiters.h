// LeaseWaiters: the parked long-poll Leases, indexed so that the work of a
// sequencer group follows what changed, not how many are parked.
//
//   - per queue, in arrival order (first come, first served);
//   - by deadline, so the waits that are over end without a scan;
//   - per queue with waiters, the run_at of its earliest scheduled job (as
//     the sequencer last saw it), so a queue whose job becomes due is woken
//     without asking every waiting queue each group;
//   - by arrival across queues, for a round-robin sweep that finds callers
//     that left (LeaseRequest::abandoned) a bounded number per group.
//
// Every access is O(log n) in the number parked; nothing here walks all of
// them except TakeAll (shutdown, failure). It knows nothing of jobs: the
// sequencer decides which queues to serve (engine/core/sequencer.cc).
//
// Thread safety: sequencer thread only.
#ifndef RATCHET_ENGINE_CORE_LEASE_WAITERS_H_
#define RATCHET_ENGINE_CORE_LEASE_WAITERS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/container/btree_set.h"
#include "absl/container/flat_hash_map.h"
#include "ratchet/engine/engine.h"

namespace ratchet::internal {

class LeaseWaiters {
 public:
  // A parked long-poll Lease.
  struct Waiter {
    LeaseRequest req;
    TimePoint deadline;
    Callback<std::vector<LeasedJob>> cb;
    // True once its caller has gone (its abandoned flag is set).
    bool Gone() const { return req.abandoned && req.abandoned->load(); }
  };

  bool empty() const { return by_arrival_.empty(); }
  size_t size() const { return by_arrival_.size(); }
  // Waiters examined so far: looked at first in line, removed, or checked
  // by the sweep.
  uint64_t checks() const { return checks_; }

  // Parks `w` behind the waiters of its queue.
  void Park(Waiter w);
  bool HasWaiters(const std::string& queue) const { return queues_.contains(queue); }
  // The first waiter of `queue`, or null. Stays parked.
  const Waiter* Front(const std::string& queue);
  // Removes and returns the first waiter of `queue`, which must have one.
  Waiter PopFront(const std::string& queue);
  // Removes and returns every waiter whose deadline is at or before `now`.
  std::vector<Waiter> TakeExpired(TimePoint now);
  // Checks the next `max_checks` waiters (round robin by arrival) and
  // removes and returns those whose caller has gone.
  std::vector<Waiter> TakeAbandoned(int max_checks);
  // Removes and returns every waiter.
  std::vector<Waiter> TakeAll();
  // The earliest deadline of a parked waiter.
  std::optional<TimePoint> NextDeadline() const;
  // Every queue with waiters (after the in-memory state was rebuilt).
  std::vector<std::string> Queues() const;

  // When `queue`'s earliest scheduled job becomes available (unix ms), or
  // nullopt for none; ignored for a queue with no waiters.
  void SetDueAt(const std::string& queue, std::optional<int64_t> run_at_ms);
  // The queues with waiters whose due time is at or before `now_ms`; each
  // is returned once (its due time is cleared: set it again after serving).
  std::vector<std::string> TakeDue(int64_t now_ms);
  // The earliest due time of a queue with waiters.
  std::optional<int64_t> NextDue() const;

 private:
  struct QueueWaiters {
    absl::btree_set<uint64_t> arrivals;  // FIFO
    std::optional<int64_t> due_ms;       // its entry in due_
  };

  // Removes the waiter that arrived as `seq` from every index.
  Waiter Remove(uint64_t seq);

  uint64_t next_seq_ = 1;
  uint64_t sweep_after_ = 0;  // the sweep resumes after this arrival
  uint64_t checks_ = 0;
  absl::btree_map<uint64_t, Waiter> by_arrival_;
  absl::flat_hash_map<std::string, QueueWaiters> queues_;
  absl::btree_set<std::pair<TimePoint, uint64_t>> deadlines_;
  absl::btree_set<std::pair<int64_t, std::string>> due_;
};

}  // namespace ratchet::internal

#endif  // RATCHET_ENGINE_CORE_LEASE_WAITERS_H_
