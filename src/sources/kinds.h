#pragma once
// The table of source kinds: one row per kind, each row defined with its kind
// (sources/<kind>_kind.cc) and listed once in kinds.cc. The row is everything the rest of the
// program knows about a kind: its factory, config keys and required keys, whether `run --shard`
// splits it, the IAM statements its targets need, its help line and the anomaly rules it adds.
// Config validation, iam-policy, the CLI, the run pipeline and the metrics read it.
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/config.h"
#include "config/kind_config.h"
#include "sources/source.h"

namespace ttla {

// The IAM statements a config needs, filled target by target by each kind's `iam`.
class IamGrants {
 public:
  // Allows `actions` on `resource` in statement `sid` (actions are added once each; statements
  // keep the order they were first used in).
  void allow(const std::string& sid, const std::vector<std::string>& actions,
             const std::string& resource);
  // A line for iam-policy's notes on stderr.
  void note(std::string text) { notes_.push_back(std::move(text)); }
  // Set when a resource names region "*" (neither the target nor AWS_REGION names one).
  bool wildcard_region = false;

  nlohmann::json statements() const;
  const std::vector<std::string>& notes() const { return notes_; }

 private:
  struct Statement {
    std::string sid;
    std::vector<std::string> actions;
    std::set<std::string> resources;
  };
  std::vector<Statement> statements_;
  std::vector<std::string> notes_;
};

// An anomaly rule a kind evaluates beyond the common ones; with `section`, only for reports that
// carry that kind-specific section (e.g. filesystem "orphans").
struct KindRule {
  std::string rule;
  std::string severity;
  std::string section;
};

struct Kind {
  std::string name;  // the kind token: config `kind:`, registry key, `kind` label
  std::string help;  // one line for `ttl-auditor --help`
  std::unique_ptr<Source> (*make)() = nullptr;
  KindConfig config;  // its keys, their readers, its required keys
  // `run --shard i/N` splits its work; otherwise shard 0 audits it whole and the other shards
  // report it empty, so `merge` never counts it N times.
  bool shards = false;
  // False for kinds with no deadlines of their own (sqs): their reports have no `expired`.
  bool reports_expiry = true;
  // Adds the statements a target needs (its region, resources, actions); null for a kind that
  // calls no AWS API. `config` gives state_dir and the like.
  void (*iam)(const TargetConfig& target, const Config& config, IamGrants& grants) = nullptr;
  // Evaluated for targets that did not fail (exported as 0 unless firing).
  std::vector<KindRule> rules;
  // What a target reads, for messages such as target_empty's ("bucket b, prefix p/"); may be null.
  std::string (*scope)(const TargetConfig& target) = nullptr;
};

// Appends "key value" (comma separated) to a scope text when value is not empty.
void add_scope(std::string& scope, const std::string& key, const std::string& value);

// Every kind, in the order messages list them.
const std::vector<const Kind*>& kinds();
// The row of a kind; nullptr when unknown.
const Kind* find_kind(const std::string& name);

// The config of every kind (parse_config_for over the whole table).
ConfigResult parse_config(const std::string& yaml_text, const std::string& source_name = "");
ConfigResult load_config(const std::string& path);

// Helpers for the kinds' `iam`: the target's region (else AWS_REGION / AWS_DEFAULT_REGION, else
// "*"), its partition ("aws" for "*"), a DynamoDB table's ARN, and DynamoDB operations as IAM
// actions (only those the read-only client allows).
std::string iam_region(const TargetConfig& t);
std::string iam_partition(const std::string& region);
std::string dynamodb_table_arn(const std::string& region, const std::string& table);
std::vector<std::string> dynamodb_actions(const std::vector<std::string>& operations);

}  // namespace ttla
