#pragma once
// kind: sqs — the settings of an sqs target. Its row of the kind table (keys, readers, IAM, help,
// rules) is sqs_kind.cc; the audit is sqs_source.cc.
#include <string>

#include "config/config.h"

namespace ttla {

struct SqsTargetConfig {
  // `queue_url`, or `queue` (a name, resolved with GetQueueUrl) and optionally `account` (the
  // owner's account id when the queue is another account's).
  std::string queue_url;
  std::string queue;
  std::string queue_account;
  bool cloudwatch = true;  // the oldest message's age (ApproximateAgeOfOldestMessage)
};

// The settings of a sqs target (`sqs_config(target).field`).
inline const SqsTargetConfig& sqs_config(const TargetConfig& t) { return t.kind_config<SqsTargetConfig>(); }
inline SqsTargetConfig& sqs_config(TargetConfig& t) { return t.kind_config<SqsTargetConfig>(); }

}  // namespace ttla
