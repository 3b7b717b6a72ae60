// Runs every registered test; prints failures and a summary; exit status 1 on any failure.
// An optional argument runs only the tests whose name contains it.
#include <cstdio>
#include <string>
#include <vector>

#include "gv/isa.hpp"
#include "harness.hpp"

namespace gvtest {
namespace {

struct Test {
  const char* name;
  TestFn fn;
};

std::vector<Test>& registry() {
  static std::vector<Test> tests;
  return tests;
}

int g_failures = 0;
constexpr int kMaxPrinted = 50;

}  // namespace

int register_test(const char* name, TestFn fn) {
  registry().push_back({name, fn});
  return 0;
}

void fail(const char* file, int line, const std::string& what) {
  if (++g_failures <= kMaxPrinted) std::printf("  FAIL %s:%d: %s\n", file, line, what.c_str());
}

}  // namespace gvtest

int main(int argc, char** argv) {
  const std::string filter = argc > 1 ? argv[1] : "";
  std::printf("isa paths here:");
  for (gv::Isa isa : gv::supported_isas()) std::printf(" %s", gv::isa_name(isa));
  std::printf(" (automatic: %s)\n", gv::isa_name(gv::automatic_isa()));
  int run = 0;
  int failed_tests = 0;
  for (const auto& t : gvtest::registry()) {
    if (!filter.empty() && std::string(t.name).find(filter) == std::string::npos) continue;
    const int before = gvtest::g_failures;
    t.fn();
    ++run;
    const bool ok = gvtest::g_failures == before;
    failed_tests += ok ? 0 : 1;
    std::printf("%s %s\n", ok ? "ok  " : "FAIL", t.name);
  }
  std::printf("%d tests, %d failed, %d failed checks\n", run, failed_tests, gvtest::g_failures);
  return failed_tests == 0 && run > 0 ? 0 : 1;
}
