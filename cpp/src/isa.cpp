// Choosing an argmax path: what was compiled in, what this CPU runs, and GV_DECODE_ISA.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>

#include "gv/isa.hpp"
#include "kernels.hpp"

#ifdef GV_HAVE_X86_KERNELS
#include <cpuid.h>
#endif

namespace gv {
namespace {

constexpr Isa kConcrete[] = {Isa::scalar, Isa::sse41, Isa::avx2, Isa::avx512, Isa::neon};

#ifdef GV_HAVE_X86_KERNELS
// AVX-512F and AVX-512BW in CPUID leaf 7, and the OS saving their registers: OSXSAVE first (so
// XGETBV may run), then XCR0 bits 1, 2 (SSE, AVX) and 5, 6, 7 (opmask, upper halves of
// zmm0-15, zmm16-31). CPUID can trap to the hypervisor in a VM, so this runs once.
bool detect_avx512() noexcept {
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (__get_cpuid(1, &a, &b, &c, &d) == 0 || (c & bit_OSXSAVE) == 0) return false;
  std::uint32_t xcr0 = 0, xcr0_hi = 0;
  __asm__ volatile("xgetbv" : "=a"(xcr0), "=d"(xcr0_hi) : "c"(0));
  constexpr std::uint32_t kZmmState = (1u << 1) | (1u << 2) | (1u << 5) | (1u << 6) | (1u << 7);
  if ((xcr0 & kZmmState) != kZmmState) return false;
  if (__get_cpuid_count(7, 0, &a, &b, &c, &d) == 0) return false;
  return (b & bit_AVX512F) != 0 && (b & bit_AVX512BW) != 0;
}

bool avx512_usable() noexcept {
  static const bool usable = detect_avx512();
  return usable;
}
#endif

bool cpu_runs(Isa isa) noexcept {
  switch (isa) {
    case Isa::automatic:
    case Isa::scalar:
      return true;
#ifdef GV_HAVE_X86_KERNELS
    case Isa::sse41:
      return __builtin_cpu_supports("sse4.1");
    case Isa::avx2:
      return __builtin_cpu_supports("avx2");
    case Isa::avx512:
      return avx512_usable();
#endif
#ifdef GV_HAVE_NEON_KERNELS
    case Isa::neon:
      return true;
#endif
    default:
      return false;
  }
}

// avx512 before avx2: on a Zen 4 EPYC (gv-bench decode --cold-mb 0, medians of three runs each)
// GV fp32 takes 784 ns per face against 911 (1.18x a memcpy of its input against 1.37x); GV int8
// runs the same kernels (405 ns both); heatmap fp32 scans as AVX2 does (same-process A/B 0.99x,
// in cache and from DRAM; between processes it varies up to 2x, 15-30 us, with either path).
Isa best_supported() noexcept {
  if (cpu_runs(Isa::neon)) return Isa::neon;
  if (cpu_runs(Isa::avx512)) return Isa::avx512;
  if (cpu_runs(Isa::avx2)) return Isa::avx2;
  if (cpu_runs(Isa::sse41)) return Isa::sse41;
  return Isa::scalar;
}

// GV_DECODE_ISA=<name> forces a path (for benchmarks and debugging); an unknown or unsupported
// name is ignored, because a decoder must not fail to load over an environment variable.
Isa resolve_automatic() noexcept {
  const char* env = std::getenv("GV_DECODE_ISA");
  if (env != nullptr && *env != '\0') {
    for (Isa isa : kConcrete)
      if (std::strcmp(env, isa_name(isa)) == 0 && cpu_runs(isa)) return isa;
  }
  return best_supported();
}

}  // namespace

const char* isa_name(Isa isa) noexcept {
  switch (isa) {
    case Isa::automatic:
      return "automatic";
    case Isa::scalar:
      return "scalar";
    case Isa::sse41:
      return "sse41";
    case Isa::avx2:
      return "avx2";
    case Isa::avx512:
      return "avx512";
    case Isa::neon:
      return "neon";
  }
  return "unknown";
}

bool isa_supported(Isa isa) noexcept { return cpu_runs(isa); }

Isa automatic_isa() noexcept {
  static const Isa chosen = resolve_automatic();  // thread-safe one-time initialisation
  return chosen;
}

std::vector<Isa> supported_isas() {
  std::vector<Isa> out;
  for (Isa isa : kConcrete)
    if (cpu_runs(isa)) out.push_back(isa);
  return out;
}

Isa parse_isa(const char* name) {
  if (name == nullptr) throw std::invalid_argument("isa name is null");
  for (Isa isa : {Isa::automatic, Isa::scalar, Isa::sse41, Isa::avx2, Isa::avx512,
                   Isa::neon})
    if (std::strcmp(name, isa_name(isa)) == 0) return isa;
  throw std::invalid_argument(std::string("unknown isa '") + name +
                              "' (expected automatic, scalar, sse41, avx2, avx512 or neon)");
}

namespace detail {

const Kernels& kernels_for(Isa isa) {
  if (isa == Isa::automatic) {
    static const Kernels& chosen = kernels_for(automatic_isa());  // once: every call asks
    return chosen;
  }
  if (!cpu_runs(isa))
    throw std::invalid_argument(std::string("isa '") + isa_name(isa) +
                                "' is not available on this build or CPU");
  switch (isa) {
#ifdef GV_HAVE_X86_KERNELS
    case Isa::sse41:
      return sse41_kernels();
    case Isa::avx2:
      return avx2_kernels();
    case Isa::avx512:
      return avx512_kernels();
#endif
#ifdef GV_HAVE_NEON_KERNELS
    case Isa::neon:
      return neon_kernels();
#endif
    default:
      return scalar_kernels();
  }
}

}  // namespace detail
}  // namespace gv
