"""A local certificate authority for ``--tls``: created once per data dir, reused after."""

from __future__ import annotations

from pathlib import Path

import trustme

CA_FILE = "ca.pem"
CA_KEY_FILE = "ca-key.pem"
SERVER_FILE = "server.pem"


def ensure_certificates(folder: Path, hosts: list[str]) -> tuple[Path, Path]:
    """(CA certificate to trust, server key + certificate chain) for ``hosts``."""
    folder.mkdir(parents=True, exist_ok=True)
    ca_path, key_path = folder / CA_FILE, folder / CA_KEY_FILE
    if ca_path.is_file() and key_path.is_file():
        authority = trustme.CA.from_pem(
            cert_bytes=ca_path.read_bytes(), private_key_bytes=key_path.read_bytes()
        )
    else:
        authority = trustme.CA(organization_name="callrec emulator local CA")
        authority.cert_pem.write_to_path(str(ca_path))
        authority.private_key_pem.write_to_path(str(key_path))
        key_path.chmod(0o600)
    server_path = folder / SERVER_FILE
    authority.issue_cert(*dict.fromkeys(hosts)).private_key_and_cert_chain_pem.write_to_path(
        str(server_path)
    )
    server_path.chmod(0o600)
    return ca_path, server_path
