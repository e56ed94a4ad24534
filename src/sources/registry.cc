#include "sources/source.h"

// Each source kind adds one line here and one factory declaration.
namespace ttla {

std::unique_ptr<Source> make_dynamodb_source();
std::unique_ptr<Source> make_filesystem_source();
std::unique_ptr<Source> make_postgres_source();
std::unique_ptr<Source> make_s3_source();
std::unique_ptr<Source> make_sqs_source();

std::unique_ptr<Source> make_source(const std::string& kind) {
  if (kind == "dynamodb") return make_dynamodb_source();
  if (kind == "filesystem") return make_filesystem_source();
  if (kind == "postgres") return make_postgres_source();
  if (kind == "s3") return make_s3_source();
  if (kind == "sqs") return make_sqs_source();
  return nullptr;
}

const std::vector<std::string>& source_kinds() {
  static const std::vector<std::string> kinds = {"dynamodb", "s3", "postgres", "filesystem", "sqs"};
  return kinds;
}

bool kind_reports_expiry(const std::string& kind) { return kind != "sqs"; }

}  // namespace ttla
