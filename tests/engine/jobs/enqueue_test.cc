#include <gtest/gtest.h>

#include "engine_harness.h"
#include "ratchet/engine/engine.h"
#include "record_rewrite.h"
#include "schema.h"

namespace ratchet {
namespace {

using testing::EngineHarness;

EnqueueRequest Req(std::string queue = "q", std::string payload = "p") {
  EnqueueRequest r;
  r.queue = std::move(queue);
  r.job_type = "t";
  r.payload = std::move(payload);
  return r;
}

// Bad input gets INVALID_ARGUMENT naming the field, and changes nothing.
void ExpectRejected(EngineHarness& h, const EnqueueRequest& req, const std::string& field) {
  auto r = h->Enqueue(req);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << r.status();
  EXPECT_NE(r.status().message().find(field), absl::string_view::npos) << r.status();
  // Nothing was written: the next job still gets id 1.
  auto next = h->Enqueue(Req("fresh"));
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->id, 1u) << "a rejected enqueue consumed an id";
  EXPECT_EQ(h->ListQueues()->queues.size(), 1u) << "a rejected enqueue created its queue";
}

TEST(EnqueueTest, AssignsIncreasingIdsAndStartsAvailable) {
  EngineHarness h;
  JobId a = h.Enqueue("q");
  JobId b = h.Enqueue("q");
  EXPECT_EQ(a, 1u);
  EXPECT_EQ(b, 2u);
  auto job = h->Get(a);
  ASSERT_TRUE(job.ok());
  EXPECT_EQ(job->state, JobState::kAvailable);
  EXPECT_EQ(job->queue, "q");
  EXPECT_EQ(job->attempts, 0);
  EXPECT_EQ(job->max_attempts, 25);
}

TEST(EnqueueTest, DelayedJobIsScheduledUntilRunAt) {
  EngineHarness h;
  auto req = Req();
  req.delay = Millis(5000);
  auto r = h->Enqueue(req);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(h->Get(r->id)->state, JobState::kScheduled);
  LeaseRequest lease{"q", 1, std::nullopt, "w"};
  EXPECT_TRUE(h->Lease(lease)->empty());
  h.clock().Advance(Millis(5000));
  EXPECT_EQ(h->Get(r->id)->state, JobState::kAvailable);
  EXPECT_EQ(h->Lease(lease)->size(), 1u);
}

TEST(EnqueueTest, EmptyQueueNameIsRejected) {
  EngineHarness h;
  ExpectRejected(h, Req(""), "queue");
}

TEST(EnqueueTest, OversizedQueueNameIsRejected) {
  EngineHarness h;
  ExpectRejected(h, Req(std::string(129, 'a')), "128 bytes");
}

TEST(EnqueueTest, QueueNameWithControlCharacterIsRejected) {
  EngineHarness h;
  ExpectRejected(h, Req("bad\nname"), "queue");
}

TEST(EnqueueTest, PayloadOverTheLimitIsRejectedWithReason) {
  EngineHarness h;
  h.options().max_payload_bytes = 1000;
  h.Reopen();
  auto r = h->Enqueue(Req("q", std::string(1001, 'x')));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ReasonOf(r.status()), kReasonPayloadTooLarge);
  EXPECT_NE(r.status().message().find("1000 bytes"), absl::string_view::npos);
  EXPECT_TRUE(h->Enqueue(Req("q", std::string(1000, 'x'))).ok());
}

TEST(EnqueueTest, ZeroMaxAttemptsIsRejected) {
  EngineHarness h;
  auto req = Req();
  req.max_attempts = 0;
  ExpectRejected(h, req, "max_attempts");
}

TEST(EnqueueTest, RunAtAbsurdlyFarOutIsRejected) {
  EngineHarness h;
  auto req = Req();
  req.run_at = h.clock().Now() + Millis(int64_t{100} * 365 * 24 * 3600000);
  ExpectRejected(h, req, "run_at");
}

TEST(EnqueueTest, BadRetryPolicyNamesTheField) {
  EngineHarness h;
  auto req = Req();
  req.retry_policy = RetryPolicy{Millis(1000), Millis(10), 2.0, JitterMode::kFull};
  ExpectRejected(h, req, "retry_policy.max_backoff");
}

TEST(EnqueueTest, SameIdempotencyKeyReturnsTheSameJob) {
  EngineHarness h;
  auto req = Req();
  req.idempotency_key = "order-17";
  auto first = h->Enqueue(req);
  auto second = h->Enqueue(req);
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_FALSE(first->duplicate);
  EXPECT_TRUE(second->duplicate);
  EXPECT_EQ(first->id, second->id);
  h.Reopen();
  auto third = h->Enqueue(req);
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(third->id, first->id) << "idempotency key lost across reopen";
}

// An idempotency record damaged on disk is corruption, not a free key: the
// enqueue answers DATA_LOSS naming it, and no second job takes the key.
TEST(EnqueueTest, ADamagedIdempotencyRecordIsDataLossNotAFreeKey) {
  EngineHarness h;
  auto req = Req();
  req.idempotency_key = "order-17";
  ASSERT_TRUE(h->Enqueue(req).ok());
  h.Close();
  testing::OverwriteValue(h, storage::Cf::kIdempotency, internal::IdempotencyKey("q", "order-17"),
                          "\xff\xff\xff");
  h.Reopen();
  auto again = h->Enqueue(req);
  ASSERT_FALSE(again.ok()) << "a duplicate job " << again->id << " was accepted";
  EXPECT_TRUE(absl::IsDataLoss(again.status())) << again.status();
  EXPECT_NE(again.status().message().find("idempotency"), std::string::npos) << again.status();
  EXPECT_EQ(h->GetQueue("q")->available, 1) << "the rejected enqueue wrote a job";
}

TEST(EnqueueTest, SameKeyWithOtherContentIsAlreadyExistsNamingTheJob) {
  EngineHarness h;
  auto req = Req();
  req.idempotency_key = "order-17";
  auto first = h->Enqueue(req);
  req.payload = "different";
  auto second = h->Enqueue(req);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(ReasonOf(second.status()), kReasonIdempotencyConflict);
  EXPECT_NE(second.status().message().find("job " + std::to_string(first->id)),
            absl::string_view::npos)
      << second.status();
}

TEST(EnqueueTest, SameKeyInAnotherQueueIsAnotherJob) {
  EngineHarness h;
  JobId a = h.Enqueue("q1", "p", "k");
  JobId b = h.Enqueue("q2", "p", "k");
  EXPECT_NE(a, b);
}

TEST(EnqueueTest, IdempotencyKeyExpiresAfterTheWindow) {
  EngineHarness h;
  JobId a = h.Enqueue("q", "p", "k");
  h.clock().Advance(h.options().idempotency_window + Millis(1));
  JobId b = h.Enqueue("q", "p", "k");
  EXPECT_NE(a, b);
}

TEST(EnqueueTest, BatchIsAllOrNothing) {
  EngineHarness h;
  std::vector<EnqueueRequest> batch = {Req(), Req(), Req()};
  batch[2].priority = -1;
  auto r = h->EnqueueBatch(batch);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("jobs[2].priority"), absl::string_view::npos) << r.status();
  EXPECT_EQ(h->Get(1).status().code(), absl::StatusCode::kNotFound);
  batch[2].priority = 1;
  auto ok = h->EnqueueBatch(batch);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->size(), 3u);
  EXPECT_EQ((*ok)[0].id, 1u);
}

// Regression (issue 10): an empty EnqueueBatch used to answer OK.
TEST(EnqueueTest, BatchWithNoJobsIsInvalid) {
  EngineHarness h;
  auto r = h->EnqueueBatch({});
  EXPECT_TRUE(absl::IsInvalidArgument(r.status())) << r.status();
  EXPECT_NE(r.status().message().find("jobs"), absl::string_view::npos);
}

TEST(EnqueueTest, BatchOverTheRequestByteLimitIsRejected) {
  EngineHarness h(true, 42, [](EngineOptions& o) {
    o.max_payload_bytes = 1000;
    o.max_request_bytes = 2500;
  });
  std::vector<EnqueueRequest> batch(3, Req("q", std::string(1000, 'x')));
  auto r = h->EnqueueBatch(batch);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("2500 bytes"), absl::string_view::npos) << r.status();
  batch.pop_back();
  EXPECT_TRUE(h->EnqueueBatch(batch).ok());
}

TEST(EnqueueTest, BatchWithRepeatedKeyYieldsOneJob) {
  EngineHarness h;
  std::vector<EnqueueRequest> batch = {Req(), Req()};
  batch[0].idempotency_key = batch[1].idempotency_key = "same";
  auto r = h->EnqueueBatch(batch);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ((*r)[0].id, (*r)[1].id);
  EXPECT_TRUE((*r)[1].duplicate);
  batch[1].payload = "other";
  EXPECT_EQ(h->EnqueueBatch(batch).status().code(), absl::StatusCode::kAlreadyExists);
}

TEST(EnqueueTest, OpenRejectsBadOptionsNamingThem) {
  EngineOptions o;
  o.data_dir = "/tmp/never-created";
  o.max_lease_jobs = 0;
  auto e = Engine::Open(o);
  EXPECT_EQ(e.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(e.status().message().find("max_lease_jobs"), absl::string_view::npos);
  o.max_lease_jobs = 10;
  o.default_queue_settings.max_attempts = 0;
  e = Engine::Open(o);
  EXPECT_NE(e.status().message().find("default_queue_settings"), absl::string_view::npos)
      << e.status();
}

TEST(EnqueueTest, UnknownJobIsNotFound) {
  EngineHarness h;
  auto r = h->Get(12345);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(ReasonOf(r.status()), kReasonNotFound);
}

TEST(EnqueueTest, AsyncEnqueuesAreAllAcknowledgedInOrder) {
  EngineHarness h;
  constexpr int kJobs = 500;
  std::vector<JobId> ids(kJobs);
  std::atomic<int> done{0};
  for (int i = 0; i < kJobs; ++i) {
    h->EnqueueAsync(Req(), [&, i](absl::StatusOr<EnqueueResult> r) {
      ids[i] = r.ok() ? r->id : 0;
      done.fetch_add(1);
    });
  }
  while (done.load() < kJobs) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  for (int i = 0; i < kJobs; ++i) EXPECT_EQ(ids[i], static_cast<JobId>(i + 1));
}

}  // namespace
}  // namespace ratchet

namespace ratchet {
namespace {

constexpr char kTraceparent[] = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

TEST(EnqueueTraceTest, TraceparentIsStoredAndHandedToEveryAttemptAcrossReopen) {
  EngineHarness h;
  auto req = Req();
  req.traceparent = kTraceparent;
  auto r = h->Enqueue(req);
  ASSERT_TRUE(r.ok()) << r.status();
  h.Reopen();
  EXPECT_EQ(h->Get(r->id)->traceparent, kTraceparent);
  LeasedJob first = h.LeaseOne("q");
  EXPECT_EQ(first.traceparent, kTraceparent);
  auto failed = h->Fail({.id = first.id, .token = first.token, .error = "again"});
  ASSERT_TRUE(failed.ok()) << failed.status();
  EXPECT_EQ(failed->traceparent, kTraceparent);
  h.clock().Advance(Millis(3600 * 1000));
  EXPECT_EQ(h.LeaseOne("q").traceparent, kTraceparent);
  // A job enqueued without one has none.
  JobId plain = h.Enqueue("q");
  EXPECT_EQ(h->Get(plain)->traceparent, "");
}

TEST(EnqueueTraceTest, MalformedTraceparentIsRejected) {
  for (const char* bad : {"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
                          "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
                          "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
                          "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra"}) {
    EngineHarness h;
    auto req = Req();
    req.traceparent = bad;
    ExpectRejected(h, req, "traceparent");
  }
}

}  // namespace
}  // namespace ratchet
