// ttl-auditor: a read-only auditor of expired-but-undeleted data. All logic lives in ttla_app so
// tests can drive it; this file only hands over argv.
#include "app/cli.h"

int main(int argc, char** argv) { return ttla::run_cli(argc, argv); }
