#pragma once
// kind: s3 — audits a bucket prefix against its lifecycle, read-only (GET only, through
// AwsClient::s3): GetBucketVersioning, GetBucketLifecycleConfiguration, ListObjectsV2 (expired
// current objects), ListMultipartUploads (stale uploads; ListParts for the oldest few),
// ListObjectVersions (noncurrent versions past retention, lone delete markers) and, with
// `orphans`, DynamoDB BatchGetItem lookups of ids captured from keys; with `read_tags`,
// GetObjectTagging for objects a tag-filtered lifecycle rule could expire. Requests are signed
// for the bucket's region, discovered from 301/400 answers or HeadBucket and cached per bucket.
// `max_requests` caps the requests sent (the target becomes partial with the reason). XML
// parsing lives in s3_xml.h, lifecycle evaluation in s3_lifecycle.h.
#include <memory>

#include "aws/aws_client.h"
#include "aws/credentials.h"
#include "sources/source.h"

namespace ttla {

struct S3SourceOptions {
  // Credentials for S3 and the orphan table; null: aws::make_default_chain({profile}).
  std::shared_ptr<aws::CredentialsProvider> credentials;
  aws::RetryOptions retry;
  aws::HttpOptions http;
  int list_parts_uploads = 5;     // ListParts only for this many oldest stale uploads
  int list_parts_pages = 10;      // and at most this many pages each
  int orphan_samples = 10;        // sample keys kept for the report
  int batch_get_attempts = 8;     // UnprocessedKeys retries (exponential backoff)
  double batch_get_base_delay_seconds = 0.05;
};

std::unique_ptr<Source> make_s3_source();
std::unique_ptr<Source> make_s3_source(S3SourceOptions options);

}  // namespace ttla
