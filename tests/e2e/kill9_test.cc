// Kill -9 end to end: producers and workers run against a ratchetd child
// that is SIGKILLed at random moments and restarted on the same data
// directory. After a final drain:
//   - every acknowledged enqueue has exactly one job, and it completed;
//   - no idempotency key produced two jobs;
//   - each job accepted completions from exactly one fencing token, its
//     final lease's: no stale worker's completion was ever accepted.
// Workers sometimes stall past their visibility timeout, so stale
// completions are attempted (and must be rejected with LEASE_LOST). Half
// the workers use unary Lease/Complete, half the streaming protocol
// (WorkStream: pushed jobs, completions acknowledged by seq), which
// reconnects after every kill.
//
// RATCHET_KILL9_CYCLES (default 20), RATCHET_KILL9_SEED (default: random,
// printed) and RATCHET_KILL9_STALL_PCT (default 5: the share of jobs whose
// worker stalls past its lease) control the run.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "ratchet/api/time_codec.h"
#include "ratchet/base/status.h"
#include "ratchet/client/client.h"
#include "ratchet/client/work_stream.h"
#include "ratchetd_process.h"
#include "temp_dir.h"

namespace ratchet::testing {
namespace {

int EnvInt(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v ? std::atoi(v) : fallback;
}

// What producers and workers observed, for the final check.
struct Ledger {
  absl::Mutex mu;
  std::map<std::string, uint64_t> acked ABSL_GUARDED_BY(mu);            // key -> job id
  std::map<uint64_t, std::set<uint64_t>> accepted ABSL_GUARDED_BY(mu);  // job -> tokens
  int id_mismatches ABSL_GUARDED_BY(mu) = 0;
  std::atomic<int> stale_rejected{0};
  std::atomic<int> stale_attempts{0};
};

void Produce(Client& client, Ledger& ledger, std::atomic<int>& next_key,
             const std::atomic<bool>& stop) {
  while (!stop.load()) {
    // About 100 jobs/s per producer, so that workers keep up and the final
    // drain is short.
    std::this_thread::sleep_for(Millis(10));
    std::string key = "k" + std::to_string(next_key++);
    v1::JobSpec job;
    job.set_queue("e2e");
    job.set_job_type("t");
    job.set_payload("payload-of-" + key);
    job.set_idempotency_key(key);
    // Retry the same key until acknowledged: across restarts too.
    while (true) {
      auto r = client.Enqueue(job);
      if (r.ok()) {
        absl::MutexLock lock(&ledger.mu);
        auto [it, inserted] = ledger.acked.emplace(key, r->job_id());
        if (!inserted && it->second != r->job_id()) ledger.id_mismatches++;
        break;
      }
      if (stop.load()) return;  // in doubt: may or may not exist
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
}

void Work(Client& client, Ledger& ledger, uint64_t seed, const std::atomic<bool>& stop) {
  std::mt19937_64 rng(seed);
  while (!stop.load()) {
    v1::LeaseRequest req;
    req.set_queue("e2e");
    req.set_max_jobs(4);
    req.set_worker_id("w" + std::to_string(seed));
    *req.mutable_wait() = ToProtoDuration(Millis(200));
    *req.mutable_visibility_timeout() = ToProtoDuration(Millis(800));
    auto leased = client.Lease(req, {.deadline = Millis(1000)});
    if (!leased.ok()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      continue;
    }
    for (const v1::LeasedJob& job : leased->jobs()) {
      bool stall = static_cast<int>(rng() % 100) < EnvInt("RATCHET_KILL9_STALL_PCT", 5);
      if (stall) {
        ledger.stale_attempts++;
        std::this_thread::sleep_for(Millis(1000));  // past the 800 ms lease
      }
      v1::CompleteRequest done;
      done.set_job_id(job.job_id());
      done.set_fencing_token(job.fencing_token());
      done.set_result("done-by-token-" + std::to_string(job.fencing_token()));
      absl::Status s = client.Complete(done);
      if (s.ok()) {
        absl::MutexLock lock(&ledger.mu);
        ledger.accepted[job.job_id()].insert(job.fencing_token());
      } else if (ReasonOf(s) == kReasonLeaseLost) {
        ledger.stale_rejected++;
      }
    }
  }
}

// A streaming worker: one WorkStream at a time (opened again after every
// kill), 4 credits, one completion per message; an acknowledgement says
// which completions the engine accepted.
void StreamWork(Client& client, Ledger& ledger, uint64_t seed, const std::atomic<bool>& stop) {
  std::mt19937_64 rng(seed);
  absl::Mutex mu;
  WorkStream* current = nullptr;  // guarded by mu; cancelled at stop
  std::thread canceller([&] {
    while (!stop.load()) std::this_thread::sleep_for(Millis(20));
    absl::MutexLock lock(&mu);
    if (current) current->Cancel();
  });
  while (!stop.load()) {
    std::unique_ptr<WorkStream> stream = client.OpenWorkStream();
    {
      absl::MutexLock lock(&mu);
      current = stream.get();
      if (stop.load()) stream->Cancel();
    }
    v1::WorkStreamRequest open;
    open.mutable_open()->set_queue("e2e");
    open.mutable_open()->set_worker_id("s" + std::to_string(seed));
    *open.mutable_open()->mutable_visibility_timeout() = ToProtoDuration(Millis(800));
    open.set_credits(4);
    std::map<uint64_t, std::pair<uint64_t, uint64_t>> sent;  // seq -> (job, token)
    uint64_t seq = 0;
    v1::WorkStreamResponse msg;
    bool ok = stream->Write(open);
    while (ok && stream->Read(&msg)) {
      for (const v1::WorkStreamAck& ack : msg.acks()) {
        auto it = sent.find(ack.seq());
        if (it == sent.end() || ack.completions_size() != 1) continue;
        const auto [job, token] = it->second;
        sent.erase(it);
        if (ack.completions(0).code() == 0) {
          absl::MutexLock lock(&ledger.mu);
          ledger.accepted[job].insert(token);
        } else {
          ledger.stale_rejected++;  // LEASE_LOST: the only refusal a live stream gives here
        }
      }
      for (const v1::LeasedJob& job : msg.jobs()) {
        if (static_cast<int>(rng() % 100) < EnvInt("RATCHET_KILL9_STALL_PCT", 5)) {
          ledger.stale_attempts++;
          std::this_thread::sleep_for(Millis(1000));  // past the 800 ms lease
        }
        v1::WorkStreamRequest done;
        done.set_seq(++seq);
        done.set_credits(1);
        auto* c = done.add_completions();
        c->set_job_id(job.job_id());
        c->set_fencing_token(job.fencing_token());
        c->set_result("done-by-token-" + std::to_string(job.fencing_token()));
        sent[seq] = {job.job_id(), job.fencing_token()};
        if (!(ok = stream->Write(done))) break;
      }
    }
    stream->Cancel();
    (void)stream->Finish();  // cut by a kill: unacknowledged completions are in doubt
    {
      absl::MutexLock lock(&mu);
      current = nullptr;
    }
    if (!stop.load()) std::this_thread::sleep_for(Millis(20));
  }
  canceller.join();
}

TEST(Kill9Test, AcknowledgedWorkSurvivesSigkillOfTheServer) {
  const int cycles = EnvInt("RATCHET_KILL9_CYCLES", 20);
  uint64_t seed = EnvInt("RATCHET_KILL9_SEED", 0);
  if (seed == 0) seed = std::random_device{}();
  std::printf("kill9: cycles=%d seed=%llu (RATCHET_KILL9_SEED)\n", cycles,
              static_cast<unsigned long long>(seed));
  std::mt19937_64 rng(seed);

  TempDir dir;
  const int port = FreePort();
  RatchetdProcess server(RATCHETD_PATH, dir.Sub("data"), port, {"--shutdown-grace-ms", "200"});
  auto client = Client::Connect(
      {.target = "127.0.0.1:" + std::to_string(port), .deadline = Millis(2000), .max_attempts = 3});
  ASSERT_TRUE(client.ok());

  Ledger ledger;
  std::atomic<int> next_key{0};
  std::atomic<bool> stop_producing{false}, stop_working{false};
  std::vector<std::thread> threads;
  ASSERT_TRUE(server.Start()) << "see " << server.log_path();
  for (int i = 0; i < 2; ++i) {
    threads.emplace_back([&] { Produce(**client, ledger, next_key, stop_producing); });
  }
  std::vector<std::thread> workers;
  for (int i = 0; i < 2; ++i) {
    workers.emplace_back([&, i] { Work(**client, ledger, seed + i + 1, stop_working); });
    workers.emplace_back([&, i] { StreamWork(**client, ledger, seed + i + 11, stop_working); });
  }

  for (int cycle = 0; cycle < cycles; ++cycle) {
    std::this_thread::sleep_for(Millis(200 + rng() % 600));
    server.Stop(SIGKILL);
    ASSERT_TRUE(server.Start()) << "restart " << cycle << " failed; see " << server.log_path();
  }

  // Final drain: stop producing, then work until nothing is left.
  stop_producing = true;
  for (auto& t : threads) t.join();
  bool drained = false;
  for (int i = 0; i < 600 && !drained; ++i) {
    auto q = (*client)->GetQueue("e2e");
    drained = q.ok() && q->scheduled() + q->available() + q->running() == 0;
    if (!drained) std::this_thread::sleep_for(Millis(100));
  }
  stop_working = true;
  for (auto& t : workers) t.join();
  ASSERT_TRUE(drained) << "jobs left after the drain";

  absl::MutexLock lock(&ledger.mu);
  EXPECT_EQ(ledger.id_mismatches, 0) << "one key answered with two job ids";
  // Every job in the queue, by idempotency key.
  std::map<std::string, std::vector<uint64_t>> jobs_by_key;
  std::map<uint64_t, v1::Job> jobs;
  v1::ListJobsRequest list;
  list.set_queue("e2e");
  list.set_state(v1::JOB_STATE_COMPLETED);
  list.set_limit(1000);
  do {
    auto page = (*client)->ListJobs(list);
    ASSERT_TRUE(page.ok()) << page.status();
    for (const v1::Job& job : page->jobs()) {
      jobs_by_key[job.idempotency_key()].push_back(job.id());
      jobs[job.id()] = job;
    }
    list.set_cursor(page->next_cursor());
  } while (!list.cursor().empty());
  auto q = (*client)->GetQueue("e2e");
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->dead() + q->cancelled(), 0);

  for (const auto& [key, ids] : jobs_by_key) {
    EXPECT_EQ(ids.size(), 1u) << "key " << key << " produced " << ids.size() << " jobs";
  }
  for (const auto& [key, id] : ledger.acked) {
    ASSERT_TRUE(jobs.count(id)) << "acknowledged " << key << " (job " << id << ") not completed";
    EXPECT_EQ(jobs[id].idempotency_key(), key);
  }
  for (const auto& [id, job] : jobs) {
    const auto& tokens = ledger.accepted[id];
    // A completion may have committed with its answer lost in a kill, so a
    // job can have no recorded token; it can never have two.
    EXPECT_LE(tokens.size(), 1u) << "job " << id << " accepted completions from " << tokens.size()
                                 << " tokens";
    if (!tokens.empty()) {
      EXPECT_EQ(*tokens.begin(), job.fencing_token()) << "job " << id;
      EXPECT_EQ(job.result(), "done-by-token-" + std::to_string(job.fencing_token()));
    }
  }
  std::printf(
      "kill9: %d cycles, %zu acknowledged enqueues, %zu jobs completed, "
      "%d stale completions attempted, %d rejected as LEASE_LOST\n",
      cycles, ledger.acked.size(), jobs.size(), ledger.stale_attempts.load(),
      ledger.stale_rejected.load());
  EXPECT_GT(ledger.acked.size(), 0u);
  server.Stop(SIGTERM);
}

}  // namespace
}  // namespace ratchet::testing
