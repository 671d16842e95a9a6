// Property-test commands for the dead-letter queues: Redrive and Purge, by
// job id (sometimes with a queue, right or wrong) or by queue, job type and
// limit (oldest death first; `more` when matches remain).
#ifndef RATCHET_PROPERTY_TESTS_DEAD_LETTER_COMMANDS_H_
#define RATCHET_PROPERTY_TESTS_DEAD_LETTER_COMMANDS_H_

#include <string>
#include <vector>

#include "engine_sut.h"

namespace ratchet::proptest {

inline model::Filter GenFilter(const Model& m) {
  model::Filter f;
  if (*rc::gen::arbitrary<bool>()) {
    f.job_id = JobAndToken(m).id;
    if (*rc::gen::weightedElement<bool>({{1, true}, {3, false}})) {
      f.queue = *rc::gen::elementOf(kQueues);
    }
  } else {
    f.queue = *rc::gen::elementOf(kQueues);
    f.job_type = *rc::gen::elementOf(std::vector<std::string>{"", "", "t", "u"});
    f.limit = *rc::gen::elementOf(std::vector<int>{1, 2, 1000});
  }
  return f;
}

inline DeadLetterFilter ToFilter(const model::Filter& f) {
  DeadLetterFilter out;
  out.queue = f.queue;
  out.job_id = f.job_id;
  out.job_type = f.job_type;
  out.limit = f.limit;
  return out;
}

inline void ShowFilter(std::ostream& os, const model::Filter& f) {
  if (f.job_id) os << "job=" << *f.job_id << " ";
  os << "queue=" << f.queue << " type=" << f.job_type << " limit=" << f.limit;
}

inline void CheckBulk(Expect want, int count, bool more, const absl::StatusOr<BulkResult>& got) {
  CheckExpect(want, got.status());
  if (got.ok()) {
    RC_ASSERT(got->count == count);
    RC_ASSERT(got->more == more);
  }
}

struct RedriveCmd : Command {
  model::Filter filter;
  bool reset = *rc::gen::arbitrary<bool>();
  explicit RedriveCmd(const Model& m) : filter(GenFilter(m)) {}
  void apply(Model& m) const override {
    int count;
    bool more;
    m.Redrive(filter, reset, &count, &more);
  }
  void run(const Model& m0, Sut& sut) const override {
    Model m = m0;
    int count;
    bool more;
    Expect want = m.Redrive(filter, reset, &count, &more);
    RedriveRequest req;
    req.filter = ToFilter(filter);
    req.reset_attempts = reset;
    CheckBulk(want, count, more, sut.h->Redrive(req));
    CheckAllJobs(m, sut);
  }
  void show(std::ostream& os) const override {
    os << "Redrive(";
    ShowFilter(os, filter);
    os << ", reset=" << reset << ")";
  }
};

struct PurgeCmd : Command {
  model::Filter filter;
  explicit PurgeCmd(const Model& m) : filter(GenFilter(m)) {}
  void apply(Model& m) const override {
    int count;
    bool more;
    m.Purge(filter, &count, &more);
  }
  void run(const Model& m0, Sut& sut) const override {
    Model m = m0;
    int count;
    bool more;
    Expect want = m.Purge(filter, &count, &more);
    CheckBulk(want, count, more, sut.h->Purge(ToFilter(filter)));
    CheckAllJobs(m, sut);
  }
  void show(std::ostream& os) const override {
    os << "Purge(";
    ShowFilter(os, filter);
    os << ")";
  }
};

}  // namespace ratchet::proptest

#endif  // RATCHET_PROPERTY_TESTS_DEAD_LETTER_COMMANDS_H_
