// Internal (x86): the first maximum of a row of bytes in one pass, as 16-bit keys
// (inverted value << 8) | index whose unsigned minimum is the first maximum and its index at once
// (PHMINPOSUW finishes the last 8 keys). Inverting (x ^ 0x7F for int8, x ^ 0xFF for uint8)
// turns "largest value" into "smallest high byte" in unsigned order. A row is read 16 bytes
// (Keys128) or 32 bytes (Keys256, AVX2 only) at a time, at 0, 16, ... and a last load at the
// end of the row, which overlaps the one before it when the width does not divide the length (an
// element's key is the same both times). Shared by the SSE4.1 and AVX2 paths, which include it
// after their target pragma (after argmax_simd.hpp), so each compiles its own copy (templates:
// only what a path uses is compiled for it); unnamed namespace and no headers for that reason,
// as argmax_f32x8.hpp.
#pragma once

namespace gv {
namespace detail {
namespace {

/// 16 bytes a register.
template <class Byte>
struct Keys128 {
  using Reg = __m128i;
  static constexpr std::size_t kWidth = 16;
  static constexpr bool kSigned = std::numeric_limits<Byte>::is_signed;
  static Reg min(Reg a, Reg b) { return _mm_min_epu16(a, b); }
  static Reg plus(Reg at, std::size_t k) {
    return _mm_add_epi8(at, _mm_set1_epi8(static_cast<char>(k)));
  }
  static Reg index() {
    return _mm_setr_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  }
  /// The smaller key of each pair of the 16 bytes at p, whose indices are the bytes of `at`.
  static Reg keys(Reg at, const Byte* p) {
    const Reg flip = _mm_set1_epi8(static_cast<char>(kSigned ? 0x7F : 0xFF));
    const Reg x = _mm_xor_si128(_mm_loadu_si128(reinterpret_cast<const Reg*>(p)), flip);
    return _mm_min_epu16(_mm_unpacklo_epi8(at, x), _mm_unpackhi_epi8(at, x));
  }
  /// The index in the smallest of the 8 keys of m.
  static std::size_t first(Reg m) {
    return static_cast<std::size_t>(_mm_cvtsi128_si32(_mm_minpos_epu16(m)) & 0xFF);
  }
};

/// 32 bytes a register (AVX2). unpack works within 128-bit lanes on both operands alike, so
/// index i stays beside byte i.
template <class Byte>
struct Keys256 {
  using Reg = __m256i;
  static constexpr std::size_t kWidth = 32;
  static Reg min(Reg a, Reg b) { return _mm256_min_epu16(a, b); }
  static Reg plus(Reg at, std::size_t k) {
    return _mm256_add_epi8(at, _mm256_set1_epi8(static_cast<char>(k)));
  }
  static Reg index() {
    return _mm256_setr_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19,
                            20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31);
  }
  static Reg keys(Reg at, const Byte* p) {
    const Reg flip = _mm256_set1_epi8(static_cast<char>(Keys128<Byte>::kSigned ? 0x7F : 0xFF));
    const Reg x = _mm256_xor_si256(_mm256_loadu_si256(reinterpret_cast<const Reg*>(p)), flip);
    return _mm256_min_epu16(_mm256_unpacklo_epi8(at, x), _mm256_unpackhi_epi8(at, x));
  }
  static std::size_t first(Reg m) {
    return Keys128<Byte>::first(
        _mm_min_epu16(_mm256_castsi256_si128(m), _mm256_extracti128_si256(m, 1)));
  }
};

/// The first maximum of n bytes, K::kWidth <= n <= 256 (indices fit in a byte).
template <class K, class Byte>
inline std::size_t keys_argmax(const Byte* p, std::size_t n) {
  const std::size_t last = n - K::kWidth;
  typename K::Reg m = K::keys(K::plus(K::index(), last), p + last);
  typename K::Reg at = K::index();
#pragma GCC unroll 4
  for (std::size_t i = 0; i < last; i += K::kWidth) {
    m = K::min(K::keys(at, p + i), m);
    at = K::plus(at, K::kWidth);
  }
  return K::first(m);
}

}  // namespace
}  // namespace detail
}  // namespace gv
