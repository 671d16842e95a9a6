// JsonLogFormatter (json_log.h): logfmt lines become one JSON object each.
#include "json_log.h"

#include <gtest/gtest.h>
#include <spdlog/details/log_msg.h>

#include <nlohmann/json.hpp>

namespace ratchet::server {
namespace {

nlohmann::json Parse(std::string_view payload) {
  return nlohmann::json::parse(LogLineToJson("2026-12-03T00:00:00.000Z", "info", payload));
}

TEST(JsonLogTest, KeysBecomeFieldsAndIntegersNumbers) {
  auto j = Parse("event=job_dead_lettered job_id=42 queue=emails worker_id=w-1");
  EXPECT_EQ(j["time"], "2026-12-03T00:00:00.000Z");
  EXPECT_EQ(j["level"], "info");
  EXPECT_EQ(j["event"], "job_dead_lettered");
  EXPECT_EQ(j["job_id"], 42);
  EXPECT_EQ(j["queue"], "emails");
  EXPECT_EQ(j["worker_id"], "w-1");
}

TEST(JsonLogTest, NamesThatLookLikeIntegersStayStrings) {
  auto j = Parse("event=job_leased job_id=7 queue=007 schedule_id=2026 worker_id=12 count=0");
  EXPECT_EQ(j["queue"], "007");
  EXPECT_EQ(j["schedule_id"], "2026");
  EXPECT_EQ(j["worker_id"], "12");
  EXPECT_EQ(j["job_id"], 7);
  EXPECT_EQ(j["count"], 0);
  EXPECT_EQ(Parse("event=x moved=0012")["moved"], "0012");  // leading zeros: text
}

TEST(JsonLogTest, TraceIdsStayStringsAndAnEmptyOneIsEmpty) {
  // A trace-id of digits only must not become a (rounded) number.
  auto j = Parse("event=job_leased job_id=7 trace_id=12345678901234567890123456789012 queue=q");
  EXPECT_EQ(j["trace_id"], "12345678901234567890123456789012");
  j = Parse("event=job_leased job_id=7 trace_id= queue=q");
  EXPECT_EQ(j["trace_id"], "");
  EXPECT_EQ(j["queue"], "q");
}

TEST(JsonLogTest, QuotedValuesAreUnescaped) {
  auto j = Parse(R"(event=audit principal="on call" error="a \"b\" c\\d" n=-7)");
  EXPECT_EQ(j["principal"], "on call");
  EXPECT_EQ(j["error"], "a \"b\" c\\d");
  EXPECT_EQ(j["n"], -7);
}

// A value cannot override the line's time or level, nor a field set before
// it (review finding: a worker_id with spaces forged audit lines).
TEST(JsonLogTest, TheFirstValueOfAKeyWinsAndTimeAndLevelAreTheLines) {
  auto j = Parse("event=job_leased worker_id=w level=error time=forged event=audit");
  EXPECT_EQ(j["event"], "job_leased");
  EXPECT_EQ(j["level"], "info");
  EXPECT_EQ(j["time"], "2026-12-03T00:00:00.000Z");
}

TEST(JsonLogTest, TextWithoutKeysIsTheMessageAndTheEventDefaults) {
  auto j = Parse("something happened here");
  EXPECT_EQ(j["event"], "log");
  EXPECT_EQ(j["message"], "something happened here");
}

TEST(JsonLogTest, InvalidUtf8IsReplacedNotEmitted) {
  std::string line = LogLineToJson("t", "warn", "event=x queue=\xff\xfe");
  auto j = nlohmann::json::parse(line);  // throws on invalid UTF-8
  EXPECT_EQ(j["event"], "x");
}

TEST(JsonLogTest, TheFormatterWritesOneLine) {
  JsonLogFormatter f;
  spdlog::details::log_msg msg("ratchet", spdlog::level::warn, "event=e job_id=1");
  spdlog::memory_buf_t out;
  f.format(msg, out);
  std::string line(out.data(), out.size());
  ASSERT_FALSE(line.empty());
  EXPECT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1);
  auto j = nlohmann::json::parse(line);
  EXPECT_EQ(j["level"], "warning");
  EXPECT_EQ(j["job_id"], 1);
  EXPECT_NE(j["time"].get<std::string>().find('T'), std::string::npos);
}

}  // namespace
}  // namespace ratchet::server
