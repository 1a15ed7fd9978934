// `parley gui` end to end: a real parleyd, real `parley gui` processes for
// a coordinator and a party, driven over HTTP with the calls their page
// makes (and, in one test, by the page itself in jsdom). What the server
// recorded is read back with the CLI. Requests without the token, from a
// foreign Host, or from the wrong role change nothing.

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "client/deconfliction/notification_content.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "nlohmann/json.hpp"
#include "tests/testing/parley_processes.h"
#include "tests/testing/paths.h"
#include "tests/testing/subprocess.h"

namespace parley {
namespace {

using ::parley::testing::Slurp;
using ::parley::testing::Rfc3339;
using ::parley::testing::ChildProcess;
using ::parley::testing::ParleyCli;
using ::parley::testing::ParleyPath;
using ::parley::testing::ProcessResult;
using ::parley::testing::RunProcess;
using ::parley::testing::TempDir;
using ::testing::HasSubstr;
using ::testing::Not;
using Json = nlohmann::json;
using Server = ::parley::testing::ParleydProcess;

Json PartyRow(const Json& state, const std::string& party) {
  for (const Json& p : state["parties"]) {
    if (p["party"] == party) return p;
  }
  return Json();
}

constexpr char kRoute[] =
    R"({"type":"LineString","coordinates":[[36.20,37.10],[36.40,37.20]]})";

// One running `parley gui` and an HTTP client for it.
class Gui {
 public:
  // `parley gui --port 0` as `who` (with --no-open unless `open`), with
  // `env` added; waits for the address it prints.
  Gui(const std::string& home, const std::string& who, bool open = false,
      std::map<std::string, std::string> env = {}) {
    std::vector<std::string> argv = {ParleyPath(), "--home", home,
                                     "--profile", who, "gui", "--port", "0"};
    if (!open) argv.push_back("--no-open");
    env["PARLEY_PASSPHRASE"] = "pass-" + who;
    process_ = std::make_unique<ChildProcess>(argv, env);
    if (!process_->WaitForOutput("#token=", absl::Seconds(60))) return;
    std::smatch m;
    const std::string out = process_->Stdout();
    if (!std::regex_search(
            out, m,
            std::regex(
                "http://127\\.0\\.0\\.1:([0-9]+)/#token=([0-9a-f]{64})"))) {
      return;
    }
    url_ = m[0].str();
    if (!absl::SimpleAtoi(m[1].str(), &port_)) return;
    token_ = m[2].str();
    http_ = std::make_unique<httplib::Client>("127.0.0.1", port_);
    http_->set_read_timeout(60, 0);
  }

  bool ready() const { return http_ != nullptr; }
  std::string output() const {
    return process_->Stdout() + process_->Stderr();
  }
  int port() const { return port_; }
  const std::string& token() const { return token_; }
  const std::string& url() const { return url_; }
  httplib::Client& http() { return *http_; }
  ChildProcess& process() { return *process_; }

  httplib::Headers Auth() const {
    return {{"Authorization", "Bearer " + token_}};
  }

  // GET; EXPECTs 200.
  Json GetOk(const std::string& path) {
    httplib::Result r = http_->Get(path, Auth());
    EXPECT_TRUE(r) << path;
    if (!r) return Json();
    EXPECT_EQ(r->status, 200) << path << ": " << r->body;
    return Json::parse(r->body, nullptr, false);
  }

  // POST with the token (or `headers`); the status and the JSON answer.
  std::pair<int, Json> Post(const std::string& path, const Json& body) {
    return PostWith(path, body, Auth());
  }
  std::pair<int, Json> PostWith(const std::string& path, const Json& body,
                                const httplib::Headers& headers) {
    httplib::Result r =
        http_->Post(path, headers, body.dump(), "application/json");
    EXPECT_TRUE(r) << path;
    if (!r) return {0, Json()};
    return {r->status, Json::parse(r->body, nullptr, false)};
  }

  // SIGTERM; EXPECTs a clean exit.
  void Stop() {
    process_->Signal(SIGTERM);
    std::optional<::parley::testing::ProcessResult> done =
        process_->Wait(absl::Seconds(30));
    ASSERT_TRUE(done.has_value());
    EXPECT_EQ(done->exit_code, 0) << done->err;
  }

 private:
  std::unique_ptr<ChildProcess> process_;
  std::unique_ptr<httplib::Client> http_;
  std::string url_;
  int port_ = 0;
  std::string token_;
};

// A movement form the coordinator's page would send.
Json MovementForm(const std::string& id) {
  return Json{{"kind", "movement"},
              {"id", id},
              {"to", "partya, partyb"},
              {"route", kRoute},
              {"depart", "+72h"},
              {"arrive", "+75h"},
              {"ack_by", "+48h"},
              {"vehicles", "1xtruck:soft-skin"},
              {"personnel", "2"},
              {"cargo", "water"},
              {"contact", "Ops desk,+41221234567"},
              {"type", "cargo"}};
}

class GuiProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    init_ = ::parley::testing::InitParleydData(tmp_.Sub("data"));
    ASSERT_TRUE(init_.is_object());
    StartServer();
    ASSERT_NO_FATAL_FAILURE(cli_.EnrollCast(
        address_, init_,
        {{"mediator", "mediator", "org-mediator"},
         {"coordinator", "coordinator", "org-coordinator"},
         {"partya", "party", "org-partya"},
         {"partyb", "party", "org-partyb"}}));
  }

  void StartServer() {
    server_ = std::make_unique<Server>(
        tmp_.Sub("data"), address_.empty() ? "127.0.0.1:0" : address_);
    ASSERT_TRUE(server_->ready()) << server_->process().Stderr();
    address_ = server_->address();
  }

  void StopServer() {
    server_->process().Signal(SIGKILL);
    ASSERT_TRUE(server_->process().Wait(absl::Seconds(30)).has_value());
    server_.reset();
  }

  // Starts `parley gui` as `who` (see Gui) into gui_.
  void StartGui(const std::string& who) {
    gui_ = std::make_unique<Gui>(tmp_.Sub("clients"), who);
    ASSERT_TRUE(gui_->ready()) << gui_->output();
    port_ = gui_->port();
  }
  std::unique_ptr<Gui> NewGui(const std::string& who) {
    auto gui = std::make_unique<Gui>(tmp_.Sub("clients"), who);
    EXPECT_TRUE(gui->ready()) << gui->output();
    return gui;
  }

  httplib::Headers Auth() const { return gui_->Auth(); }
  Json GetOk(const std::string& path) { return gui_->GetOk(path); }
  httplib::Result Post(const std::string& path, const Json& body,
                       const httplib::Headers& headers) {
    return gui_->http().Post(path, headers, body.dump(), "application/json");
  }

  // The notifications the coordinator's CLI lists.
  Json Listed() { return cli_.RunOk("coordinator", {"notifications"}); }

  TempDir tmp_;
  ParleyCli cli_{tmp_.Sub("clients")};
  Json init_;
  std::string address_;
  std::unique_ptr<Server> server_;
  std::unique_ptr<Gui> gui_;
  int port_ = 0;
};

TEST_F(GuiProcessTest, PartyAcknowledgesReceiptFromTheGui) {
  const std::string route = tmp_.Sub("route.geojson");
  {
    std::ofstream f(route);
    f << R"({"type":"LineString","coordinates":[[36.20,37.10],[36.40,37.20]]})";
  }
  const absl::Time now = absl::Now();
  cli_.RunOk("coordinator",
             {"notify", "movement", "--id", "mv-gui", "--to",
              "partya,partyb", "--route", route, "--depart",
              Rfc3339(now + absl::Hours(72)), "--arrive",
              Rfc3339(now + absl::Hours(75)), "--ack-by",
              Rfc3339(now + absl::Hours(48)), "--vehicles",
              "1xtruck:soft-skin", "--personnel", "2", "--cargo",
              "water", "--contact", "Ops desk,+41221234567", "--type",
              "cargo"});

  ASSERT_NO_FATAL_FAILURE(StartGui("partya"));

  Json status = GetOk("/api/status");
  EXPECT_EQ(status["me"]["name"], "partya") << status;
  EXPECT_EQ(status["me"]["role"], "party") << status;

  Json list = GetOk("/api/notifications");
  ASSERT_EQ(list["notifications"].size(), 1u) << list;
  EXPECT_EQ(list["notifications"][0]["id"], "mv-gui");
  EXPECT_NE(PartyRow(list["notifications"][0], "partya"), Json()) << list;

  Json detail = GetOk("/api/notification?id=mv-gui");
  ASSERT_FALSE(detail["versions"].empty()) << detail;
  EXPECT_TRUE(detail["versions"].back().contains("content")) << detail;
  EXPECT_THAT(detail.dump(), HasSubstr("water"));  // decrypted here

  // Without the token, with a wrong one, or from a rebinding page: refused,
  // and the server records nothing.
  httplib::Result no_token =
      Post("/api/notification/acknowledge", {{"id", "mv-gui"}}, {});
  ASSERT_TRUE(no_token);
  EXPECT_EQ(no_token->status, 401) << no_token->body;
  httplib::Headers foreign_host = Auth();
  foreign_host.emplace("Host", absl::StrCat("evil.example:", port_));
  httplib::Result rebinding =
      Post("/api/notification/acknowledge", {{"id", "mv-gui"}}, foreign_host);
  ASSERT_TRUE(rebinding);
  EXPECT_EQ(rebinding->status, 403) << rebinding->body;
  httplib::Result by_get = gui_->http().Get(
      "/api/notification/acknowledge?id=mv-gui", Auth());
  ASSERT_TRUE(by_get);
  EXPECT_EQ(by_get->status, 405) << by_get->body;
  httplib::Result no_reason =
      Post("/api/notification/object", {{"id", "mv-gui"}}, Auth());
  ASSERT_TRUE(no_reason);
  EXPECT_EQ(no_reason->status, 400) << no_reason->body;
  Json shown = cli_.RunOk("coordinator", {"notification", "show", "mv-gui"});
  EXPECT_NE(PartyRow(shown, "partya")["state"], "acknowledged-receipt")
      << shown;
  EXPECT_EQ(PartyRow(shown, "partya")["acknowledged_receipt_at"], Json())
      << shown;
  EXPECT_EQ(PartyRow(shown, "partya")["objected_at"], Json()) << shown;

  httplib::Result acked =
      Post("/api/notification/acknowledge", {{"id", "mv-gui"}}, Auth());
  ASSERT_TRUE(acked);
  ASSERT_EQ(acked->status, 200) << acked->body;
  Json answer = Json::parse(acked->body, nullptr, false);
  EXPECT_EQ(answer["level"], "acknowledged-receipt");
  EXPECT_THAT(answer["message"].get<std::string>(),
              HasSubstr("acknowledged receipt"));

  shown = cli_.RunOk("coordinator", {"notification", "show", "mv-gui"});
  EXPECT_EQ(PartyRow(shown, "partya")["state"], "acknowledged-receipt")
      << shown;
  EXPECT_TRUE(PartyRow(shown, "partya")["acknowledged_receipt_at"].is_string())
      << shown;
  EXPECT_NE(PartyRow(shown, "partyb")["state"], "acknowledged-receipt");
  EXPECT_EQ(shown["overall"], "partially-acknowledged") << shown;

  // The GUI shows the new state with the product's words (a party sees
  // only its own row).
  list = GetOk("/api/notifications");
  EXPECT_EQ(PartyRow(list["notifications"][0], "partya")["state_words"],
            "acknowledged receipt")
      << list;
  EXPECT_EQ(PartyRow(list["notifications"][0], "partyb"), Json()) << list;

  gui_->Stop();
}

TEST_F(GuiProcessTest, SendsAndReceivesChannelMessages) {
  cli_.RunOk("mediator",
             {"channel", "create", "liaison", "--members", "partya"});
  cli_.RunOk("mediator", {"send", "liaison", "--text", "hello from the cell"});
  ASSERT_NO_FATAL_FAILURE(StartGui("partya"));

  Json channels = GetOk("/api/channels");
  EXPECT_EQ(channels["offline"], false);
  ASSERT_EQ(channels["channels"].size(), 1u) << channels;
  EXPECT_EQ(channels["channels"][0]["name"], "liaison");

  // The background sync fetches the mediator's message.
  bool seen = false;
  for (int i = 0; i < 60 && !seen; ++i) {
    Json messages = GetOk("/api/messages?channel=liaison");
    seen = messages.dump().find("hello from the cell") != std::string::npos;
    if (!seen) absl::SleepFor(absl::Milliseconds(500));
  }
  EXPECT_TRUE(seen);

  httplib::Result sent = Post(
      "/api/send", {{"channel", "liaison"}, {"text", "received, thanks"}},
      Auth());
  ASSERT_TRUE(sent);
  EXPECT_EQ(sent->status, 200) << sent->body;
  httplib::Result empty =
      Post("/api/send", {{"channel", "liaison"}, {"text", ""}}, Auth());
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->status, 400) << empty->body;

  Json outbox = GetOk("/api/outbox");
  EXPECT_TRUE(outbox["outbox"].empty()) << outbox;
  Json synced = Json::parse(
      Post("/api/sync", Json::object(), Auth())->body, nullptr, false);
  EXPECT_THAT(synced.value("message", ""), HasSubstr("caught up")) << synced;

  Json inbox = cli_.RunOk("mediator", {"inbox"});
  EXPECT_THAT(inbox.dump(), HasSubstr("received, thanks"));
}

// The token must never be on a command line (other local users can read
// /proc/PID/cmdline): the browser is started on a 0600 file that holds it,
// and the file is gone when `parley gui` stops.
TEST_F(GuiProcessTest, OpensTheBrowserOnAPrivateFileNeverOnTheToken) {
  const std::string bin = tmp_.Sub("bin");
  const std::string runtime = tmp_.Sub("runtime");
  const std::string record = tmp_.Sub("opener-record");
  ASSERT_EQ(::mkdir(bin.c_str(), 0700), 0);
  ASSERT_EQ(::mkdir(runtime.c_str(), 0700), 0);
  {
    // Stands in for xdg-open: records its whole command line, and the mode
    // and text of what it was given.
    std::ofstream script(bin + "/xdg-open");
    script << "#!/bin/sh\n"
           << "{ tr '\\0' '\\n' < /proc/$$/cmdline; echo ---;"
           << "  stat -c '%a' \"$1\"; echo ---; cat \"$1\"; } > '" << record
           << ".part'\n"
           << "mv '" << record << ".part' '" << record << "'\n";
  }
  ASSERT_EQ(::chmod((bin + "/xdg-open").c_str(), 0700), 0);
  const char* path = std::getenv("PATH");
  Gui gui(tmp_.Sub("clients"), "partya", /*open=*/true,
          {{"PATH", bin + ":" + (path ? path : "/usr/bin:/bin")},
           {"XDG_RUNTIME_DIR", runtime}});
  ASSERT_TRUE(gui.ready()) << gui.output();

  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (!std::filesystem::exists(record) && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(50));
  }
  ASSERT_TRUE(std::filesystem::exists(record)) << gui.output();
  const std::string recorded = Slurp(record);
  const size_t first = recorded.find("---\n");
  const size_t second = recorded.find("---\n", first + 4);
  ASSERT_NE(second, std::string::npos) << recorded;
  const std::string command_line = recorded.substr(0, first);
  const std::string mode = recorded.substr(first + 4, second - first - 4);
  const std::string page = recorded.substr(second + 4);

  EXPECT_THAT(command_line, Not(HasSubstr(gui.token())));
  EXPECT_THAT(command_line, Not(HasSubstr("token")));
  std::smatch file;
  ASSERT_TRUE(std::regex_search(
      command_line, file,
      std::regex(runtime + "/parley-gui-[0-9a-f]+\\.html")))
      << command_line;
  EXPECT_EQ(mode, "600\n");
  EXPECT_THAT(page, HasSubstr(gui.url()));  // it sends the browser on
  EXPECT_THAT(page, HasSubstr("http-equiv=\"refresh\""));
  EXPECT_THAT(page, Not(HasSubstr("<script")));
  // The address is still printed for the user's own terminal.
  EXPECT_THAT(gui.process().Stdout(), HasSubstr(gui.url()));

  ASSERT_NO_FATAL_FAILURE(gui.Stop());
  EXPECT_FALSE(std::filesystem::exists(file[0].str())) << file[0].str();
  EXPECT_TRUE(std::filesystem::is_empty(runtime));
}

// The coordinator notifies from the GUI's form; the party, in its own
// GUI, sees it and acknowledges receipt; the coordinator's CLI shows what
// the server recorded.
TEST_F(GuiProcessTest, CoordinatorNotifiesFromTheGuiAndAPartyAcknowledges) {
  std::unique_ptr<Gui> coordinator = NewGui("coordinator");
  ASSERT_TRUE(coordinator->ready());
  Json parties = coordinator->GetOk("/api/parties");
  std::vector<std::string> names;
  for (const Json& p : parties["parties"]) names.push_back(p["name"]);
  EXPECT_EQ(names, (std::vector<std::string>{"partya", "partyb"})) << parties;

  auto [status, notified] =
      coordinator->Post("/api/notify", MovementForm("mv-form"));
  ASSERT_EQ(status, 200) << notified;
  EXPECT_EQ(notified["id"], "mv-form");
  EXPECT_EQ(notified["version"], 1);
  EXPECT_GT(notified["log_index"].get<uint64_t>(), 0u);
  EXPECT_EQ(notified["late"], false);
  EXPECT_THAT(notified["message"].get<std::string>(),
              HasSubstr("notified mv-form version 1 to partya, partyb"));

  Json shown = cli_.RunOk("coordinator", {"notification", "show", "mv-form"});
  EXPECT_EQ(shown["version"], 1) << shown;
  EXPECT_THAT(shown.dump(), HasSubstr("water"));  // the content, decrypted

  std::unique_ptr<Gui> party = NewGui("partya");
  ASSERT_TRUE(party->ready());
  Json list = party->GetOk("/api/notifications");
  ASSERT_EQ(list["notifications"].size(), 1u) << list;
  EXPECT_EQ(list["notifications"][0]["id"], "mv-form");
  Json detail = party->GetOk("/api/notification?id=mv-form");
  EXPECT_THAT(detail.dump(), HasSubstr("water"));
  EXPECT_FALSE(detail.contains("form")) << "the amend form is the issuer's";
  auto [acked, answer] =
      party->Post("/api/notification/acknowledge", {{"id", "mv-form"}});
  ASSERT_EQ(acked, 200) << answer;
  EXPECT_EQ(answer["level"], "acknowledged-receipt");

  shown = cli_.RunOk("coordinator", {"notification", "show", "mv-form"});
  EXPECT_EQ(PartyRow(shown, "partya")["state"], "acknowledged-receipt")
      << shown;
  EXPECT_NE(PartyRow(shown, "partyb")["state"], "acknowledged-receipt");
  // The coordinator's GUI shows it too, in the product's words.
  Json state = coordinator->GetOk("/api/notification?id=mv-form");
  EXPECT_EQ(PartyRow(state, "partya")["state_words"], "acknowledged receipt")
      << state;
  ASSERT_NO_FATAL_FAILURE(party->Stop());
  ASSERT_NO_FATAL_FAILURE(coordinator->Stop());
}

// Bad inputs are refused by field, the wrong role and a missing token are
// refused before anything is read, and none of it reaches the server.
TEST_F(GuiProcessTest, NotifyRefusalsNameTheFieldAndRecordNothing) {
  std::unique_ptr<Gui> coordinator = NewGui("coordinator");
  ASSERT_TRUE(coordinator->ready());
  struct Case {
    const char* field;
    Json value;
    const char* expected_field;
    const char* says;
  };
  const std::vector<Case> cases = {
      {"route", R"({"type":"Point","coordinates":[36.2,37.1]})", "route",
       "route:"},
      {"depart", "tomorrow", "depart", "depart:"},
      {"arrive", "+71h", "arrive", "arrive:"},  // before departure
      {"vehicles", "a truck", "vehicles", "vehicles:"},
      {"to", "partya, partyc", "to", "did you mean"},
      {"to", "partya, mediator", "to", "not a party"},
      {"to", "", "to", "to:"},
      {"contact", "", "contact", "contact:"},
      {"points", "37.1,36.2", "points", "applies to sites"},
  };
  for (const Case& c : cases) {
    Json form = MovementForm("mv-bad");
    form[c.field] = c.value;
    auto [status, answer] = coordinator->Post("/api/notify", form);
    EXPECT_EQ(status, 400) << c.field << ": " << answer;
    EXPECT_EQ(answer["field"], c.expected_field) << answer;
    ASSERT_TRUE(answer["problems"].is_array()) << answer;
    ASSERT_FALSE(answer["problems"].empty()) << answer;
    EXPECT_THAT(answer["problems"][0]["message"].get<std::string>(),
                HasSubstr(c.says))
        << answer;
  }
  Json site = {{"kind", "site"},
               {"to", "partya"},
               {"name", "Clinic"},
               {"type", "health-facility"},
               {"points", "95,36.2"},
               {"contact", "Clinic,+41221234567"}};
  auto [site_status, site_answer] = coordinator->Post("/api/notify", site);
  EXPECT_EQ(site_status, 400) << site_answer;
  EXPECT_EQ(site_answer["field"], "points") << site_answer;

  // No token, a wrong one, or a foreign Host: refused before the handler.
  auto [no_token, a1] =
      coordinator->PostWith("/api/notify", MovementForm("mv-x"), {});
  EXPECT_EQ(no_token, 401) << a1;
  httplib::Headers wrong = {
      {"Authorization", "Bearer " + std::string(64, 'a')}};
  auto [wrong_token, a2] =
      coordinator->PostWith("/api/notify", MovementForm("mv-x"), wrong);
  EXPECT_EQ(wrong_token, 401) << a2;
  httplib::Headers rebinding = coordinator->Auth();
  rebinding.emplace("Host", "evil.example:" +
                                std::to_string(coordinator->port()));
  auto [foreign, a3] =
      coordinator->PostWith("/api/notify", MovementForm("mv-x"), rebinding);
  EXPECT_EQ(foreign, 403) << a3;
  httplib::Result by_get = coordinator->http().Get(
      "/api/notify?kind=movement", coordinator->Auth());
  ASSERT_TRUE(by_get);
  EXPECT_EQ(by_get->status, 405) << by_get->body;

  // A coordinator does not acknowledge; a party does not notify, amend or
  // cancel.
  auto [coordinator_ack, a4] = coordinator->Post(
      "/api/notification/acknowledge", {{"id", "mv-x"}});
  EXPECT_EQ(coordinator_ack, 403) << a4;
  EXPECT_EQ(a4["code"], "wrong_role") << a4;
  std::unique_ptr<Gui> party = NewGui("partya");
  ASSERT_TRUE(party->ready());
  for (const char* path : {"/api/notify", "/api/notification/amend",
                           "/api/notification/cancel"}) {
    Json body = MovementForm("mv-x");
    body["reason"] = "x";
    auto [refused, answer] = party->Post(path, body);
    EXPECT_EQ(refused, 403) << path << ": " << answer;
    EXPECT_EQ(answer["code"], "wrong_role") << answer;
    EXPECT_THAT(answer["error"].get<std::string>(),
                HasSubstr("only a coordinator"));
  }
  Json listed = Listed();
  EXPECT_TRUE(listed["notifications"].empty()) << listed;
  EXPECT_TRUE(coordinator->GetOk("/api/outbox")["outbox"].empty());
  ASSERT_NO_FATAL_FAILURE(party->Stop());
  ASSERT_NO_FATAL_FAILURE(coordinator->Stop());
}

TEST_F(GuiProcessTest, AmendsAndCancelsFromTheGui) {
  std::unique_ptr<Gui> coordinator = NewGui("coordinator");
  ASSERT_TRUE(coordinator->ready());
  auto [notified, a1] =
      coordinator->Post("/api/notify", MovementForm("mv-amend"));
  ASSERT_EQ(notified, 200) << a1;

  // The amend form starts from the current version.
  Json detail = coordinator->GetOk("/api/notification?id=mv-amend");
  ASSERT_TRUE(detail["form"].is_object()) << detail;
  EXPECT_EQ(detail["form"]["cargo"], "water");
  EXPECT_EQ(detail["form"]["to"], "partya, partyb");
  // Submitted as it is: nothing to amend.
  Json same = detail["form"];
  same.erase("kind");
  auto [unchanged, a2] = coordinator->Post("/api/notification/amend", same);
  EXPECT_EQ(unchanged, 400) << a2;
  EXPECT_THAT(a2["error"].get<std::string>(), HasSubstr("nothing to amend"));

  auto [amended, a3] = coordinator->Post(
      "/api/notification/amend",
      {{"id", "mv-amend"}, {"cargo", "water and medicine"}});
  ASSERT_EQ(amended, 200) << a3;
  EXPECT_EQ(a3["version"], 2);
  std::vector<std::string> paths;
  for (const Json& c : a3["changes"]) paths.push_back(c["path"]);
  EXPECT_THAT(paths, ::testing::Contains("cargo")) << a3;
  EXPECT_THAT(a3["message"].get<std::string>(),
              HasSubstr("acknowledgements of receipt start again"));
  Json shown = cli_.RunOk("coordinator", {"notification", "show", "mv-amend"});
  EXPECT_EQ(shown["version"], 2) << shown;
  EXPECT_THAT(shown.dump(), HasSubstr("water and medicine"));

  auto [bad, a4] = coordinator->Post(
      "/api/notification/amend",
      {{"id", "mv-amend"}, {"depart", "+80h"}});  // after the arrival
  EXPECT_EQ(bad, 400) << a4;
  EXPECT_EQ(a4["field"], "arrive") << a4;
  auto [missing, a5] = coordinator->Post(
      "/api/notification/amend", {{"id", "mv-none"}, {"cargo", "x"}});
  EXPECT_EQ(missing, 404) << a5;
  auto [site_field, a6] = coordinator->Post(
      "/api/notification/amend", {{"id", "mv-amend"}, {"name", "x"}});
  EXPECT_EQ(site_field, 400) << a6;
  EXPECT_EQ(a6["field"], "name") << a6;

  auto [cancelled, a7] = coordinator->Post(
      "/api/notification/cancel",
      {{"id", "mv-amend"}, {"reason", "postponed"}});
  ASSERT_EQ(cancelled, 200) << a7;
  shown = cli_.RunOk("coordinator", {"notification", "show", "mv-amend"});
  EXPECT_EQ(shown["overall"], "cancelled") << shown;
  ASSERT_NO_FATAL_FAILURE(coordinator->Stop());
}

// Outbox actions: "send now" while the server is down says the item is
// still queued; dropping a waiting item needs force; a held item is sealed
// again and sent.
TEST_F(GuiProcessTest, OutboxItemsAreSentAgainOrDroppedFromTheGui) {
  cli_.RunOk("mediator",
             {"channel", "create", "bc-1", "--members", "partya,partyb"});
  cli_.RunOk("partya", {"sync"});  // channel and keys cached for offline
  ASSERT_NO_FATAL_FAILURE(StopServer());
  auto queue = [&](const std::string& text) {
    ProcessResult r = cli_.Run("partya", {"send", "bc-1", "--text", text});
    EXPECT_EQ(r.exit_code, 10) << r.out << r.err;  // queued
    return Json::parse(r.out, nullptr, false).value("id", "");
  };
  const std::string first = queue("first, refused then sealed again");
  const std::string second = queue("second, behind it");
  const std::string third = queue("third, dropped");

  {
    std::unique_ptr<Gui> offline = NewGui("partya");
    ASSERT_TRUE(offline->ready());
    ASSERT_EQ(offline->GetOk("/api/outbox")["outbox"].size(), 3u);
    auto [not_sent, a1] =
        offline->Post("/api/outbox/resend", {{"id", third}});
    EXPECT_EQ(not_sent, 503) << a1;
    EXPECT_EQ(a1["code"], "still_queued") << a1;
    EXPECT_THAT(a1["error"].get<std::string>(),
                HasSubstr("still queued, not yet sent"));
    auto [unforced, a2] = offline->Post("/api/outbox/drop", {{"id", third}});
    EXPECT_EQ(unforced, 409) << a2;
    EXPECT_EQ(a2["code"], "still_waiting") << a2;
    auto [bad_force, a3] = offline->Post(
        "/api/outbox/drop", {{"id", third}, {"force", "yes"}});
    EXPECT_EQ(bad_force, 400) << a3;
    auto [unknown, a4] =
        offline->Post("/api/outbox/drop", {{"id", "0123"}, {"force", true}});
    EXPECT_EQ(unknown, 404) << a4;
    auto [dropped, a5] = offline->Post("/api/outbox/drop",
                                       {{"id", third}, {"force", true}});
    EXPECT_EQ(dropped, 200) << a5;
    Json outbox = offline->GetOk("/api/outbox");
    ASSERT_EQ(outbox["outbox"].size(), 2u) << outbox;
    EXPECT_EQ(outbox["outbox"][0]["id"], first);
    auto [no_token, a6] =
        offline->PostWith("/api/outbox/drop", {{"id", first}}, {});
    EXPECT_EQ(no_token, 401) << a6;
    ASSERT_NO_FATAL_FAILURE(offline->Stop());
  }

  // The channel's members change meanwhile: the first is refused for good
  // and held, the second waits behind it.
  ASSERT_NO_FATAL_FAILURE(StartServer());
  cli_.RunOk("admin", {"admin", "revoke", "partyb", "--reason", "left"});
  ProcessResult sync = cli_.Run("partya", {"sync"});
  EXPECT_EQ(sync.exit_code, 0) << sync.err;

  std::unique_ptr<Gui> online = NewGui("partya");
  ASSERT_TRUE(online->ready());
  Json outbox = online->GetOk("/api/outbox");
  ASSERT_EQ(outbox["outbox"].size(), 2u) << outbox;
  EXPECT_EQ(outbox["outbox"][0]["status"], "held") << outbox;
  auto [resent, a7] = online->Post("/api/outbox/resend", {{"id", first}});
  ASSERT_EQ(resent, 200) << a7;
  ASSERT_EQ(a7["resent"].size(), 2u) << a7;
  EXPECT_EQ(a7["resent"][0]["queued"], false) << a7;
  EXPECT_TRUE(online->GetOk("/api/outbox")["outbox"].empty());
  auto [gone, a8] = online->Post("/api/outbox/resend", {{"id", first}});
  EXPECT_EQ(gone, 404) << a8;

  const std::string inbox = cli_.RunOk("mediator", {"inbox"}).dump();
  EXPECT_THAT(inbox, HasSubstr("first, refused then sealed again"));
  EXPECT_THAT(inbox, HasSubstr("second, behind it"));
  EXPECT_THAT(inbox, Not(HasSubstr("third, dropped")));
  ASSERT_NO_FATAL_FAILURE(online->Stop());
}

// The page's own script, run in jsdom against the real `parley gui`
// processes: the coordinator's notify form shows a bad field's error at
// that field, then notifies, then amends one field; the party's page lists
// it, and its "Acknowledge receipt" button records an acknowledgement of
// receipt.
std::string FindNode() {
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path ? path : "/usr/bin:/bin");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    for (const char* name : {"node", "nodejs"}) {
      const std::string candidate = dir + "/" + name;
      if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    }
  }
  return "";
}

TEST_F(GuiProcessTest, ThePageInJsdomNotifiesAndAcknowledgesReceipt) {
  const std::string node = FindNode();
  ASSERT_FALSE(node.empty())
      << "node is not installed: apt-get install nodejs node-jsdom "
         "(PARLEY_TEST_PACKAGES in deploy/debian-deps.sh)";
  const std::string script =
      ::parley::testing::SourceDir() + "/tests/gui/page_test.js";
  // Debian installs Node modules there; a Node from elsewhere does not
  // look there by itself.
  const std::map<std::string, std::string> env = {
      {"NODE_PATH", "/usr/share/nodejs:/usr/lib/nodejs"}};

  std::unique_ptr<Gui> coordinator = NewGui("coordinator");
  ASSERT_TRUE(coordinator->ready());
  ProcessResult page = RunProcess(
      {node, script, "coordinator", coordinator->url()}, env,
      absl::Seconds(120));
  ASSERT_EQ(page.exit_code, 0) << page.err << page.out;
  Json seen = Json::parse(page.out, nullptr, false);
  ASSERT_TRUE(seen.is_object()) << page.out;
  EXPECT_TRUE(seen["errors"].empty()) << "script errors in the page: " << seen;
  EXPECT_THAT(seen["route_error"].get<std::string>(), HasSubstr("route:"));
  EXPECT_THAT(seen["result"].get<std::string>(),
              HasSubstr("notified mv-page version 1"));
  EXPECT_THAT(seen["amended"].get<std::string>(),
              HasSubstr("1 field(s) changed"));
  // The bad form never reached the server: one notification, amended once.
  Json listed = Listed();
  ASSERT_EQ(listed["notifications"].size(), 1u) << listed;
  EXPECT_EQ(listed["notifications"][0]["id"], "mv-page");
  EXPECT_EQ(listed["notifications"][0]["version"], 2);
  Json shown = cli_.RunOk("coordinator", {"notification", "show", "mv-page"});
  EXPECT_THAT(shown.dump(), HasSubstr("water and medicine"));

  std::unique_ptr<Gui> party = NewGui("partya");
  ASSERT_TRUE(party->ready());
  page = RunProcess({node, script, "party", party->url(), "mv-page"}, env,
                    absl::Seconds(120));
  ASSERT_EQ(page.exit_code, 0) << page.err << page.out;
  seen = Json::parse(page.out, nullptr, false);
  ASSERT_TRUE(seen.is_object()) << page.out;
  EXPECT_TRUE(seen["errors"].empty()) << "script errors in the page: " << seen;
  EXPECT_EQ(seen["content_has_cargo"], true) << seen;
  ASSERT_EQ(seen["confirm"].size(), 1u) << seen;
  EXPECT_THAT(seen["confirm"][0].get<std::string>(),
              HasSubstr("says you received it, nothing more"));
  EXPECT_THAT(seen["result"].get<std::string>(),
              HasSubstr("acknowledged receipt of mv-page"));

  shown = cli_.RunOk("coordinator", {"notification", "show", "mv-page"});
  EXPECT_EQ(PartyRow(shown, "partya")["state"], "acknowledged-receipt")
      << shown;
  EXPECT_NE(PartyRow(shown, "partyb")["state"], "acknowledged-receipt")
      << shown;
  ASSERT_NO_FATAL_FAILURE(party->Stop());
  ASSERT_NO_FATAL_FAILURE(coordinator->Stop());
}

}  // namespace
}  // namespace parley
