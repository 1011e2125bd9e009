// Prepare's chunking: bounded chunks whatever the line lengths, and text
// that reassembles exactly.
#include "text_chunks.hpp"

#include "test_support.hpp"
#include <gtest/gtest.h>

namespace loom::data_tools {
namespace {

using namespace loom::test;

std::vector<TextChunk> chunks_of(const std::string& path) {
  ChunkReader reader(open_records(resolve_inputs({path}, "text"), ReaderOptions{}),
                     FilterOptions{});
  std::vector<TextChunk> chunks;
  TextChunk chunk;
  while (reader.next(chunk))
    chunks.push_back(chunk);
  return chunks;
}

std::string joined(const std::vector<TextChunk>& chunks) {
  std::string text;
  for (const TextChunk& chunk : chunks) {
    for (std::size_t i = 0; i < chunk.segments(); ++i)
      text += chunk.segment(i).text;
  }
  return text;
}

TEST(TextChunks, ALongLineIsSpreadOverBoundedChunks) {
  TempDir dir;
  const std::string line = std::string(7 * kMaxRecordBytes + 123, 'a');
  write_file(dir.file("t.txt"), "start\n" + line + "\nend");
  const std::vector<TextChunk> chunks = chunks_of(dir.file("t.txt"));
  EXPECT_GE(chunks.size(), 4u);
  for (const TextChunk& chunk : chunks) {
    EXPECT_LE(chunk.text_bytes(), kChunkBytes + kMaxRecordBytes);
  }
  EXPECT_EQ(joined(chunks), "start\n" + line + "\nend\n");
  EXPECT_TRUE(chunks[0].segment(0).starts_document);
  for (size_t i = 1; i < chunks.size(); ++i)
    EXPECT_FALSE(chunks[i].segment(0).starts_document);
}

TEST(TextChunks, DocumentsStartWhereTheirFirstRecordIs) {
  TempDir dir;
  std::string text;
  for (int i = 0; i < 3; ++i)
    text += std::string(700000, static_cast<char>('a' + i)) + "\n<|endoftext|>\n";
  write_file(dir.file("t.txt"), text);
  const std::vector<TextChunk> chunks = chunks_of(dir.file("t.txt"));
  std::vector<std::string> documents;
  for (const TextChunk& chunk : chunks) {
    for (std::size_t i = 0; i < chunk.segments(); ++i) {
      if (chunk.segment(i).starts_document) documents.emplace_back();
      documents.back() += chunk.segment(i).text;
    }
  }
  EXPECT_EQ(documents, (std::vector<std::string>{std::string(700000, 'a') + "\n",
                                                 std::string(700000, 'b') + "\n",
                                                 std::string(700000, 'c') + "\n"}));
}

}  // namespace
}  // namespace loom::data_tools
