// hello_ratchet: enqueues one job and works it with a ratchet::Worker.
//   hello_ratchet [host:port]   (default 127.0.0.1:7070, e.g. after `make run`)
#include <chrono>
#include <cstdio>
#include <thread>

#include "ratchet/client/client.h"
#include "ratchet/client/worker.h"

int main(int argc, char** argv) {
  auto client = ratchet::Client::Connect({.target = argc > 1 ? argv[1] : "127.0.0.1:7070"});
  if (!client.ok()) return 1;
  ratchet::v1::JobSpec job;
  job.set_queue("hello");
  job.set_job_type("greet");
  job.set_payload("world");
  auto enqueued = (*client)->Enqueue(job);  // a retry never duplicates it
  if (!enqueued.ok()) {
    std::fprintf(stderr, "enqueue: %s\n", enqueued.status().ToString().c_str());
    return 1;
  }
  ratchet::Worker worker(client->get(), {.queue = "hello", .concurrency = 1});
  worker.Register("greet", [](ratchet::JobContext& ctx) {
    return ratchet::HandlerResult::Success("hello, " + ctx.payload());
  });
  if (!worker.Start().ok()) return 1;
  for (int i = 0; i < 100; ++i) {
    auto got = (*client)->GetJob(enqueued->job_id());
    if (got.ok() && got->state() == ratchet::v1::JOB_STATE_COMPLETED) {
      std::printf("job %llu: %s\n", static_cast<unsigned long long>(got->id()),
                  got->result().c_str());
      return 0;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return 1;
}
