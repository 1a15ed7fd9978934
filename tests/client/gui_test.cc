// GuiServer's checks, with a real HTTP client against a server bound to a
// free loopback port: token, Host, Origin, method, body size and type, and
// the headers every response carries. Handlers here count their calls, so
// each refusal is also shown to change nothing.

#include "client/gui/gui.h"

#include <atomic>
#include <regex>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "client/views/notification_json.h"
#include "client/views/outbox_view.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "tests/testing/status_matchers.h"

namespace parley {
namespace {

using ::parley::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;
using Json = nlohmann::json;

constexpr size_t kMaxBody = 1024;

class GuiServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    random_ = NewDeterministicRandom("gui-test");
    GuiServer::Options options;
    options.max_body_bytes = kMaxBody;
    options.random = random_.get();
    absl::StatusOr<std::unique_ptr<GuiServer>> server =
        GuiServer::Bind(options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    server_->HandleGet("/api/read", [this](const GuiRequest& r) {
      ++reads_;
      return GuiReply{200, {{"id", r.Get("id")}}};
    });
    server_->HandlePost("/api/change", [this](const GuiRequest& r) {
      ++changes_;
      return GuiReply{200, {{"got", r.body}}};
    });
    server_->HandlePost("/api/throws", [](const GuiRequest& r) {
      // A type error inside a handler (a number read as a string).
      return GuiReply{200, {{"x", r.body.at("n").get<std::string>()}}};
    });
    serving_ = std::thread([this] { served_ = server_->Serve(); });
    client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
    client_->set_connection_timeout(5, 0);
    client_->set_read_timeout(5, 0);
  }

  void TearDown() override {
    server_->Stop();
    if (serving_.joinable()) serving_.join();
    EXPECT_TRUE(served_.ok()) << served_;
  }

  httplib::Headers Auth(httplib::Headers extra = {}) const {
    extra.emplace("Authorization", "Bearer " + server_->token());
    return extra;
  }

  static Json Body(const httplib::Result& r) {
    return Json::parse(r->body, nullptr, false);
  }

  std::unique_ptr<Random> random_;
  std::unique_ptr<GuiServer> server_;
  std::unique_ptr<httplib::Client> client_;
  std::thread serving_;
  absl::Status served_;
  std::atomic<int> reads_{0};
  std::atomic<int> changes_{0};
};

void ExpectSecurityHeaders(const httplib::Result& r) {
  ASSERT_TRUE(r);
  const std::string csp = r->get_header_value("Content-Security-Policy");
  EXPECT_THAT(csp, HasSubstr("default-src 'self'"));
  EXPECT_THAT(csp, HasSubstr("script-src 'self'"));
  EXPECT_THAT(csp, HasSubstr("frame-ancestors 'none'"));
  EXPECT_THAT(csp, Not(HasSubstr("unsafe-inline")));
  EXPECT_THAT(csp, Not(HasSubstr("unsafe-eval")));
  EXPECT_EQ(r->get_header_value("X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(r->get_header_value("X-Frame-Options"), "DENY");
  EXPECT_EQ(r->get_header_value("Cache-Control"), "no-store");
  EXPECT_EQ(r->get_header_value("Referrer-Policy"), "no-referrer");
  for (const auto& [name, value] : r->headers) {
    EXPECT_FALSE(absl::StartsWith(absl::AsciiStrToLower(name),
                                  "access-control-"))
        << name << ": " << value;
  }
}

void ExpectError(const httplib::Result& r, int status,
                 const std::string& code) {
  ASSERT_TRUE(r) << httplib::to_string(r.error());
  EXPECT_EQ(r->status, status) << r->body;
  Json j = Json::parse(r->body, nullptr, false);
  ASSERT_TRUE(j.is_object()) << r->body;
  EXPECT_EQ(j["code"], code) << r->body;
  EXPECT_TRUE(j["error"].is_string() && !j["error"].empty()) << r->body;
  ExpectSecurityHeaders(r);
}

TEST_F(GuiServerTest, ServesThePageWithSecurityHeadersAndNoInlineScript) {
  httplib::Result page = client_->Get("/");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_THAT(page->get_header_value("Content-Type"), HasSubstr("text/html"));
  ExpectSecurityHeaders(page);
  EXPECT_THAT(page->body, HasSubstr("<script src=\"/app.js\""));
  // Every <script> element loads a file: none carries code inline.
  std::regex script_tag("<script([^>]*)>");
  for (std::sregex_iterator it(page->body.begin(), page->body.end(),
                               script_tag);
       it != std::sregex_iterator(); ++it) {
    EXPECT_THAT((*it)[1].str(), HasSubstr("src=")) << (*it)[0].str();
  }
  EXPECT_THAT(page->body, Not(HasSubstr("http://")));
  EXPECT_THAT(page->body, Not(HasSubstr("https://")));

  httplib::Result script = client_->Get("/app.js");
  ASSERT_TRUE(script);
  EXPECT_EQ(script->status, 200);
  EXPECT_THAT(script->get_header_value("Content-Type"),
              HasSubstr("text/javascript"));
  ExpectSecurityHeaders(script);
  EXPECT_THAT(script->body, Not(HasSubstr("innerHTML")));
  EXPECT_EQ(reads_ + changes_, 0);
}

TEST_F(GuiServerTest, AssetsSayAcknowledgedReceiptNeverApproval) {
  std::string all;
  for (const GuiAsset& asset : GuiAssets()) all += asset.body;
  EXPECT_THAT(all, HasSubstr("Acknowledge receipt"));
  EXPECT_THAT(all, HasSubstr("queued, not yet sent"));
  const std::string lower = absl::AsciiStrToLower(all);
  for (const char* word : {"approved", "cleared", "safe"}) {
    EXPECT_THAT(lower, Not(HasSubstr(word)));
  }
  EXPECT_THAT(all, Not(HasSubstr("http://")));
  EXPECT_THAT(all, Not(HasSubstr("https://")));
}

TEST_F(GuiServerTest, ApiWithoutTokenIs401AndChangesNothing) {
  httplib::Result r = client_->Post("/api/change", "{\"a\":1}",
                                    "application/json");
  ExpectError(r, 401, "missing_token");
  EXPECT_EQ(r->get_header_value("WWW-Authenticate"), "Bearer");
  ExpectError(client_->Get("/api/read"), 401, "missing_token");
  EXPECT_EQ(changes_, 0);
  EXPECT_EQ(reads_, 0);
}

TEST_F(GuiServerTest, WrongTokenIs401AndChangesNothing) {
  std::string wrong = server_->token();
  wrong[10] = wrong[10] == 'a' ? 'b' : 'a';
  for (const std::string& value : std::vector<std::string>{
           "Bearer " + wrong, "Bearer " + server_->token() + "0",
        "Bearer " + server_->token().substr(1), "Basic " + server_->token(),
        "bearer " + server_->token(), server_->token(), std::string("Bearer ")}) {
    httplib::Result r =
        client_->Post("/api/change", {{"Authorization", value}}, "{}",
                      "application/json");
    ExpectError(r, 401, "wrong_token");
  }
  EXPECT_EQ(changes_, 0);
}

TEST_F(GuiServerTest, RightTokenReachesTheHandler) {
  httplib::Result r =
      client_->Post("/api/change", Auth(), "{\"a\":1}", "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(Body(r)["got"]["a"], 1);
  ExpectSecurityHeaders(r);
  EXPECT_EQ(changes_, 1);

  httplib::Result read = client_->Get("/api/read?id=mv-1", Auth());
  ASSERT_TRUE(read);
  EXPECT_EQ(read->status, 200);
  EXPECT_EQ(Body(read)["id"], "mv-1");
}

TEST_F(GuiServerTest, ForeignHostIs403EvenWithTheToken) {
  const std::string port = std::to_string(server_->port());
  for (const std::string& host : std::vector<std::string>{
           "evil.example:" + port, "evil.example", "127.0.0.1",
        "127.0.0.1:" + std::to_string(server_->port() + 1),
        "localhost.evil.example:" + port, "0.0.0.0:" + port}) {
    httplib::Result r = client_->Post("/api/change", Auth({{"Host", host}}),
                                      "{}", "application/json");
    ExpectError(r, 403, "bad_host");
    ExpectError(client_->Get("/", {{"Host", host}}), 403, "bad_host");
  }
  EXPECT_EQ(changes_, 0);
  httplib::Result local = client_->Post(
      "/api/change", Auth({{"Host", "localhost:" + port}}), "{}",
      "application/json");
  ASSERT_TRUE(local);
  EXPECT_EQ(local->status, 200) << local->body;
}

TEST_F(GuiServerTest, ForeignOriginIs403EvenWithTheToken) {
  for (const std::string& origin :
       {std::string("http://evil.example"), std::string("null"),
        absl::StrCat("https://127.0.0.1:", server_->port()),
        absl::StrCat("http://127.0.0.1:", server_->port() + 1),
        absl::StrCat("http://evil.example:", server_->port())}) {
    httplib::Result r = client_->Post(
        "/api/change", Auth({{"Origin", origin}}), "{}", "application/json");
    ExpectError(r, 403, "cross_origin");
  }
  ExpectError(client_->Post("/api/change",
                            Auth({{"Sec-Fetch-Site", "cross-site"}}), "{}",
                            "application/json"),
              403, "cross_origin");
  EXPECT_EQ(changes_, 0);
  httplib::Result same = client_->Post(
      "/api/change",
      Auth({{"Origin", absl::StrCat("http://127.0.0.1:", server_->port())},
            {"Sec-Fetch-Site", "same-origin"}}),
      "{}", "application/json");
  ASSERT_TRUE(same);
  EXPECT_EQ(same->status, 200) << same->body;
  EXPECT_EQ(changes_, 1);
}

TEST_F(GuiServerTest, WrongMethodIs405AndChangesNothing) {
  httplib::Result r = client_->Get("/api/change", Auth());
  ExpectError(r, 405, "method_not_allowed");
  EXPECT_EQ(r->get_header_value("Allow"), "POST");
  ExpectError(client_->Put("/api/change", Auth(), "{}", "application/json"),
              405, "method_not_allowed");
  ExpectError(client_->Delete("/api/change", Auth()), 405,
              "method_not_allowed");
  ExpectError(client_->Post("/api/read", Auth(), "{}", "application/json"),
              405, "method_not_allowed");
  ExpectError(client_->Post("/", "{}", "application/json"), 405,
              "method_not_allowed");
  EXPECT_EQ(changes_ + reads_, 0);
}

TEST_F(GuiServerTest, OversizedBodyIs413AndChangesNothing) {
  const std::string big = "{\"a\":\"" + std::string(kMaxBody, 'x') + "\"}";
  ExpectError(client_->Post("/api/change", Auth(), big, "application/json"),
              413, "body_too_large");
  EXPECT_EQ(changes_, 0);
  // Exactly at the limit is accepted.
  const std::string fits =
      "{\"a\":\"" + std::string(kMaxBody - 8, 'x') + "\"}";
  ASSERT_EQ(fits.size(), kMaxBody);
  httplib::Result ok =
      client_->Post("/api/change", Auth(), fits, "application/json");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200) << ok->body;
}

TEST_F(GuiServerTest, ChunkedBodyIsRefusedBeforeItIsRead) {
  // No Content-Length: httplib would read it whole, whatever its size.
  httplib::Result r = client_->Post(
      "/api/change", Auth(),
      [](size_t offset, httplib::DataSink& sink) {
        if (offset >= 2 * kMaxBody) {
          sink.done();
          return true;
        }
        const std::string part =
            offset == 0 ? "{\"a\":\"" : std::string(256, 'x');
        sink.write(part.data(), part.size());
        return true;
      },
      "application/json");
  ASSERT_TRUE(r) << httplib::to_string(r.error());
  EXPECT_EQ(r->status, 411) << r->body;
  EXPECT_EQ(Body(r)["code"], "length_required");
  EXPECT_EQ(changes_, 0);
}

TEST_F(GuiServerTest, BodyMustBeOneJsonObject) {
  ExpectError(client_->Post("/api/change", Auth(), "a=1",
                            "application/x-www-form-urlencoded"),
              415, "not_json");
  ExpectError(client_->Post("/api/change", Auth(), "{}", "text/plain"), 415,
              "not_json");
  ExpectError(client_->Post("/api/change", Auth(), "{not json",
                            "application/json"),
              400, "bad_json");
  ExpectError(client_->Post("/api/change", Auth(), "[1,2]",
                            "application/json"),
              400, "bad_json");
  EXPECT_EQ(changes_, 0);
}

TEST_F(GuiServerTest, UnknownPathIs404AndHandlerErrorIs500) {
  ExpectError(client_->Get("/api/nothing-here", Auth()), 404, "not_found");
  ExpectError(client_->Get("/etc/passwd"), 404, "not_found");
  ExpectError(client_->Post("/api/throws", Auth(), "{\"n\":1}",
                            "application/json"),
              500, "internal");
}

TEST(GuiServerBindTest, RefusesAnyAddressButLoopback) {
  for (const char* host : {"0.0.0.0", "::", "192.168.1.10", "localhost",
                           "127.0.0.2", ""}) {
    GuiServer::Options options;
    options.host = host;
    EXPECT_THAT(GuiServer::Bind(options),
                StatusIs(absl::StatusCode::kInvalidArgument))
        << host;
  }
  GuiServer::Options bad_port;
  bad_port.port = 70000;
  EXPECT_THAT(GuiServer::Bind(bad_port),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(GuiServerBindTest, APortInUseIsNotShared) {
  absl::StatusOr<std::unique_ptr<GuiServer>> first =
      GuiServer::Bind(GuiServer::Options());
  ASSERT_TRUE(first.ok()) << first.status();
  GuiServer::Options same;
  same.port = (*first)->port();
  EXPECT_THAT(GuiServer::Bind(same),
              StatusIs(absl::StatusCode::kUnavailable));
}

TEST(GuiServerBindTest, TokenIs256BitsFromTheInjectedRandomness) {
  auto token_with = [](const std::string& seed) {
    std::unique_ptr<Random> random = NewDeterministicRandom(seed);
    GuiServer::Options options;
    options.random = random.get();
    absl::StatusOr<std::unique_ptr<GuiServer>> server =
        GuiServer::Bind(options);
    EXPECT_TRUE(server.ok()) << server.status();
    return server.ok() ? (*server)->token() : std::string();
  };
  const std::string a = token_with("one");
  EXPECT_TRUE(std::regex_match(a, std::regex("[0-9a-f]{64}"))) << a;
  EXPECT_EQ(a, token_with("one"));
  EXPECT_NE(a, token_with("two"));

  absl::StatusOr<std::unique_ptr<GuiServer>> x =
      GuiServer::Bind(GuiServer::Options());
  absl::StatusOr<std::unique_ptr<GuiServer>> y =
      GuiServer::Bind(GuiServer::Options());
  ASSERT_TRUE(x.ok() && y.ok());
  EXPECT_NE((*x)->token(), (*y)->token());
  EXPECT_EQ((*x)->url(), absl::StrCat("http://127.0.0.1:", (*x)->port(),
                                      "/#token=", (*x)->token()));
}

TEST(GuiErrorTest, DeviceErrorsMapToStatusesAPersonCanActOn) {
  GuiReply r = GuiErrorFor(absl::UnavailableError("cannot reach parleyd"));
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.body["code"], "unavailable");
  EXPECT_EQ(r.body["error"], "cannot reach parleyd");
  EXPECT_EQ(GuiErrorFor(absl::NotFoundError("x")).status, 404);
  EXPECT_EQ(GuiErrorFor(absl::InvalidArgumentError("x")).status, 400);
  EXPECT_EQ(GuiErrorFor(absl::PermissionDeniedError("x")).status, 403);
  EXPECT_EQ(GuiErrorFor(absl::FailedPreconditionError("x")).status, 409);
  EXPECT_EQ(GuiErrorFor(absl::UnimplementedError("x")).status, 409);
  EXPECT_EQ(GuiErrorFor(absl::DataLossError("x")).status, 502);
  EXPECT_EQ(GuiErrorFor(absl::InternalError("x")).status, 500);
}

TEST(NotificationJsonTest, WordsSayAcknowledgedReceipt) {
  EXPECT_EQ(OverallStateWords(v1::NotificationState::ACKNOWLEDGED_BY_ALL),
            "acknowledged receipt by all");
  EXPECT_EQ(OverallStateWords(v1::NotificationState::PARTIALLY_ACKNOWLEDGED),
            "partially acknowledged receipt");
  EXPECT_EQ(PartyStateWords(v1::PartyState::ACKNOWLEDGED),
            "acknowledged receipt");
  EXPECT_EQ(PartyStateName(v1::PartyState::ACKNOWLEDGED),
            "acknowledged-receipt");
  EXPECT_TRUE(IsMovementOutcome("denied"));
  EXPECT_TRUE(IsMovementStatusUpdate("at-checkpoint"));
  EXPECT_FALSE(IsMovementStatusUpdate("approved"));
  EXPECT_FALSE(IsMovementOutcome("arrived"));
}

TEST(OutboxViewTest, LaterWorkForAHeldChannelWaitsBehindIt) {
  OutboxItem a, b, c;
  a.id = "a";
  a.channel = "c1";
  a.held = "members changed";
  b.id = "b";
  b.channel = "c1";
  c.id = "c";
  c.channel = "c2";
  std::vector<OutboxRow> rows = DescribeOutbox({a, b, c});
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].status, kOutboxHeld);
  EXPECT_EQ(rows[1].status, kOutboxWaitingBehindHeld);
  EXPECT_EQ(rows[2].status, kOutboxWaiting);
  Json j = OutboxRowJson(rows[0]);
  EXPECT_EQ(j["held_reason"], "members changed");
  EXPECT_FALSE(j.contains("payload"));
}

}  // namespace
}  // namespace parley
