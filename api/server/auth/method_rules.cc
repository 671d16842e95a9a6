#include "method_rules.h"

#include "absl/strings/str_cat.h"

namespace ratchet::server::auth {
namespace {

using P = Permission;
using R = Resource;
constexpr absl::string_view kJobs = "ratchet.v1.JobService";
constexpr absl::string_view kWorkers = "ratchet.v1.WorkerService";
constexpr absl::string_view kQueueSvc = "ratchet.v1.QueueService";
constexpr absl::string_view kWorkflows = "ratchet.v1.WorkflowService";
constexpr absl::string_view kSchedules = "ratchet.v1.ScheduleService";
constexpr absl::string_view kAdminSvc = "ratchet.v1.AdminService";

constexpr MethodRule kRules[] = {
    {kJobs, "Enqueue", P::kEnqueue, R::kQueues},
    {kJobs, "EnqueueBatch", P::kEnqueue, R::kQueues},
    {kJobs, "GetJob", P::kRead, R::kJob},
    {kJobs, "ListJobs", P::kRead, R::kQueues},
    {kJobs, "CancelJob", P::kManage, R::kJob},
    {kJobs, "RetryJob", P::kManage, R::kJob},
    {kJobs, "ExplainJob", P::kRead, R::kJob},
    {kJobs, "CancelJobs", P::kManage, R::kQueues},
    {kWorkers, "Lease", P::kWork, R::kQueues},
    {kWorkers, "Heartbeat", P::kWork, R::kLeasedJob},
    {kWorkers, "Complete", P::kWork, R::kLeasedJob},
    {kWorkers, "CompleteBatch", P::kWork, R::kLeasedJob},
    {kWorkers, "Fail", P::kWork, R::kLeasedJob},
    {kWorkers, "FailBatch", P::kWork, R::kLeasedJob},
    {kWorkers, "CompleteAndLease", P::kWork, R::kLeasedJob},
    {kWorkers, "ListWorkers", P::kRead, R::kListing},
    {kWorkers, "HeartbeatBatch", P::kWork, R::kLeasedJob},
    {kWorkers, "WorkStream", P::kWork, R::kLeasedJob},
    {kQueueSvc, "ListQueues", P::kRead, R::kListing},
    {kQueueSvc, "GetQueue", P::kRead, R::kQueues},
    {kQueueSvc, "UpdateQueue", P::kManage, R::kQueues},
    {kQueueSvc, "PauseQueue", P::kManage, R::kQueues},
    {kQueueSvc, "ResumeQueue", P::kManage, R::kQueues},
    {kQueueSvc, "ListDeadLetters", P::kRead, R::kQueues},
    {kQueueSvc, "RedriveDeadLetters", P::kManage, R::kQueues},
    {kQueueSvc, "PurgeDeadLetters", P::kManage, R::kQueues},
    {kWorkflows, "SubmitWorkflow", P::kEnqueue, R::kQueues},
    {kWorkflows, "StartWorkflow", P::kEnqueue, R::kQueues},
    {kWorkflows, "GetWorkflow", P::kRead, R::kWorkflow},
    {kWorkflows, "ListWorkflows", P::kRead, R::kListing},
    {kWorkflows, "CancelWorkflow", P::kManage, R::kWorkflow},
    {kWorkflows, "SendEvent", P::kEnqueue, R::kWorkflow},
    {kWorkflows, "RecordStep", P::kWork, R::kJob},
    {kWorkflows, "SuspendWorkflow", P::kWork, R::kJob},
    {kSchedules, "CreateSchedule", P::kManage, R::kQueues},
    {kSchedules, "UpdateSchedule", P::kManage, R::kSchedule},
    {kSchedules, "DeleteSchedule", P::kManage, R::kSchedule},
    {kSchedules, "GetSchedule", P::kRead, R::kSchedule},
    {kSchedules, "ListSchedules", P::kRead, R::kListing},
    {kSchedules, "PauseSchedule", P::kManage, R::kSchedule},
    {kSchedules, "ResumeSchedule", P::kManage, R::kSchedule},
    {kSchedules, "TriggerSchedule", P::kManage, R::kSchedule},
    {kAdminSvc, "Backup", P::kAdmin, R::kServer},
    {kAdminSvc, "GetStats", P::kAdmin, R::kServer},
};

}  // namespace

absl::Span<const MethodRule> MethodRules() { return kRules; }

const MethodRule* FindRule(absl::string_view service, absl::string_view method) {
  for (const MethodRule& r : kRules) {
    if (r.service == service && r.method == method) return &r;
  }
  return nullptr;
}

absl::string_view ResourceName(Resource r) {
  switch (r) {
    case Resource::kServer:
      return "every queue (`*`)";
    case Resource::kQueues:
      return "the queues it names";
    case Resource::kJob:
      return "the job's queue";
    case Resource::kLeasedJob:
      return "each job's queue, in the engine";
    case Resource::kWorkflow:
      return "the workflow's queue";
    case Resource::kSchedule:
      return "the schedule's queue";
    case Resource::kListing:
      return "lists only readable queues";
  }
  return "?";
}

std::string RulesMarkdown() {
  std::string out = "| RPC | permission | checked against |\n|---|---|---|\n";
  for (const MethodRule& r : kRules) {
    absl::string_view service = r.service.substr(r.service.rfind('.') + 1);
    absl::StrAppend(&out, "| ", service, ".", r.method, " | ", PermissionName(r.permission), " | ",
                    ResourceName(r.resource), " |\n");
  }
  absl::StrAppend(&out, "\n| role | permissions |\n|---|---|\n");
  for (Role role : kAllRoles) {
    std::string perms;
    for (Permission p : kAllPermissions) {
      if (RoleHas(role, p)) absl::StrAppend(&perms, perms.empty() ? "" : ", ", PermissionName(p));
    }
    absl::StrAppend(&out, "| ", RoleName(role), " | ", perms, " |\n");
  }
  return out;
}

}  // namespace ratchet::server::auth
