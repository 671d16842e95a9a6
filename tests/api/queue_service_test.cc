// QueueService over a real gRPC server: counts, settings, pause/resume and
// the dead-letter queue's list, redrive and purge.
#include <thread>

#include "ratchet/api/time_codec.h"
#include "server_fixture.h"

namespace ratchet::testing {
namespace {

using absl::StatusCode;

class QueueServiceTest : public ServerFixture {
 protected:
  uint64_t Enqueue(const std::string& type = "t") {
    v1::JobSpec job;
    job.set_queue("q");
    job.set_job_type(type);
    return client().Enqueue(job)->job_id();
  }
};

TEST_F(QueueServiceTest, ListAndGetShowCountsPerState) {
  Enqueue();
  Enqueue();
  auto queues = client().ListQueues();
  ASSERT_TRUE(queues.ok()) << queues.status();
  ASSERT_EQ(queues->queues_size(), 1);
  EXPECT_EQ(queues->queues(0).name(), "q");
  EXPECT_EQ(queues->queues(0).available(), 2);
  auto q = client().GetQueue("q");
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->available(), 2);
  EXPECT_EQ(q->settings().max_attempts(), 25);
}

TEST_F(QueueServiceTest, ListQueuesAnswersAPageAndACursor) {
  for (const char* name : {"b", "a", "c"}) {
    v1::JobSpec job;
    job.set_queue(name);
    job.set_job_type("t");
    ASSERT_TRUE(client().Enqueue(job).ok());
  }
  v1::ListQueuesRequest req;
  req.set_limit(2);
  auto first = client().ListQueues(req);
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_EQ(first->queues_size(), 2);
  EXPECT_EQ(first->queues(0).name(), "a");
  ASSERT_FALSE(first->next_cursor().empty());
  req.set_cursor(first->next_cursor());
  auto second = client().ListQueues(req);
  ASSERT_TRUE(second.ok()) << second.status();
  ASSERT_EQ(second->queues_size(), 1);
  EXPECT_EQ(second->queues(0).name(), "c");
  EXPECT_TRUE(second->next_cursor().empty());
  req.set_limit(1001);
  EXPECT_STATUS(client().ListQueues(req).status(), StatusCode::kInvalidArgument,
                kReasonInvalidArgument);
}

TEST_F(QueueServiceTest, GetUnknownQueueIsNotFound) {
  EXPECT_STATUS(client().GetQueue("nope").status(), StatusCode::kNotFound, kReasonNotFound);
}

TEST_F(QueueServiceTest, UpdateChangesOnlyTheGivenSettings) {
  v1::UpdateQueueRequest req;
  req.set_queue("q");
  req.set_concurrency_limit(3);
  auto q = client().UpdateQueue(req);
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_EQ(q->settings().concurrency_limit(), 3);
  v1::UpdateQueueRequest second;
  second.set_queue("q");
  second.set_max_attempts(7);
  q = client().UpdateQueue(second);
  EXPECT_EQ(q->settings().concurrency_limit(), 3);  // kept
  EXPECT_EQ(q->settings().max_attempts(), 7);
}

TEST_F(QueueServiceTest, UpdateRejectsBadSettingNamingIt) {
  v1::UpdateQueueRequest req;
  req.set_queue("q");
  req.set_max_attempts(0);
  auto q = client().UpdateQueue(req);
  EXPECT_STATUS(q.status(), StatusCode::kInvalidArgument, kReasonInvalidArgument);
  EXPECT_NE(q.status().message().find("max_attempts"), std::string::npos) << q.status();
}

// UpdateQueue is one partial update in the engine, not a read-modify-write
// in the server: two concurrent updates of different settings both survive.
TEST_F(QueueServiceTest, ConcurrentUpdatesOfDifferentSettingsBothSurvive) {
  constexpr int kRounds = 40;
  for (int i = 0; i < kRounds; ++i) {
    const std::string queue = "q" + std::to_string(i);
    v1::UpdateQueueRequest limit, attempts;
    limit.set_queue(queue);
    limit.set_concurrency_limit(7);
    attempts.set_queue(queue);
    attempts.set_max_attempts(3);
    absl::Status a, b;
    std::thread t([&] { a = client().UpdateQueue(limit).status(); });
    b = client().UpdateQueue(attempts).status();
    t.join();
    ASSERT_TRUE(a.ok() && b.ok()) << a << " " << b;
    auto q = client().GetQueue(queue);
    ASSERT_TRUE(q.ok()) << q.status();
    EXPECT_EQ(q->settings().concurrency_limit(), 7) << "round " << i;
    EXPECT_EQ(q->settings().max_attempts(), 3) << "round " << i;
  }
}

TEST_F(QueueServiceTest, UpdateNeverResumesAPausedQueue) {
  ASSERT_TRUE(client().PauseQueue("q").ok());
  v1::UpdateQueueRequest req;
  req.set_queue("q");
  req.set_max_attempts(5);
  auto q = client().UpdateQueue(req);
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_TRUE(q->settings().paused());
  EXPECT_EQ(q->settings().max_attempts(), 5);
  EXPECT_TRUE(client().GetQueue("q")->settings().paused());
}

TEST_F(QueueServiceTest, UpdateWithAnOutOfRangeDurationNamesItAndChangesNothing) {
  v1::UpdateQueueRequest req;
  req.set_queue("q");
  req.set_max_attempts(5);
  req.mutable_dead_retention()->set_seconds(3600);
  req.mutable_dead_retention()->set_nanos(2000000000);
  auto q = client().UpdateQueue(req);
  EXPECT_STATUS(q.status(), StatusCode::kInvalidArgument, kReasonInvalidArgument);
  EXPECT_EQ(q.status().message().rfind("dead_retention: ", 0), 0u) << q.status();
  EXPECT_EQ(client().GetQueue("q").status().code(), StatusCode::kNotFound);
}

TEST_F(QueueServiceTest, PausedQueueLeasesNothingUntilResumed) {
  Enqueue();
  auto paused = client().PauseQueue("q");
  ASSERT_TRUE(paused.ok()) << paused.status();
  EXPECT_TRUE(paused->settings().paused());
  v1::LeaseRequest lease;
  lease.set_queue("q");
  EXPECT_EQ(client().Lease(lease)->jobs_size(), 0);
  EXPECT_FALSE(client().ResumeQueue("q")->settings().paused());
  EXPECT_EQ(client().Lease(lease)->jobs_size(), 1);
  EXPECT_STATUS(client().PauseQueue("bad name").status(), StatusCode::kInvalidArgument,
                kReasonInvalidArgument);
}

TEST_F(QueueServiceTest, DeadLettersCanBeListedRedrivenAndPurged) {
  uint64_t a = Enqueue("a");
  Enqueue("b");
  KillOne("q");
  KillOne("q");
  v1::ListDeadLettersRequest list;
  list.set_queue("q");
  auto dead = client().ListDeadLetters(list);
  ASSERT_TRUE(dead.ok()) << dead.status();
  ASSERT_EQ(dead->jobs_size(), 2);
  EXPECT_EQ(dead->jobs(0).errors(0).message(), "fatal");

  v1::RedriveDeadLettersRequest redrive;
  redrive.mutable_filter()->set_queue("q");
  redrive.mutable_filter()->set_job_id(a);
  auto r = client().RedriveDeadLetters(redrive);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->count(), 1);
  EXPECT_EQ(client().GetJob(a)->state(), v1::JOB_STATE_AVAILABLE);

  v1::PurgeDeadLettersRequest purge;
  purge.mutable_filter()->set_queue("q");
  auto p = client().PurgeDeadLetters(purge);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->count(), 1);
  EXPECT_EQ(client().GetQueue("q")->dead(), 0);
}

TEST_F(QueueServiceTest, RedriveOfAJobThatIsNotDeadIsInvalidState) {
  uint64_t id = Enqueue();
  v1::RedriveDeadLettersRequest redrive;
  redrive.mutable_filter()->set_queue("q");
  redrive.mutable_filter()->set_job_id(id);
  EXPECT_STATUS(client().RedriveDeadLetters(redrive).status(), StatusCode::kFailedPrecondition,
                kReasonInvalidState);
  redrive.mutable_filter()->set_job_id(999);
  EXPECT_STATUS(client().RedriveDeadLetters(redrive).status(), StatusCode::kNotFound,
                kReasonNotFound);
}

}  // namespace
}  // namespace ratchet::testing
