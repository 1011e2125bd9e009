// How one config key is described in the schema: what it means, which values
// it accepts, whether a config must give it, and the name a nanoGPT user may
// type for it instead (used only to suggest the right key, never accepted),
// with a hint of its own where that name means something else in nanoGPT.
#pragma once

#include <optional>
#include <string>

namespace loom::config {

class FieldSpec {
 public:
  explicit FieldSpec(const char* doc) : doc_(doc) {}

  FieldSpec& at_least(double bound) {
    min_ = bound;
    min_exclusive_ = false;
    return *this;
  }
  FieldSpec& greater_than(double bound) {
    min_ = bound;
    min_exclusive_ = true;
    return *this;
  }
  FieldSpec& at_most(double bound) {
    max_ = bound;
    max_exclusive_ = false;
    return *this;
  }
  FieldSpec& below(double bound) {
    max_ = bound;
    max_exclusive_ = true;
    return *this;
  }
  // The key must appear in the config (for strings: and not be empty).
  FieldSpec& required() {
    required_ = true;
    return *this;
  }
  // `other_name` is what nanoGPT calls this key. Typed as is, it gets
  // "Loom calls it '<section.key>' (<doc>)", or `hint` instead when given:
  // for a name whose values or meaning differ, the doc alone would mislead.
  FieldSpec& aka(const char* other_name, const char* hint = nullptr) {
    aka_ = other_name;
    aka_hint_ = hint;
    return *this;
  }

  const char* doc() const { return doc_; }
  bool is_required() const { return required_; }
  const char* aka_name() const { return aka_; }
  const char* aka_hint() const { return aka_hint_; }

  // True when a number lies within the bounds.
  bool accepts(double value) const;
  // The bounds in words, e.g. "a number > 0 and < 1"; `noun` names the type.
  std::string describe_bounds(const char* noun) const;

 private:
  const char* doc_;
  std::optional<double> min_;
  std::optional<double> max_;
  bool min_exclusive_ = false;
  bool max_exclusive_ = false;
  bool required_ = false;
  const char* aka_ = nullptr;
  const char* aka_hint_ = nullptr;
};

}  // namespace loom::config
