// A growable array of trivially copyable values in internal memory (see internal_alloc.hpp).
//
// Contract: like a minimal std::vector, but allocation failure is reported (push_back returns
// false) instead of thrown, because it runs inside malloc hooks where throwing is not an option.
#pragma once

#include <cstddef>
#include <cstring>
#include <type_traits>

#include "core/internal_alloc.hpp"

namespace dhat::core {

template <typename T>
class InternalVector {
  static_assert(std::is_trivially_copyable_v<T>, "InternalVector moves elements with memcpy");

 public:
  InternalVector() = default;
  InternalVector(const InternalVector&) = delete;
  InternalVector& operator=(const InternalVector&) = delete;
  ~InternalVector() { internal_free(data_); }

  // Makes sure one more value fits, growing geometrically (so n appends copy O(n) in all).
  [[nodiscard]] bool make_room_for_one() noexcept {
    return size_ < capacity_ || reserve(capacity_ == 0 ? 64 : capacity_ * 2);
  }

  [[nodiscard]] bool push_back(const T& value) noexcept {
    if (!make_room_for_one()) {
      return false;
    }
    data_[size_++] = value;
    return true;
  }

  // Appends `count` values; false (and nothing appended) if memory runs out.
  [[nodiscard]] bool append(const T* values, std::size_t count) noexcept {
    if (size_ + count > capacity_) {
      std::size_t wanted = capacity_ == 0 ? 64 : capacity_;
      while (wanted < size_ + count) {
        wanted *= 2;
      }
      if (!reserve(wanted)) {
        return false;
      }
    }
    if (count != 0) {
      std::memcpy(data_ + size_, values, count * sizeof(T));
    }
    size_ += count;
    return true;
  }

  [[nodiscard]] bool reserve(std::size_t capacity) noexcept {
    if (capacity <= capacity_) {
      return true;
    }
    void* grown = internal_realloc(data_, capacity * sizeof(T));
    if (grown == nullptr) {
      return false;
    }
    data_ = static_cast<T*>(grown);
    capacity_ = capacity;
    return true;
  }

  // Empties the vector and gives its memory back: tables are cleared only between runs, and
  // capacity kept after the last run is memory the program pays for while the report is written
  // (10 MB of a 65,000-stack profile's peak).
  void clear() noexcept {
    internal_free(data_);
    data_ = nullptr;
    size_ = 0;
    capacity_ = 0;
  }
  std::size_t size() const noexcept { return size_; }
  T* data() noexcept { return data_; }
  const T* data() const noexcept { return data_; }
  T& operator[](std::size_t i) noexcept { return data_[i]; }
  const T& operator[](std::size_t i) const noexcept { return data_[i]; }

 private:
  T* data_ = nullptr;
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
};

}  // namespace dhat::core
