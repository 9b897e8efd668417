"""``callrec schemas``: list the schema names and the api-versions they can be checked as."""

from __future__ import annotations

import argparse

from callrec._specs import api_versions, base_schemas, profile

HELP = "list the schemas and the supported api-versions"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--api-version", metavar="V", help="only the schemas that exist in this api-version"
    )


def run(arguments: argparse.Namespace) -> int:
    versions = [arguments.api_version] if arguments.api_version else api_versions()
    for version in versions:
        profile(version)  # unknown versions fail with the supported list
    for name, doc in base_schemas().items():
        present = [v for v in versions if profile(v).get("schemas", {}).get(name) != "absent"]
        if not present:
            continue
        shown = "all versions" if present == api_versions() else ", ".join(present)
        print(f"{name}\t{doc.get('title', '')}\t{shown}")
    print(f"api-versions: {', '.join(versions)}")
    return 0
