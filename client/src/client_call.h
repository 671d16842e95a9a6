// RATCHET_CALL: one typed RPC through Client::Run (deadline per attempt,
// retries when `retry`), declaring `resp`; returns the error if it failed.
// Private to the client's sources.
#ifndef RATCHET_CLIENT_SRC_CLIENT_CALL_H_
#define RATCHET_CLIENT_SRC_CLIENT_CALL_H_

#define RATCHET_CALL(R, stub, method, req, retry, deadline)                            \
  R resp;                                                                              \
  absl::Status status = Run(retry, call, deadline, [&](grpc::ClientContext* context) { \
    resp.Clear();                                                                      \
    return stub->method(context, req, &resp);                                          \
  });                                                                                  \
  if (!status.ok()) return status;

#endif  // RATCHET_CLIENT_SRC_CLIENT_CALL_H_
