#include "loom/config/suggest.hpp"

#include <gtest/gtest.h>

namespace loom::config {
namespace {

TEST(EditDistance, CountsEachKindOfEditOnce) {
  EXPECT_EQ(edit_distance("", ""), 0u);
  EXPECT_EQ(edit_distance("lr", "lr"), 0u);
  EXPECT_EQ(edit_distance("", "abc"), 3u);
  EXPECT_EQ(edit_distance("lerning_rate", "learning_rate"), 1u);  // insertion
  EXPECT_EQ(edit_distance("n_embed", "n_embd"), 1u);              // deletion
  EXPECT_EQ(edit_distance("beta1", "beta2"), 1u);                 // substitution
  EXPECT_EQ(edit_distance("n_ehad", "n_head"), 1u);               // swap of neighbours
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
}

TEST(ClosestMatch, TakesOnlyPlausibleTypos) {
  const std::vector<std::string> keys = {"n_layer", "n_head", "n_embd", "dropout"};
  EXPECT_EQ(closest_match("n_laer", keys), 0u);
  EXPECT_EQ(closest_match("n_heads", keys), 1u);
  EXPECT_EQ(closest_match("drop", keys), std::nullopt);  // 3 edits on a 4-letter word
  EXPECT_EQ(closest_match("vocab_size", keys), std::nullopt);
  EXPECT_EQ(closest_match("x", std::vector<std::string>{}), std::nullopt);
}

}  // namespace
}  // namespace loom::config
