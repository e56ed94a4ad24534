#include "sources/source.h"

// Each source kind adds one line here and one factory declaration.
namespace ttla {

std::unique_ptr<Source> make_dynamodb_source();

std::unique_ptr<Source> make_source(const std::string& kind) {
  if (kind == "dynamodb") return make_dynamodb_source();
  return nullptr;
}

const std::vector<std::string>& source_kinds() {
  static const std::vector<std::string> kinds = {"dynamodb", "s3", "postgres", "filesystem"};
  return kinds;
}

}  // namespace ttla
