#!/usr/bin/python3
"""Validate ttl-auditor reports against tests/schema/report.schema.json.

Usage: validate_report.py [--schema SCHEMA] FILE...

Exit status: 0 when every file is valid, 1 when any report is invalid (each error printed with
its JSON path), 2 on usage errors or unreadable/non-JSON input.
"""
import argparse
import json
import os
import sys

try:
    import jsonschema
except ImportError:  # pragma: no cover - the environment is Debian's python3 with jsonschema
    sys.stderr.write("validate_report.py: python3 module 'jsonschema' is not installed\n")
    sys.exit(2)

DEFAULT_SCHEMA = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "schema",
                              "report.schema.json")


def json_path(error):
    path = "$"
    for part in error.absolute_path:
        path += "[%d]" % part if isinstance(part, int) else "." + str(part)
    return path


def main(argv):
    parser = argparse.ArgumentParser(description="Validate ttl-auditor JSON reports.")
    parser.add_argument("--schema", default=DEFAULT_SCHEMA, help="schema file (default: %(default)s)")
    parser.add_argument("files", nargs="+", metavar="FILE")
    args = parser.parse_args(argv)

    try:
        with open(args.schema, encoding="utf-8") as f:
            schema = json.load(f)
        validator_class = jsonschema.validators.validator_for(schema)
        validator_class.check_schema(schema)
        validator = validator_class(schema)
    except (OSError, ValueError, jsonschema.exceptions.SchemaError) as e:
        sys.stderr.write("validate_report.py: cannot use schema %s: %s\n" % (args.schema, e))
        return 2

    status = 0
    for name in args.files:
        try:
            with open(name, encoding="utf-8") as f:
                report = json.load(f)
        except (OSError, ValueError) as e:
            sys.stderr.write("%s: not a readable JSON file: %s\n" % (name, e))
            status = max(status, 2)
            continue
        errors = sorted(validator.iter_errors(report), key=lambda e: list(map(str, e.absolute_path)))
        if errors:
            status = max(status, 1)
            sys.stderr.write("%s: INVALID report (%d error%s)\n" % (name, len(errors),
                                                                      "" if len(errors) == 1 else "s"))
            for e in errors:
                sys.stderr.write("  %s: %s\n" % (json_path(e), e.message))
        else:
            sys.stdout.write("%s: valid\n" % name)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
