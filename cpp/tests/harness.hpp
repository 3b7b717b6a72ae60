// A tiny test harness: GV_TEST registers a test, CHECK* record failures and carry on, and main
// (harness.cpp) runs every test and exits non-zero if anything failed. No external framework.
#pragma once

#include <cstdint>
#include <cstring>
#include <sstream>
#include <string>

namespace gvtest {

using TestFn = void (*)();
int register_test(const char* name, TestFn fn);
void fail(const char* file, int line, const std::string& what);

/// Same bits (so NaN equals the same NaN, and -0 differs from +0).
inline bool same_bits(float a, float b) {
  std::uint32_t ua;
  std::uint32_t ub;
  std::memcpy(&ua, &a, 4);
  std::memcpy(&ub, &b, 4);
  return ua == ub;
}

template <class A, class B>
std::string describe(const char* expr_a, const A& a, const char* expr_b, const B& b) {
  std::ostringstream os;
  os.precision(9);
  os << expr_a << " == " << expr_b << " (" << +a << " vs " << +b << ")";
  return os.str();
}

}  // namespace gvtest

#define GV_TEST(name)                                                         \
  static void name();                                                         \
  static const int name##_registered = ::gvtest::register_test(#name, &name); \
  static void name()

#define CHECK(cond)                                                 \
  do {                                                              \
    if (!(cond)) ::gvtest::fail(__FILE__, __LINE__, "CHECK(" #cond ")"); \
  } while (0)

#define CHECK_EQ(a, b)                                                               \
  do {                                                                               \
    const auto& gv_a_ = (a);                                                         \
    const auto& gv_b_ = (b);                                                         \
    if (!(gv_a_ == gv_b_))                                                           \
      ::gvtest::fail(__FILE__, __LINE__, ::gvtest::describe(#a, gv_a_, #b, gv_b_)); \
  } while (0)

#define CHECK_BITS(a, b)                                                             \
  do {                                                                               \
    const float gv_a_ = (a);                                                         \
    const float gv_b_ = (b);                                                         \
    if (!::gvtest::same_bits(gv_a_, gv_b_))                                          \
      ::gvtest::fail(__FILE__, __LINE__, ::gvtest::describe(#a, gv_a_, #b, gv_b_)); \
  } while (0)

// Expect `expr` to throw std::invalid_argument whose message contains `needle`.
#define CHECK_THROWS(expr, needle)                                                      \
  do {                                                                                  \
    bool gv_threw_ = false;                                                             \
    try {                                                                               \
      (void)(expr);                                                                     \
    } catch (const std::invalid_argument& e) {                                          \
      gv_threw_ = true;                                                                 \
      if (std::string(e.what()).find(needle) == std::string::npos)                      \
        ::gvtest::fail(__FILE__, __LINE__,                                              \
                       std::string("message '") + e.what() + "' lacks '" + needle + "'"); \
    }                                                                                   \
    if (!gv_threw_)                                                                     \
      ::gvtest::fail(__FILE__, __LINE__, "no std::invalid_argument from " #expr);       \
  } while (0)
