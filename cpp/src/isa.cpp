// Choosing an argmax path: the dispatch table generated from GV_ISA_LIST (what this build
// compiled in and this CPU runs, asked once), and GV_DECODE_ISA.
#include <array>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>

#include "gv/isa.hpp"
#include "kernels.hpp"

namespace gv {
namespace {

constexpr Isa kConcrete[] = {
#define GV_ISA_VALUE(name) Isa::name,
    GV_ISA_LIST(GV_ISA_VALUE)
#undef GV_ISA_VALUE
};
constexpr std::size_t kCount = sizeof(kConcrete) / sizeof(kConcrete[0]);

// Indexed by the enum: "automatic", then the list.
constexpr const char* kNames[] = {
    "automatic",
#define GV_ISA_STRING(name) #name,
    GV_ISA_LIST(GV_ISA_STRING)
#undef GV_ISA_STRING
};

// Each path's table where this build compiled it and this CPU runs it, else null; in list order.
// Built once: CPUID can trap to the hypervisor in a VM.
const std::array<const detail::Kernels*, kCount>& runnable() noexcept {
  static const std::array<const detail::Kernels*, kCount> table = [] {
    std::array<const detail::Kernels*, kCount> t{
#define GV_ISA_KERNELS(name) detail::name##_kernels(),
        GV_ISA_LIST(GV_ISA_KERNELS)
#undef GV_ISA_KERNELS
    };
    for (const detail::Kernels*& k : t)
      if (k != nullptr && !k->cpu_runs()) k = nullptr;
    return t;
  }();
  return table;
}

// Null for `automatic` and for values outside the enum.
const detail::Kernels* runnable(Isa isa) noexcept {
  const auto i = static_cast<std::size_t>(isa);
  return i >= 1 && i <= kCount ? runnable()[i - 1] : nullptr;
}

// The last path of the list this CPU runs (scalar always does). avx512 follows avx2 because on a
// Zen 4 EPYC (gv-bench decode --cold-mb 0, medians of three runs each) GV fp32 takes 784 ns per
// face against 911 (1.18x a memcpy of its input against 1.37x); GV int8 runs the same kernels
// (405 ns both); heatmap fp32 scans as AVX2 does (same-process A/B 0.99x, in cache and from
// DRAM; between processes it varies up to 2x, 15-30 us, with either path).
Isa best_supported() noexcept {
  for (std::size_t i = kCount; i-- > 0;)
    if (runnable()[i] != nullptr) return kConcrete[i];
  return Isa::scalar;
}

// GV_DECODE_ISA=<name> forces a path (for benchmarks and debugging); an unknown or unsupported
// name is ignored, because a decoder must not fail to load over an environment variable.
Isa resolve_automatic() noexcept {
  const char* env = std::getenv("GV_DECODE_ISA");
  if (env != nullptr && *env != '\0') {
    for (Isa isa : kConcrete)
      if (std::strcmp(env, isa_name(isa)) == 0 && runnable(isa) != nullptr) return isa;
  }
  return best_supported();
}

}  // namespace

const char* isa_name(Isa isa) noexcept {
  const auto i = static_cast<std::size_t>(isa);
  return i < sizeof(kNames) / sizeof(kNames[0]) ? kNames[i] : "unknown";
}

bool isa_supported(Isa isa) noexcept { return isa == Isa::automatic || runnable(isa) != nullptr; }

Isa automatic_isa() noexcept {
  static const Isa chosen = resolve_automatic();  // thread-safe one-time initialisation
  return chosen;
}

std::vector<Isa> supported_isas() {
  std::vector<Isa> out;
  for (Isa isa : kConcrete)
    if (runnable(isa) != nullptr) out.push_back(isa);
  return out;
}

Isa parse_isa(const char* name) {
  if (name == nullptr) throw std::invalid_argument("isa name is null");
  if (std::strcmp(name, isa_name(Isa::automatic)) == 0) return Isa::automatic;
  for (Isa isa : kConcrete)
    if (std::strcmp(name, isa_name(isa)) == 0) return isa;
  std::string expected = isa_name(Isa::automatic);
  for (std::size_t i = 0; i < kCount; ++i)
    expected += std::string(i + 1 < kCount ? ", " : " or ") + isa_name(kConcrete[i]);
  throw std::invalid_argument(std::string("unknown isa '") + name + "' (expected " + expected +
                              ")");
}

namespace detail {

const Kernels& kernels_for(Isa isa) {
  if (isa == Isa::automatic) {
    static const Kernels& chosen = kernels_for(automatic_isa());  // once: every call asks
    return chosen;
  }
  const Kernels* k = runnable(isa);
  if (k == nullptr)
    throw std::invalid_argument(std::string("isa '") + isa_name(isa) +
                                "' is not available on this build or CPU");
  return *k;
}

}  // namespace detail
}  // namespace gv
