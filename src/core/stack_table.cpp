#include "core/stack_table.hpp"

#include <cstring>

#include "core/internal_check.hpp"

namespace dhat::core {

StackTable::~StackTable() { internal_free(slots_); }

void StackTable::clear() noexcept {
  internal_free(slots_);
  slots_ = nullptr;
  slot_count_ = 0;
  stacks_.clear();
  arena_.clear();
}

bool StackTable::equal(PpId pp, const std::uintptr_t* frames, std::uint32_t depth) const noexcept {
  const StackRef& ref = stacks_[pp];
  return ref.depth == depth && std::memcmp(arena_.data() + ref.offset, frames, depth * sizeof(std::uintptr_t)) == 0;
}

bool StackTable::grow() noexcept {
  const std::size_t new_count = slot_count_ == 0 ? 1024 : slot_count_ * 2;
  auto* fresh = static_cast<Slot*>(internal_malloc(new_count * sizeof(Slot)));
  if (fresh == nullptr) {
    return false;
  }
  for (std::size_t i = 0; i < new_count; ++i) {
    fresh[i] = Slot{0, kNoPp};
  }
  for (std::size_t i = 0; i < slot_count_; ++i) {
    if (slots_[i].pp == kNoPp) {
      continue;
    }
    std::size_t j = slots_[i].hash & (new_count - 1);
    while (fresh[j].pp != kNoPp) {
      j = (j + 1) & (new_count - 1);
    }
    fresh[j] = slots_[i];
  }
  internal_free(slots_);
  slots_ = fresh;
  slot_count_ = new_count;
  return true;
}

PpId StackTable::intern(const std::uintptr_t* frames, std::uint32_t depth, std::uint64_t hash) noexcept {
  // Keep the load factor at or below 1/2 so that probes stay short.
  if ((stacks_.size() + 1) * 2 > slot_count_ && !grow()) {
    return kNoPp;
  }
  std::size_t i = hash & (slot_count_ - 1);
  while (slots_[i].pp != kNoPp) {
    if (slots_[i].hash == hash && equal(slots_[i].pp, frames, depth)) {
      return slots_[i].pp;
    }
    i = (i + 1) & (slot_count_ - 1);
  }
  const auto pp = static_cast<PpId>(stacks_.size());
  if (pp >= kProfilersOwnPp || !stacks_.make_room_for_one()) {  // the ids from there on are reserved
    return kNoPp;
  }
  const std::size_t offset = arena_.size();
  if (!arena_.append(frames, depth)) {
    return kNoPp;
  }
  const bool pushed = stacks_.push_back(StackRef{offset, depth});
  DHAT_INTERNAL_CHECK(pushed);  // room was made above
  slots_[i] = Slot{hash, pp};
  return pp;
}

}  // namespace dhat::core
