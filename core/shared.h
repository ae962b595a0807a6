#pragma once
// Shared<Base>: an argument that holds a Base in shared ownership, given either as a
// value of a type derived from Base (moved into shared ownership) or as a shared_ptr
// to one (shared with the caller). Containers and wrappers take it, so user code
// writes Sequential{Linear(2, 16), Tanh()} or DataLoader(TransformDataset(train,
// Normalize(...))) with no make_shared; a caller that wants a typed handle passes a
// shared_ptr instead.
#include <concepts>
#include <cstddef>
#include <memory>
#include <type_traits>
#include <utility>

namespace tg {

template <class Base>
class Shared {
 public:
  template <class D>
    requires std::derived_from<std::remove_cvref_t<D>, std::remove_cv_t<Base>> && (!std::is_lvalue_reference_v<D>)
  Shared(D&& value)  // NOLINT: implicit, so that values convert where a Base is expected
      : ptr_(std::make_shared<std::remove_cvref_t<D>>(std::move(value))) {}
  template <class D>
    requires std::derived_from<std::remove_cv_t<D>, std::remove_cv_t<Base>>
  Shared(std::shared_ptr<D> p) : ptr_(std::move(p)) {}  // NOLINT: implicit, as above
  template <class D>
    requires std::derived_from<std::remove_cv_t<D>, std::remove_cv_t<Base>>
  Shared(const Shared<D>& other) : ptr_(other.ptr()) {}  // NOLINT: a typed holder passes as its base
  Shared(std::nullptr_t) {}  // NOLINT: null, for the holders' own checks to reject

  const std::shared_ptr<Base>& ptr() const { return ptr_; }
  operator std::shared_ptr<Base>() const { return ptr_; }  // NOLINT: implicit, for the holders' members
  Base* operator->() const { return ptr_.get(); }
  Base& operator*() const { return *ptr_; }

 private:
  std::shared_ptr<Base> ptr_;
};

}  // namespace tg
