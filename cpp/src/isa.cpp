// Choosing an argmax path: what was compiled in, what this CPU runs, and GV_DECODE_ISA.
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>

#include "gv/isa.hpp"
#include "kernels.hpp"

namespace gv {
namespace {

constexpr Isa kConcrete[] = {Isa::scalar, Isa::sse41, Isa::avx2, Isa::neon};

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
#endif
#ifdef GV_HAVE_NEON_KERNELS
    case Isa::neon:
      return true;
#endif
    default:
      return false;
  }
}

Isa best_supported() noexcept {
  if (cpu_runs(Isa::neon)) return Isa::neon;
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
  for (Isa isa : {Isa::automatic, Isa::scalar, Isa::sse41, Isa::avx2, Isa::neon})
    if (std::strcmp(name, isa_name(isa)) == 0) return isa;
  throw std::invalid_argument(std::string("unknown isa '") + name +
                              "' (expected automatic, scalar, sse41, avx2 or neon)");
}

namespace detail {

const Kernels& kernels_for(Isa isa) {
  if (isa == Isa::automatic) isa = automatic_isa();
  if (!cpu_runs(isa))
    throw std::invalid_argument(std::string("isa '") + isa_name(isa) +
                                "' is not available on this build or CPU");
  switch (isa) {
#ifdef GV_HAVE_X86_KERNELS
    case Isa::sse41:
      return sse41_kernels();
    case Isa::avx2:
      return avx2_kernels();
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
