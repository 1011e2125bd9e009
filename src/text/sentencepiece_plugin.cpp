// libloom_sentencepiece.so: the only code that links libsentencepiece (see
// sentencepiece_library.hpp for why). Thin on purpose: Loom's tokenizer
// logic stays in sentencepiece_tokenizer.cpp and sentencepiece_trainer.cpp.
#include <memory>

#include "sentencepiece_library.hpp"
#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

namespace loom::text::spm {
namespace {

void* load(const std::string& model, std::vector<PieceInfo>& pieces, std::string& error) {
  auto processor = std::make_unique<sentencepiece::SentencePieceProcessor>();
  const sentencepiece::util::Status status = processor->LoadFromSerializedProto(model);
  if (!status.ok()) {
    error = status.ToString();
    return nullptr;
  }
  pieces.clear();
  for (int id = 0; id < processor->GetPieceSize(); ++id) {
    pieces.push_back(PieceInfo{processor->IdToPiece(id), processor->IsUnknown(id),
                               processor->IsControl(id), processor->IsByte(id),
                               processor->IsUnused(id)});
  }
  return processor.release();
}

void release(void* processor) {
  delete static_cast<sentencepiece::SentencePieceProcessor*>(processor);
}

bool encode(const void* processor, std::string_view text, std::vector<int>& ids,
            std::string& error) {
  const sentencepiece::util::Status status =
      static_cast<const sentencepiece::SentencePieceProcessor*>(processor)->Encode(text, &ids);
  if (!status.ok()) error = status.ToString();
  return status.ok();
}

class SampleIterator final : public sentencepiece::SentenceIterator {
 public:
  explicit SampleIterator(const TrainingSample& sample) : sample_(sample) { load(); }
  bool done() const override { return index_ >= sample_.texts->size(); }
  void Next() override {
    ++index_;
    load();
  }
  const std::string& value() const override { return *current_; }
  sentencepiece::util::Status status() const override { return {}; }

 private:
  void load() {
    if (done()) return;
    current_ = &(*sample_.texts)[index_];
    if (sample_.needs_repair(*current_)) {
      repaired_ = sample_.repair(*current_);
      current_ = &repaired_;
    }
  }

  const TrainingSample& sample_;
  std::size_t index_ = 0;
  const std::string* current_ = nullptr;
  std::string repaired_;
};

bool train(const std::unordered_map<std::string, std::string>& arguments,
           const TrainingSample& sample, unsigned seed, std::string& model, std::string& error) {
  sentencepiece::SetRandomGeneratorSeed(seed);
  SampleIterator iterator(sample);
  const sentencepiece::util::Status status =
      sentencepiece::SentencePieceTrainer::Train(arguments, &iterator, &model);
  if (!status.ok()) error = status.error_message();
  return status.ok();
}

const PluginApi kApi{kPluginAbiVersion, load, release, encode, train};

}  // namespace
}  // namespace loom::text::spm

extern "C" __attribute__((visibility("default"))) const loom::text::spm::PluginApi*
loom_sentencepiece_plugin_api() {
  return &loom::text::spm::kApi;
}
